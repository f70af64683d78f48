package api

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the service's Prometheus metrics, in a registry of their own.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	results  *prometheus.CounterVec
	ingest   prometheus.Histogram
	probe    prometheus.Histogram
}

// NewMetrics registers the metrics (and the Go runtime's) in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corscheck_http_requests_total",
			Help: "HTTP requests by route pattern, method (OTHER for non-standard ones) and status class (2xx…).",
		}, []string{"route", "method", "status"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corscheck_results_total", Help: "Results stored, by verdict.",
		}, []string{"verdict"}),
		ingest: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "corscheck_ingest_seconds", Help: "Time to store a POST /api/v1/results body durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		probe: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "corscheck_probe_seconds", Help: "Time of a server-side diagnosis.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
	}
	m.registry.MustRegister(m.requests, m.results, m.ingest, m.probe,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors of other packages (the monitor's gauges) to the service's metrics.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.registry.MustRegister(cs...) }

// Handler serves the metrics in Prometheus text format. With a token, it serves only requests
// that carry Authorization: Bearer and the token (compared in constant time), and answers 401
// to the others.
func (m *Metrics) Handler(token string) http.Handler {
	return Protect(token, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}

// Protect guards h as /metrics is guarded: with a token, only requests that carry
// Authorization: Bearer and the token pass. /probe is guarded the same way.
func Protect(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r)
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="corscheck metrics"`)
			fail(w, http.StatusUnauthorized, "the metrics need Authorization: Bearer with the metrics token", nil)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// middleware counts requests. Every label takes a bounded set of values, because a series,
// once made, is kept until the process ends: chi's route pattern (never the raw path, which
// holds ids and whatever a client sends), the method when it is a standard one (a client may
// send any token of up to about a megabyte as a method), and the status class.
func (m *Metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		m.requests.WithLabelValues(route, methodLabel(r.Method), statusClass(ww.Status())).Inc()
	})
}

// standardMethods are the methods of RFC 9110 and PATCH; the metrics name every other one OTHER.
var standardMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace}

// methodLabel is method if it is a standard HTTP method, and OTHER otherwise.
func methodLabel(method string) string {
	if slices.Contains(standardMethods, method) {
		return method
	}
	return "OTHER"
}

// statusClass is 1xx … 5xx; a handler that wrote nothing answered 200.
func statusClass(status int) string {
	if status == 0 {
		status = http.StatusOK
	}
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

func (m *Metrics) observeProbe(d time.Duration) { m.probe.Observe(d.Seconds()) }
