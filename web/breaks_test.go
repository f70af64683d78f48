package web

import (
	"slices"
	"strings"
	"testing"
)

func TestBreakParts(t *testing.T) {
	for s, want := range map[string][]string{
		"":                                 {""},
		"cuicsub.example.com":              {"cuicsub.", "example.", "com"},
		"https://finessep.example:8445":    {"https://", "finessep.", "example:8445"},
		"https://n.example:8444/cuic/rest": {"https://", "n.", "example:8444/", "cuic/", "rest"},
		"tls-untrusted":                    {"tls-", "untrusted"},
		"PreflightInvalidAllowCredentials": {"PreflightInvalidAllowCredentials"},
		"10.10.1.23":                       {"10.10.1.23"},
		"2026-11-24 12.5 ms":               {"2026-11-24 12.5 ms"},
		"end.":                             {"end."},
		"ünï.cödé.例え":                      {"ünï.", "cödé.", "例え"},
	} {
		got := breakParts(s)
		if !slices.Equal(got, want) {
			t.Errorf("breakParts(%q) = %q, want %q", s, got, want)
		}
		if strings.Join(got, "") != s {
			t.Errorf("breakParts(%q) joined is %q", s, strings.Join(got, ""))
		}
	}
}
