package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/monitor"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
)

// benchLab is the lab with origins many Finesse origins allowed and latency added to every
// answer, the checks of all its nodes for all those origins, and a prober that trusts it.
func benchLab(b *testing.B, origins int, latency time.Duration) (*lab.Lab, []monitor.Check, *probe.Prober) {
	b.Helper()
	var os []string
	for i := range origins {
		os = append(os, fmt.Sprintf("https://finesse%03d.example:8445", i))
	}
	l, err := lab.Start(lab.Options{Origins: os, Latency: latency})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	p := probe.New(probe.Options{Timeout: 10 * time.Second, RootCAs: l.CA().Pool()})
	b.Cleanup(p.Close)
	return l, monitor.Plan(l.Catalogue(), os), p
}

// bareLoop runs every check with concurrency workers and nothing else: the baseline.
func bareLoop(ctx context.Context, p *probe.Prober, checks []monitor.Check, workers int) {
	work := make(chan monitor.Check)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range work {
				p.Check(ctx, c.Request, c.Kind)
			}
		})
	}
	for _, c := range checks {
		work <- c
	}
	close(work)
	wg.Wait()
}

// BenchmarkRound runs 1,000 checks (the lab's 5 nodes for 200 Finesse origins), every answer
// 20 ms away, 16 at a time, three ways in each iteration:
//   - bare: the baseline, a loop of the same probes at the same concurrency;
//   - scheduler: a round of the scheduler with its per-check timeouts, the tracker and the
//     gauges (no jitter, so that both start every check at once);
//   - monitor: a whole monitor round, which also stores each result and each failure's
//     diagnosis in SQLite.
//
// It reports each round's time, and sched/bare and monitor/bare.
func BenchmarkRound(b *testing.B) {
	const workers = 16
	_, checks, p := benchLab(b, 200, 20*time.Millisecond)
	if len(checks) != 1000 {
		b.Fatalf("%d checks, want 1000", len(checks))
	}
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sched := monitor.NewScheduler(monitor.Schedule{Concurrency: workers, Timeout: 10 * time.Second}, p)
	tracker, metrics := monitor.NewTracker(2), monitor.NewMetrics(nil)
	observe := func(_ context.Context, o monitor.Outcome) bool {
		metrics.Observe(o)
		tracker.Observe(o.Key, o.Report.Verdict)
		return false // the same probes as the bare loop: no rechecks
	}
	full := monitor.New(monitor.Config{Store: st, Checker: p, Plan: func() []monitor.Check { return checks },
		Schedule: monitor.Schedule{Concurrency: workers, Timeout: 10 * time.Second, Rechecks: -1}, Logger: quiet})
	bareLoop(ctx, p, checks, workers) // warm the connections up
	var bare, scheduled, monitored time.Duration
	for b.Loop() {
		t0 := time.Now()
		bareLoop(ctx, p, checks, workers)
		t1 := time.Now()
		sched.Round(ctx, checks, observe)
		t2 := time.Now()
		if _, err := full.Round(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		bare, scheduled, monitored = bare+t1.Sub(t0), scheduled+t2.Sub(t1), monitored+t3.Sub(t2)
	}
	n := float64(b.N)
	b.ReportMetric(bare.Seconds()/n, "bare-s/round")
	b.ReportMetric(scheduled.Seconds()/n, "sched-s/round")
	b.ReportMetric(monitored.Seconds()/n, "monitor-s/round")
	b.ReportMetric(float64(scheduled)/float64(bare), "sched/bare")
	b.ReportMetric(float64(monitored)/float64(bare), "monitor/bare")
	b.ReportMetric(1000*n/scheduled.Seconds(), "checks/s")
}

// rss is the process's resident set size, from /proc.
func rss(b *testing.B) int64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: ", err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRSS runs 100 rounds of a whole monitor (200 checks a round, stored in SQLite) and
// compares the process's resident memory and live heap after the 100th round with after the
// 10th: flat is 1.0.
func BenchmarkRSS(b *testing.B) {
	_, checks, p := benchLab(b, 40, 0)
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for b.Loop() {
		m := monitor.New(monitor.Config{Store: st, Checker: p, Plan: func() []monitor.Check { return checks },
			Schedule: monitor.Schedule{Concurrency: 16, Timeout: 10 * time.Second}, Metrics: monitor.NewMetrics(nil), Logger: quiet})
		var rss10, heap10 int64
		for round := 1; round <= 100; round++ {
			if _, err := m.Round(ctx); err != nil {
				b.Fatal(err)
			}
			if round == 10 {
				heap10, rss10 = int64(heap()), rss(b)
			}
		}
		heap100, rss100 := int64(heap()), rss(b)
		b.ReportMetric(float64(rss100)/float64(rss10), "rss100/rss10")
		b.ReportMetric(float64(heap100)/float64(heap10), "heap100/heap10")
		b.ReportMetric(float64(rss100)/(1<<20), "rss-MB")
	}
}

// BenchmarkAlertLatency measures how long after a node flips its alert reaches a webhook
// receiver, with the whole service's machinery: the monitor's rounds every interval (jitter
// over the whole interval), the confirming recheck, the outbox in SQLite and the dispatcher.
// The subscriber flips from allowed to blocked (and back) at a random point of the schedule;
// the budget is one interval plus 5 s, and latency/budget must stay at or below 1.
func BenchmarkAlertLatency(b *testing.B) {
	const interval = 3 * time.Second
	l, err := lab.Start(lab.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	p := probe.New(probe.Options{Timeout: 5 * time.Second, RootCAs: l.CA().Pool()})
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	got := make(chan alert.Event, 100)
	hook := newBenchReceiver(b, got)
	rcv, _ := alert.ParseReceiver(hook)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender := alert.NewSender(alert.SenderOptions{Guard: alert.Guard([]alert.Receiver{rcv}, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})})
	d := alert.NewDispatcher(alert.DispatcherConfig{Outbox: st, Sender: sender, Receivers: []alert.Receiver{rcv}, Install: "bench", Logger: quiet})
	var checks []monitor.Check
	for _, c := range monitor.Plan(l.Catalogue(), []string{lab.FinesseOrigin}) {
		if c.Node == "cuicsub.localhost" || c.Node == "cuicpub.localhost" {
			checks = append(checks, c)
		}
	}
	l.Set("cuicsub", lab.Allowing)
	m := monitor.New(monitor.Config{Store: st, Checker: p, Plan: func() []monitor.Check { return checks },
		Schedule:  monitor.Schedule{Interval: interval, Spread: interval, Concurrency: 4, Timeout: 5 * time.Second},
		Receivers: alert.StoreReceivers([]alert.Receiver{rcv}), Queued: d.Nudge, Logger: quiet})
	go m.Run(ctx)
	go d.Run(ctx)
	budget := interval + 5*time.Second
	var worst time.Duration
	flip := func(s lab.State, event string) {
		// Flip at a point of the schedule that is not aligned to the rounds.
		time.Sleep(time.Duration(time.Now().UnixNano() % int64(interval)))
		l.Set("cuicsub", s)
		start := time.Now()
		for {
			select {
			case e := <-got:
				if e.Event != event || e.Incident.Node != "cuicsub.localhost" {
					continue
				}
				worst = max(worst, time.Since(start))
				return
			case <-time.After(3 * budget):
				b.Fatalf("no %s alert %s after the flip", event, 3*budget)
			}
		}
	}
	for b.Loop() {
		flip(lab.FieldCase, alert.Opened)
		flip(lab.Allowing, alert.Closed)
	}
	b.ReportMetric(worst.Seconds(), "worst-latency-s")
	b.ReportMetric(float64(worst)/float64(budget), "latency/budget")
}

// newBenchReceiver is a webhook receiver that passes every event to got.
func newBenchReceiver(b *testing.B, got chan<- alert.Event) string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e alert.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err == nil {
			got <- e
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/alerts"
}
