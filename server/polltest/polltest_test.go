package polltest_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/polltest"
)

func TestUntilReturnsOnceDone(t *testing.T) {
	var calls atomic.Int32
	if !polltest.Until(time.Minute, func() bool { return calls.Add(1) == 3 }) {
		t.Fatal("Until gave up on a condition that came true")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("done was called %d times, want 3: once more after it held, or not until it held", n)
	}
}

func TestUntilGivesUp(t *testing.T) {
	calls := 0
	if polltest.Until(0, func() bool { calls++; return false }) {
		t.Fatal("Until reported a condition that never held")
	}
	if calls != 1 {
		t.Errorf("done was called %d times with no time to wait, want once", calls)
	}
}
