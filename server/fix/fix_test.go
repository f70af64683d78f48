package fix

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/targets"
	"github.com/corsquickcheck/corscheck/server/words"
)

// networkClasses are the network error classes of the probe package (probe.NetworkClass; the
// probe imports this package, so the list is repeated here). Each needs an entry in fixes.json.
var networkClasses = []string{
	"dns", "refused", "timeout", "tls-untrusted", "tls-name-mismatch", "tls-expired", "tls-invalid",
	"tls-key-usage", "tls-version", "tls", "reset", "protocol", "conflicting-headers", "mixed-content",
	"too-many-redirects", "unsafe-redirect", "invalid-redirect", "forbidden", "no-answer",
}

const (
	fieldURL    = "https://cuicsub.example:8444/cuic/rest/status/"
	fieldOrigin = "https://finessep.example:8445"
	other       = "https://login.example/sso"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// allReasons are the reasons a problem can carry: those the evaluator returns and those only
// read from the browser.
func allReasons() []cors.Reason {
	return slices.Concat(cors.Reasons, cors.BrowserOnlyReasons)
}

// problemFor builds a problem whose fix comes from the catalogue entry id: through a CORS reason
// when one maps to it, else as a network class.
func problemFor(t *testing.T, id string, kind targets.Kind) Problem {
	t.Helper()
	p := Problem{Kind: kind, URL: mustURL(t, fieldURL), Origin: fieldOrigin, FailedParameter: "x-param", NetworkDetail: "detail"}
	if id == unnamedProblem {
		p.Unnamed = true
		return p
	}
	for _, r := range allReasons() {
		if reasonProblem[r.Base()] == id {
			p.Reason = r
			return p
		}
	}
	p.Network = id
	return p
}

// texts of a fix, for checks that apply to every string in it.
func allText(f Fix) []string {
	return slices.Concat([]string{f.Node, f.Summary}, f.Commands, f.Restart, f.Notes)
}

func TestCatalogue(t *testing.T) {
	if len(texts.Problems) == 0 || len(texts.Kinds) == 0 {
		t.Fatal("fixes.json is empty")
	}
	for _, k := range targets.Kinds {
		if _, ok := texts.Kinds[k]; !ok {
			t.Errorf("fixes.json has no kind %s", k)
		}
	}
	for k, kt := range texts.Kinds {
		if !slices.Contains(targets.Kinds, k) {
			t.Errorf("fixes.json kind %s is not in targets.Kinds", k)
		}
		if k != targets.Custom && (kt.CLI == "" || len(kt.Restart) == 0 || kt.Product == "") {
			t.Errorf("kind %s lacks its product, CLI or restart: %+v", k, kt)
		}
	}
	reached := map[string]bool{}
	for _, id := range reasonProblem {
		reached[id] = true
	}
	for _, c := range networkClasses {
		reached[c] = true
	}
	reached[unnamedProblem] = true
	for id := range reached {
		if _, ok := texts.Problems[id]; !ok {
			t.Errorf("problem %q has no entry in fixes.json", id)
		}
	}
	for id := range texts.Problems {
		if !reached[id] {
			t.Errorf("fixes.json entry %q is never used (no reason or network class leads to it)", id)
		}
	}
}

func TestEveryProblemHasAFixForEveryKind(t *testing.T) {
	for id, pt := range texts.Problems {
		for _, kind := range targets.Kinds {
			t.Run(id+"/"+string(kind), func(t *testing.T) {
				fs := For(problemFor(t, id, kind))
				if len(fs) != 1 {
					t.Fatalf("For = %d fixes, want 1", len(fs))
				}
				f := fs[0]
				if f.Summary == "" || f.Node != "cuicsub.example" {
					t.Errorf("summary %q, node %q", f.Summary, f.Node)
				}
				if len(f.Commands)+len(f.Notes) == 0 {
					t.Errorf("fix has neither commands nor notes: %+v", f)
				}
				if kind == targets.Custom && (len(f.Commands) > 0 || len(f.Restart) > 0) {
					t.Errorf("custom server gets Cisco commands: %+v", f)
				}
				if kind != targets.Custom && !words.Has("fix."+id+".all") && len(pt.Cisco) > 0 && len(f.Commands) != len(pt.Cisco) {
					t.Errorf("%d commands, want %d", len(f.Commands), len(pt.Cisco))
				}
				if pt.Restart && kind != targets.Custom && !words.Has("fix."+id+".all") && len(f.Restart) == 0 {
					t.Errorf("no restart for a problem that needs one")
				}
			})
		}
	}
}

func TestEveryReasonMapsToAProblem(t *testing.T) {
	for _, r := range allReasons() {
		id, ok := reasonProblem[r.Base()]
		if !ok {
			t.Errorf("reason %s (base %s) maps to no problem", r, r.Base())
			continue
		}
		if _, ok := texts.Problems[id]; !ok {
			t.Errorf("reason %s maps to %q, which fixes.json lacks", r, id)
		}
		for _, kind := range targets.Kinds {
			fs := For(Problem{Kind: kind, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: r, FailedParameter: "x"})
			if len(fs) != 1 || fs[0].Summary == "" {
				t.Errorf("For(%s, %s) = %+v", kind, r, fs)
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{[a-zA-Z]+\}`)

func TestNoPlaceholderSurvives(t *testing.T) {
	for id := range texts.Problems {
		for _, kind := range append(slices.Clone(targets.Kinds), "unknown") {
			for _, variant := range []string{"full", "empty", "redirect"} {
				p := problemFor(t, id, kind)
				switch variant {
				case "empty":
					p.FailedParameter, p.NetworkDetail, p.Origin = "", "", ""
				case "redirect":
					p.RedirectTo = other
				}
				for _, f := range For(p) {
					for _, s := range allText(f) {
						if m := placeholder.FindString(s); m != "" {
							t.Errorf("%s/%s/%s: %s survives in %q", id, kind, variant, m, s)
						}
					}
				}
			}
		}
	}
}

func TestFieldCase(t *testing.T) {
	fs := For(Problem{Kind: targets.CUIC, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.PreflightMissingAllowOriginHeader})
	if len(fs) != 1 {
		t.Fatalf("For = %+v, want one fix", fs)
	}
	f := fs[0]
	if f.Node != "cuicsub.example" {
		t.Errorf("node %q, want cuicsub.example", f.Node)
	}
	if want := "utils cuic cors allowed_origin add https://finessep.example:8445"; !slices.Contains(f.Commands, want) {
		t.Errorf("commands %q lack %q", f.Commands, want)
	}
	if want := []string{"utils service restart Intelligence Center Reporting Service"}; !slices.Equal(f.Restart, want) {
		t.Errorf("restart %q, want %q", f.Restart, want)
	}
	if !strings.Contains(f.Summary, fieldOrigin) || !strings.Contains(f.Summary, "cuicsub.example") {
		t.Errorf("summary %q", f.Summary)
	}
	if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "every CUIC node") }) {
		t.Errorf("notes %q do not say to run it on every node", f.Notes)
	}
	if !slices.Contains(f.Notes, words.Say(words.English, "fix.afterFix", nil)) {
		t.Errorf("notes %q lack the after-fix advice", f.Notes)
	}
}

func TestRedirectHop(t *testing.T) {
	p := Problem{Kind: targets.CUIC, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.MissingAllowOriginHeader, RedirectTo: other}
	notes := strings.Join(For(p)[0].Notes, "\n")
	if !strings.Contains(notes, fieldURL+" answered with a redirect to "+other) {
		t.Errorf("notes do not explain the redirect hop:\n%s", notes)
	}
	p.Reason, p.Network = "", "timeout"
	if notes := strings.Join(For(p)[0].Notes, "\n"); strings.Contains(notes, other) {
		t.Errorf("a network problem gets the redirect note:\n%s", notes)
	}
}

func TestRestarts(t *testing.T) {
	tests := []struct {
		kind targets.Kind
		want []string
	}{
		{targets.CUIC, []string{"utils service restart Intelligence Center Reporting Service"}},
		{targets.LiveData, []string{"utils service restart Cisco Web Proxy Service"}},
		{targets.Finesse, []string{"utils service restart Cisco Finesse Tomcat", "utils service restart Cisco Finesse Notification Service"}},
		{targets.Custom, nil},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			f := For(Problem{Kind: tc.kind, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.AllowOriginMismatch, FailedParameter: "https://x.example"})[0]
			if !slices.Equal(f.Restart, tc.want) {
				t.Errorf("restart %q, want %q", f.Restart, tc.want)
			}
			if tc.kind == targets.LiveData && !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "utils cuic cors allowed_origin add "+fieldOrigin) }) {
				t.Errorf("Live Data notes %q do not mention CUIC CORS for %s", f.Notes, fieldOrigin)
			}
		})
	}
}

func TestHeaderNotAllowed(t *testing.T) {
	f := For(Problem{Kind: targets.LiveData, URL: mustURL(t, "https://livedata.example:12005/"), Origin: fieldOrigin,
		Reason: cors.HeaderDisallowedByPreflightResponse, FailedParameter: "peripheralid"})[0]
	want := []string{"utils live-data cors allowed_headers list", "utils live-data cors allowed_headers add peripheralid"}
	if !slices.Equal(f.Commands, want) {
		t.Errorf("commands %q, want %q", f.Commands, want)
	}
	if f.Node != "livedata.example" || len(f.Restart) == 0 {
		t.Errorf("node %q, restart %q", f.Node, f.Restart)
	}
	custom := For(Problem{Kind: targets.Custom, URL: mustURL(t, "https://api.example/"), Origin: fieldOrigin,
		Reason: cors.HeaderDisallowedByPreflightResponse, FailedParameter: "x-token"})[0]
	if len(custom.Commands) != 0 || !strings.Contains(strings.Join(custom.Notes, "\n"), "x-token in Access-Control-Allow-Headers") {
		t.Errorf("custom fix %+v", custom)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := For(Problem{Kind: targets.Custom, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.MethodDisallowedByPreflightResponse, FailedParameter: "PATCH"})[0]
	if !strings.Contains(f.Summary, "PATCH") || !strings.Contains(strings.Join(f.Notes, "\n"), "list PATCH in Access-Control-Allow-Methods") {
		t.Errorf("fix %+v", f)
	}
}

func TestNetworkProblemsGiveNotes(t *testing.T) {
	for _, c := range networkClasses {
		for _, kind := range targets.Kinds {
			t.Run(c+"/"+string(kind), func(t *testing.T) {
				fs := For(Problem{Kind: kind, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Network: c, NetworkDetail: "x509: certificate signed by unknown authority"})
				if len(fs) != 1 {
					t.Fatalf("For = %+v", fs)
				}
				f := fs[0]
				if len(f.Notes) == 0 {
					t.Errorf("fix %+v has no notes", f)
				}
				if kind == targets.Custom && (len(f.Commands) != 0 || len(f.Restart) != 0) {
					t.Errorf("fix %+v, want notes only for a custom server", f)
				}
				if slices.Contains(f.Notes, words.Say(words.English, "fix.afterFix", nil)) {
					t.Error("a network problem gets the preflight-cache advice")
				}
				if !strings.Contains(f.Summary, "cuicsub.example") && !strings.Contains(f.Summary, fieldURL) {
					t.Errorf("summary %q names neither the node nor the URL", f.Summary)
				}
			})
		}
	}
}

func TestNoProblemNoFix(t *testing.T) {
	for _, p := range []Problem{
		{Kind: targets.CUIC, URL: mustURL(t, fieldURL), Origin: fieldOrigin},
		{Kind: targets.CUIC, Network: "no-such-class"},
		{Kind: targets.CUIC, Reason: "NoSuchReason"},
	} {
		if fs := For(p); fs != nil {
			t.Errorf("For(%+v) = %+v, want nil", p, fs)
		}
	}
}

func TestUnknownKindIsCustom(t *testing.T) {
	p := Problem{URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.MissingAllowOriginHeader}
	p.Kind = "weblogic"
	got := For(p)
	p.Kind = targets.Custom
	if want := For(p); !slices.EqualFunc(got, want, func(a, b Fix) bool { return slices.Equal(allText(a), allText(b)) }) {
		t.Errorf("unknown kind: %+v, want the custom fix %+v", got, want)
	}
	p.URL = nil
	if f := For(p)[0]; f.Node != "" || placeholder.MatchString(strings.Join(allText(f), " ")) {
		t.Errorf("fix without URL: %+v", f)
	}
}

func TestText(t *testing.T) {
	fs := For(Problem{Kind: targets.CUIC, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.PreflightMissingAllowOriginHeader})
	got := Text(fs, words.English)
	for _, want := range []string{
		"Fix: allow the origin https://finessep.example:8445 on cuicsub.example\n",
		"  On cuicsub.example run:\n    utils cuic cors status\n    utils cuic cors allowed_origin add https://finessep.example:8445\n",
		"  Then restart (on cuicsub.example):\n    utils service restart Intelligence Center Reporting Service\n",
		"  " + words.Say(words.English, "fix.afterFix", nil) + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Text lacks %q:\n%s", want, got)
		}
	}
	notes := Text(For(Problem{Kind: targets.Finesse, URL: mustURL(t, fieldURL), Network: "dns"}), words.English)
	if strings.Contains(notes, "run:") || !strings.HasPrefix(notes, "Fix: make cuicsub.example resolvable\n  The name cuicsub.example does not resolve.") {
		t.Errorf("Text of a network fix:\n%s", notes)
	}
	if Text(nil, words.English) != "" {
		t.Error("Text(nil) is not empty")
	}
}

// TestEveryLanguage: every problem gets a fix in every language, with the same commands and
// restarts as in English (commands are never translated) and every placeholder filled.
func TestEveryLanguage(t *testing.T) {
	for id := range texts.Problems {
		for _, kind := range targets.Kinds {
			p := problemFor(t, id, kind)
			en := For(p)[0]
			for _, l := range words.Langs[1:] {
				p.Lang = l
				f := For(p)[0]
				if !slices.Equal(f.Commands, en.Commands) || !slices.Equal(f.Restart, en.Restart) || len(f.Notes) != len(en.Notes) {
					t.Errorf("%s/%s in %s: %+v, English %+v", id, kind, l, f, en)
				}
				if f.Summary == en.Summary {
					t.Errorf("%s/%s in %s: summary left in English: %q", id, kind, l, f.Summary)
				}
				if placeholder.MatchString(strings.Join(allText(f), " ")) {
					t.Errorf("%s/%s in %s: placeholder left: %+v", id, kind, l, f)
				}
			}
		}
	}
	nl := Text(For(Problem{Kind: targets.CUIC, URL: mustURL(t, fieldURL), Origin: fieldOrigin, Reason: cors.PreflightMissingAllowOriginHeader, Lang: words.Dutch}), words.Dutch)
	if !strings.Contains(nl, "Oplossing: sta de origin https://finessep.example:8445 toe op cuicsub.example\n") ||
		!strings.Contains(nl, "  Voer uit op cuicsub.example:\n    utils cuic cors status\n    utils cuic cors allowed_origin add https://finessep.example:8445\n") ||
		!strings.Contains(nl, "utils service restart Intelligence Center Reporting Service") {
		t.Errorf("Dutch field case:\n%s", nl)
	}
}
