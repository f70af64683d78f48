package explain

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/polltest"
)

// These tests record HARs in real browsers, against the lab's nodes and a few servers that fail
// in other ways, then explain them: the verdict and the reason explain reads from each recording
// must be what the browser itself reported when it ran the request.

// recordedCase is one request the page makes and the server that answers it.
type recordedCase struct {
	name   string
	method string
	url    string
	// credentials as the gadget sends them; the HAR never says.
	headers map[string]string
}

// browserVerdict is what the browser reported for one request.
type browserVerdict struct {
	verdict cors.Verdict
	reason  cors.Reason
}

func (v browserVerdict) String() string { return string(v.verdict) + " " + string(v.reason) }

// otherServers fail in ways the lab does not: each answers a path with one server behaviour.
func otherServers(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		switch r.URL.Path {
		case "/mismatch":
			h.Set("Access-Control-Allow-Origin", "https://other.example")
		case "/list":
			h.Set("Access-Control-Allow-Origin", origin+", https://other.example")
		case "/method":
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "GET")
		case "/status":
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Headers", "authorization")
			if preflight {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		case "/redirect":
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Location", "/login")
			w.WriteHeader(http.StatusFound)
			return
		case "/login":
			// A login page without CORS headers, reached by the redirect.
		}
		fmt.Fprint(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recordingLab starts the lab with a blank gadget page and the other servers, and returns the
// cases to record.
func recordingLab(t *testing.T) (*lab.Lab, []recordedCase) {
	t.Helper()
	l, err := lab.Start(lab.Options{Gadget: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>gadget</title>")
	})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, recordedCases(l, otherServers(t).URL)
}

// recordedCases are the lab's nodes with the gadget's request, and the other servers.
func recordedCases(l *lab.Lab, other string) []recordedCase {
	gadget := map[string]string{}
	for _, h := range lab.GadgetHeaders() {
		gadget[h.Name] = h.Value
	}
	var cs []recordedCase
	for _, tg := range l.Targets() {
		cs = append(cs, recordedCase{name: tg.Name, method: "GET", url: tg.URL, headers: gadget})
	}
	return append(cs,
		recordedCase{name: "mismatch", method: "GET", url: other + "/mismatch"},
		recordedCase{name: "list", method: "GET", url: other + "/list"},
		recordedCase{name: "method", method: "PUT", url: other + "/method"},
		recordedCase{name: "status", method: "GET", url: other + "/status", headers: map[string]string{"Authorization": "Basic YWdlbnQ6c2VjcmV0"}},
		recordedCase{name: "redirect", method: "GET", url: other + "/redirect"},
	)
}

func fetchJS(c recordedCase) string {
	if c.headers == nil {
		c.headers = map[string]string{}
	}
	init, _ := json.Marshal(map[string]any{"method": c.method, "mode": "cors", "credentials": "include", "cache": "no-store", "headers": c.headers})
	return fmt.Sprintf(`fetch(%q, %s).then(r => "ok " + r.status, e => "error " + e)`, c.url, init)
}

// compare explains a recording and checks each case against what the browser reported.
func compare(t *testing.T, har []byte, cases []recordedCase, got map[string]browserVerdict) {
	t.Helper()
	res, err := Read(strings.NewReader(string(har)), Options{})
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	byURL := map[string]Finding{}
	for _, f := range res.Findings {
		byURL[f.URL] = f
	}
	for _, c := range cases {
		want := got[c.name]
		f, ok := byURL[c.url]
		if !ok {
			t.Errorf("%s: no finding for %s\n%s", c.name, c.url, res.Text())
			continue
		}
		if f.Verdict != want.verdict || (want.reason != "" && f.CorsError != want.reason) {
			t.Errorf("%s: explained %s %s, the browser said %s\n%s", c.name, f.Verdict, f.CorsError, want, res.Text())
			continue
		}
		t.Logf("%s: %s", c.name, want)
	}
}

// TestChromiumHAR records a HAR from Chromium's network events, as DevTools' own export builds it
// (one entry per request and per redirect hop; preflights as their own entries, marked
// _resourceType "preflight"; the raw headers of the extra-info events where Chromium sent them;
// _error for a failed load), in full and sanitized form, and explains both.
func TestChromiumHAR(t *testing.T) {
	l, cases := recordingLab(t)
	b := browsertest.Start(t, browsertest.TrustCA(l.CA().CertPEM()))
	rec := newCDPRecorder()
	if err := chromedp.Listen(b.Ctx, rec.listen); err != nil {
		t.Fatal(err)
	}
	page := l.SimulatorOrigin() + "/3rdpartygadget/files/blank.html"
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	got := map[string]browserVerdict{}
	for _, c := range cases {
		res, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](fetchJS(c), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v := browserVerdict{verdict: cors.Allowed}
		if !strings.HasPrefix(res, "ok ") {
			f := rec.waitFailed(c.url)
			switch {
			case f == nil:
				t.Fatalf("%s: fetch said %q but no Network.loadingFailed arrived", c.name, res)
			case f.CorsErrorStatus != nil:
				v = browserVerdict{cors.Blocked, cors.Reason(f.CorsErrorStatus.CorsError.String())}
			default:
				v = browserVerdict{verdict: cors.Unreachable}
			}
		}
		got[c.name] = v
	}
	rec.settle(len(cases))
	for _, sanitized := range []bool{false, true} {
		har := rec.har(page, sanitized)
		name := "full"
		if sanitized {
			name = "sanitized"
			if strings.Contains(string(har), "YWdlbnQ6c2VjcmV0") {
				t.Fatal("the sanitized HAR still holds Authorization")
			}
		}
		t.Run(name, func(t *testing.T) { compare(t, har, cases, got) })
		if dir := os.Getenv("HAR_DIR"); dir != "" {
			os.WriteFile(filepath.Join(dir, "chromium-"+name+".har"), har, 0o644)
		}
	}
}

// cdpRecorder keeps Chromium's network events and builds a HAR from them.
type cdpRecorder struct {
	mu        sync.Mutex
	order     []network.RequestID
	hops      map[network.RequestID][]*hopRecord
	reqExtra  map[network.RequestID][]network.Headers
	respExtra map[network.RequestID][]*network.EventResponseReceivedExtraInfo
	failed    map[network.RequestID]*network.EventLoadingFailed
	firstURL  map[string]network.RequestID
	preflight map[network.RequestID]bool
}

type hopRecord struct {
	started time.Time
	method  string
	url     string
	headers network.Headers // provisional, from requestWillBeSent
	status  int64
	resp    network.Headers
	redir   string
	typ     network.ResourceType
}

func newCDPRecorder() *cdpRecorder {
	return &cdpRecorder{hops: map[network.RequestID][]*hopRecord{}, reqExtra: map[network.RequestID][]network.Headers{},
		respExtra: map[network.RequestID][]*network.EventResponseReceivedExtraInfo{}, failed: map[network.RequestID]*network.EventLoadingFailed{},
		firstURL: map[string]network.RequestID{}, preflight: map[network.RequestID]bool{}}
}

func (r *cdpRecorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		hops := r.hops[e.RequestID]
		isPreflight := e.Initiator != nil && e.Initiator.Type == network.InitiatorTypePreflight
		if len(hops) == 0 {
			r.order = append(r.order, e.RequestID)
			if _, ok := r.firstURL[e.Request.URL]; !ok && !isPreflight {
				r.firstURL[e.Request.URL] = e.RequestID
			}
		}
		if e.RedirectResponse != nil && len(hops) > 0 {
			last := hops[len(hops)-1]
			last.status, last.resp, last.redir = e.RedirectResponse.Status, e.RedirectResponse.Headers, e.Request.URL
		}
		typ := e.Type
		if isPreflight {
			r.preflight[e.RequestID] = true
			typ = network.ResourceTypePreflight // as DevTools shows it
		}
		r.hops[e.RequestID] = append(hops, &hopRecord{started: time.UnixMicro(int64(e.WallTime.Float64() * 1e6)), method: e.Request.Method, url: e.Request.URL,
			headers: e.Request.Headers, typ: typ})
	case *network.EventRequestWillBeSentExtraInfo:
		r.reqExtra[e.RequestID] = append(r.reqExtra[e.RequestID], e.Headers)
	case *network.EventResponseReceivedExtraInfo:
		r.respExtra[e.RequestID] = append(r.respExtra[e.RequestID], e)
	case *network.EventResponseReceived:
		if hops := r.hops[e.RequestID]; len(hops) > 0 {
			last := hops[len(hops)-1]
			last.status, last.resp = e.Response.Status, e.Response.Headers
		}
	case *network.EventLoadingFailed:
		r.failed[e.RequestID] = e
	}
}

func (r *cdpRecorder) waitFailed(u string) (f *network.EventLoadingFailed) {
	polltest.Until(3*time.Second, func() bool {
		r.mu.Lock()
		f = r.failed[r.firstURL[u]]
		r.mu.Unlock()
		return f != nil
	})
	return f
}

// settle waits (boundedly) until the extra-info events, which may trail, have arrived.
func (r *cdpRecorder) settle(int) {
	polltest.Until(2*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for id, hops := range r.hops {
			if len(r.respExtra[id]) < len(hops) && hops[len(hops)-1].status > 0 {
				return false
			}
		}
		return true
	})
}

