package cors_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

func TestResponseWarnings(t *testing.T) {
	tests := []struct {
		name      string
		resp      []string
		origin    string // "" is page
		target    string // "" is target
		preflight bool
		want      []cors.WarningCode
		detail    string // part of a message, when set
	}{
		{name: "clean echo with Vary", resp: []string{acaoPage, "Vary: Accept-Encoding, Origin"}},
		{name: "clean star", resp: []string{acaoStar}},
		{name: "no CORS headers", resp: nil},
		{name: "wildcard with credentials", resp: []string{acaoStar, acacTrue}, want: []cors.WarningCode{cors.WarnWildcardCredentials}},
		{name: "null trusted", resp: []string{"Access-Control-Allow-Origin: null", "Vary: Origin"}, want: []cors.WarningCode{cors.WarnNullTrusted}},
		{name: "null for a null origin is no finding", origin: "null", resp: []string{"Access-Control-Allow-Origin: null", "Vary: Origin"}},
		{name: "missing Vary", resp: []string{acaoPage}, want: []cors.WarningCode{cors.WarnVaryMissing}},
		{name: "Vary star", resp: []string{acaoPage, "Vary: *"}},
		{name: "Vary lower case over lines", resp: []string{acaoPage, "Vary: accept", "Vary: origin"}},
		{name: "Vary on something else", resp: []string{acaoPage, "Vary: Origins"}, want: []cors.WarningCode{cors.WarnVaryMissing}},
		{name: "missing Vary on a preflight is no finding", preflight: true, resp: []string{acaoPage}},
		{name: "http origin trusted by https", origin: "http://finesse.example", resp: []string{"Access-Control-Allow-Origin: http://finesse.example", "Vary: Origin"},
			want: []cors.WarningCode{cors.WarnHTTPOriginTrusted}, detail: "http://finesse.example"},
		{name: "http origin for an http target", origin: "http://finesse.example", target: "http://cuic.example/", resp: []string{"Access-Control-Allow-Origin: http://finesse.example", "Vary: Origin"}},
		{name: "duplicate ACAO", resp: []string{acaoPage, acaoPage, "Vary: Origin"},
			want: []cors.WarningCode{cors.WarnDuplicateHeader}, detail: "Access-Control-Allow-Origin appears 2 times"},
		{name: "duplicate ACAC and ACAH", preflight: true, resp: []string{acaoStar, acacTrue, acacTrue, "Access-Control-Allow-Headers: a", "Access-Control-Allow-Headers: b"},
			want: []cors.WarningCode{cors.WarnDuplicateHeader, cors.WarnDuplicateHeader}},
		{name: "max-age at the cap", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: 7200"}},
		{name: "max-age above the cap", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: 86400"},
			want: []cors.WarningCode{cors.WarnMaxAge}, detail: "86400 s"},
		{name: "max-age overflowing", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: 99999999999999999999"},
			want: []cors.WarningCode{cors.WarnMaxAge}},
		{name: "max-age not a number", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: 1h"},
			want: []cors.WarningCode{cors.WarnMaxAgeInvalid}, detail: "'1h'"},
		{name: "max-age empty", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: "},
			want: []cors.WarningCode{cors.WarnMaxAgeInvalid}},
		{name: "max-age negative disables caching, no finding", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: -1"}},
		{name: "max-age twice", preflight: true, resp: []string{acaoPage, "Access-Control-Max-Age: 600", "Access-Control-Max-Age: 600"},
			want: []cors.WarningCode{cors.WarnDuplicateHeader, cors.WarnMaxAgeInvalid}},
		{name: "max-age ignored on the actual response", resp: []string{acaoStar, "Access-Control-Max-Age: 99999"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			origin, tgt := tc.origin, tc.target
			if origin == "" {
				origin = page
			}
			if tgt == "" {
				tgt = target
			}
			ws := cors.ResponseWarnings(res(200, tc.resp...).resp, origin, mustURL(t, tgt), tc.preflight)
			var codes []cors.WarningCode
			var msgs []string
			for _, w := range ws {
				codes = append(codes, w.Code)
				msgs = append(msgs, w.Message)
				if w.Message == "" {
					t.Errorf("%s has no message", w.Code)
				}
			}
			if !slices.Equal(codes, tc.want) {
				t.Errorf("warnings = %v, want %v", codes, tc.want)
			}
			if tc.detail != "" && !strings.Contains(strings.Join(msgs, "\n"), tc.detail) {
				t.Errorf("messages %q lack %q", msgs, tc.detail)
			}
		})
	}
}

func TestMixedContent(t *testing.T) {
	tests := []struct {
		origin, target string
		want           bool
	}{
		{page, "http://cuic.example:8081/", true},
		{page, "https://cuic.example/", false},
		{"http://finesse.example", "http://cuic.example/", false},
		{"null", "http://cuic.example/", false},
		{page, "http://localhost:8080/", false},
		{page, "http://app.localhost/", false},
		{page, "http://127.0.0.1:8080/", false},
		{page, "http://127.1.2.3/", false},
		{page, "http://[::1]:8080/", false},
		{page, "http://10.0.0.5/", true},
	}
	for _, tc := range tests {
		if got := cors.MixedContent(tc.origin, mustURL(t, tc.target)); got != tc.want {
			t.Errorf("MixedContent(%s, %s) = %v, want %v", tc.origin, tc.target, got, tc.want)
		}
	}
}

func TestReflectsAndDedupe(t *testing.T) {
	if !cors.Reflects(res(200, "Access-Control-Allow-Origin: https://evil.example").resp, "https://evil.example") {
		t.Error("Reflects = false for an echoed foreign origin")
	}
	if cors.Reflects(res(200, acaoStar).resp, "https://evil.example") {
		t.Error("Reflects = true for *")
	}
	a, b := cors.NewWarning(cors.WarnVaryMissing, ""), cors.NewWarning(cors.WarnMaxAge, "9000 s")
	got := cors.Dedupe([]cors.Warning{a, b, a, cors.NewWarning(cors.WarnMaxAge, "9999 s"), b})
	if len(got) != 3 || got[0] != a || got[1] != b {
		t.Errorf("Dedupe = %+v", got)
	}
	if !strings.HasSuffix(b.Message, " (9000 s)") {
		t.Errorf("NewWarning detail: %q", b.Message)
	}
}
