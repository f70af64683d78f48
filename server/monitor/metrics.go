package monitor

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// The metrics' labels. Their values come from the catalogue and the configured origins only
// (see Key), so a request can never add a series.
var keyLabels = []string{"node", "origin", "kind", "endpoint"}

var (
	verdictDesc = prometheus.NewDesc("corscheck_monitor_verdict",
		"Verdict of the newest scheduled check: 0 allowed, 1 blocked by CORS, 2 unreachable.", keyLabels, nil)
	lastCheckDesc = prometheus.NewDesc("corscheck_monitor_last_check_timestamp_seconds",
		"When the newest scheduled check started, in Unix seconds.", keyLabels, nil)
	leaderDesc = prometheus.NewDesc("corscheck_monitor_leader",
		"1 on the instance that runs the scheduled checks, 0 on the others.", nil, nil)
)

// VerdictValue is a verdict as the gauge shows it.
func VerdictValue(v cors.Verdict) float64 {
	switch v {
	case cors.Allowed:
		return 0
	case cors.Blocked:
		return 1
	}
	return 2
}

func durationHistogram() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "corscheck_monitor_check_duration_seconds",
		Help:    "Time of a scheduled check (preflight and request), by target kind.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, []string{"kind"})
}

// Metrics are the monitor's Prometheus metrics: the verdict and time of the newest check of
// every key this instance checks, a histogram of check durations, and whether this instance is
// the leader. Register it with the service's registry.
type Metrics struct {
	mu       sync.Mutex
	newest   map[Key]sample
	duration *prometheus.HistogramVec
	leading  func() bool
}

// NewMetrics returns empty metrics; leading, when set, says whether this instance leads.
func NewMetrics(leading func() bool) *Metrics {
	return &Metrics{newest: map[Key]sample{}, duration: durationHistogram(), leading: leading}
}

// Observe records a check.
func (m *Metrics) Observe(o Outcome) {
	m.duration.WithLabelValues(string(o.Kind)).Observe(o.Took.Seconds())
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.newest[o.Key]; !ok || !o.At.Before(old.at) {
		m.newest[o.Key] = sample{verdict: o.Report.Verdict, at: o.At}
	}
}

// sample is what the gauges show of a key's newest check.
type sample struct {
	verdict cors.Verdict
	at      time.Time
}

// Retain drops the series of keys keep does not hold (nodes or origins no longer watched), and
// every series when keep is nil (this instance stopped leading).
func (m *Metrics) Retain(keep func(Key) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.newest {
		if keep == nil || !keep(k) {
			delete(m.newest, k)
		}
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- verdictDesc
	ch <- lastCheckDesc
	ch <- leaderDesc
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	for k, s := range m.newest {
		labels := []string{k.Node, k.Origin, string(k.Kind), k.Endpoint}
		ch <- prometheus.MustNewConstMetric(verdictDesc, prometheus.GaugeValue, VerdictValue(s.verdict), labels...)
		ch <- prometheus.MustNewConstMetric(lastCheckDesc, prometheus.GaugeValue, float64(s.at.UnixMilli())/1000, labels...)
	}
	m.mu.Unlock()
	leader := 0.0
	if m.leading != nil && m.leading() {
		leader = 1
	}
	ch <- prometheus.MustNewConstMetric(leaderDesc, prometheus.GaugeValue, leader)
	m.duration.Collect(ch)
}