// harHeaders turns CDP headers into HAR header lines; Chromium joins repeated raw headers with
// a newline, which DevTools splits again.
func harHeaders(h network.Headers, sanitized bool) []map[string]string {
	names := make([]string, 0, len(h))
	for n := range h {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []map[string]string{}
	for _, n := range names {
		if sanitized && slices.Contains([]string{"authorization", "cookie", "set-cookie"}, strings.ToLower(n)) {
			continue
		}
		for _, v := range strings.Split(fmt.Sprint(h[n]), "\n") {
			out = append(out, map[string]string{"name": n, "value": v})
		}
	}
	return out
}

// har builds the HAR DevTools exports: entries by start time.
func (r *cdpRecorder) har(page string, sanitized bool) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	type built struct {
		started time.Time
		e       map[string]any
	}
	var all []built
	for _, id := range r.order {
		for i, h := range r.hops[id] {
			reqHeaders := h.headers
			if i < len(r.reqExtra[id]) {
				reqHeaders = r.reqExtra[id][i]
			}
			status, respHeaders := h.status, h.resp
			if i < len(r.respExtra[id]) {
				status, respHeaders = r.respExtra[id][i].StatusCode, r.respExtra[id][i].Headers
			}
			resp := map[string]any{"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": harHeaders(respHeaders, sanitized),
				"cookies": []any{}, "content": map[string]any{"size": 0, "mimeType": "x-unknown"}, "redirectURL": h.redir, "headersSize": -1, "bodySize": -1}
			last := i == len(r.hops[id])-1
			if f := r.failed[id]; f != nil && last {
				resp["_error"] = f.ErrorText
				if f.CorsErrorStatus == nil && status == 0 {
					resp["headers"] = []any{}
				}
			}
			e := map[string]any{
				"startedDateTime": h.started.UTC().Format(time.RFC3339Nano), "time": 1, "pageref": "page_1",
				"_resourceType": strings.ToLower(string(h.typ)),
				"request": map[string]any{"method": h.method, "url": h.url, "httpVersion": "HTTP/1.1", "headers": harHeaders(reqHeaders, sanitized),
					"queryString": []any{}, "cookies": []any{}, "headersSize": -1, "bodySize": 0},
				"response": resp, "cache": map[string]any{}, "timings": map[string]any{"send": 0, "wait": 0, "receive": 0},
			}
			if r.preflight[id] {
				e["_initiator"] = map[string]any{"type": "preflight"}
			}
			all = append(all, built{h.started, e})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].started.Before(all[j].started) })
	entries := make([]map[string]any, len(all))
	for i, b := range all {
		entries[i] = b.e
	}
	out, _ := json.MarshalIndent(map[string]any{"log": map[string]any{
		"version": "1.2", "creator": map[string]any{"name": "WebInspector", "version": "537.36"},
		"pages":   []map[string]any{{"id": "page_1", "title": page, "startedDateTime": time.Now().UTC().Format(time.RFC3339Nano)}},
		"entries": entries,
	}}, "", "  ")
	return out
}

