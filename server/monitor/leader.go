package monitor

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Lease is a named lease in the database the instances share: at most one holder at a time,
// until it expires. The store implements it; expiry is judged by the database's clock.
type Lease interface {
	// AcquireLease takes the lease for holder for ttl if it is free or expired, or renews it if
	// holder holds it, and reports whether holder holds it now.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder holds it, so another instance can take it at
	// once.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Leader runs work on exactly one instance at a time: the one that holds a lease. It renews the
// lease every TTL/3, and stops the work as soon as it may no longer be sure it holds the lease:
// when a renewal says another instance has it, or when TTL has passed since the last renewal
// that succeeded, less a margin (the database may be unreachable, and another instance may take
// over once the lease expires).
// If the leader dies, the lease expires within TTL and another instance takes it within TTL/3
// after that.
type Leader struct {
	lease  Lease
	name   string
	holder string
	ttl    time.Duration
	log    *slog.Logger
	// leading is set while work runs here.
	leading atomic.Bool
}

// NewLeader returns a leader for the lease name. The holder name is this process's: its host,
// process id and a random part, so two processes never share one.
func NewLeader(l Lease, name string, ttl time.Duration, log *slog.Logger) *Leader {
	host, _ := os.Hostname()
	if log == nil {
		log = slog.Default()
	}
	return &Leader{lease: l, name: name, ttl: ttl, log: log,
		holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])}
}

// Holder is the name this instance holds the lease under.
func (l *Leader) Holder() string { return l.holder }

// Leading reports whether work runs on this instance now.
func (l *Leader) Leading() bool { return l.leading.Load() }

// Run takes the lease whenever it can and runs work while it holds it, until ctx ends; work
// must return soon after its context ends. On the way out it releases the lease.
func (l *Leader) Run(ctx context.Context, work func(ctx context.Context)) {
	every := l.ttl / 3
	var (
		stop       context.CancelFunc
		stopped    sync.WaitGroup
		validUntil time.Time
	)
	stepDown := func(why string, attrs ...any) {
		if stop == nil {
			return
		}
		stop()
		stopped.Wait()
		stop = nil
		l.leading.Store(false)
		l.log.Warn("monitor: no longer the leader; "+why, append([]any{"holder", l.holder}, attrs...)...)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
				stopped.Wait()
				l.leading.Store(false)
				rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := l.lease.ReleaseLease(rctx, l.name, l.holder); err != nil {
					l.log.Warn("monitor: releasing the lease", "err", err)
				}
				cancel()
			}
			return
		case <-timer.C:
		}
		asked := time.Now() // the lease runs from no earlier than this
		actx, cancel := context.WithTimeout(ctx, every)
		held, err := l.lease.AcquireLease(actx, l.name, l.holder, l.ttl)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			continue // shutting down
		case err != nil:
			l.log.Warn("monitor: renewing the lease", "err", err)
			if stop != nil && !time.Now().Before(validUntil) {
				stepDown("the lease could not be renewed before it expired", "err", err)
			}
		case held:
			// Stop a little before the lease can expire, so that a timer that fires late on a
			// busy machine still stops the work before another instance may start it.
			validUntil = asked.Add(l.ttl - l.ttl/8)
			if stop == nil {
				var wctx context.Context
				wctx, stop = context.WithCancel(ctx)
				l.leading.Store(true)
				l.log.Info("monitor: this instance is the leader and runs the checks", "holder", l.holder)
				stopped.Add(1)
				go func() {
					defer stopped.Done()
					work(wctx)
				}()
			}
		default:
			stepDown("another instance holds the lease")
		}
		wait := every
		if stop != nil {
			wait = min(wait, max(0, time.Until(validUntil)))
		}
		timer.Reset(wait)
	}
}
