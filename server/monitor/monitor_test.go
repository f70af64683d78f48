package monitor_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/alert"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/lab"
	"github.com/corsquickcheck/corscheck/server/monitor"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// hookReceiver is a local generic webhook receiver: it keeps every event it gets.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	events []alert.Event
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e alert.Event
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &e); err != nil || r.Header.Get("Idempotency-Key") != e.IdempotencyKey {
			t.Errorf("the receiver got %q (%v) with key %q", b, err, r.Header.Get("Idempotency-Key"))
		}
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

// of returns the events of one node, in the order received.
func (h *hookReceiver) of(node string) []alert.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []alert.Event
	for _, e := range h.events {
		if e.Incident.Node == node {
			out = append(out, e)
		}
	}
	return out
}

// rig is a monitor over the real lab, on SQLite, alerting a local webhook receiver.
type rig struct {
	lab      *lab.Lab
	store    store.Store
	hook     *hookReceiver
	monitor  *monitor.Monitor
	dispatch *alert.Dispatcher
	checker  monitor.Checker
	plan     func() []monitor.Check
}

func newRig(t *testing.T, wrap func(monitor.Checker) monitor.Checker) *rig {
	t.Helper()
	l, p := startLab(t)
	st, err := store.Open(t.Context(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hook := newHookReceiver(t)
	rcv, err := alert.ParseReceiver(hook.URL + "/corscheck")
	if err != nil {
		t.Fatal(err)
	}
	receivers := []alert.Receiver{rcv}
	sender := alert.NewSender(alert.SenderOptions{Guard: alert.Guard(receivers, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})})
	t.Cleanup(sender.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &rig{lab: l, store: st, hook: hook, checker: p}
	if wrap != nil {
		r.checker = wrap(p)
	}
	r.dispatch = alert.NewDispatcher(alert.DispatcherConfig{Outbox: st, Sender: sender, Receivers: receivers,
		Install: "test", Logger: quiet})
	r.plan = func() []monitor.Check { return monitor.Plan(l.Catalogue(), []string{lab.FinesseOrigin}) }
	r.monitor = monitor.New(monitor.Config{Store: st, Checker: r.checker, After: 2,
		Schedule: monitor.Schedule{Concurrency: 4, Timeout: 5 * time.Second, Recheck: time.Millisecond},
		Plan:     func() []monitor.Check { return r.plan() }, Receivers: alert.StoreReceivers(receivers), Logger: quiet})
	return r
}

// round runs one round and delivers what it queued.
func (r *rig) round(t *testing.T) {
	t.Helper()
	if _, err := r.monitor.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.dispatch.Deliver(t.Context())
}

func (r *rig) set(t *testing.T, node string, s lab.State) {
	t.Helper()
	if err := r.lab.Set(node, s); err != nil {
		t.Fatal(err)
	}
}

// summary is an event in short: "opened blocked" or "closed recovered".
func summary(e alert.Event) string {
	if e.Event == alert.Closed {
		return "closed " + e.Incident.ClosedBecause + " " + e.Incident.ClosedTo
	}
	return "opened " + e.Incident.From + ">" + e.Incident.To
}

// Real lab nodes flip between allowed, blocked and unreachable; the webhook receiver gets
// exactly one opening and one closing per incident, and the store keeps every check.
func TestIncidentsFromRealLabNodes(t *testing.T) {
	r := newRig(t, nil)
	r.set(t, "cuicsub", lab.Allowing)
	r.round(t) // cuicsub allowed: nothing to say; the Live Data nodes and the dead node fail from the start
	if got := r.hook.of("cuicsub.localhost"); len(got) != 0 {
		t.Fatalf("alerts for a node that works: %+v", got)
	}
	for _, node := range []string{"livedata-a.localhost", "livedata-b.localhost", "127.0.0.2"} {
		if got := r.hook.of(node); len(got) != 1 || got[0].Incident.From != "" {
			t.Fatalf("%s broken from the start: %+v", node, got)
		}
	}

	var want []string
	for _, step := range []struct {
		state lab.State
		adds  []string
	}{
		{lab.FieldCase, []string{"opened allowed>blocked"}}, // loses its CORS list, as after an upgrade
		{lab.FieldCase, nil}, // still blocked: nothing new
		{lab.Down, []string{"closed changed unreachable", "opened blocked>unreachable"}}, // goes down
		{lab.Allowing, []string{"closed recovered allowed"}},                             // comes back, fixed
		{lab.Allowing, nil},
	} {
		r.set(t, "cuicsub", step.state)
		r.round(t)
		want = append(want, step.adds...)
		var got []string
		for _, e := range r.hook.of("cuicsub.localhost") {
			got = append(got, summary(e))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("after %s: events %q, want %q", step.state, got, want)
		}
	}
	// One opening and one closing per incident, each under its own key.
	byIncident := map[int64][]string{}
	keys := map[string]bool{}
	for _, e := range r.hook.of("cuicsub.localhost") {
		byIncident[e.Incident.ID] = append(byIncident[e.Incident.ID], e.Event)
		if keys[e.IdempotencyKey] {
			t.Errorf("key %s delivered twice", e.IdempotencyKey)
		}
		keys[e.IdempotencyKey] = true
	}
	if len(byIncident) != 2 {
		t.Fatalf("%d incidents of the subscriber, want 2", len(byIncident))
	}
	for id, events := range byIncident {
		if !slices.Equal(events, []string{alert.Opened, alert.Closed}) {
			t.Errorf("incident %d: events %v", id, events)
		}
	}
	// The blocked incident holds the reason, the fix and its evidence: a stored, diagnosed result.
	first := r.hook.of("cuicsub.localhost")[0]
	in := first.Incident
	if in.Reason != string(cors.PreflightMissingAllowOriginHeader) || len(in.Fixes) == 0 || in.Kind != targets.CUIC ||
		in.Origin != lab.FinesseOrigin || in.Vantage != "service" {
		t.Errorf("the opening: %+v", in)
	}
	res, err := r.store.Result(t.Context(), in.ResultID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != store.SourceMonitor || res.Verdict != "blocked" || res.Reason != string(cors.PreflightMissingAllowOriginHeader) ||
		res.PageOrigin != lab.FinesseOrigin || res.Credentials != "include" || !slices.Contains(res.HeaderNames, "peripheralid") {
		t.Errorf("the evidence %+v", res)
	}
	if ds, err := r.store.Diagnoses(t.Context(), res.ID); err != nil || len(ds) != 1 || ds[0].Reason != string(cors.PreflightMissingAllowOriginHeader) {
		t.Errorf("the evidence's diagnosis: %+v (%v)", ds, err)
	}
	if n, _ := r.store.CountResults(t.Context(), store.Filter{Source: store.SourceGadget}); n != 0 {
		t.Errorf("%d results counted as the gadget's", n)
	}
	// Still open: the Live Data nodes and the dead node, whose incidents opened at the start.
	open, _ := r.store.Incidents(t.Context(), store.IncidentFilter{State: store.IncidentOpen})
	if len(open) != 3 {
		t.Errorf("%d incidents open, want 3", len(open))
	}
}

// flipper switches a lab node after every check of it, so that its answers alternate.
type flipper struct {
	next   monitor.Checker
	lab    *lab.Lab
	node   string
	states []lab.State
	mu     sync.Mutex
	n      int
}

func (f *flipper) Check(ctx context.Context, req cors.Request, kind targets.Kind) *probe.Report {
	rep := f.next.Check(ctx, req, kind)
	if req.URL.Hostname() == f.node+".localhost" {
		f.mu.Lock()
		f.n++
		f.lab.Set(f.node, f.states[f.n%len(f.states)])
		f.mu.Unlock()
	}
	return rep
}

// A node whose answers flap from check to check never opens an incident.
func TestFlappingIsSuppressed(t *testing.T) {
	var fl *flipper
	r := newRig(t, func(next monitor.Checker) monitor.Checker {
		fl = &flipper{next: next, node: "cuicsub", states: []lab.State{lab.Allowing, lab.FieldCase}}
		return fl
	})
	fl.lab = r.lab
	r.set(t, "cuicsub", lab.Allowing)
	for range 6 {
		r.round(t)
	}
	if fl.n < 8 {
		t.Fatalf("the subscriber was checked %d times; the test needs its rechecks", fl.n)
	}
	if got := r.hook.of("cuicsub.localhost"); len(got) != 0 {
		t.Errorf("a flapping node alerted: %+v", got)
	}
	results, _ := store.All(t.Context(), r.store, store.Filter{Node: "cuicsub.localhost"})
	verdicts := map[string]int{}
	for _, res := range results {
		verdicts[res.Verdict]++
	}
	if verdicts["allowed"] == 0 || verdicts["blocked"] == 0 {
		t.Errorf("stored verdicts %v: the node did not flap", verdicts)
	}
}

// A new leader starts from the incidents open in the store: it closes them on recovery rather
// than opening them again; and an incident of a node removed from the catalogue closes.
func TestNewLeaderContinuesIncidents(t *testing.T) {
	r := newRig(t, nil)
	r.round(t) // cuicsub in its field case: blocked, an incident opens
	if got := r.hook.of("cuicsub.localhost"); len(got) != 1 {
		t.Fatalf("events %+v", got)
	}
	// Another instance takes over: a new monitor on the same store.
	next := newRigOn(t, r)
	next.round(t)
	if got := r.hook.of("cuicsub.localhost"); len(got) != 1 {
		t.Fatalf("the new leader alerted again: %+v", got)
	}
	r.set(t, "cuicsub", lab.Allowing)
	next.round(t)
	got := r.hook.of("cuicsub.localhost")
	if len(got) != 2 || summary(got[1]) != "closed recovered allowed" || got[1].Incident.ID != got[0].Incident.ID {
		t.Fatalf("events %+v", got)
	}
	// livedata-a leaves the catalogue: its incident closes as unwatched.
	next.plan = func() []monitor.Check {
		var out []monitor.Check
		for _, c := range monitor.Plan(r.lab.Catalogue(), []string{lab.FinesseOrigin}) {
			if c.Node != "livedata-a.localhost" {
				out = append(out, c)
			}
		}
		return out
	}
	next.round(t)
	ld := r.hook.of("livedata-a.localhost")
	if len(ld) != 2 || ld[1].Event != alert.Closed || ld[1].Incident.ClosedBecause != store.ClosedUnwatched {
		t.Fatalf("livedata-a: %+v", ld)
	}
}

// newRigOn is a second monitor (another leader) on r's lab, store and receiver.
func newRigOn(t *testing.T, r *rig) *rig {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := &rig{lab: r.lab, store: r.store, hook: r.hook, dispatch: r.dispatch, checker: r.checker, plan: r.plan}
	rcv, _ := alert.ParseReceiver(r.hook.URL + "/corscheck")
	n.monitor = monitor.New(monitor.Config{Store: r.store, Checker: r.checker, After: 2,
		Schedule: monitor.Schedule{Concurrency: 4, Timeout: 5 * time.Second, Recheck: time.Millisecond},
		Plan:     func() []monitor.Check { return n.plan() }, Receivers: alert.StoreReceivers([]alert.Receiver{rcv}), Logger: quiet})
	return n
}