// TestFirefoxHAR records a HAR with Firefox's own export (the network monitor's auto-export,
// written once the page is quiet) and explains it in Firefox's terms; the browser's verdicts and
// reasons come from its console.
func TestFirefoxHAR(t *testing.T) {
	l, cases := recordingLab(t)
	dir := t.TempDir()
	ff := browsertest.StartFirefox(t, browsertest.TrustCA(l.CA().CertPEM()), browsertest.ExportHAR(dir))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page := l.SimulatorOrigin() + "/3rdpartygadget/files/blank.html"
	if err := ff.Navigate(ctx, page); err != nil {
		t.Fatal(err)
	}
	got := map[string]browserVerdict{}
	for _, c := range cases {
		before := len(ff.Console())
		res, err := ff.Evaluate(ctx, fetchJS(c))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		v := browserVerdict{verdict: cors.Allowed}
		if !strings.HasPrefix(res, "ok ") {
			v = firefoxConsoleVerdict(ff, before)
		}
		got[c.name] = v
	}
	// The network monitor writes its HAR once the page has been quiet for a while.
	har := waitForHAR(t, dir)
	if dir := os.Getenv("HAR_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "firefox.har"), har, 0o644)
	}
	compare(t, har, cases, got)
}

// firefoxConsoleVerdict reads the browser's verdict from the console lines logged after before:
// the first CORS reason other than "did not succeed" means blocked, none means unreachable.
func firefoxConsoleVerdict(ff *browsertest.Firefox, before int) browserVerdict {
	start, v := time.Now(), browserVerdict{verdict: cors.Unreachable}
	polltest.Until(3*time.Second, func() bool {
		lines := ff.Console()[before:]
		for _, l := range lines {
			if f, _, ok := cors.ParseFirefoxConsole(l.Text); ok && f.Reason != cors.CORSDidNotSucceed {
				v = browserVerdict{cors.Blocked, f.Reason}
				return true
			}
		}
		// Lines that name no reason for a second: the request failed otherwise.
		return len(lines) > 0 && time.Since(start) > time.Second
	})
	return v
}

// waitForHAR waits (boundedly) for the first HAR file Firefox writes into dir.
func waitForHAR(t *testing.T, dir string) []byte {
	t.Helper()
	var har []byte
	if polltest.Until(30*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "*.har"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && json.Valid(b) {
				har = b
				return true
			}
		}
		return false
	}) {
		return har
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*"))
	t.Fatalf("Firefox wrote no HAR into %s: %q", dir, all)
	return nil
}
