package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/pgtest"
	"github.com/corsquickcheck/corscheck/server/polltest"
	"github.com/corsquickcheck/corscheck/server/store"
)

// monitorEnv is the configuration of a `corscheck serve` that checks the lab every second.
func monitorEnv(t *testing.T, l *lab.Lab, db map[string]string, alertTo string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	cat, err := json.Marshal(l.Catalogue())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "targets.json"), cat, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.CA().WriteCA(filepath.Join(dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CORSCHECK_ORIGINS": lab.FinesseOrigin, "CORSCHECK_ADMIN_PASSWORD": "an admin password",
		"CORSCHECK_TARGETS": filepath.Join(dir, "targets.json"), "CORSCHECK_CA_FILE": filepath.Join(dir, "ca.pem"),
		"CORSCHECK_ALLOW_NETS": "127.0.0.1/32,127.0.0.2/32", "CORSCHECK_MONITOR_INTERVAL": "1s",
		"CORSCHECK_MONITOR_JITTER": "0s", "CORSCHECK_ALERT_ALLOW_NETS": "127.0.0.1/32",
	}
	if alertTo != "" {
		env["CORSCHECK_ALERT_TO"] = alertTo
	}
	for k, v := range db {
		env[k] = v
	}
	return env
}

// child is `corscheck serve` in a process of its own, so that it can be killed with kill -9.
type child struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
}

func startChild(t *testing.T, env map[string]string) *child {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CORSCHECK_TEST_SERVE=1", "CORSCHECK_LISTEN="+addr)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := &child{cmd: cmd, base: "http://" + addr, stderr: &syncBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill() })
	if !polltest.Until(30*time.Second, func() bool { return getStatus(c.base+"/healthz", "") == http.StatusOK }) {
		t.Fatalf("the service did not start: %s", c.stderr.String())
	}
	return c
}

// kill ends the process with SIGKILL, as kill -9 does.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
	}
}

// leads reports whether the instance says it runs the checks (0 when it does not answer).
func (c *child) leads() int {
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(b), "\ncorscheck_monitor_leader 1") {
		return 1
	}
	return 0
}

// pollUntil waits until cond holds, failing after d.
func pollUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !polltest.Until(d, cond) {
		t.Fatalf("no %s after %s", what, d)
	}
}

// Two instances on one PostgreSQL: exactly one runs the checks; kill -9 it, and the other takes
// over, continuing the incidents the first opened rather than opening them again.
func TestMonitorLeaderFailoverOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	env := monitorEnv(t, l, map[string]string{"CORSCHECK_DB": dsn}, "")
	a, b := startChild(t, env), startChild(t, env)
	st, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var leader, follower *child
	pollUntil(t, 30*time.Second, "leader", func() bool {
		la, lb := a.leads(), b.leads()
		if la == 1 && lb == 1 {
			t.Fatal("both instances say they lead")
		}
		switch {
		case la == 1:
			leader, follower = a, b
		case lb == 1:
			leader, follower = b, a
		}
		return leader != nil
	})
	monitored := func() int64 {
		n, _ := st.CountResults(t.Context(), store.Filter{Source: store.SourceMonitor})
		return n
	}
	pollUntil(t, 30*time.Second, "monitor results", func() bool { return monitored() > 10 })
	for range 10 { // one leader, checked again over a few renewals
		if a.leads()+b.leads() != 1 {
			t.Fatalf("leaders: a %d, b %d", a.leads(), b.leads())
		}
		time.Sleep(50 * time.Millisecond)
	}
	opened, _ := st.Incidents(t.Context(), store.IncidentFilter{})
	if len(opened) == 0 {
		t.Fatal("no incident opened for the lab's failing nodes")
	}

	leader.kill()
	killed := time.Now()
	before := monitored()
	pollUntil(t, 30*time.Second, "takeover", func() bool { return follower.leads() == 1 })
	t.Logf("the follower leads %s after kill -9 of the leader (interval 1s)", time.Since(killed).Round(time.Millisecond))
	pollUntil(t, 30*time.Second, "checks by the new leader", func() bool { return monitored() > before+10 })

	// The new leader continued the first one's incidents: none was opened twice.
	all, _ := st.Incidents(t.Context(), store.IncidentFilter{})
	keys := map[string]int{}
	for _, in := range all {
		keys[in.Kind+" "+in.URL+" "+in.Origin]++
		if !in.IsOpen() {
			t.Errorf("incident %d closed: %+v", in.ID, in)
		}
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("%s: %d incidents", k, n)
		}
	}
	if len(all) != len(opened) {
		t.Errorf("%d incidents after the takeover, %d before", len(all), len(opened))
	}
}

// stallingReceiver is a webhook receiver whose first request never gets an answer; the others
// do. It counts, per idempotency key, the requests it answered.
type stallingReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	stalled  string // the key of the request left hanging
	answered map[string]int
	stall    chan string
}

func newStallingReceiver(t *testing.T) *stallingReceiver {
	s := &stallingReceiver{answered: map[string]int{}, stall: make(chan string, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e alert.Event
		json.NewDecoder(r.Body).Decode(&e)
		s.mu.Lock()
		if s.stalled == "" {
			s.stalled = e.IdempotencyKey
			s.mu.Unlock()
			s.stall <- e.IdempotencyKey
			<-r.Context().Done() // until the service dies
			return
		}
		s.answered[e.IdempotencyKey]++
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(s.Close)
	return s
}

// kill -9 while an alert is on its way: after the restart the alert arrives, and every alert is
// answered exactly once; the receiver tells the repeated attempt by its idempotency key.
func TestMonitorKill9DuringDelivery(t *testing.T) {
	l, err := lab.Start(lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	recv := newStallingReceiver(t)
	dir := t.TempDir()
	env := monitorEnv(t, l, map[string]string{"CORSCHECK_DATA_DIR": dir}, recv.URL+"/alerts")
	first := startChild(t, env)
	var key string
	select {
	case key = <-recv.stall:
	case <-time.After(60 * time.Second):
		t.Fatalf("no alert in 60 s: %s", first.stderr.String())
	}
	first.kill()

	second := startChild(t, env)
	st, err := store.Open(t.Context(), dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pollUntil(t, 60*time.Second, "deliveries after the restart", func() bool {
		ds, err := st.Deliveries(t.Context(), store.DeliveryFilter{Limit: 500})
		if err != nil || len(ds) == 0 {
			return false
		}
		for _, d := range ds {
			if d.DeliveredAt.IsZero() {
				return false
			}
		}
		return true
	})
	second.kill()
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if recv.answered[key] != 1 {
		t.Errorf("the alert in flight at kill -9 (%s) was answered %d times after the restart, want 1", key, recv.answered[key])
	}
	for k, n := range recv.answered {
		if n != 1 {
			t.Errorf("%s answered %d times", k, n)
		}
	}
	ds, _ := st.Deliveries(t.Context(), store.DeliveryFilter{Limit: 500})
	if len(recv.answered) != len(ds) {
		t.Errorf("%d keys answered, %d deliveries in the outbox", len(recv.answered), len(ds))
	}
}
