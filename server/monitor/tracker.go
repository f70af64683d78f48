package monitor

import (
	"sync"

	"github.com/corsquickcheck/corscheck/server/cors"
)

// Tracker decides when the verdict of a key has changed: only after a number of agreeing checks
// in a row, so that a node whose answers flap does not alert on every check. It is safe for
// concurrent use.
type Tracker struct {
	after  int
	mu     sync.Mutex
	states map[Key]*trackState
}

type trackState struct {
	confirmed cors.Verdict // "" while unknown
	candidate cors.Verdict // a different verdict seen streak times in a row
	streak    int
}

// Change is a confirmed change of a key's verdict.
type Change struct {
	Key
	From cors.Verdict // "" when the key had no confirmed verdict yet (the monitor just started)
	To   cors.Verdict
}

// NewTracker returns a tracker that confirms a change after `after` agreeing checks in a row
// (at least 1).
func NewTracker(after int) *Tracker {
	return &Tracker{after: max(after, 1), states: map[Key]*trackState{}}
}

// Seed sets the confirmed verdict of a key, e.g. from an incident still open when the monitor
// starts, so that the next checks close it rather than open it again.
func (t *Tracker) Seed(k Key, v cors.Verdict) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.states[k] = &trackState{confirmed: v}
}

// Observe takes one check's verdict. It returns the change it confirms, if any, and whether the
// key now waits for more agreeing checks (the monitor then checks it again soon rather than a
// whole interval later).
//
// A key's first verdict needs confirming like any change, except allowed: a node that works
// when the monitor starts is nothing to tell anyone, so allowed is taken at once.
func (t *Tracker) Observe(k Key, v cors.Verdict) (change *Change, pending bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.states[k]
	if !ok {
		s = &trackState{}
		t.states[k] = s
	}
	switch {
	case v == s.confirmed:
		s.candidate, s.streak = "", 0
		return nil, false
	case s.confirmed == "" && v == cors.Allowed:
		s.confirmed, s.candidate, s.streak = v, "", 0
		return nil, false
	case v == s.candidate:
		s.streak++
	default:
		s.candidate, s.streak = v, 1
	}
	if s.streak < t.after {
		return nil, true
	}
	change = &Change{Key: k, From: s.confirmed, To: v}
	s.confirmed, s.candidate, s.streak = v, "", 0
	return change, false
}

// Confirmed returns the confirmed verdict of a key ("" while unknown).
func (t *Tracker) Confirmed(k Key) cors.Verdict {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.states[k]; ok {
		return s.confirmed
	}
	return ""
}

// Retain forgets every key keep does not hold: nodes and origins removed from the catalogue or
// the configuration.
func (t *Tracker) Retain(keep func(Key) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.states {
		if !keep(k) {
			delete(t.states, k)
		}
	}
}
