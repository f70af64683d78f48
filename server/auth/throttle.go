package auth

import (
	"sync"
	"time"
)

// throttle slows down guessing, per client address: after freeFailures failures in a row, each
// further attempt must wait, twice as long after every failure, up to maxDelay.
//
// Failures are counted by credential, and the wait follows their sum. The right password
// forgets both counts: whoever knows it can create tokens anyway. The right token forgets only
// the token failures: it does not prove the password, so a client that holds a token cannot
// wipe its wrong passwords with it and guess on.
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
	count [2]int // in a row, by credential, attempts in flight included
	last  time.Time
	until [2]time.Time // no attempt before the later one; each is set by its credential's failures
}

// credential is what an attempt presents.
type credential int

const (
	credPassword credential = iota
	credToken
)

const (
	freeFailures = 5
	firstDelay   = 2 * time.Second
	maxDelay     = 15 * time.Minute
	forgetAfter  = 24 * time.Hour
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, by: map[string]*failures{}, swept: now()}
}

// begin lets an attempt from addr through (wait zero) and counts it as a failure of cred until
// succeed, or says how long addr must wait. count is the failures in a row of both credentials,
// including this attempt.
func (t *throttle) begin(addr string, cred credential) (wait time.Duration, count int) {
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
	if until := latest(f.until); now.Before(until) {
		return until.Sub(now), f.count[credPassword] + f.count[credToken]
	}
	f.count[cred]++
	f.last = now
	count = f.count[credPassword] + f.count[credToken]
	if n := count - freeFailures; n >= 0 {
		d := maxDelay
		if n < 20 {
			d = min(firstDelay<<n, maxDelay)
		}
		f.until[cred] = now.Add(d)
	}
	return 0, count
}

func latest(ts [2]time.Time) time.Time {
	if ts[0].After(ts[1]) {
		return ts[0]
	}
	return ts[1]
}

// succeed forgets the failures that cred's success may forget (see throttle).
func (t *throttle) succeed(addr string, cred credential) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.by[addr]
	if !ok {
		return
	}
	if cred == credPassword {
		delete(t.by, addr)
		return
	}
	f.count[credToken], f.until[credToken] = 0, time.Time{}
}
