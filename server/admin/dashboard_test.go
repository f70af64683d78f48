package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

const (
	originP = "https://finessep.example.com:8445"
	originS = "https://finesses.example.com:8445"
)

// at is a result of node for origin, ago before now.
func (e *env) at(ago time.Duration, kind, node, origin, verdict string) store.Result {
	r := result(0)
	r.ReceivedAt, r.TargetKind, r.Node, r.PageOrigin, r.Verdict = e.clock.Now().Add(-ago), kind, node, origin, verdict
	return r
}

func cellText(doc *goquery.Document, node, origin string) (*goquery.Selection, string) {
	col := -1
	doc.Find("#matrix thead th").Each(func(i int, s *goquery.Selection) {
		if s.Text() == origin {
			col = i
		}
	})
	var cell *goquery.Selection
	doc.Find("#matrix tbody tr").Each(func(_ int, tr *goquery.Selection) {
		if strings.HasPrefix(strings.TrimSpace(tr.Find("th").Text()), node) {
			cell = tr.Children().Eq(col)
		}
	})
	if col < 0 || cell == nil {
		return nil, ""
	}
	return cell, strings.Join(strings.Fields(cell.Text()), " ")
}

func TestDashboard(t *testing.T) {
	cat := targets.Defaults()
	cat.Targets[0].Nodes = []string{"silent.example.com"} // listed but never reported
	live := targets.NewLive(cat, nil)
	e := newEnv(t, 0, func(c *Config) { c.Catalogue = live })
	e.clock.t = time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC) // a Tuesday
	// The subscriber worked for both origins until three hours ago; since then it blocks the
	// publisher's origin. The publisher always works. A dead node is unreachable.
	e.add(e.at(5*time.Hour, "cuic", "cuicpub.example.com", originP, "allowed"),
		e.at(5*time.Hour, "cuic", "cuicpub.example.com", originS, "allowed"),
		e.at(5*time.Hour, "cuic", "cuicsub.example.com", originP, "allowed"),
		e.at(4*time.Hour, "cuic", "cuicsub.example.com", originS, "allowed"),
		e.at(40*time.Hour, "cuic", "cuicsub.example.com", originS, "allowed")) // outside 24h
	blocked := e.add(e.at(3*time.Hour, "cuic", "cuicsub.example.com", originP, "blocked"),
		e.at(2*time.Hour, "cuic", "cuicsub.example.com", originP, "blocked"),
		e.at(30*time.Minute, "cuic", "cuicsub.example.com", originP, "blocked"))
	dead := e.add(e.at(10*time.Minute, "livedata", "dead.example.com", originS, "unreachable"))
	for _, id := range blocked {
		e.diagnose(id, "PreflightMissingAllowOriginHeader", "")
	}
	e.diagnose(dead[0], "", "dns")
	e.login()

	doc := e.page("/admin/")
	var origins []string
	doc.Find("#matrix thead th").Each(func(_ int, s *goquery.Selection) { origins = append(origins, s.Text()) })
	if want := []string{"Node", originP, originS}; !slices.Equal(origins, want) {
		t.Fatalf("matrix columns %q, want %q", origins, want)
	}
	var rows []string
	doc.Find("#matrix tbody th").Each(func(_ int, s *goquery.Selection) { rows = append(rows, strings.Fields(s.Text())[0]) })
	if want := []string{"cuicpub.example.com", "cuicsub.example.com", "silent.example.com", "dead.example.com"}; !slices.Equal(rows, want) {
		t.Fatalf("matrix rows %q, want %q", rows, want)
	}
	for _, c := range []struct{ node, origin, class, text string }{
		{"cuicsub.example.com", originP, "cell-blocked", "blocked 30 min ago 25% allowed of 4 blocked since Tue Nov 24 09:00 UTC"},
		{"cuicsub.example.com", originS, "cell-allowed", "allowed 4 h ago 100% allowed of 1"},
		{"cuicpub.example.com", originP, "cell-allowed", "allowed 5 h ago 100% allowed of 1"},
		{"silent.example.com", originP, "", "no results"},
		{"dead.example.com", originS, "cell-unreachable", "unreachable 10 min ago 0% allowed of 1 unreachable in every result since Tue Nov 24 12:00 UTC"},
	} {
		cell, text := cellText(doc, c.node, c.origin)
		if cell == nil {
			t.Fatalf("no cell %s × %s", c.node, c.origin)
		}
		if text != c.text || (c.class != "" && !cell.HasClass(c.class)) {
			t.Errorf("cell %s × %s: %q (class %q), want %q (%s)", c.node, c.origin, text, cell.AttrOr("class", ""), c.text, c.class)
		}
	}
	// A cell leads to exactly its results in the window.
	cell, _ := cellText(doc, "cuicsub.example.com", originP)
	href := cell.Find("a").AttrOr("href", "")
	if want := "/admin/results?kind=cuic&node=cuicsub.example.com&origin=https%3A%2F%2Ffinessep.example.com%3A8445&since=2026-11-23T13%3A00%3A00"; href != want {
		t.Fatalf("cell link %q, want %q", href, want)
	}
	if ids := rowIDs(e.page(href)); len(ids) != 4 {
		t.Errorf("the cell's results: %d rows, want 4", len(ids))
	}

	var totals []string
	doc.Find("#totals li").Each(func(_ int, s *goquery.Selection) {
		totals = append(totals, s.Find(".total-count").Text()+" "+s.Find(".verdict").Text())
	})
	if want := []string{"4 allowed", "3 blocked", "1 unreachable"}; !slices.Equal(totals, want) {
		t.Errorf("totals %q, want %q", totals, want)
	}

	var reasons []string
	doc.Find("#reasons tbody tr").Each(func(_ int, s *goquery.Selection) {
		reasons = append(reasons, strings.Join(s.Find("td").Map(func(_ int, td *goquery.Selection) string { return td.Text() }), " | "))
	})
	if want := []string{"PreflightMissingAllowOriginHeader | 3 | cuicsub.example.com (cuic): 3", "dns | 1 | dead.example.com (livedata): 1"}; !slices.Equal(reasons, want) {
		t.Errorf("top reasons %q, want %q", reasons, want)
	}
	reasonLink := doc.Find("#reasons tbody a").First().AttrOr("href", "")
	if ids := rowIDs(e.page(reasonLink)); len(ids) != 3 {
		t.Errorf("%s: %d rows, want the 3 diagnosed results", reasonLink, len(ids))
	}

	var failures []string
	doc.Find("#failures tbody tr").Each(func(_ int, s *goquery.Selection) { failures = append(failures, s.Find("td").Eq(1).Text()) })
	if want := []string{"dead.example.com", "cuicsub.example.com", "cuicsub.example.com", "cuicsub.example.com"}; !slices.Equal(failures, want) {
		t.Errorf("newest failures %q, want %q", failures, want)
	}

	// The chart: a bar per hour, the blocked hours' segments drawn.
	if n := doc.Find("#chart g.bar").Length(); n != 24 {
		t.Errorf("%d bars, want 24", n)
	}
	if n := doc.Find("#chart rect.bar-blocked").Length(); n != 3 {
		t.Errorf("%d blocked segments, want 3", n)
	}
	var titles []string
	doc.Find("#chart g.bar > title").Each(func(_ int, s *goquery.Selection) { titles = append(titles, s.Text()) })
	if !slices.Contains(titles, "Nov 24 09:00 UTC: 0 allowed, 1 blocked, 0 unreachable") ||
		!slices.Contains(titles, "Nov 24 07:00 UTC: 3 allowed, 0 blocked, 0 unreachable") {
		t.Errorf("bar titles %q", titles)
	}

	// The other windows: 28 bars of 6 hours, 30 of a day; the older result counts in them.
	week := e.page("/admin/?window=7d")
	if n := week.Find("#chart g.bar").Length(); n != 28 {
		t.Errorf("7d: %d bars, want 28", n)
	}
	if _, text := cellText(week, "cuicsub.example.com", originS); text != "allowed 4 h ago 100% allowed of 2" {
		t.Errorf("7d cell %q", text)
	}
	if n := e.page("/admin/?window=30d").Find("#chart g.bar").Length(); n != 30 {
		t.Errorf("30d: %d bars, want 30", n)
	}
	if resp := e.do("GET", "/admin/?window=1y", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown window: %s", resp.Status)
	}
}

