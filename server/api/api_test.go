package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/auth"
	"github.com/corsquickcheck/corscheck/server/egress"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

const finesse = "https://finessep.example:8445"

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

type testEnv struct {
	t     *testing.T
	srv   *httptest.Server
	store store.Store
	gate  *auth.Gate
}

type envOptions struct {
	allowNets    []string
	nodes        []string
	resultsRL    Limit
	log          io.Writer // the service log; discarded when nil
	trustProxy   bool
	endpoints    []targets.Endpoint // more endpoints of the CUIC target, whose nodes are nodes
	explainLimit int64
	// diagnoses bounds the diagnoses running at once, diagnoseWait how long one waits for room.
	diagnoses    int
	diagnoseWait time.Duration
	// notFound answers the unknown paths outside /api/ (Config.NotFound).
	notFound http.Handler
}

const adminPassword = "correct horse battery"

func newEnv(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat := targets.Defaults()
	cat.Targets[0].Nodes = append([]string{"cuicpub.example.com"}, o.nodes...)
	cat.Targets[0].Endpoints = append(cat.Targets[0].Endpoints, o.endpoints...)
	live := targets.NewLive(cat, nil)
	nets, err := egress.ParseNets(o.allowNets)
	if err != nil {
		t.Fatal(err)
	}
	policy := &egress.Policy{AllowHost: live.HasHost, AllowedNets: nets,
		Resolver: fakeResolver{"rebind.example": {netip.MustParseAddr("10.0.0.7")}, "cuicpub.example.com": {netip.MustParseAddr("192.168.1.20")}}}
	p := probe.New(probe.Options{DialContext: policy.DialContext, NoExtraChecks: true})
	t.Cleanup(p.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.log != nil {
		log = slog.New(slog.NewTextHandler(o.log, nil))
	}
	gate := auth.New(auth.Config{Store: st, CheckPassword: func(p string) bool { return p == adminPassword }, Logger: log})
	h := NewServer(Config{Store: st, Catalogue: live, Prober: p, Guard: policy, Origins: []string{finesse},
		Gate: gate, ResultsLimit: o.resultsRL, Logger: log, TrustProxy: o.trustProxy, ExplainLimit: o.explainLimit,
		DiagnoseConcurrency: o.diagnoses, DiagnoseWait: o.diagnoseWait, NotFound: o.notFound})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testEnv{t: t, srv: srv, store: st, gate: gate}
}

func (e *testEnv) do(method, path, contentType string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *testEnv) count() int64 {
	e.t.Helper()
	n, err := e.store.CountResults(context.Background(), store.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func validResult() map[string]any {
	return map[string]any{
		"gadgetVersion": "1.0.0", "pageOrigin": finesse, "targetKind": "cuic", "node": "cuicsub.example.com",
		"url": "https://cuicsub.example.com:8444/cuic/rest/status/", "method": "GET",
		"headerNames": []string{"authorization", "locale"}, "credentials": "include", "verdict": "blocked",
		"browserError": "TypeError: Failed to fetch", "durationMs": 42.5, "userAgent": "Mozilla/5.0",
		"agentId": "1001", "extension": "5001", "role": "Agent", "clientTime": "2026-11-23T09:30:00Z",
	}
}

func with(k string, v any) []byte {
	m := validResult()
	if v == nil {
		delete(m, k)
	} else {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// raw is a valid result's JSON with old replaced by new, for what json.Marshal cannot write.
func raw(old, new string) []byte {
	b := string(with("verdict", "blocked"))
	if !strings.Contains(b, old) {
		panic("no " + old + " in " + b)
	}
	return []byte(strings.Replace(b, old, new, 1))
}

func TestResultsRejectsBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	many := make([]map[string]any, 101)
	for i := range many {
		many[i] = validResult()
	}
	manyJSON, _ := json.Marshal(many)
	oneBad, _ := json.Marshal([]map[string]any{validResult(), func() map[string]any { m := validResult(); m["verdict"] = "ok"; return m }()})
	tests := []struct {
		name   string
		ct     string
		body   []byte
		status int
		field  string
	}{
		{"empty body", "application/json", nil, 400, ""},
		{"truncated JSON", "application/json", []byte(`{"gadgetVersion":"1.0`), 400, ""},
		{"not JSON", "application/json", []byte(`verdict=allowed`), 400, ""},
		{"wrong content type", "text/plain", with("verdict", "allowed"), 415, ""},
		{"no content type", "", with("verdict", "allowed"), 415, ""},
		{"form content type", "application/x-www-form-urlencoded", with("verdict", "allowed"), 415, ""},
		{"oversize body", "application/json", with("browserError", strings.Repeat("x", 70<<10)), 413, ""},
		{"batch over 100", "application/json", manyJSON, 413, ""},
		{"empty batch", "application/json", []byte(`[]`), 400, ""},
		{"a number", "application/json", []byte(`42`), 400, ""},
		{"trailing data", "application/json", append(with("verdict", "allowed"), []byte(` {}`)...), 400, ""},
		{"unknown field", "application/json", with("password", "x"), 400, "password"},
		{"bad verdict", "application/json", with("verdict", "ok"), 400, "verdict"},
		{"verdict wrong type", "application/json", with("verdict", 1), 400, "verdict"},
		{"missing verdict", "application/json", with("verdict", nil), 400, "verdict"},
		{"missing origin", "application/json", with("pageOrigin", nil), 400, "pageOrigin"},
		{"origin with path", "application/json", with("pageOrigin", finesse+"/desktop"), 400, "pageOrigin"},
		{"null origin", "application/json", with("pageOrigin", "null"), 400, "pageOrigin"},
		{"bad kind", "application/json", with("targetKind", "ucm"), 400, "targetKind"},
		{"node with script", "application/json", with("node", "<script>alert(1)</script>"), 400, "node"},
		{"node with port", "application/json", with("node", "cuic.example.com:8444"), 400, "node"},
		{"javascript URL", "application/json", with("url", "javascript:alert(1)"), 400, "url"},
		{"relative URL", "application/json", with("url", "/cuic/rest"), 400, "url"},
		{"URL with credentials", "application/json", with("url", "https://u:p@cuic.example.com/"), 400, "url"},
		{"huge URL", "application/json", with("url", "https://cuic.example.com/"+strings.Repeat("a", 3000)), 400, "url"},
		{"bad method", "application/json", with("method", "GET POST"), 400, "method"},
		{"forbidden method", "application/json", with("method", "TRACE"), 400, "method"},
		{"header names not a list", "application/json", with("headerNames", "authorization"), 400, "headerNames"},
		{"header name with space", "application/json", with("headerNames", []string{"x y"}), 400, "headerNames[0]"},
		{"bad credentials", "application/json", with("credentials", "yes"), 400, "credentials"},
		{"control characters", "application/json", with("browserError", "bad\x07bell"), 400, "browserError"},
		{"newline in user agent", "application/json", with("userAgent", "a\nb"), 400, "userAgent"},
		{"huge user agent", "application/json", with("userAgent", strings.Repeat("u", 600)), 400, "userAgent"},
		{"negative duration", "application/json", with("durationMs", -1), 400, "durationMs"},
		{"duration as string", "application/json", with("durationMs", "12"), 400, "durationMs"},
		{"bad client time", "application/json", with("clientTime", "yesterday"), 400, "clientTime"},
		{"long agent id", "application/json", with("agentId", strings.Repeat("1", 65)), 400, "agentId"},
		{"invalid UTF-8", "application/json", []byte("{\"gadgetVersion\":\"1\xff\"}"), 400, ""},
		{"one bad in a batch", "application/json", oneBad, 400, "[1].verdict"},
		{"missing gadget version", "application/json", with("gadgetVersion", nil), 400, "gadgetVersion"},
		// The strict decoder: exact-case keys, once each, valid UTF-8, nothing after the value.
		{"upper-case key overrides", "application/json", raw(`"verdict":"blocked"`, `"verdict":"blocked","VERDICT":"allowed"`), 400, "VERDICT"},
		{"key matched by Unicode folding", "application/json", raw(`"gadgetVersion"`, `"gadgetVerſion"`), 400, "gadgetVerſion"},
		{"duplicate key", "application/json", raw(`"verdict":"blocked"`, `"verdict":"blocked","verdict":"allowed"`), 400, "verdict"},
		{"invalid UTF-8 in a value", "application/json", raw(`"Mozilla/5.0"`, "\"Mozilla\xff/5.0\""), 400, "userAgent"},
		{"lone surrogate escape", "application/json", raw(`"Mozilla/5.0"`, `"Mozilla\udc00"`), 400, "userAgent"},
		{"trailing text", "application/json", append(with("verdict", "allowed"), 'x'), 400, ""},
		{"trailing bracket", "application/json", append(with("verdict", "allowed"), ']'), 400, ""},
		// Field hygiene.
		{"bidi control in the URL's host", "application/json", with("url", "https://cuic\u202esub.example.com/"), 400, "url"},
		{"percent-encoded bidi control in the host", "application/json", with("url", "https://cuic%E2%80%AEsub.example.com/"), 400, "url"},
		{"zero-width space in the URL's path", "application/json", with("url", "https://cuic.example.com/\u200bstatus"), 400, "url"},
		{"byte order mark in the URL", "application/json", with("url", "https://cuic.example.com/\ufeff"), 400, "url"},
		// Blank characters outside category Cf, which the re-test got through in hosts.
		{"Hangul filler in the URL's host", "application/json", with("url", "https://cuic\u3164sub.example.com/"), 400, "url"},
		{"combining grapheme joiner in the URL's host", "application/json", with("url", "https://cuic\u034fsub.example.com/"), 400, "url"},
		{"variation selector in the URL's host", "application/json", with("url", "https://cuic\ufe0fsub.example.com/"), 400, "url"},
		{"braille blank in the URL's host", "application/json", with("url", "https://cuic\u2800sub.example.com/"), 400, "url"},
		{"ideographic space in the URL's host", "application/json", with("url", "https://cuic\u3000sub.example.com/"), 400, "url"},
		{"percent-encoded Hangul filler in the host", "application/json", with("url", "https://cuic%E3%85%A4sub.example.com/"), 400, "url"},
		{"ideographic space in the URL's path", "application/json", with("url", "https://cuic.example.com/\u3000status"), 400, "url"},
		// Display spoofing in the admin UI and the CSV.
		{"bidi control in the agent id", "application/json", with("agentId", "10\u202e01"), 400, "agentId"},
		{"zero-width space in the agent id", "application/json", with("agentId", "10\u200b01"), 400, "agentId"},
		{"Hangul filler in the extension", "application/json", with("extension", "5001\u3164"), 400, "extension"},
		{"bidi isolate in the browser error", "application/json", with("browserError", "\u2066Failed\u2069"), 400, "browserError"},
		{"byte order mark in the role", "application/json", with("role", "\ufeffAgent"), 400, "role"},
		{"zero-width joiner in the user agent", "application/json", with("userAgent", "Mozilla\u200d/5.0"), 400, "userAgent"},
		{"word joiner in the gadget version", "application/json", with("gadgetVersion", "1.0\u2060"), 400, "gadgetVersion"},
		{"port above 65535", "application/json", with("url", "https://cuic.example.com:99999/"), 400, "url"},
		{"port 0", "application/json", with("url", "https://cuic.example.com:0/"), 400, "url"},
		{"zero-width space in the node", "application/json", with("node", "cuic\u200bsub.example.com"), 400, "node"},
		{"zero-width space in the page origin", "application/json", with("pageOrigin", "https://finesse\u200bp.example:8445"), 400, "pageOrigin"},
		{"method of 33 characters", "application/json", with("method", strings.Repeat("M", 33)), 400, "method"},
		{"client time of year 1", "application/json", with("clientTime", "0001-01-01T00:00:00Z"), 400, "clientTime"},
		{"client time before 1970", "application/json", with("clientTime", "1969-12-31T23:59:59Z"), 400, "clientTime"},
		{"client time after 9999 in UTC", "application/json", with("clientTime", "9999-12-31T23:59:59-01:00"), 400, "clientTime"},
		{"duplicate key in a batch", "application/json", []byte("[" + string(with("verdict", "allowed")) + "," +
			string(raw(`"node":"cuicsub.example.com"`, `"node":"a.example","node":"cuicsub.example.com"`)) + "]"), 400, "[1].node"},
	}
	if len(tests) < 30 {
		t.Fatalf("want at least 30 malformed payloads, have %d", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do("POST", "/api/v1/results", tt.ct, tt.body, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil || p.Error == "" {
				t.Fatalf("answer is not a Problem: %s", body)
			}
			if tt.field != "" {
				if _, ok := p.Fields[tt.field]; !ok {
					t.Errorf("answer does not name field %q: %s", tt.field, body)
				}
			}
		})
	}
	if n := e.count(); n != 0 {
		t.Fatalf("bad input stored %d results", n)
	}
}

func TestResultsStored(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, body := e.do("POST", "/api/v1/results", "application/json", with("verdict", "blocked"), map[string]string{"Origin": finesse})
	if resp.StatusCode != 201 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct{ IDs []int64 }
	json.Unmarshal(body, &out)
	if len(out.IDs) != 1 {
		t.Fatalf("ids %s", body)
	}
	r, err := e.store.Result(context.Background(), out.IDs[0])
	if err != nil || r.Node != "cuicsub.example.com" || r.Verdict != "blocked" || r.AgentID != "1001" || r.ClientAddr == "" {
		t.Fatalf("stored %+v %v", r, err)
	}
	batch, _ := json.Marshal([]map[string]any{validResult(), validResult(), validResult()})
	resp, body = e.do("POST", "/api/v1/results", "application/json; charset=utf-8", batch, nil)
	json.Unmarshal(body, &out)
	if resp.StatusCode != 201 || len(out.IDs) != 3 || e.count() != 4 {
		t.Fatalf("batch: %d %s, stored %d", resp.StatusCode, body, e.count())
	}
	// A page may only report its own origin.
	resp, body = e.do("POST", "/api/v1/results", "application/json", with("pageOrigin", "https://other.example:8445"), map[string]string{"Origin": finesse})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "pageOrigin") {
		t.Fatalf("mismatched pageOrigin: %d %s", resp.StatusCode, body)
	}
}

func TestOwnCORS(t *testing.T) {
	e := newEnv(t, envOptions{})
	pre := func(origin string) *http.Response {
		resp, _ := e.do("OPTIONS", "/api/v1/results", "", nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
		return resp
	}
	ok := pre(finesse)
	if ok.Header.Get("Access-Control-Allow-Origin") != finesse || ok.Header.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("allowed origin preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if ok.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("the API never allows credentials")
	}
	foreign := pre("https://evil.example")
	if v := foreign.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("foreign origin got Access-Control-Allow-Origin %q (reflection)", v)
	}
	resp, _ := e.do("POST", "/api/v1/results", "application/json", with("pageOrigin", "https://evil.example"), map[string]string{"Origin": "https://evil.example"})
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign POST: %d %v", resp.StatusCode, resp.Header)
	}
	get, _ := e.do("GET", "/api/v1/targets", "", nil, map[string]string{"Origin": finesse})
	if get.Header.Get("Access-Control-Allow-Origin") != finesse {
		t.Fatalf("targets for the gadget: %v", get.Header)
	}
	if e.count() != 0 {
		t.Fatal("a foreign origin's result was stored")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{resultsRL: Limit{PerSecond: 0.01, Burst: 3}})
	codes := map[int]int{}
	for range 6 {
		resp, _ := e.do("POST", "/api/v1/results", "application/json", with("verdict", "allowed"), nil)
		codes[resp.StatusCode]++
	}
	if codes[201] != 3 || codes[429] != 3 {
		t.Fatalf("statuses %v, want 3×201 then 3×429", codes)
	}
}

// The rate limits count an IPv6 /64 as one client: its owner may send from any of its addresses.
// And they remember a bounded number of clients, however many addresses send.
func TestRateLimitPerIPv6Network(t *testing.T) {
	e := newEnv(t, envOptions{resultsRL: Limit{PerSecond: 0.01, Burst: 3}, trustProxy: true})
	codes := map[int]int{}
	for i := range 6 {
		resp, _ := e.do("POST", "/api/v1/results", "application/json", with("verdict", "allowed"),
			map[string]string{"X-Forwarded-For": fmt.Sprintf("2001:db8:1:2::%x", i+1)})
		codes[resp.StatusCode]++
	}
	if codes[201] != 3 || codes[429] != 3 {
		t.Fatalf("statuses %v from one /64, want 3×201 then 3×429", codes)
	}
	if resp, _ := e.do("POST", "/api/v1/results", "application/json", with("verdict", "allowed"),
		map[string]string{"X-Forwarded-For": "2001:db8:1:3::1"}); resp.StatusCode != 201 {
		t.Fatalf("the next /64: %s", resp.Status)
	}
	l := newLimiter(Limit{PerSecond: 1, Burst: 1}, nil)
	for i := range maxLimited + 1000 {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff))
	}
	if n := l.byKey.Len(); n != maxLimited {
		t.Fatalf("the limiter remembers %d clients, want %d", n, maxLimited)
	}
}

