package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// node is a loopback server that records what reaches it and allows the Finesse origin.
type node struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func newNode(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *node {
	n := &node{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.seen = append(n.seen, r.Clone(context.Background()))
		n.mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", finesse)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
		w.Header().Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
		if answer != nil {
			answer(w, r)
		}
	}))
	t.Cleanup(n.Close)
	return n
}

func (n *node) requests() []*http.Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*http.Request(nil), n.seen...)
}

// nodeEnv is a service whose catalogue lists the loopback node at nodeURL, with the endpoint
// /cuic/rest/status/ at its port, and allows loopback.
func nodeEnv(t *testing.T, nodeURL string, o envOptions) *testEnv {
	t.Helper()
	o.nodes, o.allowNets = []string{"127.0.0.1"}, []string{"127.0.0.1/32"}
	o.endpoints = []targets.Endpoint{{Port: portOf(t, nodeURL), Path: "/cuic/rest/status/"}}
	return newEnv(t, o)
}

// storedResult stores a result for url and returns its id, for a diagnosis to explain.
func (e *testEnv) storedResult(url string) int64 {
	e.t.Helper()
	_, body := e.do("POST", "/api/v1/results", "application/json", with("url", url), nil)
	var res struct{ IDs []int64 }
	if err := json.Unmarshal(body, &res); err != nil || len(res.IDs) != 1 {
		e.t.Fatalf("storing a result: %s", body)
	}
	return res.IDs[0]
}

func (e *testEnv) diagnose(in map[string]any) (int, []byte) {
	e.t.Helper()
	b, _ := json.Marshal(in)
	resp, body := e.do("POST", "/api/v1/diagnose", "application/json", b, map[string]string{"Origin": finesse})
	return resp.StatusCode, body
}

