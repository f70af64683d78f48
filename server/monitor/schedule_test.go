package monitor

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

func TestPlan(t *testing.T) {
	cat := targets.Defaults()
	cat.Targets[0].Nodes = []string{"cuicpub.example.com", "cuicsub.example.com"}                          // cuic: 1 endpoint
	cat.Targets[1].Nodes = []string{"ld-a.example.com"}                                                    // livedata: 2 endpoints
	cat.Targets[1].Endpoints = append(cat.Targets[1].Endpoints, targets.Endpoint{Port: 443, Path: "/ld/"}) // unnamed
	// A second CUIC target on the same node and URL is the same check.
	dup := cat.Targets[0]
	dup.ID, dup.Nodes = "cuic-again", []string{"cuicsub.example.com"}
	cat.Targets = append(cat.Targets, dup)
	origins := []string{"https://finessep.example.com:8445", "https://finessep.example.com"}

	checks := Plan(cat, origins)
	if want := (2*1 + 1*3) * len(origins); len(checks) != want {
		t.Fatalf("%d checks, want %d", len(checks), want)
	}
	if !slices.IsSortedFunc(checks, func(a, b Check) int { return compareKeys(a.Key, b.Key) }) {
		t.Error("checks are not sorted by key")
	}
	seen := map[Key]bool{}
	for _, c := range checks {
		if seen[c.Key] {
			t.Errorf("key %v planned twice", c.Key)
		}
		seen[c.Key] = true
		if c.Request.URL.String() != c.URL || c.Request.Origin != c.Origin {
			t.Errorf("%v: request %s from %s", c.Key, c.Request.URL, c.Request.Origin)
		}
		if err := c.Request.Validate(); err != nil {
			t.Errorf("%v: %v", c.Key, err)
		}
	}
	sub := checks[slices.IndexFunc(checks, func(c Check) bool { return c.Node == "cuicsub.example.com" })]
	if sub.Kind != targets.CUIC || sub.Endpoint != "CUIC 8444" || sub.URL != "https://cuicsub.example.com:8444/cuic/rest/status/" ||
		sub.Request.Method != "GET" || sub.Request.Credentials != cors.Include ||
		!slices.Equal(cors.UnsafeHeaderNames(sub.Request.Header), []string{"authorization", "locale", "peripheralid"}) {
		t.Errorf("the subscriber's check does not carry the gadget's request: %+v", sub)
	}
	if !slices.ContainsFunc(checks, func(c Check) bool { return c.Endpoint == ":443/ld/" && c.URL == "https://ld-a.example.com/ld/" }) {
		t.Error("an endpoint without a name is not named by its port and path")
	}
	if got := Plan(cat, nil); len(got) != 0 {
		t.Errorf("without origins: %d checks", len(got))
	}
}

// fakeChecker answers from verdicts (allowed when a URL has none), counts the checks and how
// many run at once, and waits for release when it is set.
type fakeChecker struct {
	mu       sync.Mutex
	verdicts map[string][]cors.Verdict // by URL: the answers in turn, the last one repeated
	calls    map[string]int
	running  atomic.Int32
	most     atomic.Int32
	release  chan struct{}
	deadline []time.Duration // how far each check's deadline lay
}

func (f *fakeChecker) Check(ctx context.Context, req cors.Request, kind targets.Kind) *probe.Report {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.most.Load()
		if n <= m || f.most.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	if d, ok := ctx.Deadline(); ok {
		f.deadline = append(f.deadline, time.Until(d))
	}
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	u := req.URL.String()
	i := f.calls[u]
	f.calls[u]++
	v := cors.Allowed
	if vs := f.verdicts[u]; len(vs) > 0 {
		v = vs[min(i, len(vs)-1)]
	}
	f.mu.Unlock()
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return &probe.Report{URL: u, Verdict: cors.Unreachable, Network: &probe.NetworkError{Class: probe.Timeout}}
		}
	}
	return &probe.Report{URL: u, Node: req.URL.Hostname(), Verdict: v}
}

func testChecks(n int) []Check {
	var out []Check
	for i := range n {
		u, _ := url.Parse(fmt.Sprintf("https://node%03d.example.com:8444/cuic/rest/status/", i))
		out = append(out, Check{
			Key:     Key{Kind: targets.CUIC, Node: u.Hostname(), Origin: "https://f.example.com:8445", Endpoint: "CUIC 8444", URL: u.String()},
			Request: cors.Request{URL: u, Origin: "https://f.example.com:8445", Method: "GET", Credentials: cors.Include},
		})
	}
	return out
}

