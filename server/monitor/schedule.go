package monitor

import (
	"container/heap"
	"context"
	"hash/maphash"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Checker runs one check as Chromium would; *probe.Prober is one.
type Checker interface {
	Check(ctx context.Context, req cors.Request, kind targets.Kind) *probe.Report
}

// Schedule is how the checks of a round run.
type Schedule struct {
	// Interval is the time between the starts of two rounds (default 5 minutes).
	Interval time.Duration
	// Spread is the jitter: each check starts at its own offset in [0, Spread) from the start of
	// its round, so that a thousand checks do not hit the nodes at the same instant. A key
	// keeps its offset from round to round, so its checks stay one interval apart.
	Spread time.Duration
	// Concurrency is how many checks run at once (default 16).
	Concurrency int
	// Timeout bounds one check (default 10 s).
	Timeout time.Duration
	// Recheck is how long after a check whose verdict waits for confirmation the key is
	// checked again (default 2 s, or a quarter of a shorter interval), at most Rechecks times
	// in a round (a monitor sets it to its
	// After less one when it is 0; negative means none).
	Recheck  time.Duration
	Rechecks int
}

// withDefaults fills in what is not set.
func (s Schedule) withDefaults() Schedule {
	if s.Interval <= 0 {
		s.Interval = 5 * time.Minute
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 16
	}
	if s.Timeout <= 0 {
		s.Timeout = 10 * time.Second
	}
	if s.Recheck <= 0 {
		s.Recheck = min(2*time.Second, s.Interval/4)
	}
	s.Spread = max(0, min(s.Spread, s.Interval))
	s.Rechecks = max(0, s.Rechecks)
	return s
}

// Outcome is one check's report.
type Outcome struct {
	Check
	Report *probe.Report
	At     time.Time     // when the check started
	Took   time.Duration // how long it took
}

// Observer takes each outcome as it comes and says whether the key should be checked again soon
// (its verdict waits for confirmation). It is called from several goroutines at once.
type Observer func(ctx context.Context, o Outcome) (recheck bool)

// RoundStats says what a round did.
type RoundStats struct {
	Checks   int           // checks run, rechecks included
	Rechecks int           // of which confirmation checks
	Took     time.Duration // from the round's start to its last check's end
}

// Scheduler runs rounds of checks. It is safe for concurrent use, though rounds normally run one
// after the other.
type Scheduler struct {
	schedule Schedule
	checker  Checker
	seed     maphash.Seed // makes offsets differ between processes, so instances do not align
}

// NewScheduler returns a scheduler for s that runs checks with c.
func NewScheduler(s Schedule, c Checker) *Scheduler {
	return &Scheduler{schedule: s.withDefaults(), checker: c, seed: maphash.MakeSeed()}
}

// Schedule returns the schedule in use, defaults filled in.
func (s *Scheduler) Schedule() Schedule { return s.schedule }

// offset is the key's start offset in its round.
func (s *Scheduler) offset(k Key) time.Duration {
	if s.schedule.Spread <= 0 {
		return 0
	}
	h := maphash.Comparable(s.seed, k)
	return time.Duration(h % uint64(s.schedule.Spread))
}

// pending is a check waiting for its time.
type pending struct {
	due     time.Time
	check   Check
	attempt int // 0 for the round's check, n for the n-th confirmation check
}

type queue []pending

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(pending)) }
func (q *queue) Pop() any {
	old := *q
	p := old[len(old)-1]
	*q = old[:len(old)-1]
	return p
}

type finished struct {
	p       pending
	recheck bool
}

// Round runs every check once, each at its offset, at most Concurrency at a time, each within
// Timeout, plus the confirmation checks observe asks for. It returns when all have ended, or
// soon after ctx ends (checks under way are cancelled; their outcomes are still observed).
func (s *Scheduler) Round(ctx context.Context, checks []Check, observe Observer) RoundStats {
	start := time.Now()
	q := make(queue, 0, len(checks))
	for _, c := range checks {
		q = append(q, pending{due: start.Add(s.offset(c.Key)), check: c})
	}
	heap.Init(&q)

	work := make(chan pending)
	done := make(chan finished)
	workers := min(s.schedule.Concurrency, max(len(checks), 1))
	for range workers {
		go func() {
			for p := range work {
				done <- finished{p: p, recheck: observe(ctx, s.run(ctx, p.check))}
			}
		}()
	}
	defer close(work)

	var stats RoundStats
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	inflight := 0
	cancelled := ctx.Done()
	for q.Len() > 0 || inflight > 0 {
		// Wait for the next check's time only while a worker is free to take it.
		var due <-chan time.Time
		if q.Len() > 0 && inflight < workers {
			timer.Reset(time.Until(q[0].due))
			due = timer.C
		}
		select {
		case <-due:
			p := heap.Pop(&q).(pending)
			work <- p
			inflight++
			stats.Checks++
			if p.attempt > 0 {
				stats.Rechecks++
			}
		case f := <-done:
			inflight--
			if f.recheck && f.p.attempt < s.schedule.Rechecks && ctx.Err() == nil {
				heap.Push(&q, pending{due: time.Now().Add(s.schedule.Recheck), check: f.p.check, attempt: f.p.attempt + 1})
			}
		case <-cancelled:
			q, cancelled = q[:0], nil // what has not started will not; wait for what has
		}
	}
	stats.Took = time.Since(start)
	return stats
}

// run runs one check within the timeout.
func (s *Scheduler) run(ctx context.Context, c Check) Outcome {
	ctx, cancel := context.WithTimeout(ctx, s.schedule.Timeout)
	defer cancel()
	start := time.Now()
	rep := s.checker.Check(ctx, c.Request, c.Kind)
	return Outcome{Check: c, Report: rep, At: start, Took: time.Since(start)}
}

// Run runs a round every Interval until ctx ends: plan gives each round's checks at its start
// (the catalogue may have changed), and each round's stats go to after. A round that overruns
// the interval is followed at once by the next.
func (s *Scheduler) Run(ctx context.Context, plan func(context.Context) []Check, observe Observer, after func(RoundStats)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		stats := s.Round(ctx, plan(ctx), observe)
		if ctx.Err() != nil {
			return
		}
		if after != nil {
			after(stats)
		}
		timer.Reset(max(0, time.Until(start.Add(s.schedule.Interval))))
	}
}
