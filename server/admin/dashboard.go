package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/web"
)

// window is a span the dashboard summarises, drawn as buckets bars of step each.
type window struct {
	name    string
	label   string
	step    time.Duration
	buckets int
}

var windows = []window{
	{"24h", "Last 24 hours", time.Hour, 24},
	{"7d", "Last 7 days", 6 * time.Hour, 28},
	{"30d", "Last 30 days", 24 * time.Hour, 30},
}

// start is the beginning of the window's first bucket: buckets are aligned to their step in
// UTC, and the last one holds now.
func (w window) start(now time.Time) time.Time {
	return now.UTC().Truncate(w.step).Add(-time.Duration(w.buckets-1) * w.step)
}

const newestFailures = 10

// dashboard answers GET /admin/?window=24h|7d|30d&source=gadget|monitor. Open incidents come
// first. Everything else comes from the store's summaries and a few short index scans, so it
// costs the same at ten million results.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	name, source := r.URL.Query().Get("window"), r.URL.Query().Get("source")
	i := slices.IndexFunc(windows, func(w window) bool { return w.name == name })
	if name == "" {
		i = 0
	}
	if i < 0 {
		h.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("The window %q must be one of 24h, 7d, 30d.", name))
		return
	}
	if source != "" && !slices.Contains(store.Sources, source) {
		h.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("The source %q must be one of %s.", source, strings.Join(store.Sources, ", ")))
		return
	}
	win, now := windows[i], h.now().UTC()
	since := win.start(now)
	ctx := r.Context()
	sum, err := h.store.Summary(ctx, since, win.step, source)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	open, err := h.allOpenIncidents(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var failures []store.Result
	for _, verdict := range []string{"blocked", "unreachable"} {
		rs, err := h.store.Results(ctx, store.Filter{Verdict: verdict, Source: source, Limit: newestFailures})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		failures = append(failures, rs...)
	}
	slices.SortFunc(failures, func(a, b store.Result) int { return cmp.Compare(b.ID, a.ID) })

	v := web.DashboardView{
		Nav: web.Nav{SignedIn: true, Current: "dashboard"}, Since: since.Format(shownTime) + " UTC",
		FailuresURL: "/admin/results?verdict=blocked", Monitor: source == store.SourceMonitor,
	}
	for _, in := range open {
		v.OpenIncidents = append(v.OpenIncidents, incidentRow(in, now))
	}
	for _, o := range windows {
		v.Windows = append(v.Windows, web.Link{Label: o.label, URL: dashboardURL(o.name, source), Current: o == win})
	}
	v.Sources = append(v.Sources, web.Link{Label: "All results", URL: dashboardURL(win.name, ""), Current: source == ""})
	for _, s := range store.Sources {
		v.Sources = append(v.Sources, web.Link{Label: upperFirst(sourceLabels[s]), URL: dashboardURL(win.name, s), Current: source == s})
	}
	sinceForm := since.Format(formTime)
	v.Totals = totals(sum.Counts, sinceForm, source)
	v.Origins, v.Rows = matrix(sum, h.catalogueNodes(), now, sinceForm, source)
	v.Chart = chart(sum.Counts, win, since)
	v.Reasons = reasons(sum.Reasons, sinceForm, source)
	for _, res := range failures[:min(len(failures), newestFailures)] {
		v.Failures = append(v.Failures, resultRow(res))
	}
	h.render(w, r, http.StatusOK, web.DashboardPage(v))
}

// matrixKey is a target node for a page origin.
type matrixKey struct{ kind, node, origin string }

type node struct{ kind, node string }

// catalogueNodes are the nodes the catalogue lists, so a node that never reported shows up.
func (h *handler) catalogueNodes() []node {
	var ns []node
	for _, t := range h.catalogue.Get().Targets {
		for _, n := range t.Nodes {
			ns = append(ns, node{string(t.Kind), n})
		}
	}
	return ns
}

func resultsURL(kind, node, origin, verdict, reason, since, source string) string {
	return "/admin/results" + query(web.FilterForm{Kind: kind, Node: node, Origin: origin, Verdict: verdict,
		Reason: reason, Since: since, Source: source}, 0)
}

// dashboardURL is the dashboard for a window and a source ("" for all).
func dashboardURL(window, source string) string {
	u := "/admin/?window=" + window
	if source != "" {
		u += "&source=" + source
	}
	return u
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func totals(counts []store.Count, since, source string) []web.Total {
	n := map[string]int64{}
	for _, c := range counts {
		n[c.Verdict] += c.N
	}
	var out []web.Total
	for _, verdict := range verdicts {
		out = append(out, web.Total{Verdict: verdict, Count: thousands(n[verdict]),
			URL: resultsURL("", "", "", verdict, "", since, source)})
	}
	return out
}

// matrix lays the summary out as rows of nodes (the catalogue's and every node that reported)
// and columns of the page origins that reported.
func matrix(sum store.Summary, catalogue []node, now time.Time, since, source string) ([]string, []web.MatrixRow) {
	type tally struct{ allowed, total int64 }
	inWindow := map[matrixKey]*tally{}
	for _, c := range sum.Counts {
		k := matrixKey{c.TargetKind, c.Node, c.PageOrigin}
		t := inWindow[k]
		if t == nil {
			t = &tally{}
			inWindow[k] = t
		}
		t.total += c.N
		if c.Verdict == "allowed" {
			t.allowed += c.N
		}
	}
	latest := map[matrixKey]store.Latest{}
	nodes := slices.Clone(catalogue)
	var origins []string
	for _, l := range sum.Latest {
		latest[matrixKey{l.TargetKind, l.Node, l.PageOrigin}] = l
		nodes = append(nodes, node{l.TargetKind, l.Node})
		origins = append(origins, l.PageOrigin)
	}
	slices.SortFunc(nodes, func(a, b node) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.node, b.node)) })
	nodes = slices.Compact(nodes)
	slices.Sort(origins)
	origins = slices.Compact(origins)

	rows := make([]web.MatrixRow, 0, len(nodes))
	for _, n := range nodes {
		row := web.MatrixRow{Kind: n.kind, Node: n.node}
		for _, o := range origins {
			k := matrixKey{n.kind, n.node, o}
			c := web.MatrixCell{URL: resultsURL(n.kind, n.node, o, "", "", since, source)}
			if l, ok := latest[k]; ok {
				c.Verdict, c.Age = l.Verdict, age(now.Sub(l.ReceivedAt))
				if l.Verdict != "allowed" {
					c.Since = failingSince(l)
				}
			}
			if t := inWindow[k]; t != nil {
				c.PassRate = strconv.FormatInt(t.allowed*100/t.total, 10) + "%"
				c.Count = thousands(t.total)
			}
			row.Cells = append(row.Cells, c)
		}
		rows = append(rows, row)
	}
	return origins, rows
}

