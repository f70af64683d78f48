package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/api"
	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/probe"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Config is what a Monitor needs.
type Config struct {
	Store    store.Store
	Checker  Checker
	Schedule Schedule
	// After is how many agreeing checks in a row confirm a change (default 2).
	After int
	// Plan gives the checks of a round, read at its start: usually Plan of the catalogue in use
	// and the configured origins.
	Plan func() []Check
	// Receivers get every incident's opening and closing, through the outbox.
	Receivers []store.AlertReceiver
	// Queued, when set, is called after an incident's alerts are in the outbox, so that the
	// dispatcher sends them now rather than at its next look.
	Queued  func()
	Metrics *Metrics // nil keeps none
	Logger  *slog.Logger
}

// Monitor runs the scheduled checks: it stores each check's result (source monitor) and the
// diagnosis of each failure, confirms changes with a Tracker, and opens and closes incidents,
// queueing their alerts in the same transaction.
type Monitor struct {
	cfg     Config
	sched   *Scheduler
	tracker *Tracker
	log     *slog.Logger
	mu      sync.Mutex
	open    map[Key]int64 // the open incident of each key
}

// New returns a monitor; Run it on the leader only.
func New(cfg Config) *Monitor {
	if cfg.After <= 0 {
		cfg.After = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := cfg.Schedule
	if s.Rechecks == 0 {
		s.Rechecks = cfg.After - 1 // enough to confirm a change within the round
	}
	return &Monitor{cfg: cfg, sched: NewScheduler(s, cfg.Checker), log: cfg.Logger}
}

// Run checks round after round until ctx ends. It starts from the incidents open in the store,
// so that a new leader closes what an earlier one opened rather than opening it again.
func (m *Monitor) Run(ctx context.Context) {
	m.tracker = NewTracker(m.cfg.After)
	m.open = map[Key]int64{}
	if err := m.loadOpen(ctx); err != nil {
		if ctx.Err() == nil {
			m.log.Error("monitor: reading the open incidents", "err", err)
		}
		return
	}
	defer func() {
		if m.cfg.Metrics != nil {
			m.cfg.Metrics.Retain(nil) // only the instance that checks shows the gauges
		}
	}()
	interval := m.sched.Schedule().Interval
	m.sched.Run(ctx, m.round, m.observe, func(st RoundStats) {
		if st.Took > interval {
			m.log.Warn("monitor: a round took longer than the interval; the next starts at once",
				"checks", st.Checks, "took", st.Took.Round(time.Millisecond), "interval", interval)
			return
		}
		m.log.Debug("monitor: round", "checks", st.Checks, "rechecks", st.Rechecks, "took", st.Took.Round(time.Millisecond))
	})
}

// Round runs one round now: for tests and benchmarks, which drive the schedule themselves. Run
// must not be running.
func (m *Monitor) Round(ctx context.Context) (RoundStats, error) {
	if m.tracker == nil {
		m.tracker = NewTracker(m.cfg.After)
		m.open = map[Key]int64{}
		if err := m.loadOpen(ctx); err != nil {
			return RoundStats{}, err
		}
	}
	return m.sched.Round(ctx, m.round(ctx), m.observe), nil
}

// loadOpen seeds the tracker with the incidents open in the store.
func (m *Monitor) loadOpen(ctx context.Context) error {
	for before := int64(0); ; {
		page, err := m.cfg.Store.Incidents(ctx, store.IncidentFilter{State: store.IncidentOpen, Before: before, Limit: 500})
		if err != nil {
			return err
		}
		for _, in := range page {
			k := keyOf(in)
			m.open[k] = in.ID
			m.tracker.Seed(k, cors.Verdict(in.To))
		}
		if len(page) < 500 {
			return nil
		}
		before = page[len(page)-1].ID
	}
}

func keyOf(in store.Incident) Key {
	return Key{Kind: targets.Kind(in.Kind), Node: in.Node, Origin: in.Origin, Endpoint: in.Endpoint, URL: in.URL}
}

// round is the plan of a round. Keys that left it are forgotten, and their open incidents
// closed: nobody watches them any more.
func (m *Monitor) round(ctx context.Context) []Check {
	checks := m.cfg.Plan()
	planned := make(map[Key]bool, len(checks))
	for _, c := range checks {
		planned[c.Key] = true
	}
	keep := func(k Key) bool { return planned[k] }
	m.tracker.Retain(keep)
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.Retain(keep)
	}
	m.mu.Lock()
	var gone []Key
	for k := range m.open {
		if !planned[k] {
			gone = append(gone, k)
		}
	}
	m.mu.Unlock()
	for _, k := range gone {
		m.close(ctx, k, store.Closing{At: time.Now(), To: "unwatched", Because: store.ClosedUnwatched})
	}
	return checks
}

