package gadget

import (
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// The gadget refuses the request headers fetch() drops before the user presses Test (check.js,
// FORBIDDEN); the service and the probe know them from server/cors. The two lists must say the
// same of every name: each name Go forbids is refused by the gadget, and each name the gadget's
// pattern can match is one Go forbids. The gadget follows Chromium, where agents' desktops run.
func TestGadgetForbidsTheHeadersGoForbids(t *testing.T) {
	src, err := os.ReadFile("check.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const FORBIDDEN = new RegExp\((.*?), 'i'\);`).FindSubmatch(src)
	if m == nil {
		t.Fatal("check.js has no FORBIDDEN = new RegExp(…, 'i')")
	}
	// The pattern is string literals joined with +.
	var pattern strings.Builder
	for _, lit := range regexp.MustCompile(`'([^']*)'`).FindAllSubmatch(m[1], -1) {
		pattern.Write(lit[1])
	}
	gadget, err := regexp.Compile("(?i)" + pattern.String())
	if err != nil {
		t.Fatalf("FORBIDDEN %q: %v", pattern.String(), err)
	}
	for _, name := range cors.Chromium.ForbiddenHeaderNames() {
		if !gadget.MatchString(name) {
			t.Errorf("the gadget lets a page set %s, which Chromium's fetch() drops", name)
		}
	}
	for _, name := range []string{"proxy-authorization", "sec-fetch-mode", "Sec-CH-UA", "COOKIE"} {
		if !gadget.MatchString(name) || !cors.IsForbiddenHeader(name, "") {
			t.Errorf("%s: gadget forbids %v, Go %v; want both", name, gadget.MatchString(name), cors.IsForbiddenHeader(name, ""))
		}
	}
	re, err := syntax.Parse(pattern.String(), syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	names := spell(re)
	if len(names) < len(cors.Chromium.ForbiddenHeaderNames()) {
		t.Fatalf("the pattern spells only %q", names)
	}
	for _, name := range names {
		if !cors.IsForbiddenHeader(strings.ReplaceAll(name, "*", "x"), "") {
			t.Errorf("the gadget refuses %s, which Chromium's fetch() sends", name)
		}
	}
	for _, name := range []string{"authorization", "locale", "peripheralid", "content-type", "accept", "x-requested-with", "cookie3", "hosts", "x-http-method-override"} {
		if gadget.MatchString(name) {
			t.Errorf("the gadget refuses %s, which fetch() sends", name)
		}
	}
}

// spell lists every string a pattern made of literals, groups, alternations, ? and .* matches,
// with * standing for what .* matches.
func spell(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCharClass: // [Cc] from the parser's case folding
		return []string{strings.ToLower(string(re.Rune[0]))}
	case syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpEmptyMatch:
		return []string{""}
	case syntax.OpStar:
		return []string{"*"}
	case syntax.OpCapture:
		return spell(re.Sub[0])
	case syntax.OpQuest:
		return append(spell(re.Sub[0]), "")
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			out = append(out, spell(s)...)
		}
		return out
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			var next []string
			for _, a := range out {
				for _, b := range spell(s) {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return slices.Compact(out)
	}
	panic("spell: unexpected " + re.String())
}
