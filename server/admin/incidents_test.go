package admin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/web"
)

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// cells is the text of a row's cells, a space between each.
func cells(row *goquery.Selection) string {
	var out []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) { out = append(out, text(td)) })
	return strings.Join(out, " ")
}

// openIncident stores an incident of node, opened ago before now, with the result behind it.
func (e *env) openIncident(ago time.Duration, node string, receivers ...store.AlertReceiver) int64 {
	e.t.Helper()
	r := e.at(ago, "cuic", node, originP, "blocked")
	r.Source = store.SourceMonitor
	ids := e.add(r)
	id, err := e.store.OpenIncident(context.Background(), store.Incident{
		Kind: "cuic", Node: node, Origin: originP, Endpoint: "CUIC 8444", URL: "https://" + node + ":8444/cuic/rest/status/",
		From: "allowed", To: "blocked", Reason: "PreflightMissingAllowOriginHeader",
		Explanation: "the preflight response has no Access-Control-Allow-Origin header <script>alert(1)</script>",
		Console:     "Access to fetch at …", OpenedAt: e.clock.Now().Add(-ago), ResultID: ids[0],
		Fixes: []byte(`[{"node":"` + node + `","summary":"allow the origin","commands":["utils cuic cors allowed_origin add ` + originP + `"]}]`),
	}, receivers)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func TestIncidentsPages(t *testing.T) {
	e := newEnv(t, 0, func(c *Config) { c.Monitoring = true })
	e.login()
	if doc := e.page("/admin/incidents"); doc.Find("#open-empty").Length() != 1 || doc.Find("#monitor-off").Length() != 0 ||
		!strings.Contains(text(doc.Find("#vantage")), "own network") {
		t.Fatalf("empty incidents page: %s", text(doc.Find("main")))
	}
	rcv := []store.AlertReceiver{{ID: "aaaa1111", Name: "webhook hooks.example.com (aaaa1111)"}}
	closedID := e.openIncident(3*time.Hour, "cuicpub.example.com", rcv...)
	if err := e.store.CloseIncident(context.Background(), closedID, store.Closing{At: e.clock.Now().Add(-time.Hour),
		To: "allowed", Because: store.ClosedRecovered}, rcv); err != nil {
		t.Fatal(err)
	}
	openID := e.openIncident(25*time.Minute, "cuicsub.example.com", rcv...)
	ds, _ := e.store.Deliveries(context.Background(), store.DeliveryFilter{IncidentID: openID})
	if err := e.store.RecordAttempt(context.Background(), ds[0].ID, store.Attempt{At: e.clock.Now(), Err: "answered 503",
		Next: e.clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	doc := e.page("/admin/incidents")
	open := doc.Find("#open-incidents tbody tr")
	if open.Length() != 1 || !strings.Contains(cells(open), "cuicsub.example.com cuic "+originP+" CUIC 8444 allowed → blocked PreflightMissingAllowOriginHeader") ||
		!strings.Contains(cells(open), "25 min") {
		t.Errorf("open incidents: %s", cells(open))
	}
	closed := doc.Find("#closed-incidents tbody tr")
	if closed.Length() != 1 || !strings.Contains(text(closed), "(recovered)") || !strings.Contains(text(closed), "2 h 0 min") {
		t.Errorf("closed incidents: %s", text(closed))
	}

	one := e.page(open.Find("a").AttrOr("href", ""))
	body := text(one.Find("main"))
	for _, want := range []string{"open for 25 min", "allowed → blocked", "Fix on cuicsub.example.com",
		"utils cuic cors allowed_origin add " + originP, "<script>alert(1)</script>", web.VantageNote} {
		if !strings.Contains(body, want) {
			t.Errorf("incident page lacks %q:\n%s", want, body)
		}
	}
	if one.Find("script").Length() != 0 {
		t.Error("the explanation's markup ran")
	}
	if href := one.Find("#evidence").AttrOr("href", ""); !strings.HasPrefix(href, "/admin/results/") {
		t.Errorf("evidence link %q", href)
	}
	if rows := cells(one.Find("#deliveries tbody tr")); !strings.Contains(rows, "incident.opened webhook hooks.example.com (aaaa1111) retrying next at") ||
		!strings.Contains(rows, "answered 503") {
		t.Errorf("deliveries: %s", rows)
	}

	// The dashboard lists the open incidents first.
	dash := e.page("/admin/")
	if rows := dash.Find("#dashboard-open-incidents tbody tr"); rows.Length() != 1 || !strings.Contains(text(rows), "cuicsub.example.com") {
		t.Errorf("dashboard's open incidents: %s", text(dash.Find("#dashboard-incidents")))
	}
	if first := dash.Find("main").Children().First(); first.AttrOr("id", "") != "dashboard-incidents" {
		t.Errorf("the dashboard starts with %s, not the open incidents", goquery.NodeName(first))
	}

	for _, bad := range []string{"/admin/incidents/0", "/admin/incidents/999", "/admin/incidents/x"} {
		if resp := e.do("GET", bad, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s", bad, resp.Status)
		}
	}
	if resp := e.do("GET", "/admin/incidents?before=x", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %s", resp.Status)
	}
	off := newEnv(t, 0)
	off.login()
	if doc := off.page("/admin/incidents"); doc.Find("#monitor-off").Length() != 1 {
		t.Error("the page does not say the scheduled checks are off")
	}
}

// The results list, the export and the dashboard keep to one source when asked.
func TestSourceFilter(t *testing.T) {
	e := newEnv(t, 0)
	e.login()
	gadget := e.at(time.Hour, "cuic", "cuicsub.example.com", originP, "blocked")
	mon := e.at(30*time.Minute, "cuic", "cuicsub.example.com", originP, "allowed")
	mon.Source = store.SourceMonitor
	ids := e.add(gadget, mon)

	for source, want := range map[string][]string{"": {id(ids[1]), id(ids[0])}, "gadget": {id(ids[0])}, "monitor": {id(ids[1])}} {
		doc := e.page("/admin/results?source=" + source)
		if got := rowIDs(doc); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("source %q: rows %v, want %v", source, got, want)
		}
	}
	if row := cells(e.page("/admin/results").Find("#results tbody tr").First()); !strings.HasSuffix(row, "monitor") {
		t.Errorf("the source column: %s", row)
	}
	if resp := e.do("GET", "/admin/results?source=browser", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown source: %s", resp.Status)
	}
	if resp := e.do("GET", "/admin/?source=browser", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("dashboard, unknown source: %s", resp.Status)
	}

	// The monitor's dashboard: its cell shows its own newest verdict, and says where it checks from.
	dash := e.page("/admin/?source=monitor")
	if _, cell := cellText(dash, "cuicsub.example.com", originP); !strings.HasPrefix(cell, "allowed") {
		t.Errorf("monitor's cell: %q", cell)
	}
	if dash.Find("#vantage").Length() != 1 || dash.Find("#sources a[aria-current]").Text() != "Scheduled checks (service)" {
		t.Errorf("monitor's dashboard: %s", text(dash.Find(".dash-head")))
	}
	if _, cell := cellText(e.page("/admin/?source=gadget"), "cuicsub.example.com", originP); !strings.HasPrefix(cell, "blocked") {
		t.Errorf("gadget's cell: %q", cell)
	}
	link, _ := dash.Find("#matrix tbody a").First().Attr("href")
	if !strings.Contains(link, "source=monitor") {
		t.Errorf("a monitor cell links to %q", link)
	}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }
