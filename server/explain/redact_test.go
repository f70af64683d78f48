package explain

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/words"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/?token=s1":                                  "https://a.example/?token=REDACTED",
		"https://a.example/?q=<x>&token=s1":                            "https://a.example/?q=<x>&token=REDACTED",
		"https://a.example/?q=it's&access_token=s1&x=1":                "https://a.example/?q=it's&access_token=REDACTED&x=1",
		"https://a.example/%zz?password=s1":                            "https://a.example/%zz?password=REDACTED",
		"https://a.example/?acc%65ss_tok%65n=s1":                       "https://a.example/?acc%65ss_tok%65n=REDACTED",
		"https://a.example/?q=1;sid=s1":                                "https://a.example/?q=1;sid=REDACTED",
		"https://a.example/cb#access_token=s1&token_type=x":            "https://a.example/cb#access_token=REDACTED&token_type=REDACTED",
		"https://u:s1@a.example/p?x=1":                                 "https://REDACTED@a.example/p?x=1",
		"https://a.example/?token=a b c&x=1":                           "https://a.example/?token=REDACTED&x=1",
		"https://a.example/?TOKEN=s1&Signature=s2&X-Amz-Credential=s3": "https://a.example/?TOKEN=REDACTED&Signature=REDACTED&X-Amz-Credential=REDACTED",
		"https://a.example/path/?q=1":                                  "https://a.example/path/?q=1",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"Access to fetch at 'https://a.example/?q=<x>&token=s1' from origin 'https://f.example'": "Access to fetch at 'https://a.example/?q=<x>&token=REDACTED' from origin 'https://f.example'",
		"at https://a.example/?key=s1. (Reason: x)":                                              "at https://a.example/?key=REDACTED. (Reason: x)",
		"check what answers on https://a.example/?q=<x>&token=s1":                                "check what answers on https://a.example/?q=<x>&token=REDACTED",
		"corscheck probe 'https://a.example/?q='\\''<x>&jwt=s1'":                                 "corscheck probe 'https://a.example/?q='\\''<x>&jwt=REDACTED'",
		"token=s1":                           "token=REDACTED",
		"see https://u:p@a.example/ now":     "see https://REDACTED@a.example/ now",
		"text/html; charset=utf-8":           "text/html; charset=utf-8",
		"max-age=3600":                       "max-age=3600",
		"https://a.example/?token=REDACTED'": "https://a.example/?token=REDACTED'",
	} {
		if got := redactText(in); got != want {
			t.Errorf("redactText(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

// URLs holding quotes and brackets next to secrets (testdata/secret-url.har, every secret in it
// spelled SECRET…; and the cached-preflight case of testdata/nopre.har): no secret appears in the
// text or the JSON, in any language. Read redacts each URL as it reads it, so the sentences
// told again in another language, made after Read, are redacted too.
func TestSecretsNeverShown(t *testing.T) {
	for _, name := range []string{"secret-url.har", "nopre.har"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		res := read(t, string(b), Options{})
		if len(res.Findings) == 0 {
			t.Fatalf("%s: no findings", name)
		}
		for _, l := range words.Langs {
			r := res.In(l)
			js, _ := json.Marshal(r.JSON())
			for _, out := range []string{r.Text(), string(js)} {
				if strings.Contains(out, "SECRET") {
					t.Errorf("%s in %s: a secret survived:\n%s", name, l, out)
				}
			}
			if l == words.English && !strings.Contains(string(js), "REDACTED") {
				t.Errorf("%s: nothing was redacted: %s", name, js)
			}
		}
	}
}

// Findings that come back from a form are trusted in nothing: whatever field a secret is put
// in, Redact removes it.
func TestRedactEveryField(t *testing.T) {
	b, err := os.ReadFile("testdata/secret-url.har")
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(read(t, string(b), Options{}).JSON())
	var generic any
	if err := json.Unmarshal(js, &generic); err != nil {
		t.Fatal(err)
	}
	const planted = " https://x.example/?q=<x>&token=SECRETZZ' password=SECRETZZ"
	var plant func(v any) any
	plant = func(v any) any {
		switch v := v.(type) {
		case string:
			return strings.ReplaceAll(v, Redacted, "SECRETZZ") + planted
		case []any:
			for i := range v {
				v[i] = plant(v[i])
			}
		case map[string]any:
			if n, ok := v["name"].(string); ok && isSecretHeader(n) {
				v["value"] = "Bearer SECRETZZ"
				return v
			}
			for k := range v {
				v[k] = plant(v[k])
			}
		}
		return v
	}
	forged, _ := json.Marshal(plant(generic))
	if strings.Count(string(forged), "SECRETZZ") < 100 {
		t.Fatalf("too few secrets planted: %s", forged)
	}
	res := &Result{}
	if err := json.Unmarshal(forged, &res.Findings); err != nil {
		t.Fatal(err)
	}
	res.Redact()
	out, _ := json.Marshal(res.JSON())
	if strings.Contains(string(out), "SECRETZZ") {
		t.Errorf("a planted secret survived:\n%s", out)
	}
}
