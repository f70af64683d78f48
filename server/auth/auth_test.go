package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/store"
)

const password = "correct horse battery staple"

// clock is the time the gate sees; tests move it between calls, never during them.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func (l *logLines) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return l.lines[len(l.lines)-1]
}

func newGate(t *testing.T, check ...func(string) bool) (*Gate, *clock, *atomic.Int64, *logLines) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)}
	checks := &atomic.Int64{}
	logs := &logLines{}
	g := New(Config{Store: st, Now: c.Now, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		CheckPassword: func(p string) bool {
			checks.Add(1)
			for _, f := range check {
				f(p)
			}
			return p == password
		}})
	return g, c, checks, logs
}

var form = Attempt{Client: "192.0.2.7", Via: "sign-in form"}

// The audit's race: 200 attempts sent at once were checked 8 times where 5 were allowed. Here
// every check waits until each of the 200 attempts is either being checked or refused, so
// attempts that were let through before the first failure was recorded would all be checked.
func TestConcurrentAttemptsAreCheckedAtMostFiveTimes(t *testing.T) {
	var settled sync.WaitGroup
	settled.Add(200)
	g, _, checks, logs := newGate(t, func(string) bool { settled.Done(); settled.Wait(); return false })
	var wrong, throttled atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			err := g.Password(context.Background(), form, "admin", "a guess")
			if _, ok := errors.AsType[*ThrottledError](err); ok {
				settled.Done()
				throttled.Add(1)
			} else if errors.Is(err, ErrWrong) {
				wrong.Add(1)
			} else {
				t.Errorf("attempt: %v", err)
			}
		})
	}
	wg.Wait()
	if checks.Load() != freeFailures || wrong.Load() != freeFailures || throttled.Load() != 200-freeFailures {
		t.Fatalf("%d passwords checked, %d wrong, %d throttled; want %d checked", checks.Load(), wrong.Load(),
			throttled.Load(), freeFailures)
	}
	if n := logs.count("admin: failed sign-in"); n != freeFailures {
		t.Errorf("%d failures logged, want %d", n, freeFailures)
	}
}

