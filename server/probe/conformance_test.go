package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/corsquickcheck/corscheck/server/browsertest"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/fix"
)

// The Chromium conformance suite: every case is a server behaviour and a fetch(). Headless
// Chromium runs the fetch from a page on another loopback origin (verdict from the promise,
// reason from Network.loadingFailed → corsErrorStatus, console line from Log.entryAdded); the
// probe runs the same request; both must agree on the verdict, the reason, the failed parameter
// and the console line. The cases are in conformance_cases_test.go.

// reply is how a route answers: a status and header lines ("Name: value"), or raw bytes written
// on the connection (raw == "hangup" closes it without a word). Values may use {origin} (the
// request's Origin header), {page} (the page origin), {A} and {B} (the two target servers).
type reply struct {
	status int
	header []string
	raw    string
}

// route answers one URL: pre for preflights (OPTIONS with Access-Control-Request-Method), act for
// everything else.
type route struct{ pre, act reply }

type conformanceCase struct {
	name   string
	method string   // as passed to fetch(); "" is GET
	header []string // "Name: value", as passed to fetch()
	cred   string   // fetch() credentials; "" leaves the default (same-origin)
	route           // the answer at {A}/c/<name>
	more   map[string]route
	target string // "" is server A; "dead" a closed port; "tls" an untrusted https server
	// chromium says where Chromium and the Fetch standard differ on this case.
	chromium string
}

type conformanceEnv struct {
	page, a, b, tls *httptest.Server
	dead            string
	cases           map[string]conformanceCase
}

func newConformanceEnv(t *testing.T, cases []conformanceCase) *conformanceEnv {
	t.Helper()
	env := &conformanceEnv{cases: map[string]conformanceCase{}}
	for _, c := range cases {
		if _, dup := env.cases[c.name]; dup {
			t.Fatalf("duplicate case %q", c.name)
		}
		env.cases[c.name] = c
	}
	env.page = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>conformance page</title>")
	}))
	env.a = httptest.NewServer(env.handler("A"))
	env.b = httptest.NewServer(env.handler("B"))
	env.tls = httptest.NewTLSServer(env.handler("A"))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env.dead = "http://" + l.Addr().String()
	l.Close()
	t.Cleanup(func() {
		env.page.Close()
		env.a.Close()
		env.b.Close()
		env.tls.Close()
	})
	return env
}

func (env *conformanceEnv) origin() string { return env.page.URL }

// url is where a case's fetch goes; the query makes each run unique so no preflight cache or
// HTTP cache entry is shared between runs.
func (env *conformanceEnv) url(c conformanceCase, run string) string {
	base := env.a.URL
	switch c.target {
	case "dead":
		base = env.dead
	case "tls":
		base = env.tls.URL
	}
	return base + "/c/" + c.name + "?run=" + run
}

func (env *conformanceEnv) handler(server string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/c/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		name, sub, _ := strings.Cut(rest, "/")
		c, ok := env.cases[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rt := c.route
		if sub != "" || server != "A" {
			rt, ok = c.more[server+"/"+sub]
			if !ok {
				http.Error(w, "no route "+server+"/"+sub, http.StatusTeapot)
				return
			}
		}
		rp := rt.act
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			rp = rt.pre
		}
		env.write(w, r, rp)
	})
}

func (env *conformanceEnv) expand(s string, r *http.Request) string {
	return strings.NewReplacer("{origin}", r.Header.Get("Origin"), "{page}", env.page.URL,
		"{A}", env.a.URL, "{B}", env.b.URL).Replace(s)
}

func (env *conformanceEnv) write(w http.ResponseWriter, r *http.Request, rp reply) {
	if rp.raw != "" {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		if rp.raw != "hangup" {
			buf.WriteString(env.expand(rp.raw, r))
			buf.Flush()
		}
		return
	}
	for _, h := range rp.header {
		name, value, _ := strings.Cut(h, ":")
		// Direct map access keeps the name's case and allows repeated lines.
		w.Header()[name] = append(w.Header()[name], env.expand(strings.TrimPrefix(value, " "), r))
	}
	status := rp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	fmt.Fprint(w, "body")
}

// browserResult is what Chromium decided.
type browserResult struct {
	verdict cors.Verdict
	reason  cors.Reason
	param   string
	console string
	errText string
}

// chromiumRecorder collects the events that explain failed requests, by the URL the request
// started with.
type chromiumRecorder struct {
	mu       sync.Mutex
	firstURL map[network.RequestID]string
	failed   map[string]*network.EventLoadingFailed
	console  map[string]string
}

func (rec *chromiumRecorder) listen(ev any) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if _, ok := rec.firstURL[e.RequestID]; !ok {
			rec.firstURL[e.RequestID] = e.Request.URL
		}
	case *network.EventLoadingFailed:
		if u, ok := rec.firstURL[e.RequestID]; ok {
			rec.failed[u] = e
		}
	case *log.EventEntryAdded:
		if e.Entry != nil && strings.Contains(e.Entry.Text, "blocked by CORS policy") {
			rec.console[consoleURL(e.Entry.Text)] = e.Entry.Text
		}
	}
}

