package auth

import (
	"sync"
	"time"
)

// throttle slows down guessing, per client address: after freeFailures failures in a row, each
// further attempt must wait, twice as long after every failure, up to maxDelay. A success
// forgets the address's failures.
//
// An attempt counts as failed from the moment it is let through until it succeeds, so that
// concurrent attempts cannot all pass before the first failure is recorded: of any number sent
// at once, at most freeFailures are checked.
type throttle struct {
	now   func() time.Time
	mu    sync.Mutex
	by    map[string]*failures
	swept time.Time
}

type failures struct {
	count int
	last  time.Time
	until time.Time // no attempt before this
}

const (
	freeFailures = 5
	firstDelay   = 2 * time.Second
	maxDelay     = 15 * time.Minute
	forgetAfter  = 24 * time.Hour
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, by: map[string]*failures{}, swept: now()}
}

// begin lets an attempt from addr through (wait zero) and counts it as a failure until succeed,
// or says how long addr must wait. failures is the count including this attempt.
func (t *throttle) begin(addr string) (wait time.Duration, count int) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.swept) > time.Minute {
		for a, f := range t.by {
			if now.Sub(f.last) > forgetAfter {
				delete(t.by, a)
			}
		}
		t.swept = now
	}
	f, ok := t.by[addr]
	if !ok {
		f = &failures{}
		t.by[addr] = f
	}
	if now.Before(f.until) {
		return f.until.Sub(now), f.count
	}
	f.count++
	f.last = now
	if n := f.count - freeFailures; n >= 0 {
		d := maxDelay
		if n < 20 {
			d = min(firstDelay<<n, maxDelay)
		}
		f.until = now.Add(d)
	}
	return 0, f.count
}

func (t *throttle) succeed(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.by, addr)
}