// Every check runs once, never more than Concurrency at a time, and each outcome is observed.
func TestRoundRunsEveryCheckOnce(t *testing.T) {
	f := &fakeChecker{release: make(chan struct{})}
	s := NewScheduler(Schedule{Concurrency: 4, Timeout: time.Minute}, f)
	checks := testChecks(40)
	var mu sync.Mutex
	observed := map[Key]int{}
	done := make(chan RoundStats)
	go func() {
		done <- s.Round(t.Context(), checks, func(_ context.Context, o Outcome) bool {
			mu.Lock()
			observed[o.Key]++
			mu.Unlock()
			if o.Report.Verdict != cors.Allowed || o.Report.URL != o.URL {
				t.Errorf("%v: report %+v", o.Key, o.Report)
			}
			return false
		})
	}()
	// Let the checks through one by one: at no point may more than 4 wait here.
	for range len(checks) {
		f.release <- struct{}{}
	}
	stats := <-done
	if stats.Checks != len(checks) || stats.Rechecks != 0 {
		t.Errorf("stats %+v, want %d checks", stats, len(checks))
	}
	if m := f.most.Load(); m > 4 || m < 1 {
		t.Errorf("%d checks ran at once with concurrency 4", m)
	}
	for _, c := range checks {
		if observed[c.Key] != 1 || f.calls[c.URL] != 1 {
			t.Errorf("%s: observed %d times, checked %d times", c.URL, observed[c.Key], f.calls[c.URL])
		}
	}
}

// A check that waits for confirmation is checked again in the same round, at most Rechecks
// times; with the tracker, a failure seen twice in a row is confirmed within the round, and a
// flapping node is not.
func TestRoundRechecksUntilConfirmed(t *testing.T) {
	checks := testChecks(3)
	steady, flapping, fine := checks[0], checks[1], checks[2]
	f := &fakeChecker{verdicts: map[string][]cors.Verdict{
		steady.URL:   {bad},
		flapping.URL: {bad, ok, bad, ok, bad, ok, bad, ok},
	}}
	s := NewScheduler(Schedule{Concurrency: 2, Recheck: time.Millisecond, Rechecks: 3}, f)
	tr := NewTracker(2)
	var mu sync.Mutex
	var changes []Change
	observe := func(_ context.Context, o Outcome) bool {
		c, pending := tr.Observe(o.Key, o.Report.Verdict)
		if c != nil {
			mu.Lock()
			changes = append(changes, *c)
			mu.Unlock()
		}
		return pending
	}
	tr.Seed(flapping.Key, ok)
	stats := s.Round(t.Context(), checks, observe)
	if len(changes) != 1 || changes[0].Key != steady.Key || changes[0].To != bad {
		t.Fatalf("changes %+v, want the steady failure alone", changes)
	}
	if f.calls[steady.URL] != 2 || f.calls[fine.URL] != 1 {
		t.Errorf("checked the steady failure %d times (want 2), the fine node %d (want 1)", f.calls[steady.URL], f.calls[fine.URL])
	}
	// The flapping node: bad (pending), ok (settled): no recheck after that.
	if f.calls[flapping.URL] != 2 {
		t.Errorf("checked the flapping node %d times, want 2", f.calls[flapping.URL])
	}
	if stats.Checks != 5 || stats.Rechecks != 2 {
		t.Errorf("stats %+v, want 5 checks of which 2 rechecks", stats)
	}

	// A node that keeps changing between two failures stays pending: rechecks stop at 3.
	f2 := &fakeChecker{verdicts: map[string][]cors.Verdict{steady.URL: {bad, down, bad, down, bad, down}}}
	s2 := NewScheduler(Schedule{Concurrency: 2, Recheck: time.Millisecond, Rechecks: 3}, f2)
	tr = NewTracker(2)
	tr.Seed(steady.Key, ok)
	changes = nil
	s2.Round(t.Context(), checks[:1], observe)
	if len(changes) != 0 || f2.calls[steady.URL] != 4 {
		t.Errorf("flapping between failures: %d checks, changes %+v; want 4 checks and none", f2.calls[steady.URL], changes)
	}
}

