package store

import (
	"context"
	"sync"
	"time"
)

// A write is one caller's AddResults or AddDiagnosis waiting in the group-commit queue.
type write struct {
	ctx       context.Context
	results   []Result   // or
	diagnosis *Diagnosis //
	ids       []int64    // set by the commit, in the order of results
	done      chan error // buffered: the writer never blocks on a caller that gave up
}

func (w *write) rows() int {
	if w.diagnosis != nil {
		return 1
	}
	return len(w.results)
}

// groupCommit turns many concurrent small writes into few transactions: each writer goroutine
// takes whatever is queued (never waiting for more, which only adds latency), commits it in
// one transaction, then answers every caller. One commit's fsync thus pays for the whole
// burst, which is what makes durable commits cheap when every agent of a shift logs in at once.
type groupCommit struct {
	in       chan *write
	maxRows  int
	commit   func(ctx context.Context, ws []*write) error // one transaction; fills ws[i].ids
	mu       sync.RWMutex                                 // held shared while sending, so Close can close in
	closed   bool
	finished sync.WaitGroup
}

// newGroupCommit starts writers goroutines; SQLite must have exactly one.
func newGroupCommit(writers, maxRows int, commit func(context.Context, []*write) error) *groupCommit {
	g := &groupCommit{in: make(chan *write, maxRows), maxRows: maxRows, commit: commit}
	for range writers {
		g.finished.Add(1)
		go g.run()
	}
	return g
}

// submit queues w and waits for its commit. When ctx ends first the caller gets ctx.Err(), and
// the write may still be committed if a writer had already taken it.
func (g *groupCommit) submit(w *write) error {
	w.done = make(chan error, 1)
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return ErrClosed
	}
	select {
	case g.in <- w:
		g.mu.RUnlock()
	case <-w.ctx.Done():
		g.mu.RUnlock()
		return w.ctx.Err()
	}
	select {
	case err := <-w.done:
		return err
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

func (g *groupCommit) run() {
	defer g.finished.Done()
	for first := range g.in {
		batch := []*write{first}
		rows := first.rows()
	drain:
		for rows < g.maxRows {
			select {
			case w, ok := <-g.in:
				if !ok {
					break drain
				}
				batch = append(batch, w)
				rows += w.rows()
			default:
				break drain
			}
		}
		g.flush(batch)
	}
}

func (g *groupCommit) flush(batch []*write) {
	live := batch[:0]
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.done <- err // its caller has gone; don't write what nobody is waiting for
			continue
		}
		live = append(live, w)
	}
	if len(live) == 0 {
		return
	}
	// The transaction is not bound to any one caller: a caller that gives up must not roll back
	// the writes of the others.
	ctx := context.Background()
	err := g.commit(ctx, live)
	if err != nil && len(live) > 1 {
		// One bad write (say, a diagnosis of a result that does not exist) must not fail the
		// others: commit each alone so only the culprit gets the error.
		for _, w := range live {
			w.done <- g.commit(ctx, []*write{w})
		}
		return
	}
	for _, w := range live {
		w.done <- err
	}
}

// close stops taking writes, lets the writers commit everything already queued (its callers
// get their answer), and returns once they have.
func (g *groupCommit) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.in)
	}
	g.mu.Unlock()
	g.finished.Wait()
}

// queued implements the Store writes of both backends on top of a groupCommit.
type queued struct {
	commits *groupCommit
	direct  func(context.Context, []*write) error // instead of commits: one transaction per call
}

func (q queued) submit(w *write) error {
	if q.direct != nil {
		return q.direct(w.ctx, []*write{w})
	}
	return q.commits.submit(w)
}

func (q queued) AddResults(ctx context.Context, rs []Result) ([]int64, error) {
	if len(rs) == 0 {
		return []int64{}, nil
	}
	if err := validResults(rs); err != nil {
		return nil, err
	}
	w := &write{ctx: ctx, results: rs}
	if err := q.submit(w); err != nil {
		return nil, err
	}
	return w.ids, nil
}

// AddDiagnosis stores d; a zero CreatedAt means now.
func (q queued) AddDiagnosis(ctx context.Context, d Diagnosis) (int64, error) {
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now()
	}
	w := &write{ctx: ctx, diagnosis: &d}
	if err := q.submit(w); err != nil {
		return 0, err
	}
	return w.ids[0], nil
}
