package alert

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corsquickcheck/corscheck/server/fix"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// Outbox is the part of the store the dispatcher uses.
type Outbox interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
	RecordAttempt(ctx context.Context, id int64, a store.Attempt) error
}

// DispatcherConfig is what a Dispatcher needs.
type DispatcherConfig struct {
	Outbox Outbox
	Sender interface {
		Send(context.Context, Receiver, Event) error
	} // usually *Sender
	Receivers []Receiver
	// Install names this database in idempotency keys (see Key).
	Install string
	// PublicURL, when set, makes each event link to its incident in the admin UI.
	PublicURL string
	// Every is how often the outbox is read when nothing nudges the dispatcher (default 5 s).
	Every time.Duration
	// GiveUpAfter is how long a delivery is retried before it is given up (default 24 h).
	GiveUpAfter time.Duration
	Logger      *slog.Logger
}

// Dispatcher delivers what the outbox holds: each delivery until the receiver takes it, retried
// with exponential backoff (5 s doubling to 10 min, with jitter), so that a receiver that is
// down or a restart of the service loses no alert. A receiver may get an alert twice (the
// service stopped after sending but before recording it): the idempotency key tells.
type Dispatcher struct {
	cfg       DispatcherConfig
	receivers map[string]Receiver
	nudge     chan struct{}
	log       *slog.Logger
}

// NewDispatcher returns a dispatcher; Run it on the leader only.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.GiveUpAfter <= 0 {
		cfg.GiveUpAfter = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Dispatcher{cfg: cfg, receivers: map[string]Receiver{}, nudge: make(chan struct{}, 1), log: cfg.Logger}
	for _, r := range cfg.Receivers {
		d.receivers[r.ID] = r
	}
	return d
}

// StoreReceivers names the receivers for the store's outbox.
func StoreReceivers(rs []Receiver) []store.AlertReceiver {
	out := make([]store.AlertReceiver, 0, len(rs))
	for _, r := range rs {
		out = append(out, store.AlertReceiver{ID: r.ID, Name: r.Name})
	}
	return out
}

// Nudge makes the dispatcher read the outbox now: new alerts are in it.
func (d *Dispatcher) Nudge() {
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Every)
	defer t.Stop()
	for {
		d.Deliver(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.nudge:
		}
	}
}

// maxParallel bounds the receivers served at once, so one slow receiver does not hold up the
// others and a burst does not open a hundred connections.
const maxParallel = 4

// Deliver makes one pass over the outbox: every delivery that is due now is tried once. Each
// receiver gets its deliveries one after the other, in the order they were queued (a closing
// after the opening of the incident that followed it); receivers are served in parallel.
func (d *Dispatcher) Deliver(ctx context.Context) {
	due, err := d.cfg.Outbox.DueDeliveries(ctx, time.Now(), 100)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("alerts: reading the outbox", "err", err)
		}
		return
	}
	byReceiver := map[string][]store.Delivery{}
	var order []string
	for _, del := range due {
		if _, ok := byReceiver[del.Receiver]; !ok {
			order = append(order, del.Receiver)
		}
		byReceiver[del.Receiver] = append(byReceiver[del.Receiver], del)
	}
	slots := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for _, r := range order {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			for _, del := range byReceiver[r] {
				d.deliver(ctx, del)
			}
		})
	}
	wg.Wait()
}

// deliver tries one delivery and records how it went.
func (d *Dispatcher) deliver(ctx context.Context, del store.Delivery) {
	e := d.Event(del)
	attrs := []any{"incident", del.IncidentID, "event", del.Event, "receiver", del.ReceiverName,
		"idempotency_key", e.IdempotencyKey, "attempt", del.Attempts + 1}
	var err error
	r, ok := d.receivers[del.Receiver]
	if ok {
		err = d.cfg.Sender.Send(ctx, r, e)
	} else {
		err = errUnconfigured
	}
	if ctx.Err() != nil {
		return // shutting down: not an attempt; the next leader tries again
	}
	now := time.Now()
	a := store.Attempt{At: now}
	switch {
	case err == nil:
		d.log.Info("alerts: delivered", attrs...)
	case !ok || now.Sub(del.CreatedAt) >= d.cfg.GiveUpAfter:
		a.Err, a.GiveUp = err.Error(), true
		d.log.Error("alerts: gave up", append(attrs, "err", err)...)
	default:
		a.Err, a.Next = err.Error(), now.Add(Backoff(del.Attempts+1))
		d.log.Warn("alerts: delivery failed; will retry", append(attrs, "err", err, "retry_at", a.Next.UTC().Format(time.RFC3339))...)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.cfg.Outbox.RecordAttempt(rctx, del.ID, a); err != nil {
		d.log.Error("alerts: recording a delivery", append(attrs, "err", err)...)
	}
}

var errUnconfigured = errorString("the receiver is no longer configured")

type errorString string

func (e errorString) Error() string { return string(e) }

// Backoff is how long to wait after the n-th failed attempt: 5 s doubling each time, at most
// 10 minutes, give or take a fifth at random so that deliveries to one receiver spread out.
func Backoff(n int) time.Duration {
	d := 5 * time.Second << min(max(n-1, 0), 7)
	d = min(d, 10*time.Minute)
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// Event is what a delivery sends: the incident's opening or closing.
func (d *Dispatcher) Event(del store.Delivery) Event {
	in := del.Incident
	var fixes []fix.Fix
	if err := json.Unmarshal(in.Fixes, &fixes); err != nil || fixes == nil {
		fixes = []fix.Fix{}
	}
	e := Event{
		Schema: Schema, IdempotencyKey: Key(d.cfg.Install, in.ID, del.Event), Event: del.Event, OccurredAt: in.OpenedAt,
		Incident: Incident{
			ID: in.ID, Node: in.Node, Origin: in.Origin, Kind: targets.Kind(in.Kind), Endpoint: in.Endpoint, URL: in.URL,
			From: in.From, To: in.To, Reason: in.Reason, Explanation: in.Explanation, Console: in.Console, Fixes: fixes,
			OpenedAt: in.OpenedAt, ResultID: in.ResultID, Vantage: VantageService,
		},
	}
	if d.cfg.PublicURL != "" {
		e.Incident.Link = strings.TrimSuffix(d.cfg.PublicURL, "/") + "/admin/incidents/" + strconv.FormatInt(in.ID, 10)
	}
	// A closing says how it closed; an opening stays what it was, even sent after the closing.
	if del.Event == Closed && !in.ClosedAt.IsZero() {
		closed := in.ClosedAt
		e.OccurredAt = closed
		e.Incident.ClosedAt, e.Incident.ClosedTo, e.Incident.ClosedBecause, e.Incident.CloseResultID =
			&closed, in.ClosedTo, in.ClosedBecause, in.CloseResultID
	}
	return e
}
