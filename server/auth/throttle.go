package auth

import (
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/clientip"
)

// throttle slows down guessing, per client: after freeFailures failures in a row, each further
// attempt must wait, twice as long after every failure, up to maxDelay.
//
// A client is a clientip.Key: an IPv4 address, or an IPv6 /64, whose owner may pick any of its
// addresses. The throttle remembers at most maxClients of them, and forgets the one seen least
// recently to make room, or any after forgetAfter without an attempt.
//
// Failures are counted by credential, and the wait follows their sum. The right password
// forgets both counts: whoever knows it can create tokens anyway. The right token forgets only
// the token failures: it does not prove the password, so a client that holds a token cannot
// wipe its wrong passwords with it and guess on.
//
// An attempt counts as failed from the moment it is let through until it succeeds, so that
// concurrent attempts cannot all pass before the first failure is recorded: of any number sent
// at once, at most freeFailures are checked.
//
// The throttle also bounds what the log says about failures (see logWindow).
type throttle struct {
	now     func() time.Time
	mu      sync.Mutex
	clients *clientip.Table[record]
	log     logWindow
}

// credential is what an attempt presents.
type credential int

const (
	credPassword credential = iota
	credToken
)

type record struct {
	key      string
	failures [2]int       // in a row, by credential, attempts in flight included
	until    [2]time.Time // no attempt before the later one; each is set by its credential's failures
	window   int64        // the log window that events counts in
	events   int          // attempts of this client in that window that were not logged one by one
}

const (
	freeFailures = 5
	firstDelay   = 2 * time.Second
	maxDelay     = 15 * time.Minute
	forgetAfter  = 24 * time.Hour
	maxClients   = 10_000
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, clients: clientip.NewTable[record](maxClients, forgetAfter), log: logWindow{start: now()}}
}

// begin lets an attempt from client through (wait zero) and counts it as a failure of cred
// until succeed, or says how long client must wait. count is the failures in a row of both
// credentials, including this attempt.
func (t *throttle) begin(client string, cred credential) (wait time.Duration, count int) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.clients.Use(client, now, func() record { return record{key: client, window: -1} })
	if until := latest(r.until); now.Before(until) {
		t.log.refused++
		t.log.count(r)
		return until.Sub(now), r.failures[credPassword] + r.failures[credToken]
	}
	r.failures[cred]++
	count = r.failures[credPassword] + r.failures[credToken]
	if n := count - freeFailures; n >= 0 {
		d := maxDelay
		if n < 20 {
			d = min(firstDelay<<n, maxDelay)
		}
		r.until[cred] = now.Add(d)
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
func (t *throttle) succeed(client string, cred credential) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.clients.Peek(client)
	if !ok {
		return
	}
	if cred == credPassword {
		r.failures, r.until = [2]int{}, [2]time.Time{}
		return
	}
	r.failures[credToken], r.until[credToken] = 0, time.Time{}
}

// logFailure says whether a failure of client is to be logged on its own line; if not, it is
// counted for the window's summary.
func (t *throttle) logFailure(client string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.log.logged < logPerWindow {
		t.log.logged++
		return true
	}
	t.log.unlogged++
	if r, ok := t.clients.Peek(client); ok {
		t.log.count(r)
	}
	return false
}

// closeWindow ends the log window when it is summaryEvery old, or at once when force, and
// returns its summary when it holds attempts the log has not shown one by one.
func (t *throttle) closeWindow(force bool) *summary {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	w := &t.log
	if !force && now.Sub(w.start) < summaryEvery {
		return nil
	}
	var s *summary
	if w.unlogged > 0 || w.refused > 0 {
		s = &summary{since: w.start, unlogged: w.unlogged, refused: w.refused, clients: w.clients,
			busiest: w.busiest, busiestAttempts: w.busiestN}
	}
	*w = logWindow{id: w.id + 1, start: now}
	return s
}

// logWindow bounds the log of failures whoever sends them (many addresses, each with its free
// failures, could fill a disk): in each window of summaryEvery, the first logPerWindow failures
// get a line each; the others, and every attempt refused without a check, are counted, and the
// window's summary says how many, from how many clients, and which client sent the most.
type logWindow struct {
	id       int64
	start    time.Time
	logged   int // failures logged one by one
	unlogged int // failures only counted
	refused  int // attempts refused during a wait
	clients  int // clients of the counted attempts
	busiest  string
	busiestN int
}

const (
	summaryEvery = time.Minute
	logPerWindow = 100
)

// count counts an attempt of r that is not logged on its own line.
func (w *logWindow) count(r *record) {
	if r.window != w.id {
		r.window, r.events = w.id, 0
		w.clients++
	}
	r.events++
	if r.events > w.busiestN {
		w.busiest, w.busiestN = r.key, r.events
	}
}

// summary is what a log window counted.
type summary struct {
	since                      time.Time
	unlogged, refused, clients int
	busiest                    string
	busiestAttempts            int
}