// observe stores a check's result, and opens or closes incidents on a confirmed change.
func (m *Monitor) observe(ctx context.Context, o Outcome) bool {
	if m.cfg.Metrics != nil {
		m.cfg.Metrics.Observe(o)
	}
	rep := o.Report
	resultID, err := m.store(ctx, o)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("monitor: storing a check", "node", o.Node, "origin", o.Origin, "url", o.URL, "err", err)
		}
	}
	change, pending := m.tracker.Observe(o.Key, rep.Verdict)
	if change == nil || ctx.Err() != nil {
		return pending
	}
	if err := m.apply(ctx, *change, rep, resultID); err != nil {
		// The change is not recorded: take it back, so the next checks confirm it again and
		// its alert is not lost.
		m.tracker.Seed(o.Key, change.From)
		if ctx.Err() == nil {
			m.log.Error("monitor: recording an incident", "node", o.Node, "origin", o.Origin, "url", o.URL, "err", err)
		}
		return true
	}
	return false
}

// store keeps the check as a result of source monitor, with the diagnosis of a failure, and
// returns the result's id.
func (m *Monitor) store(ctx context.Context, o Outcome) (int64, error) {
	rep := o.Report
	now := time.Now().UTC()
	names := make([]string, 0, len(o.Request.Header))
	for _, h := range o.Request.Header {
		names = append(names, strings.ToLower(h.Name))
	}
	said := rep.Console
	if rep.Network != nil && rep.Network.NetError != "" {
		said = rep.Network.NetError
	}
	ids, err := m.cfg.Store.AddResults(ctx, []store.Result{{
		ReceivedAt: now, Source: store.SourceMonitor, PageOrigin: o.Origin, TargetKind: string(o.Kind), Node: o.Node,
		URL: o.URL, Method: o.Request.Method, HeaderNames: names, Credentials: string(o.Request.Credentials),
		Verdict: string(rep.Verdict), BrowserError: said, DurationMs: float64(o.Took.Microseconds()) / 1000,
		UserAgent: probe.DefaultUserAgent,
	}})
	if err != nil {
		return 0, err
	}
	if rep.Verdict == cors.Allowed {
		return ids[0], nil
	}
	d, err := api.StoredDiagnosis(rep, ids[0], now)
	if err != nil {
		return ids[0], err
	}
	_, err = m.cfg.Store.AddDiagnosis(ctx, d)
	return ids[0], err
}

// apply records a confirmed change: the incident of a failure that ends closes, and a new
// failure opens one.
func (m *Monitor) apply(ctx context.Context, c Change, rep *probe.Report, resultID int64) error {
	now := time.Now().UTC()
	if c.From != "" && c.From != cors.Allowed {
		because := store.ClosedChanged
		if c.To == cors.Allowed {
			because = store.ClosedRecovered
		}
		if err := m.close(ctx, c.Key, store.Closing{At: now, To: string(c.To), Because: because, ResultID: resultID}); err != nil {
			return err
		}
	}
	if c.To == cors.Allowed {
		return nil
	}
	fixes, err := json.Marshal(rep.Fixes)
	if err != nil {
		return err
	}
	reason := string(rep.CorsError)
	if rep.Network != nil {
		reason = string(rep.Network.Class)
	}
	in := store.Incident{
		Kind: string(c.Kind), Node: c.Node, Origin: c.Origin, Endpoint: c.Endpoint, URL: c.URL,
		From: string(c.From), To: string(c.To), Reason: reason, Explanation: rep.Explanation, Console: rep.Console,
		Fixes: fixes, OpenedAt: now, ResultID: resultID,
	}
	id, err := m.cfg.Store.OpenIncident(ctx, in, m.cfg.Receivers)
	if errors.Is(err, store.ErrConflict) {
		// Open already (an earlier leader's, which loadOpen missed): keep that one.
		m.log.Warn("monitor: the incident was open already", "node", c.Node, "origin", c.Origin, "url", c.URL, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.open[c.Key] = id
	m.mu.Unlock()
	m.log.Warn("monitor: incident opened", "incident", id, "node", c.Node, "origin", c.Origin, "url", c.URL,
		"from", c.From, "to", c.To, "reason", reason)
	m.queued()
	return nil
}

// close closes the open incident of k, if it has one.
func (m *Monitor) close(ctx context.Context, k Key, c store.Closing) error {
	m.mu.Lock()
	id, ok := m.open[k]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	err := m.cfg.Store.CloseIncident(ctx, id, c, m.cfg.Receivers)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	m.mu.Lock()
	delete(m.open, k)
	m.mu.Unlock()
	if err == nil {
		m.log.Info("monitor: incident closed", "incident", id, "node", k.Node, "origin", k.Origin, "url", k.URL,
			"to", c.To, "because", c.Because)
		m.queued()
	}
	return nil
}

func (m *Monitor) queued() {
	if m.cfg.Queued != nil {
		m.cfg.Queued()
	}
}