func TestSlowDown(t *testing.T) {
	g, c, checks, _ := newGate(t)
	ctx := context.Background()
	for i := range freeFailures {
		if err := g.Password(ctx, form, "admin", "wrong"); !errors.Is(err, ErrWrong) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// The right password too must wait: it is not even checked.
	err := g.Password(ctx, form, "admin", password)
	if te, ok := errors.AsType[*ThrottledError](err); !ok || te.Seconds() != 2 {
		t.Fatalf("after %d failures: %v, want a 2 s wait", freeFailures, err)
	}
	// Another address is not slowed down by this one.
	if err := g.Password(ctx, Attempt{Client: "198.51.100.1"}, "", password); err != nil {
		t.Fatalf("another address: %v", err)
	}
	c.t = c.t.Add(2 * time.Second)
	if err := g.Password(ctx, form, "admin", "wrong"); !errors.Is(err, ErrWrong) {
		t.Fatalf("after the wait: %v", err)
	}
	if te, ok := errors.AsType[*ThrottledError](g.Password(ctx, form, "admin", password)); !ok || te.Seconds() != 4 {
		t.Fatalf("the wait does not double: %v", te)
	}
	c.t = c.t.Add(4 * time.Second)
	if err := g.Password(ctx, form, "root", password); !errors.Is(err, ErrWrong) {
		t.Fatalf("user root: %v", err)
	}
	c.t = c.t.Add(8 * time.Second)
	before := checks.Load()
	if err := g.Password(ctx, form, "admin", password); err != nil {
		t.Fatalf("the right password after the wait: %v", err)
	}
	if checks.Load() != before+1 {
		t.Fatal("the password was not checked")
	}
	// A success forgets the failures.
	for i := range freeFailures {
		if err := g.Password(ctx, form, "", "wrong"); !errors.Is(err, ErrWrong) {
			t.Fatalf("attempt %d after a success: %v", i+1, err)
		}
	}
}

func TestTokens(t *testing.T) {
	g, c, _, logs := newGate(t)
	ctx := context.Background()
	api := Attempt{Client: "192.0.2.9", Via: "admin API"}
	token, tok, err := g.CreateToken(ctx, "deploy")
	if err != nil || !strings.HasPrefix(token, "corscheck_") || tok.ID == 0 {
		t.Fatalf("CreateToken: %q %+v %v", token, tok, err)
	}
	stored, _ := g.Tokens(ctx)
	if len(stored) != 1 || strings.Contains(token, stored[0].Hash) || len(stored[0].Hash) != 64 {
		t.Fatalf("stored %+v: want only a hash of the token", stored)
	}
	c.t = c.t.Add(time.Minute)
	if got, err := g.Token(ctx, api, token); err != nil || got.ID != tok.ID {
		t.Fatalf("the token: %+v %v", got, err)
	}
	if stored, _ := g.Tokens(ctx); !stored[0].LastUsedAt.Equal(c.Now()) {
		t.Errorf("last used %v, want %v", stored[0].LastUsedAt, c.Now())
	}
	for _, bad := range []string{"", "corscheck_", token + "x", token[:len(token)-1], "corscheck_999_" + token[len(token)-26:],
		"corscheck_0_x", "Bearer " + token, strings.ToUpper(token)} {
		if _, err := g.Token(ctx, Attempt{Client: bad}, bad); !errors.Is(err, ErrWrong) {
			t.Errorf("token %q: %v, want ErrWrong", bad, err)
		}
	}
	if logs.count("credential=token") != 8 {
		t.Errorf("wrong tokens logged %d times, want 8", logs.count("credential=token"))
	}
	if err := g.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Token(ctx, api, token); !errors.Is(err, ErrWrong) {
		t.Fatalf("a revoked token: %v", err)
	}
}

func TestSessions(t *testing.T) {
	g, c, _, _ := newGate(t)
	ctx := context.Background()
	token, err := g.StartSession(ctx)
	if err != nil || len(token) != 64 {
		t.Fatalf("StartSession: %q %v", token, err)
	}
	for _, tc := range []struct {
		token string
		want  bool
	}{{token, true}, {"", false}, {token[1:], false}, {strings.ToUpper(token), false}} {
		if ok, err := g.Session(ctx, tc.token); ok != tc.want || err != nil {
			t.Errorf("Session(%q) = %v %v, want %v", tc.token, ok, err, tc.want)
		}
	}
	c.t = c.t.Add(SessionTTL)
	if ok, _ := g.Session(ctx, token); ok {
		t.Error("an expired session is valid")
	}
	other, _ := g.StartSession(ctx)
	if err := g.EndSession(ctx, other); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.Session(ctx, other); ok {
		t.Error("a session that ended is valid")
	}
}

// The re-test's attack: 4 wrong passwords on the sign-in form, then one right API token on the
// admin API, over and over. The token's success cleared the failures, so the password was
// guessed without limit and the log never went past 4 failures in a row.
func TestTokenSuccessKeepsPasswordFailures(t *testing.T) {
	g, _, checks, logs := newGate(t)
	ctx := context.Background()
	token, _, err := g.CreateToken(ctx, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	api := Attempt{Client: form.Client, Via: "admin API"}
	tokensAccepted := 0
	for round := range 10 {
		for range 4 {
			err := g.Password(ctx, form, "admin", "a guess")
			if _, throttled := errors.AsType[*ThrottledError](err); !throttled && !errors.Is(err, ErrWrong) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if _, err := g.Token(ctx, api, token); err == nil {
			tokensAccepted++
		} else if _, throttled := errors.AsType[*ThrottledError](err); !throttled {
			t.Fatalf("round %d: the token: %v", round, err)
		}
	}
	if checks.Load() != freeFailures {
		t.Fatalf("%d of 40 guesses were checked, want %d", checks.Load(), freeFailures)
	}
	if tokensAccepted != 1 || logs.count("failures_in_a_row=5") != 1 {
		t.Fatalf("%d tokens accepted (want the first, before the slow-down), failures_in_a_row=5 logged %d times (want once)",
			tokensAccepted, logs.count("failures_in_a_row=5"))
	}
}

// A right token forgets wrong tokens; a right password forgets wrong passwords and tokens.
func TestWhichSuccessForgetsWhat(t *testing.T) {
	g, _, _, _ := newGate(t)
	ctx := context.Background()
	token, _, _ := g.CreateToken(ctx, "deploy")
	for range freeFailures - 1 {
		g.Token(ctx, form, "corscheck_1_wrong")
	}
	if _, err := g.Token(ctx, form, token); err != nil {
		t.Fatal(err)
	}
	for i := range freeFailures - 1 {
		if err := g.Password(ctx, form, "admin", "wrong"); !errors.Is(err, ErrWrong) {
			t.Fatalf("wrong password %d after the right token: %v", i+1, err)
		}
	}
	if err := g.Password(ctx, form, "admin", password); err != nil {
		t.Fatal(err)
	}
	for i := range freeFailures {
		if _, err := g.Token(ctx, form, "corscheck_1_wrong"); !errors.Is(err, ErrWrong) {
			t.Fatalf("wrong token %d after the right password: %v", i+1, err)
		}
	}
}

// The re-test guessed 30,000 passwords from different addresses of one IPv6 /64 (through
// X-Forwarded-For), and every guess was checked. A /64 is one client.
func TestOneIPv6NetworkIsOneClient(t *testing.T) {
	g, _, checks, logs := newGate(t)
	ctx := context.Background()
	for i := range 30_000 {
		a := Attempt{Client: fmt.Sprintf("2001:db8:1:2:%x:%x::1", i>>16, i&0xffff), Via: "admin API"}
		err := g.Password(ctx, a, "admin", fmt.Sprint("guess ", i))
		if _, throttled := errors.AsType[*ThrottledError](err); !throttled && !errors.Is(err, ErrWrong) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if checks.Load() != freeFailures {
		t.Fatalf("%d of 30,000 guesses from one /64 were checked, want %d", checks.Load(), freeFailures)
	}
	if logs.count("counted_as=2001:db8:1:2::/64") != freeFailures {
		t.Errorf("the log does not say which network the failures count for")
	}
	if err := g.Password(ctx, Attempt{Client: "2001:db8:1:3::1"}, "admin", password); err != nil {
		t.Fatalf("the next /64: %v", err)
	}
}

// The re-test kept 30,000 addresses in memory for 24 hours (8.5 MB). The slow-down remembers
// at most maxClients, and forgets the one seen least recently: a client that keeps trying stays.
func TestSlowDownRemembersBoundedClients(t *testing.T) {
	g, _, checks, _ := newGate(t)
	ctx := context.Background()
	for range freeFailures {
		g.Password(ctx, form, "admin", "wrong")
	}
	for i := range maxClients + 2000 {
		g.Password(ctx, Attempt{Client: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff)}, "admin", "wrong")
		if i%1000 == 0 {
			if _, throttled := errors.AsType[*ThrottledError](g.Password(ctx, form, "admin", "wrong")); !throttled {
				t.Fatalf("after %d other clients, the slowed-down client is no longer slowed down", i)
			}
		}
	}
	if n := g.throttle.clients.Len(); n != maxClients {
		t.Fatalf("the slow-down remembers %d clients, want %d", n, maxClients)
	}
	if _, ok := g.throttle.clients.Peek("10.0.0.0"); ok {
		t.Error("the client seen least recently was kept")
	}
	if checks.Load() != freeFailures+maxClients+2000 {
		t.Errorf("%d checks", checks.Load())
	}
}

// laterFuncs stands in for time.AfterFunc: the test runs what was scheduled when it chooses.
type laterFuncs struct {
	mu    sync.Mutex
	funcs []func()
}

func (l *laterFuncs) schedule(g *Gate) {
	g.afterFunc = func(_ time.Duration, f func()) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.funcs = append(l.funcs, f)
	}
}

func (l *laterFuncs) runAll() int {
	l.mu.Lock()
	fs := l.funcs
	l.funcs = nil
	l.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}

// The re-test grew the log by 10 MB in 4 s with failures from many addresses. Each window of
// summaryEvery logs its first logPerWindow failures one by one; a summary counts the others.
func TestFailureLogIsBounded(t *testing.T) {
	g, c, checks, logs := newGate(t)
	(&laterFuncs{}).schedule(g)
	ctx := context.Background()
	const clients = 30_000
	for i := range clients {
		g.Password(ctx, Attempt{Client: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff), Via: "sign-in form"}, "admin", "wrong")
	}
	if checks.Load() != clients {
		t.Fatalf("%d checks", checks.Load())
	}
	if n := logs.count("admin: failed sign-in"); n != logPerWindow {
		t.Fatalf("%d failures logged one by one, want %d", n, logPerWindow)
	}
	if logs.count("not logged one by one") != 0 {
		t.Fatal("summarised before the window ended")
	}
	c.t = c.t.Add(summaryEvery)
	g.Password(ctx, Attempt{Client: "192.0.2.200"}, "admin", "wrong")
	want := fmt.Sprintf("failures=%d refused_while_slowed_down=0 clients=%d busiest_client=10.0.0.100 busiest_client_attempts=1",
		clients-logPerWindow, clients-logPerWindow)
	if logs.count("not logged one by one") != 1 || logs.count(want) != 1 {
		t.Fatalf("want one summary with %q:\n%s", want, logs.last())
	}
	if n := logs.count("admin: failed sign-in"); n != logPerWindow+1 {
		t.Fatalf("a new window does not log one by one again: %d lines", n)
	}
}

// Attempts refused with 429 during a wait were not logged at all. A burst of them leaves a
// summary line, even when nothing follows it.
func TestRefusedAttemptsAreSummarised(t *testing.T) {
	g, _, _, logs := newGate(t)
	later := &laterFuncs{}
	later.schedule(g)
	ctx := context.Background()
	for range freeFailures + 100 {
		g.Password(ctx, form, "admin", "wrong")
	}
	if logs.count("not logged one by one") != 0 {
		t.Fatal("summarised before the window ended")
	}
	if n := later.runAll(); n != 1 {
		t.Fatalf("%d summaries scheduled for one burst, want 1", n)
	}
	want := "failures=0 refused_while_slowed_down=100 clients=1 busiest_client=192.0.2.7 busiest_client_attempts=100"
	if logs.count("not logged one by one") != 1 || logs.count(want) != 1 {
		t.Fatalf("want a summary with %q:\n%s", want, logs.last())
	}
	if later.runAll(); logs.count("not logged one by one") != 1 {
		t.Fatal("an empty window was summarised")
	}
}
