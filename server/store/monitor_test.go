package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/polltest"
)

// Results carry their source; lists, counts and the dashboard's summaries can keep to one.
func testSources(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 12 {
		r := sampleResult(i)
		r.ReceivedAt = base.Add(time.Duration(i) * time.Minute)
		if i%3 == 0 {
			r.Source = SourceMonitor
		} else if i%3 == 1 {
			r.Source = SourceGadget
		} // else: empty, which is the gadget's
		rs = append(rs, r)
	}
	ids := add(t, s, rs...)
	for i, id := range ids {
		got, err := s.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, got, stored(rs[i], id))
	}
	bad := sampleResult(99)
	bad.Source = "browser"
	if _, err := s.AddResults(ctx, []Result{bad}); err == nil {
		t.Fatal("a result with an unknown source was stored")
	}

	// Diagnoses of a monitor result and of a gadget result count under their result's source.
	for _, i := range []int{0, 1, 3} {
		d := sampleDiagnosis(ids[i], i)
		d.CreatedAt = rs[i].ReceivedAt
		addDiagnosis(t, s, d)
	}

	for _, source := range []string{"", SourceGadget, SourceMonitor} {
		var want []Result
		for i, r := range rs {
			if source == "" || stored(r, ids[i]).Source == source {
				want = append(want, r)
			}
		}
		got := allResults(t, s, Filter{Source: source})
		if len(got) != len(want) {
			t.Errorf("source %q: %d results, want %d", source, len(got), len(want))
		}
		for _, r := range got {
			if source != "" && r.Source != source {
				t.Errorf("source %q: listed a result of %q", source, r.Source)
			}
		}
		if n, err := s.CountResults(ctx, Filter{Source: source}); err != nil || n != int64(len(want)) {
			t.Errorf("source %q: count %d (%v), want %d", source, n, err, len(want))
		}
		// Two summary columns: counted from the summaries.
		if n, err := s.CountResultsUpTo(ctx, Filter{Source: source, Verdict: "blocked"}, 1000); err != nil ||
			n != int64(countVerdict(want, "blocked")) {
			t.Errorf("source %q: blocked up to 1000: %d (%v), want %d", source, n, err, countVerdict(want, "blocked"))
		}

		sum, err := s.Summary(ctx, base.Add(-time.Hour), time.Hour, source)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sum.Latest {
			sum.Latest[i].FailingSince, sum.Latest[i].AllowedBefore = time.Time{}, false
		}
		wantCounts, wantLatest := wantSummary(want, base.Add(-time.Hour), time.Hour)
		if !reflect.DeepEqual(sum.Counts, wantCounts) || !reflect.DeepEqual(sum.Latest, wantLatest) {
			t.Errorf("source %q: summary\n got %+v %+v\nwant %+v %+v", source, sum.Counts, sum.Latest, wantCounts, wantLatest)
		}
		var reasons int64
		for _, rc := range sum.Reasons {
			reasons += rc.N
		}
		if want := map[string]int64{"": 3, SourceGadget: 1, SourceMonitor: 2}[source]; reasons != want {
			t.Errorf("source %q: %d diagnosed reasons, want %d", source, reasons, want)
		}
	}
}

func countVerdict(rs []Result, verdict string) int {
	n := 0
	for _, r := range rs {
		if r.Verdict == verdict {
			n++
		}
	}
	return n
}

var receivers = []AlertReceiver{{ID: "aaaa1111", Name: "webhook hooks.example.com (aaaa1111)"}, {ID: "bbbb2222", Name: "email mail.example.com (bbbb2222)"}}

func sampleIncident(node string) Incident {
	return Incident{
		Kind: "cuic", Node: node, Origin: "https://finessep.example.com:8445", Endpoint: "CUIC 8444",
		URL: "https://" + node + ":8444/cuic/rest/status/", From: "allowed", To: "blocked",
		Reason: "PreflightMissingAllowOriginHeader", Explanation: "no Access-Control-Allow-Origin — ünïcödé",
		Console: "Access to fetch at …", Fixes: []byte(`[{"node":"` + node + `","summary":"allow it"}]`),
		OpenedAt: base.Add(123456789 * time.Nanosecond), ResultID: 42,
	}
}