// The audit made diagnose send a DELETE to an /admin/… path and reach a Redis port of a catalogued
// host. It may call only the endpoints the catalogue lists for the host, with a method of the
// standard set.
func TestDiagnoseReachesOnlyCatalogueEndpoints(t *testing.T) {
	cuic := newNode(t, nil)
	redis := newNode(t, nil)
	e := newEnv(t, envOptions{nodes: []string{"127.0.0.1"}, allowNets: []string{"127.0.0.1/32"},
		endpoints: []targets.Endpoint{{Name: "lab", Port: portOf(t, cuic.URL), Path: "/cuic/rest/status/"}}})
	for _, tt := range []struct {
		name, url, method string
		status            int
		want              string
	}{
		{"another path", cuic.URL + "/admin/users/1", "DELETE", 403, "path /admin/users/1"},
		{"another port", redis.URL + "/", "GET", 403, "not an endpoint"},
		{"a query", cuic.URL + "/cuic/rest/status/?flushall", "GET", 403, "not an endpoint"},
		{"an invented method", cuic.URL + "/cuic/rest/status/", "PROPFIND", 400, `"method"`},
		{"a forbidden method", cuic.URL + "/cuic/rest/status/", "TRACE", 400, `"method"`},
		{"a long method", cuic.URL + "/cuic/rest/status/", strings.Repeat("M", 2000), 400, `"method"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.diagnose(map[string]any{"url": tt.url, "origin": finesse, "method": tt.method})
			if status != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("status %d, want %d with %q: %s", status, tt.status, tt.want, body)
			}
		})
	}
	if n := len(cuic.requests()) + len(redis.requests()); n != 0 {
		t.Fatalf("refused diagnoses reached the nodes %d times", n)
	}
	status, body := e.diagnose(map[string]any{"url": cuic.URL + "/cuic/rest/status/", "origin": finesse, "method": "delete"})
	if status != 200 {
		t.Fatalf("the endpoint: %d %s", status, body)
	}
	if rs := cuic.requests(); len(rs) != 2 || rs[0].Method != "OPTIONS" || rs[1].Method != "DELETE" || rs[1].URL.Path != "/cuic/rest/status/" {
		t.Fatalf("the endpoint got %d requests", len(rs))
	}
}

// A CORS decision needs header names, not values: the caller's values are not sent to the node,
// nor stored, nor returned; the report says which headers got placeholders.
func TestDiagnoseSendsPlaceholders(t *testing.T) {
	cuic := newNode(t, nil)
	e := nodeEnv(t, cuic.URL, envOptions{})
	const secret = "c2VjcmV0Omh1bnRlcjI="
	id := e.storedResult(cuic.URL + "/cuic/rest/status/")
	status, body := e.diagnose(map[string]any{"url": cuic.URL + "/cuic/rest/status/", "origin": finesse, "credentials": "include", "resultId": id,
		"headers": []map[string]string{{"name": "Authorization", "value": "Basic " + secret}, {"name": "X-Api-Key", "value": secret},
			{"name": "Accept-Language", "value": "nl"}, {"name": "Content-Type", "value": "application/json; " + secret}}})
	if status != 200 || strings.Contains(string(body), secret) {
		t.Fatalf("status %d, the answer holds the secret: %s", status, body)
	}
	var out DiagnoseOutput
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Report.Verdict != "allowed" || strings.Join(out.Report.Placeholders, ",") != "Authorization,X-Api-Key,Content-Type" {
		t.Fatalf("verdict %s, placeholders %v", out.Report.Verdict, out.Report.Placeholders)
	}
	rs := cuic.requests()
	if len(rs) != 2 {
		t.Fatalf("%d requests reached the node, want a preflight and the request", len(rs))
	}
	if acrh := rs[0].Header.Get("Access-Control-Request-Headers"); acrh != "authorization,content-type,x-api-key" {
		t.Errorf("the preflight asked for %q: the placeholders changed which headers need one", acrh)
	}
	got := rs[1].Header
	if got.Get("Authorization") != placeholderAuthorization || got.Get("X-Api-Key") != placeholderValue ||
		got.Get("Content-Type") != placeholderValue || got.Get("Accept-Language") != "nl" {
		t.Errorf("the node got %v", got)
	}
	ds, err := e.store.Diagnoses(context.Background(), id)
	if err != nil || len(ds) != 1 || strings.Contains(string(ds[0].Report), secret) || !strings.Contains(string(ds[0].Report), `"placeholders"`) {
		t.Fatalf("stored %d diagnoses (%v), or the stored report holds the secret or lacks the placeholders", len(ds), err)
	}
}

// A node decides how large a report grows: the audit stored 1.3 MB from 20 redirects with 58 KB
// of headers each. The report stored and returned is capped, and says what was cut.
func TestDiagnoseReportIsCapped(t *testing.T) {
	filler := strings.Repeat("f", 1000)
	cuic := newNode(t, func(w http.ResponseWriter, r *http.Request) {
		for i := range 58 {
			w.Header().Set(fmt.Sprintf("X-Filler-%d", i), filler)
		}
		http.Redirect(w, r, "/cuic/rest/status/?hop="+r.URL.Query().Get("hop")+"x", http.StatusFound)
	})
	e := nodeEnv(t, cuic.URL, envOptions{})
	id := e.storedResult(cuic.URL + "/cuic/rest/status/")
	status, body := e.diagnose(map[string]any{"url": cuic.URL + "/cuic/rest/status/", "origin": finesse, "resultId": id})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	if len(cuic.requests()) < 20 {
		t.Fatalf("the probe followed %d redirects, want 20", len(cuic.requests()))
	}
	var out DiagnoseOutput
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(body) > maxReport+1024 || len(out.Report.Cut) == 0 || out.Report.Verdict == "" {
		t.Fatalf("answer of %d bytes, cut %v, verdict %q", len(body), out.Report.Cut, out.Report.Verdict)
	}
	ds, err := e.store.Diagnoses(context.Background(), id)
	if err != nil || len(ds) != 1 || len(ds[0].Report) > maxReport {
		t.Fatalf("stored %d diagnoses (%v)", len(ds), err)
	}
	var stored probe.Report
	if err := json.Unmarshal(ds[0].Report, &stored); err != nil || len(stored.Cut) == 0 {
		t.Fatalf("the stored report does not say what was cut: %v %v", stored.Cut, err)
	}
	t.Logf("report of %d bytes; cut: %s", len(ds[0].Report), strings.Join(stored.Cut, "; "))
}

// Whatever a node sends, the report fits: every part that grows with the node's answers is cut.
func TestCapReportWorstCase(t *testing.T) {
	long := strings.Repeat("<&>é", 4<<10) // 20 KB, and six bytes per character once escaped
	rep := &probe.Report{URL: long, FinalURL: long, Console: long, Explanation: long, FailedParameter: long,
		Network: &probe.NetworkError{Message: long},
		Fixes:   []fix.Fix{{Summary: long, Commands: []string{long, long}, Notes: []string{long}}}}
	for i := range 40 {
		rep.Warnings = append(rep.Warnings, cors.Warning{Code: "w", Message: fmt.Sprint(i, long)})
	}
	for range 21 {
		h := http.Header{}
		for i := range 60 {
			h.Set(fmt.Sprintf("X-%d", i), long[:1000])
		}
		rep.Steps = append(rep.Steps, probe.Exchange{URL: long, Error: long, Headers: h,
			RequestHeaders: []cors.Header{{Name: "Origin", Value: long}}})
	}
	rep.Preflight, rep.Actual = &rep.Steps[19], &rep.Steps[20]
	b, err := capReport(rep, maxReport)
	if err != nil || len(b) > maxReport || len(rep.Cut) != 4 {
		t.Fatalf("%d bytes, %v, cut %v", len(b), err, rep.Cut)
	}
	var back probe.Report
	if err := json.Unmarshal(b, &back); err != nil || !strings.HasSuffix(back.Console, "…") {
		t.Fatalf("the capped report does not read back, or does not mark a cut text: %v", err)
	}
}

// The re-test defeated the cap with a node that redirects to http://<200,000 × "a">.example/:
// the host comes back in URLs, the console line and the fixes (which were never cut), and the
// diagnosis answered 500. Every long string is cut, and the diagnosis never fails for its size.
func TestDiagnoseReportCapHoldsForHugeHosts(t *testing.T) {
	host := strings.Repeat("a", 200_000) + ".example"
	cuic := newNode(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+host+"/", http.StatusFound)
	})
	e := nodeEnv(t, cuic.URL, envOptions{})
	id := e.storedResult(cuic.URL + "/cuic/rest/status/")
	status, body := e.diagnose(map[string]any{"url": cuic.URL + "/cuic/rest/status/", "origin": finesse, "resultId": id})
	if status != 200 {
		t.Fatalf("status %d: %.300s", status, body)
	}
	var out DiagnoseOutput
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(body) > maxReport+1024 || len(out.Report.Cut) == 0 || out.Report.Verdict == "" || len(out.Report.Fixes) == 0 {
		t.Fatalf("answer of %d bytes, cut %v, verdict %q, %d fixes", len(body), out.Report.Cut, out.Report.Verdict, len(out.Report.Fixes))
	}
	if f := out.Report.Fixes[0]; !strings.HasPrefix(f.Node, "aaaa") || !strings.HasSuffix(f.Node, "…") {
		t.Errorf("the fix's node %.40q… is not cut and marked", f.Node)
	}
	ds, err := e.store.Diagnoses(context.Background(), id)
	if err != nil || len(ds) != 1 || len(ds[0].Report) > maxReport {
		t.Fatalf("stored %d diagnoses (%v)", len(ds), err)
	}
	t.Logf("report of %d bytes; cut: %s", len(ds[0].Report), strings.Join(out.Report.Cut, "; "))
}

// However many fixes, warnings and steps a report holds, and however long their texts, the cap
// holds: the last cut bounds every part.
func TestCapReportNeverFails(t *testing.T) {
	long := strings.Repeat("<a>", 1000)
	rep := &probe.Report{URL: long, Node: long, FinalURL: long, Console: long, Network: &probe.NetworkError{Message: long, NetError: long}}
	for range 30 {
		rep.Warnings = append(rep.Warnings, cors.Warning{Code: "w", Message: long})
		rep.Placeholders = append(rep.Placeholders, long)
		rep.Steps = append(rep.Steps, probe.Exchange{URL: long, Method: long, Error: long})
		f := fix.Fix{Node: long, Summary: long}
		for range 10 {
			f.Commands, f.Restart, f.Notes = append(f.Commands, long), append(f.Restart, long), append(f.Notes, long)
		}
		rep.Fixes = append(rep.Fixes, f)
	}
	b, err := capReport(rep, maxReport)
	if err != nil || len(b) > maxReport || len(rep.Cut) == 0 || !strings.Contains(rep.Cut[len(rep.Cut)-1], "every step but the first and the last") {
		t.Fatalf("%d bytes, %v, cut %q", len(b), err, rep.Cut)
	}
	t.Logf("%d bytes", len(b))
}

// The re-test ran 21 diagnoses at once against an endpoint that sends 240 KB of headers on each
// redirect, and the service's memory went from 46 MB to 459 MB: nothing bounded how many run at
// once. Past the bound, a diagnosis waits briefly for room, then gets 503 with Retry-After, and
// never reaches the node.
func TestDiagnoseConcurrencyIsBounded(t *testing.T) {
	var arrivals atomic.Int64
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	cuic := newNode(t, func(w http.ResponseWriter, r *http.Request) {
		if arrivals.Add(1) <= 2 { // the first two diagnoses hold their room until released
			arrived <- struct{}{}
			<-release
		}
	})
	e := nodeEnv(t, cuic.URL, envOptions{diagnoses: 2, diagnoseWait: time.Millisecond})
	in, _ := json.Marshal(map[string]any{"url": cuic.URL + "/cuic/rest/status/", "origin": finesse})
	statuses := make(chan string, 2)
	for range 2 {
		go func() {
			resp, err := http.Post(e.srv.URL+"/api/v1/diagnose", "application/json", bytes.NewReader(in))
			if err != nil {
				statuses <- err.Error()
				return
			}
			resp.Body.Close()
			statuses <- resp.Status
		}()
	}
	<-arrived
	<-arrived
	resp, body := e.do("POST", "/api/v1/diagnose", "application/json", in, nil)
	close(release)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(body), "retry in a second") {
		t.Errorf("a third diagnosis while two run: %s, Retry-After %q: %s", resp.Status, resp.Header.Get("Retry-After"), body)
	}
	for range 2 {
		if s := <-statuses; s != "200 OK" {
			t.Errorf("a diagnosis that had room: %s", s)
		}
	}
	if resp, body := e.do("POST", "/api/v1/diagnose", "application/json", in, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("once they ended: %s %s", resp.Status, body)
	}
	if n := len(cuic.requests()); n != 3 {
		t.Fatalf("the node got %d requests, want 3: the refused diagnosis reached it", n)
	}
}

// Most of the 20 MB one diagnosis used was the uncut report encoded whole before being cut.
// A report whose headers alone are too large is cut before it is encoded.
func TestCapReportOfHugeHeadersAllocatesLittle(t *testing.T) {
	filler := strings.Repeat("f", 1000)
	rep := &probe.Report{Steps: []probe.Exchange{}}
	for range 21 {
		h := http.Header{}
		for i := range 240 {
			h[fmt.Sprintf("X-Filler-%d", i)] = []string{filler}
		}
		rep.Steps = append(rep.Steps, probe.Exchange{URL: "https://cuic.example.com/", Headers: h})
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := capReport(rep, maxReport)
	runtime.ReadMemStats(&after)
	if err != nil || len(b) > maxReport {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Fatalf("cutting a report with 5 MB of headers allocated %d bytes, want at most 2 MiB", alloc)
	}
}
