package monitor

import (
	"testing"

	"github.com/corsquickcheck/corscheck/server/cors"
)

const (
	ok   = cors.Allowed
	bad  = cors.Blocked
	down = cors.Unreachable
)

// step is one check's verdict and what the tracker must say about it.
type step struct {
	v       cors.Verdict
	from    cors.Verdict // with to: the change this check confirms
	to      cors.Verdict
	pending bool
}

func TestTracker(t *testing.T) {
	tests := []struct {
		name  string
		after int
		seed  cors.Verdict // confirmed before the first step, when set
		steps []step
	}{
		{"a node that works is taken at once", 2, "", []step{{v: ok}, {v: ok}}},
		{"a node broken at start opens after two checks", 2, "", []step{
			{v: bad, pending: true}, {v: bad, from: "", to: bad}, {v: bad}}},
		{"allowed to blocked and back", 2, "", []step{
			{v: ok}, {v: bad, pending: true}, {v: bad, from: ok, to: bad},
			{v: ok, pending: true}, {v: ok, from: bad, to: ok}}},
		{"flapping never confirms", 2, ok, []step{
			{v: bad, pending: true}, {v: ok}, {v: bad, pending: true}, {v: ok}, {v: bad, pending: true}, {v: ok}}},
		{"flapping between two failures never confirms", 2, ok, []step{
			{v: bad, pending: true}, {v: down, pending: true}, {v: bad, pending: true}, {v: down, pending: true}}},
		{"a streak restarts when the verdict changes", 3, ok, []step{
			{v: bad, pending: true}, {v: bad, pending: true}, {v: down, pending: true}, {v: down, pending: true},
			{v: down, from: ok, to: down}}},
		{"blocked becomes unreachable", 2, bad, []step{
			{v: down, pending: true}, {v: down, from: bad, to: down}}},
		{"after 1 confirms every change at once", 1, ok, []step{
			{v: bad, from: ok, to: bad}, {v: ok, from: bad, to: ok}}},
		{"a seeded failure closes on recovery", 2, bad, []step{
			{v: ok, pending: true}, {v: ok, from: bad, to: ok}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.after)
			k := Key{Kind: "cuic", Node: "cuicsub.example.com", Origin: "https://finesse.example.com:8445", URL: "https://cuicsub.example.com:8444/"}
			if tt.seed != "" {
				tr.Seed(k, tt.seed)
			}
			for i, s := range tt.steps {
				change, pending := tr.Observe(k, s.v)
				switch {
				case s.to == "" && change != nil:
					t.Fatalf("check %d (%s): confirmed %s → %s, want no change", i, s.v, change.From, change.To)
				case s.to != "" && change == nil:
					t.Fatalf("check %d (%s): no change, want %q → %s", i, s.v, s.from, s.to)
				case s.to != "" && (change.From != s.from || change.To != s.to || change.Key != k):
					t.Fatalf("check %d (%s): change %+v, want %q → %s", i, s.v, *change, s.from, s.to)
				}
				if pending != s.pending {
					t.Fatalf("check %d (%s): pending %v, want %v", i, s.v, pending, s.pending)
				}
			}
		})
	}
}

func TestTrackerKeysAreApart(t *testing.T) {
	tr := NewTracker(2)
	a := Key{Kind: "cuic", Node: "a", Origin: "https://f:8445", URL: "https://a/"}
	b := a
	b.Node, b.URL = "b", "https://b/"
	tr.Observe(a, ok)
	tr.Observe(b, bad)
	if c, _ := tr.Observe(a, bad); c != nil {
		t.Fatalf("a's first failure confirmed a change: %+v", c)
	}
	if c, _ := tr.Observe(b, bad); c == nil || c.To != bad {
		t.Fatalf("b's second failure: %+v", c)
	}
	if got := tr.Confirmed(a); got != ok {
		t.Fatalf("a confirmed %q, want allowed", got)
	}
	tr.Retain(func(k Key) bool { return k == b })
	if got := tr.Confirmed(a); got != "" {
		t.Fatalf("a forgotten but confirmed %q", got)
	}
	if got := tr.Confirmed(b); got != bad {
		t.Fatalf("b retained but confirmed %q", got)
	}
}