// Each check gets its own deadline: a check that hangs is cut at Timeout and observed as it
// ended, and the round ends.
func TestRoundTimesOutEachCheck(t *testing.T) {
	f := &fakeChecker{release: make(chan struct{})} // never released
	s := NewScheduler(Schedule{Concurrency: 8, Timeout: 20 * time.Millisecond}, f)
	checks := testChecks(5)
	var n atomic.Int32
	s.Round(t.Context(), checks, func(_ context.Context, o Outcome) bool {
		n.Add(1)
		if o.Report.Verdict != cors.Unreachable {
			t.Errorf("%v: verdict %s, want unreachable after the timeout", o.Key, o.Report.Verdict)
		}
		return false
	})
	if n.Load() != 5 {
		t.Errorf("%d outcomes, want 5", n.Load())
	}
	for _, d := range f.deadline {
		if d > 20*time.Millisecond {
			t.Errorf("a check's deadline lay %s ahead, more than the 20ms timeout", d)
		}
	}
	if len(f.deadline) != 5 {
		t.Errorf("%d checks had a deadline, want 5", len(f.deadline))
	}
}

// Cancelling the round stops checks from starting; those under way end and are observed.
func TestRoundStopsWhenCancelled(t *testing.T) {
	f := &fakeChecker{release: make(chan struct{})}
	s := NewScheduler(Schedule{Concurrency: 2, Timeout: time.Minute, Spread: time.Hour, Interval: time.Hour}, f)
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{}, 100)
	done := make(chan RoundStats)
	go func() {
		done <- s.Round(ctx, testChecks(50), func(context.Context, Outcome) bool { started <- struct{}{}; return false })
	}()
	cancel()
	stats := <-done
	if stats.Checks != len(started) {
		t.Errorf("%d checks started, %d observed", stats.Checks, len(started))
	}
	// With offsets spread over an hour, almost none can have started before the cancel.
	if stats.Checks == 50 {
		t.Error("every check ran although the round was cancelled")
	}
}

// Offsets lie in [0, Spread), stay the same for a key, and differ between keys and processes.
func TestOffsets(t *testing.T) {
	checks := testChecks(200)
	a := NewScheduler(Schedule{Interval: time.Minute, Spread: 30 * time.Second}, nil)
	b := NewScheduler(Schedule{Interval: time.Minute, Spread: 30 * time.Second}, nil)
	distinct := map[time.Duration]bool{}
	same := 0
	for _, c := range checks {
		o := a.offset(c.Key)
		if o < 0 || o >= 30*time.Second {
			t.Fatalf("offset %s outside [0, 30s)", o)
		}
		if a.offset(c.Key) != o {
			t.Fatalf("%v: offset changed", c.Key)
		}
		if b.offset(c.Key) == o {
			same++
		}
		distinct[o] = true
	}
	if len(distinct) < 190 || same > 10 {
		t.Errorf("%d distinct offsets of 200 keys, %d equal in another process", len(distinct), same)
	}
	if o := NewScheduler(Schedule{}, nil).offset(checks[0].Key); o != 0 {
		t.Errorf("no spread: offset %s", o)
	}
	if s := NewScheduler(Schedule{Interval: time.Second, Spread: time.Hour}, nil).Schedule(); s.Spread != time.Second {
		t.Errorf("spread %s beyond the interval was not cut to it", s.Spread)
	}
}

// Run runs rounds until cancelled, reading the plan at each round's start.
func TestRunRoundAfterRound(t *testing.T) {
	f := &fakeChecker{}
	s := NewScheduler(Schedule{Interval: time.Millisecond, Concurrency: 2}, f)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rounds := make(chan RoundStats, 100)
	plans := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, func(context.Context) []Check { plans++; return testChecks(plans) },
			func(context.Context, Outcome) bool { return false },
			func(st RoundStats) {
				rounds <- st
				if len(rounds) == 3 {
					cancel()
				}
			})
	}()
	<-done
	if len(rounds) != 3 {
		t.Fatalf("%d rounds, want 3", len(rounds))
	}
	for i := 1; i <= 3; i++ {
		if st := <-rounds; st.Checks != i {
			t.Errorf("round %d ran %d checks, want %d (the plan of its start)", i, st.Checks, i)
		}
	}
}
