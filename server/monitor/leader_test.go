package monitor

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/polltest"
)

// memLease is a lease in memory, with the store's rules.
type memLease struct {
	mu       sync.Mutex
	holder   string
	expires  time.Time
	fail     error // every call fails with it while set
	asked    int
	released []string
}

func (m *memLease) AcquireLease(_ context.Context, _, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked++
	if m.fail != nil {
		return false, m.fail
	}
	now := time.Now()
	if m.holder == "" || m.holder == holder || !now.Before(m.expires) {
		m.holder, m.expires = holder, now.Add(ttl)
		return true, nil
	}
	return false, nil
}

func (m *memLease) ReleaseLease(_ context.Context, _, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder == holder {
		m.holder = ""
	}
	m.released = append(m.released, holder)
	return nil
}

func (m *memLease) set(f func(m *memLease)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !polltest.Until(10*time.Second, cond) {
		t.Fatalf("timed out waiting until %s", what)
	}
}

// running starts l.Run with a work function that reports its starts and stops.
func running(t *testing.T, l *Leader) (stop func(), starts, stops chan struct{}) {
	ctx, cancel := context.WithCancel(t.Context())
	starts, stops = make(chan struct{}, 10), make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx, func(ctx context.Context) {
			starts <- struct{}{}
			<-ctx.Done()
			stops <- struct{}{}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() { cancel(); <-done }, starts, stops
}

func TestLeaderRunsWorkWhileItHoldsTheLease(t *testing.T) {
	lease := &memLease{}
	l := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	stop, starts, stops := running(t, l)
	<-starts
	if !l.Leading() {
		t.Error("work runs but Leading is false")
	}
	stop()
	<-stops
	if l.Leading() {
		t.Error("Leading after Run returned")
	}
	if len(lease.released) != 1 || lease.released[0] != l.Holder() {
		t.Errorf("released by %v, want %s", lease.released, l.Holder())
	}
}

func TestLeaderWaitsForTheLease(t *testing.T) {
	lease := &memLease{holder: "someone else", expires: time.Now().Add(time.Hour)}
	l := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	_, starts, _ := running(t, l)
	// While the other instance holds the lease, nothing runs here.
	waitFor(t, "the leader asked at least twice", func() bool {
		lease.mu.Lock()
		defer lease.mu.Unlock()
		return lease.asked >= 2
	})
	select {
	case <-starts:
		t.Fatal("work started while another instance held the lease")
	default:
	}
	lease.set(func(m *memLease) { m.expires = time.Now() }) // the other instance died
	<-starts
	if !l.Leading() {
		t.Error("not leading after taking the lease")
	}
}

func TestLeaderStepsDownWhenTheLeaseIsTaken(t *testing.T) {
	lease := &memLease{}
	l := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	_, starts, stops := running(t, l)
	<-starts
	lease.set(func(m *memLease) { m.holder, m.expires = "someone else", time.Now().Add(time.Hour) })
	<-stops
	waitFor(t, "Leading turns false", func() bool { return !l.Leading() })
}

func TestLeaderStepsDownWhenItCannotRenew(t *testing.T) {
	lease := &memLease{}
	l := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	_, starts, stops := running(t, l)
	<-starts
	lease.set(func(m *memLease) { m.fail = errors.New("database unreachable") })
	<-stops // before the lease can have expired in the database
	lease.set(func(m *memLease) { m.fail = nil })
	<-starts // and leads again once the database answers
}

// Two instances on one lease: one leads; when it stops, the other takes over.
func TestLeaderFailover(t *testing.T) {
	lease := &memLease{}
	a := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	b := NewLeader(lease, "monitor", 300*time.Millisecond, nil)
	if a.Holder() == b.Holder() {
		t.Fatal("two leaders share a holder name")
	}
	stopA, startsA, _ := running(t, a)
	<-startsA
	_, startsB, _ := running(t, b)
	stopA()
	<-startsB
	if a.Leading() || !b.Leading() {
		t.Errorf("leading: a %v, b %v", a.Leading(), b.Leading())
	}
}
