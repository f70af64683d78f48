package monitor_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/monitor"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// countingChecker counts the checks it passes on.
type countingChecker struct {
	next monitor.Checker
	n    atomic.Int32
}

func (c *countingChecker) Check(ctx context.Context, req cors.Request, kind targets.Kind) *probe.Report {
	c.n.Add(1)
	return c.next.Check(ctx, req, kind)
}

func startLab(t *testing.T) (*lab.Lab, *probe.Prober) {
	t.Helper()
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	p := probe.New(probe.Options{Timeout: 5 * time.Second, RootCAs: l.CA().Pool()})
	t.Cleanup(p.Close)
	return l, p
}

func get(t *testing.T, h http.Handler, method, query string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "/probe?"+query, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(b)
}

func TestProbeEndpoint(t *testing.T) {
	l, p := startLab(t)
	checker := &countingChecker{next: p}
	origins := []string{lab.FinesseOrigin}
	h := monitor.NewProbeHandler(func() []monitor.Check { return monitor.Plan(l.Catalogue(), origins) }, checker, 5*time.Second, 2)
	q := func(target, module, origin string) string {
		return url.Values{"target": {target}, "module": {module}, "origin": {origin}}.Encode()
	}

	code, body := get(t, h, "GET", q("cuicsub.localhost", "cuic", lab.FinesseOrigin))
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	for _, want := range []string{
		"probe_success 0",
		`corscheck_monitor_verdict{endpoint="lab",kind="cuic",node="cuicsub.localhost",origin="https://finessep.example:8445"} 1`,
		"probe_duration_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the subscriber's probe lacks %q:\n%s", want, body)
		}
	}
	// Labels come from the catalogue, whatever case the query used.
	if code, body = get(t, h, "GET", q("CUICPUB.localhost", "cuic", lab.FinesseOrigin)); code != 200 ||
		!strings.Contains(body, "probe_success 1") || !strings.Contains(body, `node="cuicpub.localhost"`) {
		t.Errorf("the publisher's probe: %d\n%s", code, body)
	}
	if code, body = get(t, h, "GET", q("127.0.0.2", "cuic", lab.FinesseOrigin)); code != 200 ||
		!strings.Contains(body, `node="127.0.0.2",origin="https://finessep.example:8445"} 2`) {
		t.Errorf("the dead node's probe: %d\n%s", code, body)
	}
	before := checker.n.Load()

	for _, tt := range []struct{ name, method, query, want string }{
		{"no parameters", "GET", "", "target is required: a node of the catalogue, e.g. cuicsub.example.com; module is required"},
		{"unknown node", "GET", q("cuicx.localhost", "cuic", lab.FinesseOrigin), `target "cuicx.localhost" is not a node of the catalogue`},
		{"metadata address", "GET", q("169.254.169.254", "cuic", lab.FinesseOrigin), `target "169.254.169.254" is not a node of the catalogue`},
		{"origin not configured", "GET", q("cuicsub.localhost", "cuic", "https://evil.example"), `origin "https://evil.example" is not a configured Finesse origin`},
		{"unknown module", "GET", q("cuicsub.localhost", "http_2xx", lab.FinesseOrigin), `module "http_2xx" is not a target kind`},
		{"node of another kind", "GET", q("cuicsub.localhost", "livedata", lab.FinesseOrigin), `the catalogue has no livedata target with node "cuicsub.localhost"`},
	} {
		code, body := get(t, h, tt.method, tt.query)
		if code != 400 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %q, want 400 with %q", tt.name, code, body, tt.want)
		}
	}
	if code, _ := get(t, h, "POST", q("cuicsub.localhost", "cuic", lab.FinesseOrigin)); code != 405 {
		t.Errorf("POST: %d, want 405", code)
	}
	if n := checker.n.Load(); n != before {
		t.Errorf("refused probes made %d checks", n-before)
	}
}

// A probe waits no longer than Prometheus says it will.
func TestProbeEndpointHonoursScrapeTimeout(t *testing.T) {
	l, p := startLab(t)
	h := monitor.NewProbeHandler(func() []monitor.Check { return monitor.Plan(l.Catalogue(), []string{lab.FinesseOrigin}) },
		deadlineChecker{t: t, next: p, within: 1500 * time.Millisecond}, time.Minute, 1)
	req := httptest.NewRequest("GET", "/probe?target=cuicpub.localhost&module=cuic&origin="+url.QueryEscape(lab.FinesseOrigin), nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "2")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
}

type deadlineChecker struct {
	t      *testing.T
	next   monitor.Checker
	within time.Duration
}

func (d deadlineChecker) Check(ctx context.Context, req cors.Request, kind targets.Kind) *probe.Report {
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > d.within {
		d.t.Errorf("the check's deadline lies beyond %s (set: %v)", d.within, ok)
	}
	return d.next.Check(ctx, req, kind)
}