func TestDiagnoseRefusesForbiddenHosts(t *testing.T) {
	// A target on loopback that redirects into cloud metadata.
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", finesse)
		http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer redirector.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(redirector.URL, "http://"))
	// The endpoints are listed, so that the address checks are what refuses these.
	endpoints := []targets.Endpoint{{Port: portOf(t, redirector.URL), Path: "/"}, {Port: 80, Path: "/latest/meta-data/"}, {Port: 443, Path: "/"}}
	e := newEnv(t, envOptions{nodes: []string{"169.254.169.254", "rebind.example", "127.0.0.1", "lab.localhost"}, endpoints: endpoints})
	eLoop := newEnv(t, envOptions{nodes: []string{"127.0.0.1"}, allowNets: []string{"127.0.0.1/32"}, endpoints: endpoints})
	diag := func(env *testEnv, url string) (int, string) {
		b, _ := json.Marshal(map[string]any{"url": url, "origin": finesse, "kind": "cuic", "credentials": "omit"})
		resp, body := env.do("POST", "/api/v1/diagnose", "application/json", b, nil)
		return resp.StatusCode, string(body)
	}
	tests := []struct {
		name   string
		env    *testEnv
		url    string
		status int
		want   string
	}{
		{"metadata IP", e, "http://169.254.169.254/latest/meta-data/", 403, "metadata"},
		{"loopback when not allowed", e, "http://127.0.0.1:" + port + "/", 403, "loopback"},
		{"localhost name when loopback not allowed", e, "http://lab.localhost:" + port + "/", 403, "loopback"},
		{"host outside the catalogue", e, "https://evil.example/", 403, "not in the target catalogue"},
		{"name resolving to a private address", e, "https://rebind.example/", 403, "private"},
		{"catalogue node on a private address", e, "https://cuicpub.example.com:8444/cuic/rest/status/", 403, "private"},
		{"redirect into metadata", eLoop, "http://127.0.0.1:" + port + "/", 200, `"class":"forbidden"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := diag(tt.env, tt.url)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d, want %d with %q: %s", status, tt.status, tt.want, body)
			}
		})
	}
}

func TestDiagnoseExplainsAndStores(t *testing.T) {
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) }))
	defer sub.Close()
	e := nodeEnv(t, sub.URL, envOptions{})
	_, body := e.do("POST", "/api/v1/results", "application/json", with("url", sub.URL+"/cuic/rest/status/"), nil)
	var res struct{ IDs []int64 }
	json.Unmarshal(body, &res)
	req, _ := json.Marshal(map[string]any{"url": sub.URL + "/cuic/rest/status/", "origin": finesse, "kind": "cuic",
		"credentials": "include", "headers": []map[string]string{{"name": "Authorization", "value": "Basic eDp5"}}, "resultId": res.IDs[0]})
	resp, body := e.do("POST", "/api/v1/diagnose", "application/json", req, map[string]string{"Origin": finesse})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out DiagnoseOutput
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Report.CorsError != "PreflightMissingAllowOriginHeader" || len(out.Report.Fixes) == 0 ||
		!strings.Contains(strings.Join(out.Report.Fixes[0].Commands, "\n"), "utils cuic cors allowed_origin add "+finesse) {
		t.Fatalf("report %+v", out.Report)
	}
	ds, err := e.store.Diagnoses(context.Background(), res.IDs[0])
	if err != nil || len(ds) != 1 || ds[0].Reason != "PreflightMissingAllowOriginHeader" || ds[0].ID != out.ID {
		t.Fatalf("stored diagnoses %+v %v", ds, err)
	}
	bad, _ := json.Marshal(map[string]any{"url": sub.URL + "/cuic/rest/status/", "origin": finesse, "resultId": 999999})
	resp, body = e.do("POST", "/api/v1/diagnose", "application/json", bad, nil)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "resultId") {
		t.Fatalf("unknown result: %d %s", resp.StatusCode, body)
	}

	// In the agent's language: the explanation and the fix's words are Dutch, the commands and
	// the reason stay, and what is stored stays English.
	nl, _ := json.Marshal(map[string]any{"url": sub.URL + "/cuic/rest/status/", "origin": finesse, "kind": "cuic",
		"credentials": "include", "headers": []map[string]string{{"name": "Authorization", "value": "Basic eDp5"}}, "resultId": res.IDs[0], "lang": "nl_NL"})
	resp, body = e.do("POST", "/api/v1/diagnose", "application/json", nl, map[string]string{"Origin": finesse})
	var told DiagnoseOutput
	if err := json.Unmarshal(body, &told); resp.StatusCode != 200 || err != nil {
		t.Fatalf("in Dutch: %d %s", resp.StatusCode, body)
	}
	if told.Report.CorsError != "PreflightMissingAllowOriginHeader" || !strings.HasPrefix(told.Report.Explanation, "het preflight-antwoord (OPTIONS) heeft geen") ||
		told.Report.Fixes[0].Summary != "sta de origin "+finesse+" toe op 127.0.0.1" ||
		!slices.Contains(told.Report.Fixes[0].Commands, "utils cuic cors allowed_origin add "+finesse) {
		t.Fatalf("Dutch report: %+v", told.Report)
	}
	ds, _ = e.store.Diagnoses(context.Background(), res.IDs[0])
	if len(ds) != 2 || !strings.Contains(string(ds[0].Report), "allow the origin") || strings.Contains(string(ds[0].Report), "sta de origin") {
		t.Fatalf("the stored diagnosis must stay English: %s", ds[0].Report)
	}
	fr, _ := json.Marshal(map[string]any{"url": sub.URL + "/cuic/rest/status/", "origin": finesse, "lang": "fr"})
	if resp, body := e.do("POST", "/api/v1/diagnose", "application/json", fr, map[string]string{"Origin": finesse}); resp.StatusCode != 400 || !strings.Contains(string(body), "lang") {
		t.Fatalf("unknown language: %d %s", resp.StatusCode, body)
	}
}

func TestAdminTargets(t *testing.T) {
	e := newEnv(t, envOptions{})
	cat := targets.Defaults()
	cat.Targets[0].Nodes = []string{"cuicnew.example.com"}
	b, _ := json.Marshal(cat)
	if resp, _ := e.do("PUT", "/api/v1/admin/targets", "application/json", b, nil); resp.StatusCode != 401 {
		t.Fatalf("without credentials: %d", resp.StatusCode)
	}
	auth := map[string]string{"Authorization": "Basic " + basic("admin", "wrong password!")}
	if resp, _ := e.do("PUT", "/api/v1/admin/targets", "application/json", b, auth); resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	auth["Authorization"] = "Basic " + basic("admin", adminPassword)
	if resp, body := e.do("PUT", "/api/v1/admin/targets", "application/json", []byte(`{"targets":[]}`), auth); resp.StatusCode != 400 {
		t.Fatalf("invalid catalogue: %d %s", resp.StatusCode, body)
	}
	resp, body := e.do("PUT", "/api/v1/admin/targets", "application/json", b, auth)
	if resp.StatusCode != 200 {
		t.Fatalf("valid catalogue: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "null") {
		t.Errorf("the answer has null lists: %s", body)
	}
	_, body = e.do("GET", "/api/v1/targets", "", nil, nil)
	if !strings.Contains(string(body), "cuicnew.example.com") {
		t.Fatalf("catalogue not replaced: %s", body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp, body := e.do("GET", p, "", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	e.do("POST", "/api/v1/results", "application/json", with("verdict", "unreachable"), nil)
	_, body := e.do("GET", "/metrics", "", nil, nil)
	for _, want := range []string{
		`corscheck_results_total{verdict="unreachable"} 1`,
		`corscheck_http_requests_total{method="POST",route="/api/v1/results",status="2xx"} 1`,
		"corscheck_ingest_seconds_bucket",
		"corscheck_probe_seconds_bucket",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// portOf is the port of a test server's URL.
func portOf(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func basic(u, p string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":" + p)) }

// A method a route does not take gets a JSON 405 that lists the methods it does take.
func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, body := e.do("DELETE", "/api/v1/results", "", nil, nil)
	if resp.StatusCode != 405 || !strings.Contains(string(body), `"error"`) || !strings.Contains(resp.Header.Get("Allow"), "POST") {
		t.Fatalf("DELETE /api/v1/results: %d, Allow %q, %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

// An unknown path gets the page NotFound gives, for browsers, except under /api/: an API client
// always gets the API's JSON 404. Without NotFound every unknown path gets the JSON.
func TestNotFound(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<p>the 404 page</p>")
	})
	withPage, without := newEnv(t, envOptions{notFound: page}), newEnv(t, envOptions{})
	for _, tc := range []struct {
		env  *testEnv
		path string
		html bool
	}{
		{withPage, "/nope", true},
		{withPage, "/admin-ish/x", true},
		{withPage, "/apiary", true}, // not /api/
		{withPage, "/api", false},
		{withPage, "/api/", false},
		{withPage, "/api/nope", false},
		{withPage, "/api/v1/nope", false},
		{without, "/nope", false},
		{without, "/api/v1/nope", false},
	} {
		resp, body := tc.env.do("GET", tc.path, "", nil, map[string]string{"Accept": "text/html"})
		html := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && string(body) == "<p>the 404 page</p>"
		json := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && string(body) == `{"error":"no such endpoint"}`+"\n"
		if resp.StatusCode != http.StatusNotFound || html != tc.html || json == tc.html {
			t.Errorf("GET %s (page set: %t): %d %q %s", tc.path, tc.env == withPage, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

// The audit guessed 5,223 passwords in 5 s through the admin API, unlogged. Now the API shares
// the sign-in form's slow-down: 30 wrong guesses in a row meet 429s, and each checked one is
// logged.
func TestAdminAPIGuessesSlowDown(t *testing.T) {
	var log bytes.Buffer
	e := newEnv(t, envOptions{log: &log})
	b, _ := json.Marshal(targets.Defaults())
	codes := map[int]int{}
	for i := range 30 {
		resp, body := e.do("PUT", "/api/v1/admin/targets", "application/json", b,
			map[string]string{"Authorization": "Basic " + basic("admin", fmt.Sprintf("guess %d", i))})
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && (resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many")) {
			t.Fatalf("429 without Retry-After or reason: %v %s", resp.Header, body)
		}
	}
	if codes[401] != 5 || codes[429] != 25 {
		t.Fatalf("statuses %v, want 5×401 then 25×429", codes)
	}
	// Even the right password waits now.
	resp, _ := e.do("PUT", "/api/v1/admin/targets", "application/json", b,
		map[string]string{"Authorization": "Basic " + basic("admin", adminPassword)})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password during the wait: %s", resp.Status)
	}
	if n := strings.Count(log.String(), `msg="admin: failed sign-in"`); n != 5 || !strings.Contains(log.String(), `via="admin API"`) {
		t.Fatalf("%d failures logged, want 5 from the admin API:\n%s", n, log.String())
	}
}

// API tokens are the admin API's preferred credential: one that works, one that is wrong, one
// that was revoked.
func TestAdminAPIToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	token, tok, err := e.gate.CreateToken(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	cat := targets.Defaults()
	cat.Targets[0].Nodes = []string{"cuicnew.example.com"}
	b, _ := json.Marshal(cat)
	put := func(auth string) int {
		resp, _ := e.do("PUT", "/api/v1/admin/targets", "application/json", b, map[string]string{"Authorization": auth})
		return resp.StatusCode
	}
	if got := put("Bearer " + token); got != http.StatusOK {
		t.Fatalf("with the token: %d", got)
	}
	if got := put("bearer " + token); got != http.StatusOK {
		t.Fatalf("the scheme in lower case: %d", got)
	}
	if got := put("Bearer " + token + "x"); got != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", got)
	}
	if err := e.gate.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if got := put("Bearer " + token); got != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", got)
	}
}