// consoleURL finds the URL fetch() was called with in a console line.
func consoleURL(line string) string {
	if _, rest, ok := strings.Cut(line, "(redirected from '"); ok {
		u, _, _ := strings.Cut(rest, "'")
		return u
	}
	_, rest, _ := strings.Cut(line, "Access to fetch at '")
	u, _, _ := strings.Cut(rest, "'")
	return u
}

func (rec *chromiumRecorder) waitFailure(u string, wantConsole bool) (*network.EventLoadingFailed, string) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		rec.mu.Lock()
		f, c := rec.failed[u], rec.console[u]
		rec.mu.Unlock()
		if (f != nil && (!wantConsole || c != "")) || time.Now().After(deadline) {
			return f, c
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runInChromium(ctx context.Context, rec *chromiumRecorder, c conformanceCase, u string) (browserResult, error) {
	headers := [][2]string{}
	for _, h := range c.header {
		n, v, _ := strings.Cut(h, ":")
		headers = append(headers, [2]string{n, strings.TrimPrefix(v, " ")})
	}
	init := map[string]any{"mode": "cors", "cache": "no-store", "headers": headers}
	if c.method != "" {
		init["method"] = c.method
	}
	if c.cred != "" {
		init["credentials"] = c.cred
	}
	initJSON, _ := json.Marshal(init)
	js := fmt.Sprintf(`fetch(%q, %s).then(r => "ok " + r.status, e => "error " + e)`, u, initJSON)
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := chromedp.Run(tctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return browserResult{}, err
	}
	if strings.HasPrefix(res, "ok ") {
		return browserResult{verdict: cors.Allowed}, nil
	}
	f, console := rec.waitFailure(u, false)
	if f == nil {
		return browserResult{}, fmt.Errorf("fetch said %q but no Network.loadingFailed arrived", res)
	}
	if f.CorsErrorStatus == nil {
		return browserResult{verdict: cors.Unreachable, errText: f.ErrorText}, nil
	}
	if console == "" {
		_, console = rec.waitFailure(u, true)
	}
	return browserResult{verdict: cors.Blocked, reason: cors.Reason(f.CorsErrorStatus.CorsError.String()),
		param: f.CorsErrorStatus.FailedParameter, console: console, errText: f.ErrorText}, nil
}

// probeRequest builds the request the probe sends for a case, as the CLI does.
func probeRequest(t *testing.T, c conformanceCase, u, origin string) cors.Request {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	m := c.method
	if m == "" {
		m = "GET"
	}
	m, err = cors.NormalizeMethod(m)
	if err != nil {
		t.Fatal(err)
	}
	var hs []cors.Header
	for _, h := range c.header {
		n, v, _ := strings.Cut(h, ":")
		v, err := cors.ValidateHeader(n, v)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, cors.Header{Name: n, Value: v})
	}
	hs, _ = cors.CombineHeaders(hs)
	cred := cors.SameOrigin
	if c.cred != "" {
		cred = cors.Credentials(c.cred)
	}
	return cors.Request{URL: pu, Origin: origin, Method: m, Header: hs, Credentials: cred}
}

func TestChromiumConformance(t *testing.T) {
	cases := conformanceCases()
	if len(cases) < 80 {
		t.Fatalf("the suite must cover at least 80 server behaviours, has %d", len(cases))
	}
	env := newConformanceEnv(t, cases)
	ctx := browsertest.New(t)
	rec := &chromiumRecorder{firstURL: map[network.RequestID]string{}, failed: map[string]*network.EventLoadingFailed{}, console: map[string]string{}}
	if err := chromedp.Listen(ctx, rec.listen); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.page.URL)); err != nil {
		t.Fatal(err)
	}
	p := New(Options{Timeout: 5 * time.Second, NoExtraChecks: true})
	defer p.Close()
	agree := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := env.url(c, "chromium")
			got, err := runInChromium(ctx, rec, c, u)
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			pu := env.url(c, "probe")
			rep := p.Check(context.Background(), probeRequest(t, c, pu, env.origin()), fix.Custom)
			wantConsole := strings.ReplaceAll(got.console, "run=chromium", "run=probe")
			if rep.Verdict != got.verdict || rep.CorsError != got.reason || rep.FailedParameter != got.param ||
				(got.console != "" && rep.Console != wantConsole) {
				t.Errorf("probe and Chromium disagree%s\n chromium: %s %s %q %s\n   console: %s\n probe:    %s %s %q\n   console: %s\n%s",
					chromiumNote(c), got.verdict, got.reason, got.param, got.errText, wantConsole,
					rep.Verdict, rep.CorsError, rep.FailedParameter, rep.Console, rep.Text())
				return
			}
			t.Logf("agree: %s %s %q", got.verdict, got.reason, got.param)
			agree++
		})
	}
	t.Logf("probe agrees with Chromium on %d of %d server behaviours", agree, len(cases))
}

func chromiumNote(c conformanceCase) string {
	if c.chromium == "" {
		return ""
	}
	return " (known Chromium rule: " + c.chromium + ")"
}
