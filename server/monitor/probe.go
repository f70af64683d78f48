package monitor

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// ProbeHandler answers GET /probe?target=<node>&module=<kind>&origin=<origin> the way Prometheus'
// blackbox_exporter answers its multi-target probes: it checks every endpoint of that node for
// that target kind and Finesse origin now, and answers the metrics of that check alone, so that
// an existing Prometheus can run the schedule itself. Only catalogued nodes and configured
// origins can be checked: checks comes from Plan, and every label value from it. The results
// are not stored and open no incident.
type ProbeHandler struct {
	checks  func() []Check
	checker Checker
	timeout time.Duration
	slots   chan struct{}
}

// NewProbeHandler answers with checks (usually Plan of the catalogue in use and the configured
// origins), run by c within timeout, at most concurrency probes at a time (others get 503).
func NewProbeHandler(checks func() []Check, c Checker, timeout time.Duration, concurrency int) *ProbeHandler {
	return &ProbeHandler{checks: checks, checker: c, timeout: timeout, slots: make(chan struct{}, max(concurrency, 1))}
}

func (h *ProbeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	node, module, origin := q.Get("target"), q.Get("module"), q.Get("origin")
	var problems []string
	for _, p := range []struct{ name, value, example string }{
		{"target", node, "a node of the catalogue, e.g. cuicsub.example.com"},
		{"module", module, "a target kind: cuic, livedata, finesse or custom"},
		{"origin", origin, "a configured Finesse origin, e.g. https://finesse1.example.com:8445"},
	} {
		if p.value == "" {
			problems = append(problems, fmt.Sprintf("%s is required: %s", p.name, p.example))
		}
	}
	if len(problems) > 0 {
		http.Error(w, strings.Join(problems, "; "), http.StatusBadRequest)
		return
	}
	all := h.checks()
	var mine []Check
	for _, c := range all {
		if strings.EqualFold(c.Node, node) && string(c.Kind) == module && c.Origin == origin {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		http.Error(w, noSuchCheck(all, node, module, origin), http.StatusBadRequest)
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many probes at once; retry later", http.StatusServiceUnavailable)
		return
	}

	timeout := h.timeout
	// Prometheus says how long it waits; answer before that, as blackbox_exporter does.
	if s, err := strconv.ParseFloat(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64); err == nil && s > 1 {
		timeout = min(timeout, time.Duration((s-0.5)*float64(time.Second)))
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	reg := prometheus.NewRegistry()
	success := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_success",
		Help: "1 when every endpoint allowed the origin, 0 otherwise."})
	took := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_duration_seconds",
		Help: "How long the probe took, every endpoint in parallel."})
	verdict := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "corscheck_monitor_verdict",
		Help: "Verdict of the check: 0 allowed, 1 blocked by CORS, 2 unreachable."}, keyLabels)
	reg.MustRegister(success, took, verdict)

	start := time.Now()
	outcomes := make([]Outcome, len(mine))
	var wg sync.WaitGroup
	for i, c := range mine {
		wg.Go(func() {
			t0 := time.Now()
			outcomes[i] = Outcome{Check: c, Report: h.checker.Check(ctx, c.Request, c.Kind), At: t0, Took: time.Since(t0)}
		})
	}
	wg.Wait()
	took.Set(time.Since(start).Seconds())
	ok := 1.0
	for _, o := range outcomes {
		verdict.WithLabelValues(o.Node, o.Origin, string(o.Kind), o.Endpoint).Set(VerdictValue(o.Report.Verdict))
		if o.Report.Verdict != cors.Allowed {
			ok = 0
		}
	}
	success.Set(ok)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// noSuchCheck says which of the three parameters matches nothing the monitor may check.
func noSuchCheck(all []Check, node, module, origin string) string {
	has := func(f func(Check) bool) bool { return slices.ContainsFunc(all, f) }
	switch {
	case !has(func(c Check) bool { return strings.EqualFold(c.Node, node) }):
		return fmt.Sprintf("target %q is not a node of the catalogue", node)
	case !has(func(c Check) bool { return c.Origin == origin }):
		return fmt.Sprintf("origin %q is not a configured Finesse origin", origin)
	case !has(func(c Check) bool { return string(c.Kind) == module }):
		return fmt.Sprintf("module %q is not a target kind with nodes (cuic, livedata, finesse, custom)", module)
	}
	return fmt.Sprintf("the catalogue has no %s target with node %q", module, node)
}