// TestDashboardReasonKinds: a node that serves two kinds of target (CUIC and Live Data on one
// host) appears once per kind under a reason, named with its kind, each linking to the results
// of that kind alone.
func TestDashboardReasonKinds(t *testing.T) {
	e := newEnv(t, 0)
	const node, reason = "cuicsub.example.com", "PreflightMissingAllowOriginHeader"
	cuic := e.add(e.at(3*time.Hour, "cuic", node, originP, "blocked"), e.at(2*time.Hour, "cuic", node, originP, "blocked"))
	ld := e.add(e.at(time.Hour, "livedata", node, originP, "blocked"))
	e.add(e.at(30*time.Minute, "livedata", node, originP, "blocked")) // not diagnosed
	for _, id := range append(cuic, ld...) {
		e.diagnose(id, reason, "")
	}
	e.login()

	doc := e.page("/admin/")
	row := doc.Find("#reasons tbody tr")
	if row.Length() != 1 || row.Find("td").First().Text() != reason || row.Find("td").Eq(1).Text() != "3" {
		t.Fatalf("top reasons: %q", strings.Join(strings.Fields(row.Text()), " "))
	}
	want := []struct {
		text string
		ids  []int64
	}{{node + " (cuic): 2", cuic}, {node + " (livedata): 1", ld}}
	items := row.Find("ul.nodes li")
	if items.Length() != len(want) {
		t.Fatalf("the reason's nodes: %q, want one per kind", items.Map(func(_ int, s *goquery.Selection) string { return s.Text() }))
	}
	items.Each(func(i int, li *goquery.Selection) {
		if li.Text() != want[i].text {
			t.Errorf("node %d reads %q, want %q", i, li.Text(), want[i].text)
		}
		href := li.Find("a").AttrOr("href", "")
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if kind := strings.Fields(want[i].text)[1]; q.Get("kind") != strings.Trim(kind, "():") || q.Get("node") != node || q.Get("reason") != reason {
			t.Errorf("node %d links to %s, want its kind, node and reason", i, href)
		}
		var wantIDs []string
		for _, id := range slices.Backward(want[i].ids) {
			wantIDs = append(wantIDs, strconv.FormatInt(id, 10))
		}
		if got := rowIDs(e.page(href)); !slices.Equal(got, wantIDs) {
			t.Errorf("%s lists %q, want %q", href, got, wantIDs)
		}
	})
}

func TestDashboardEmpty(t *testing.T) {
	e := newEnv(t, 0)
	e.login()
	doc := e.page("/admin/")
	for _, id := range []string{"#matrix-empty", "#reasons-empty", "#failures-empty"} {
		if doc.Find(id).Length() != 1 {
			t.Errorf("empty store: no %s", id)
		}
	}
	if n := doc.Find("#chart rect").Length(); n != 0 {
		t.Errorf("empty store: %d bars drawn", n)
	}
}

func (e *env) diagnose(id int64, reason, class string) {
	e.t.Helper()
	r, err := e.store.Result(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.AddDiagnosis(context.Background(), store.Diagnosis{ResultID: id, CreatedAt: r.ReceivedAt,
		URL: r.URL, Origin: r.PageOrigin, Kind: r.TargetKind, Node: r.Node, Verdict: r.Verdict, Reason: reason,
		NetworkClass: class}); err != nil {
		e.t.Fatal(err)
	}
}

func TestCountText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 matching results", 1: "1 matching result", 999: "999 matching results",
		1000: "1,000 matching results", 1001: "More than 1,000 matching results"} {
		if got := countText(n); got != want {
			t.Errorf("countText(%d) = %q, want %q", n, got, want)
		}
	}
}