func testIncidents(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	in := sampleIncident("cuicsub.example.com")
	id, err := s.OpenIncident(ctx, in, receivers)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Incident(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.ID, want.OpenedAt = id, in.OpenedAt.Truncate(time.Microsecond).UTC()
	if !reflect.DeepEqual(got, want) || !got.IsOpen() {
		t.Fatalf("incident\n got %+v\nwant %+v", got, want)
	}
	// The same key cannot have two open incidents, whichever instance asks.
	if _, err := s.OpenIncident(ctx, in, receivers); !errors.Is(err, ErrConflict) {
		t.Fatalf("second open incident of a key: %v", err)
	}
	var wg sync.WaitGroup
	opened := make(chan int64, 8)
	for range 8 {
		wg.Go(func() {
			if id, err := s.OpenIncident(ctx, sampleIncident("cuicpub.example.com"), nil); err == nil {
				opened <- id
			}
		})
	}
	wg.Wait()
	if len(opened) != 1 {
		t.Fatalf("%d concurrent openings of one key succeeded, want 1", len(opened))
	}
	other := <-opened
	// Another origin is another key.
	in2 := in
	in2.Origin = "https://finessep.example.com"
	third, err := s.OpenIncident(ctx, in2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.Deliveries(ctx, DeliveryFilter{IncidentID: id}); len(ds) != 2 || ds[0].Event != EventOpened {
		t.Fatalf("deliveries queued with the opening: %+v", ds)
	}

	closing := Closing{At: base.Add(time.Hour), To: "allowed", Because: ClosedRecovered, ResultID: 77}
	if err := s.CloseIncident(ctx, id, closing, receivers); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIncident(ctx, id, closing, receivers); !errors.Is(err, ErrNotFound) {
		t.Fatalf("closing a closed incident: %v", err)
	}
	if err := s.CloseIncident(ctx, 9999, closing, receivers); !errors.Is(err, ErrNotFound) {
		t.Fatalf("closing a missing incident: %v", err)
	}
	got, _ = s.Incident(ctx, id)
	if got.IsOpen() || !got.ClosedAt.Equal(closing.At.Truncate(time.Microsecond)) || got.ClosedTo != "allowed" || got.ClosedBecause != ClosedRecovered || got.CloseResultID != 77 {
		t.Fatalf("closed incident %+v", got)
	}
	if ds, _ := s.Deliveries(ctx, DeliveryFilter{IncidentID: id}); len(ds) != 4 || ds[0].Event != EventClosed {
		t.Fatalf("deliveries after the closing: %+v", ds)
	}
	// Closed, the key may open again.
	again, err := s.OpenIncident(ctx, in, nil)
	if err != nil {
		t.Fatalf("reopening a key after its incident closed: %v", err)
	}

	ids := func(f IncidentFilter) []int64 {
		is, err := s.Incidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, in := range is {
			out = append(out, in.ID)
		}
		return out
	}
	if got, want := ids(IncidentFilter{}), []int64{again, third, other, id}; !reflect.DeepEqual(got, want) {
		t.Errorf("all incidents %v, want %v", got, want)
	}
	if got, want := ids(IncidentFilter{State: IncidentOpen}), []int64{again, third, other}; !reflect.DeepEqual(got, want) {
		t.Errorf("open incidents %v, want %v", got, want)
	}
	if got, want := ids(IncidentFilter{State: IncidentClosed}), []int64{id}; !reflect.DeepEqual(got, want) {
		t.Errorf("closed incidents %v, want %v", got, want)
	}
	if got, want := ids(IncidentFilter{Before: third, Limit: 1}), []int64{other}; !reflect.DeepEqual(got, want) {
		t.Errorf("the page after %d: %v, want %v", third, got, want)
	}
	if _, err := s.Incidents(ctx, IncidentFilter{State: "maybe"}); err == nil {
		t.Error("an unknown state was accepted")
	}
	if _, err := s.Incident(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing incident: %v", err)
	}
	if _, err := s.OpenIncident(ctx, Incident{Node: "x"}, nil); err == nil {
		t.Error("an incident without key or time was stored")
	}
}

// The outbox hands out what is due, soonest first, and keeps each delivery until it is made or
// given up.
func testOutbox(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	a, err := s.OpenIncident(ctx, sampleIncident("a.example.com"), receivers)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.OpenIncident(ctx, sampleIncident("b.example.com"), receivers[:1])
	if err != nil {
		t.Fatal(err)
	}
	now := base.Add(time.Minute).Truncate(time.Microsecond)
	due, err := s.DueDeliveries(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 3 {
		t.Fatalf("%d due, want 3", len(due))
	}
	if due[0].IncidentID != a || due[0].Incident.Node != "a.example.com" || due[0].Incident.Reason == "" ||
		due[0].ReceiverName != receivers[0].Name || due[0].Attempts != 0 || due[2].IncidentID != b {
		t.Fatalf("due deliveries %+v", due)
	}
	if early, _ := s.DueDeliveries(ctx, base.Add(-time.Second), 10); len(early) != 0 {
		t.Fatalf("%d due before their time", len(early))
	}
	// The first fails and waits; the second is delivered; the third is given up.
	retry := now.Add(30 * time.Second)
	if err := s.RecordAttempt(ctx, due[0].ID, Attempt{At: now, Err: "answered 503", Next: retry}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, due[1].ID, Attempt{At: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, due[2].ID, Attempt{At: now, Err: "gone", GiveUp: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, 9999, Attempt{At: now}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("attempt of a missing delivery: %v", err)
	}
	if got, _ := s.DueDeliveries(ctx, now, 10); len(got) != 0 {
		t.Fatalf("%d due right after the attempts, want 0", len(got))
	}
	got, _ := s.DueDeliveries(ctx, retry, 10)
	if len(got) != 1 || got[0].ID != due[0].ID || got[0].Attempts != 1 || got[0].LastError != "answered 503" {
		t.Fatalf("due at the retry: %+v", got)
	}
	all, err := s.Deliveries(ctx, DeliveryFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("deliveries %+v (%v)", all, err)
	}
	for _, d := range all {
		switch d.ID {
		case due[1].ID:
			if !d.DeliveredAt.Equal(now) || d.Attempts != 1 {
				t.Errorf("delivered: %+v", d)
			}
		case due[2].ID:
			if !d.GaveUpAt.Equal(now) || d.LastError != "gone" {
				t.Errorf("given up: %+v", d)
			}
		}
	}
	if got, _ := s.Deliveries(ctx, DeliveryFilter{IncidentID: b}); len(got) != 1 {
		t.Errorf("deliveries of %d: %d", b, len(got))
	}
}

// One holder at a time; the holder renews; an expired or released lease goes to another.
func testLease(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	acquire := func(holder string, ttl time.Duration) bool {
		t.Helper()
		held, err := s.AcquireLease(ctx, "monitor", holder, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	if !acquire("a", time.Hour) {
		t.Fatal("a could not take a free lease")
	}
	if acquire("b", time.Hour) {
		t.Fatal("b took a's lease")
	}
	if !acquire("a", time.Hour) {
		t.Fatal("a could not renew its lease")
	}
	if held, err := s.AcquireLease(ctx, "other", "b", time.Hour); err != nil || !held {
		t.Fatalf("b could not take another lease: %v", err)
	}
	if err := s.ReleaseLease(ctx, "monitor", "b"); err != nil {
		t.Fatal(err)
	}
	if acquire("b", time.Hour) {
		t.Fatal("b's release of a's lease freed it")
	}
	if err := s.ReleaseLease(ctx, "monitor", "a"); err != nil {
		t.Fatal(err)
	}
	if !acquire("b", time.Millisecond) {
		t.Fatal("b could not take a released lease")
	}
	// b's lease of a millisecond expires by the database's clock: a gets it.
	if !polltest.Until(10*time.Second, func() bool { return acquire("a", time.Hour) }) {
		t.Fatal("a never got the expired lease")
	}
	if acquire("b", time.Hour) {
		t.Fatal("b took the lease back from a")
	}
	if _, err := s.AcquireLease(ctx, "monitor", "", time.Hour); err == nil {
		t.Error("a lease without a holder")
	}
}
