package api

import (
	"net/http"
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
			Name: "corscheck_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
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

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// middleware counts requests by chi's route pattern, so URLs with ids do not explode the labels.
func (m *Metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	})
}

func (m *Metrics) observeProbe(d time.Duration) { m.probe.Observe(d.Seconds()) }
