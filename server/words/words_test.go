package words

import (
	"slices"
	"testing"
)

// TestEveryCatalogueHasEveryKey: each language has exactly English's keys, and each sentence
// names exactly the placeholders its English sentence names.
func TestEveryCatalogueHasEveryKey(t *testing.T) {
	en := catalogs[English]
	if len(en) < 100 {
		t.Fatalf("the English catalogue has %d sentences; it should hold every sentence of a diagnosis", len(en))
	}
	for _, l := range Langs[1:] {
		c := catalogs[l]
		for key, s := range en {
			tr, ok := c[key]
			if !ok {
				t.Errorf("%s lacks %s", l, key)
				continue
			}
			want, got := placeholders(s), placeholders(tr)
			if !slices.Equal(want, got) {
				t.Errorf("%s %s has placeholders %v, English has %v", l, key, got, want)
			}
			if tr == s && len(s) > 20 {
				t.Errorf("%s %s is the English sentence: %q", l, key, s)
			}
		}
		for key := range c {
			if _, ok := en[key]; !ok {
				t.Errorf("%s has %s, which English does not", l, key)
			}
		}
	}
}

func placeholders(s string) []string {
	ps := placeholder.FindAllString(s, -1)
	slices.Sort(ps)
	return slices.Compact(ps)
}

func TestPick(t *testing.T) {
	for in, want := range map[string]Lang{"nl": Dutch, "nl_NL": Dutch, "nl-BE": Dutch, "NL": Dutch, "ko_KR": Korean, "ko": Korean,
		"en_US": English, "": English, "fr_FR": English, "nlx": English, " ko-KR ": Korean} {
		if got := Pick(in); got != want {
			t.Errorf("Pick(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, ok := range []string{"en", "en_US", "nl-BE", "KO_kr"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "fr", "nlx", "e"} {
		if l, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", bad, l)
		}
	}
}

func TestSay(t *testing.T) {
	vars := map[string]string{"node": "cuicsub.example", "origin": "{node}"}
	if got := Say(Dutch, "fix.origin-not-allowed.summary", vars); got != "sta de origin {node} toe op cuicsub.example" {
		t.Errorf("Dutch summary: %q (a value must not be read as a placeholder)", got)
	}
	if got := Say(Korean, "label.fix", map[string]string{"summary": "x"}); got != "해결 방법: x" {
		t.Errorf("Korean label: %q", got)
	}
	if got := Say(Lang("fr"), "label.fix", map[string]string{"summary": "x"}); got != "Fix: x" {
		t.Errorf("unknown language falls back to English: %q", got)
	}
	if got := Say(English, "no.such.key", nil); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
	if !Has("reason.MissingAllowOriginHeader") || Has("no.such.key") {
		t.Error("Has")
	}
}
