package admin

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/corsquickcheck/corscheck/web"
)

// lines returns the text of s as the browser may lay it out: the runs of text between its
// <wbr> elements. Any other element inside s fails the test.
func lines(t *testing.T, s *goquery.Selection) []string {
	t.Helper()
	if s.Length() != 1 {
		t.Fatalf("%d elements, want 1", s.Length())
	}
	runs := []string{""}
	s.Contents().Each(func(_ int, c *goquery.Selection) {
		switch n := c.Nodes[0]; {
		case n.Type == html.TextNode:
			runs[len(runs)-1] += n.Data
		case n.Type == html.ElementNode && n.Data == "wbr":
			runs = append(runs, "")
		default:
			t.Fatalf("unexpected %s in %s", goquery.NodeName(c), goquery.NodeName(s))
		}
	})
	for i := range runs {
		runs[i] = strings.TrimSpace(runs[i])
	}
	return runs
}

// breaksOnlyBetweenParts checks that value is shown whole, with break opportunities after
// every ".", "/" or "-" a letter follows, and nowhere else.
func breaksOnlyBetweenParts(t *testing.T, where string, s *goquery.Selection, value string) {
	t.Helper()
	runs := lines(t, s)
	if got := strings.Join(runs, ""); got != value {
		t.Fatalf("%s shows %q, want %q", where, got, value)
	}
	for i, run := range runs[:len(runs)-1] {
		next, _ := utf8.DecodeRuneInString(runs[i+1])
		if !strings.ContainsAny(run[len(run)-1:], "./-") || !unicode.IsLetter(next) {
			t.Errorf("%s breaks between %q and %q", where, run, runs[i+1])
		}
	}
	want := len(regexp.MustCompile(`[./-]\pL`).FindAllString(value, -1)) + 1
	if len(runs) != want {
		t.Errorf("%s breaks into %d parts, want %d: %q", where, len(runs), want, runs)
	}
}

// TestLongValuesBreakBetweenParts: a 253-character host name and long reason names break only
// between their parts, the tables that show them scroll inside a wrapper rather than widen the
// page, and no style rule breaks a word (TestAdminInBrowser checks the layout in Chromium).
func TestLongValuesBreakBetweenParts(t *testing.T) {
	host := "cuic-" + strings.Repeat("a", 58) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
		strings.Repeat("d", 53) + "-example"
	if len(host) != 253 {
		t.Fatalf("the host has %d characters, want 253", len(host))
	}
	const reason = "PreflightInvalidAllowCredentials"
	const origin = "https://finesse-primary.example.com:8445"
	e := newEnv(t, 0)
	r := e.at(time.Hour, "cuic", host, origin, "blocked")
	ids := e.add(r)
	e.diagnose(ids[0], reason, "")
	e.login()

	results := e.page("/admin/results")
	row := results.Find("#results tbody tr").First()
	breaksOnlyBetweenParts(t, "the results' node", row.Find("td.node"), host)
	breaksOnlyBetweenParts(t, "the results' page origin", row.Find("td").Eq(5), origin)
	breaksOnlyBetweenParts(t, "the results' reason", row.Find("td").Eq(8), reason)

	dash := e.page("/admin/")
	breaksOnlyBetweenParts(t, "the top reason", dash.Find("#reasons tbody tr td a").First(), reason)
	breaksOnlyBetweenParts(t, "the newest failure's node", dash.Find("#failures tbody tr td").Eq(1), host)
	breaksOnlyBetweenParts(t, "the matrix's origin", dash.Find("#matrix thead th").Eq(1), origin)

	detail := e.page(row.Find("td a").First().AttrOr("href", ""))
	detail.Find("#browser dt").Each(func(i int, dt *goquery.Selection) {
		if dt.Text() == "Node" {
			breaksOnlyBetweenParts(t, "the detail's node", dt.Next(), host)
		}
	})

	for page, doc := range map[string]*goquery.Document{"results": results, "dashboard": dash} {
		if n, wrapped := doc.Find("table").Length(), doc.Find(".table-wrap > table").Length(); n == 0 || wrapped != n {
			t.Errorf("%s: %d of %d tables scroll inside .table-wrap", page, wrapped, n)
		}
	}

	css, err := fs.ReadFile(web.Static, "static/admin.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range strings.Split(regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(css), ""), "}") {
		selector, body, _ := strings.Cut(rule, "{")
		body = strings.Join(strings.Fields(body), " ")
		if m := regexp.MustCompile(`(overflow-wrap|word-wrap): ?[a-z-]+|word-break: ?break-[a-z]+|line-break: ?anywhere`).FindString(body); m != "" &&
			!strings.HasSuffix(m, "normal") {
			t.Errorf("admin.css breaks words: %s { %s }", strings.TrimSpace(selector), m)
		}
	}
}
