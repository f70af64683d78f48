package alert

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/store"
)

type fakeOutbox struct {
	mu       sync.Mutex
	due      []store.Delivery
	attempts map[int64][]store.Attempt
}

func (f *fakeOutbox) DueDeliveries(context.Context, time.Time, int) ([]store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.due, nil
}

func (f *fakeOutbox) RecordAttempt(_ context.Context, id int64, a store.Attempt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attempts == nil {
		f.attempts = map[int64][]store.Attempt{}
	}
	f.attempts[id] = append(f.attempts[id], a)
	return nil
}

type fakeSender struct {
	mu   sync.Mutex
	fail map[string]error // by receiver ID
	sent []Event
}

func (f *fakeSender) Send(_ context.Context, r Receiver, e Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[r.ID]; err != nil {
		return err
	}
	f.sent = append(f.sent, e)
	return nil
}

func storeIncident() store.Incident {
	return store.Incident{ID: 42, Kind: "cuic", Node: "cuicsub.example.com", Origin: "https://finessep.example.com:8445",
		Endpoint: "CUIC 8444", URL: "https://cuicsub.example.com:8444/cuic/rest/status/", From: "allowed", To: "blocked",
		Reason: "PreflightMissingAllowOriginHeader", Fixes: []byte(`[{"node":"cuicsub.example.com","summary":"allow it","commands":["utils cuic cors allowed_origin add https://finessep.example.com:8445"]}]`),
		OpenedAt: openedAt, ResultID: 7}
}

func TestDispatcher(t *testing.T) {
	ok := mustReceiver(t, "https://ok.example.com/hook")
	down := mustReceiver(t, "slack+https://down.example.com/hook")
	now := time.Now()
	in := storeIncident()
	outbox := &fakeOutbox{due: []store.Delivery{
		{ID: 1, IncidentID: 42, Event: Opened, Receiver: ok.ID, CreatedAt: now, Incident: in},
		{ID: 2, IncidentID: 42, Event: Opened, Receiver: down.ID, CreatedAt: now, Attempts: 2, Incident: in},
		{ID: 3, IncidentID: 42, Event: Opened, Receiver: down.ID, CreatedAt: now.Add(-25 * time.Hour), Attempts: 30, Incident: in},
		{ID: 4, IncidentID: 42, Event: Opened, Receiver: "gone0000", CreatedAt: now, Incident: in},
	}}
	sender := &fakeSender{fail: map[string]error{down.ID: errors.New("answered 503")}}
	d := NewDispatcher(DispatcherConfig{Outbox: outbox, Sender: sender, Receivers: []Receiver{ok, down}, Install: "a1b2c3d4",
		PublicURL: "https://corscheck.example.com/"})
	d.Deliver(t.Context())

	if len(sender.sent) != 1 || sender.sent[0].IdempotencyKey != "corscheck-a1b2c3d4-incident-42-opened" ||
		sender.sent[0].Incident.Link != "https://corscheck.example.com/admin/incidents/42" ||
		sender.sent[0].Incident.Fixes[0].Commands[0] != "utils cuic cors allowed_origin add https://finessep.example.com:8445" {
		t.Fatalf("sent %+v", sender.sent)
	}
	a := outbox.attempts
	if len(a[1]) != 1 || a[1][0].Err != "" {
		t.Errorf("delivered: %+v", a[1])
	}
	// The third attempt failed: retry after 20 s, give or take a fifth.
	if len(a[2]) != 1 || a[2][0].Err != "answered 503" || a[2][0].GiveUp {
		t.Errorf("failed: %+v", a[2])
	} else if wait := a[2][0].Next.Sub(a[2][0].At); wait < 16*time.Second || wait > 24*time.Second {
		t.Errorf("retry in %s after the third attempt, want 20 s ± 20%%", wait)
	}
	if len(a[3]) != 1 || !a[3][0].GiveUp {
		t.Errorf("a day old: %+v", a[3])
	}
	if len(a[4]) != 1 || !a[4][0].GiveUp || a[4][0].Err != "the receiver is no longer configured" {
		t.Errorf("unknown receiver: %+v", a[4])
	}
}

func TestDispatcherEvent(t *testing.T) {
	d := NewDispatcher(DispatcherConfig{Install: "a1b2c3d4"})
	in := storeIncident()
	opened := d.Event(store.Delivery{Event: Opened, Incident: in})
	in.ClosedAt, in.ClosedTo, in.ClosedBecause, in.CloseResultID = openedAt.Add(time.Hour), "allowed", store.ClosedRecovered, 9
	// An opening sent after the incident closed still says what the opening said.
	late := d.Event(store.Delivery{Event: Opened, Incident: in})
	if late.Incident.ClosedAt != nil || late.IdempotencyKey != opened.IdempotencyKey || !late.OccurredAt.Equal(openedAt) {
		t.Errorf("an opening sent late: %+v", late)
	}
	closed := d.Event(store.Delivery{Event: Closed, Incident: in})
	if closed.Incident.ClosedAt == nil || !closed.OccurredAt.Equal(in.ClosedAt) || closed.Incident.ClosedBecause != "recovered" ||
		closed.IdempotencyKey != "corscheck-a1b2c3d4-incident-42-closed" || closed.Incident.Link != "" {
		t.Errorf("closing: %+v", closed)
	}
	if b1, _ := Render(Webhook, late); string(b1) != string(mustRender(t, opened)) {
		t.Error("the opening's JSON changed once the incident closed")
	}
}

func mustRender(t *testing.T, e Event) []byte {
	t.Helper()
	b, err := Render(Webhook, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 8: 10 * time.Minute, 50: 10 * time.Minute} {
		for range 20 {
			if got := Backoff(n); got < want*8/10 || got > want*12/10 {
				t.Fatalf("Backoff(%d) = %s, want %s ± 20%%", n, got, want)
			}
		}
	}
}