// failingSince says since when a cell has failed (see store.Latest.FailingSince).
func failingSince(l store.Latest) string {
	switch {
	case l.FailingSince.IsZero():
		return "" // intermittent
	case l.AllowedBefore:
		return l.Verdict + " since " + l.FailingSince.Format("Mon Jan 2 15:04") + " UTC"
	}
	return l.Verdict + " in every result since " + l.FailingSince.Format("Mon Jan 2 15:04") + " UTC"
}

// age is a duration as people say it.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days ago"
}

// reasons are the top ten reasons, each with its nodes. A node that serves several kinds of
// target counts once per kind, and links to the results of that kind.
func reasons(rs []store.ReasonCount, since, source string) []web.ReasonRow {
	by := map[string]*web.ReasonRow{}
	n := map[string]int64{}
	var order []string
	for _, r := range rs { // most frequent (reason, kind, node) first
		row := by[r.Reason]
		if row == nil {
			row = &web.ReasonRow{Reason: r.Reason, URL: resultsURL("", "", "", "", r.Reason, since, source)}
			by[r.Reason] = row
			order = append(order, r.Reason)
		}
		n[r.Reason] += r.N
		row.Nodes = append(row.Nodes, web.ReasonNode{Label: r.Node + " (" + r.TargetKind + ")", Count: thousands(r.N),
			URL: resultsURL(r.TargetKind, r.Node, "", "", r.Reason, since, source)})
	}
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(n[b], n[a]) })
	var out []web.ReasonRow
	for _, reason := range order[:min(len(order), 10)] {
		row := by[reason]
		row.Count = thousands(n[reason])
		out = append(out, *row)
	}
	return out
}

// The chart's drawing, in user units.
const (
	chartW, chartH       = 720.0, 220.0
	chartLeft, chartBase = 44.0, 190.0 // room for the count axis and the time axis
	chartTop             = 10.0
)

// chart draws results over time as stacked bars, one per bucket of the window.
func chart(counts []store.Count, win window, since time.Time) web.Chart {
	byBucket := make([]map[string]int64, win.buckets)
	for i := range byBucket {
		byBucket[i] = map[string]int64{}
	}
	for _, c := range counts {
		i := int(c.Hour.Sub(since) / win.step)
		if i >= 0 && i < win.buckets {
			byBucket[i][c.Verdict] += c.N
		}
	}
	var peak int64
	for _, b := range byBucket {
		peak = max(peak, b["allowed"]+b["blocked"]+b["unreachable"])
	}
	ch := web.Chart{ViewBox: fmt.Sprintf("0 0 %g %g", chartW, chartH), Empty: peak == 0}
	top := niceCeil(max(peak, 1))
	scale := (chartBase - chartTop) / float64(top)
	for _, v := range []int64{0, top / 2, top} {
		y := chartBase - float64(v)*scale
		ch.Scale = append(ch.Scale, web.ChartLabel{X: num(chartLeft - 6), Y: num(y + 4), Text: thousands(v), Anchor: "end"})
		ch.Lines = append(ch.Lines, web.ChartLine{X1: num(chartLeft), X2: num(chartW), Y: num(y)})
	}
	slot := (chartW - chartLeft) / float64(win.buckets)
	label := "Jan 2 15:04"
	if win.step >= 24*time.Hour {
		label = "Mon Jan 2"
	}
	for i, b := range byBucket {
		at := since.Add(time.Duration(i) * win.step)
		x := chartLeft + float64(i)*slot + slot*0.1
		bar := web.ChartBar{Title: fmt.Sprintf("%s UTC: %s allowed, %s blocked, %s unreachable", at.Format(label),
			thousands(b["allowed"]), thousands(b["blocked"]), thousands(b["unreachable"]))}
		y := chartBase
		for _, verdict := range verdicts {
			if b[verdict] == 0 {
				continue
			}
			h := float64(b[verdict]) * scale
			y -= h
			bar.Segments = append(bar.Segments, web.ChartSegment{Verdict: verdict, X: num(x), Y: num(y),
				Width: num(slot * 0.8), Height: num(h)})
		}
		ch.Bars = append(ch.Bars, bar)
		if i%(win.buckets/4) == 0 {
			ch.Ticks = append(ch.Ticks, web.ChartLabel{X: num(x), Y: num(chartBase + 18), Text: at.Format(label), Anchor: "start"})
		}
	}
	return ch
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the axis reads well.
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
