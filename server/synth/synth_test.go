package synth

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/cors"
	"github.com/corsquickcheck/corscheck/server/pgtest"
	"github.com/corsquickcheck/corscheck/server/store"
	"github.com/corsquickcheck/corscheck/server/targets"
)

// now is a Thursday noon, so a two-day span holds two business mornings.
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func collect(t *testing.T, o Options) []Item {
	t.Helper()
	items, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Collect(items)
}

func TestSameSeedSameResults(t *testing.T) {
	o := Options{Now: now, Span: 48 * time.Hour, Count: 2000, Seed: 7, Incidents: DefaultIncidents(now)}
	a, b := collect(t, o), collect(t, o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	o.Seed = 8
	if c := collect(t, o); reflect.DeepEqual(a, c) {
		t.Fatal("another seed gives the same results")
	}
}

func TestCountSpanAndOrder(t *testing.T) {
	for _, tt := range []struct {
		name  string
		count int
		span  time.Duration
	}{
		{"none", 0, time.Hour},
		{"one", 1, time.Hour},
		{"a few in a minute", 7, time.Minute},
		{"two days", 5000, 48 * time.Hour},
		{"a week and a half hour", 3000, 7*24*time.Hour + 30*time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			items := collect(t, Options{Now: now, Span: tt.span, Count: tt.count, Seed: 1})
			if len(items) != tt.count {
				t.Fatalf("%d results, want %d", len(items), tt.count)
			}
			from := now.Add(-tt.span)
			for i, it := range items {
				r := it.Result
				if !r.ReceivedAt.After(from) || r.ReceivedAt.After(now) {
					t.Fatalf("result %d received at %s, outside (%s, %s]", i, r.ReceivedAt, from, now)
				}
				if i > 0 && r.ReceivedAt.Before(items[i-1].Result.ReceivedAt) {
					t.Fatalf("result %d received at %s, before result %d at %s", i, r.ReceivedAt, i-1, items[i-1].Result.ReceivedAt)
				}
				if r.Verdict != string(cors.Allowed) || it.Diagnosis != nil {
					t.Fatalf("result %d is %s without any incident", i, r.Verdict)
				}
				if r.GadgetVersion != "synthetic" || !strings.HasPrefix(r.AgentID, "agent-") || r.Method != "GET" ||
					len(r.HeaderNames) == 0 || r.UserAgent == "" || !slices.Contains(DefaultOrigins, r.PageOrigin) {
					t.Fatalf("result %d is not shaped like a gadget's: %+v", i, r)
				}
			}
		})
	}
}

func TestBusinessHoursBusier(t *testing.T) {
	items := collect(t, Options{Now: now, Span: 48 * time.Hour, Count: 10000, Seed: 3})
	var morning, night int
	for _, it := range items {
		switch h := it.Result.ReceivedAt.Hour(); {
		case h >= 8 && h < 11:
			morning++
		case h >= 1 && h < 4:
			night++
		}
	}
	if morning < 10*night {
		t.Errorf("%d results from 8 to 11, %d from 1 to 4: the floor's rhythm is missing", morning, night)
	}
}

func TestIncident(t *testing.T) {
	start := now.Add(-20 * time.Hour)
	failing, healthy := DefaultOrigins[0], DefaultOrigins[1]
	report := []byte(`{"verdict":"blocked"}`)
	o := Options{Now: now, Span: 48 * time.Hour, Count: 8000, Seed: 2, Incidents: []Incident{
		{Node: "cuicsub.example.com", Origin: failing, Start: start, Failure: Failure{
			Verdict: cors.Blocked, Reason: cors.PreflightMissingAllowOriginHeader, Reports: map[string][]byte{failing: report}}},
		{Node: "livedata-a.example.com", Start: now.Add(-30 * time.Hour), End: now.Add(-10 * time.Hour), Failure: Failure{
			Verdict: cors.Blocked, Reason: cors.PreflightAllowOriginMismatch, FailedParameter: "https://other.example.com"}},
		{Node: "cuic-old.example.com", Failure: Failure{Verdict: cors.Unreachable, NetworkClass: "dns"}},
	}}
	seen := map[string]int{}
	for _, it := range collect(t, o) {
		r, d := it.Result, it.Diagnosis
		var want cors.Verdict = cors.Allowed
		var reason string
		switch {
		case r.Node == "cuicsub.example.com" && r.PageOrigin == failing && !r.ReceivedAt.Before(start):
			want, reason = cors.Blocked, string(cors.PreflightMissingAllowOriginHeader)
			seen["cuicsub blocked"]++
			if d != nil && !slices.Equal(d.Report, report) {
				t.Errorf("diagnosis of %s from %s lacks the report", r.Node, r.PageOrigin)
			}
		case r.Node == "cuicsub.example.com" && r.PageOrigin == healthy:
			seen["cuicsub from the other origin"]++
		case r.Node == "cuicsub.example.com":
			seen["cuicsub before"]++
		case r.Node == "livedata-a.example.com" && !r.ReceivedAt.Before(now.Add(-30*time.Hour)) && r.ReceivedAt.Before(now.Add(-10*time.Hour)):
			want, reason = cors.Blocked, string(cors.PreflightAllowOriginMismatch)
			seen["livedata-a during"]++
		case r.Node == "livedata-a.example.com":
			seen["livedata-a outside"]++
		case r.Node == "cuic-old.example.com":
			want, reason = cors.Unreachable, "dns"
			seen["dead node"]++
		}
		if r.Verdict != string(want) {
			t.Fatalf("%s from %s at %s: %s, want %s", r.Node, r.PageOrigin, r.ReceivedAt, r.Verdict, want)
		}
		if want == cors.Allowed {
			if d != nil || r.BrowserError != "" {
				t.Fatalf("allowed result with a diagnosis or an error: %+v", r)
			}
			continue
		}
		if r.BrowserError == "" {
			t.Errorf("%s %s without a browser error", r.Node, r.Verdict)
		}
		if d == nil {
			t.Fatalf("failure of %s at %s without a diagnosis", r.Node, r.ReceivedAt)
		}
		if got := cmpOr(d.Reason, d.NetworkClass); got != reason || d.Verdict != r.Verdict || d.Node != r.Node ||
			d.Origin != r.PageOrigin || d.URL != r.URL || d.Kind != r.TargetKind || d.CreatedAt.Before(r.ReceivedAt) {
			t.Fatalf("diagnosis %+v does not explain %+v", d, r)
		}
	}
	for _, k := range []string{"cuicsub blocked", "cuicsub from the other origin", "cuicsub before", "livedata-a during", "livedata-a outside", "dead node"} {
		if seen[k] == 0 {
			t.Errorf("no result of %q", k)
		}
	}
	if seen["dead node"] > seen["cuicsub before"]/4 {
		t.Errorf("%d results of the dead node: it should be rare", seen["dead node"])
	}

	o.NoDiagnoses = true
	for _, it := range collect(t, o) {
		if it.Diagnosis != nil {
			t.Fatal("a diagnosis with NoDiagnoses")
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"negative count", Options{Count: -1}, "negative"},
		{"bad origin", Options{Origins: []string{"https://finesse.example.com:8445/desktop"}}, "not an origin"},
		{"node without URL", Options{Nodes: []Node{{Name: "cuic", Kind: targets.CUIC}}}, "needs a name and a URL"},
		{"unknown kind", Options{Nodes: []Node{{Name: "x", Kind: "ftp", URLs: []string{"https://x/"}}}}, "x:"},
		{"incident on no node", Options{Incidents: []Incident{{Node: "nowhere", Failure: Failure{Verdict: cors.Blocked, Reason: cors.AllowOriginMismatch}}}}, `no node "nowhere"`},
		{"no origins", Options{Origins: []string{}}, "no origins"},
		{"blocked without reason", Options{Incidents: []Incident{{Node: "cuicsub.example.com", Failure: Failure{Verdict: cors.Blocked}}}}, "needs a reason"},
		{"allowed incident", Options{Incidents: []Incident{{Node: "cuicsub.example.com", Failure: Failure{Verdict: cors.Allowed}}}}, "blocked or unreachable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Generate: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	return openStoreAt(t, t.TempDir())
}

func openStoreAt(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// allResults lists a store's results oldest first.
func allResults(t *testing.T, st store.Store) []store.Result {
	t.Helper()
	all, err := store.All(t.Context(), st, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(all)
	return all
}

func TestFill(t *testing.T) { testFill(t, openStore(t)) }

func TestFillPostgres(t *testing.T) { testFill(t, openStoreAt(t, pgtest.DSN(t))) }

func testFill(t *testing.T, st store.Store) {
	o := Options{Now: now, Span: 72 * time.Hour, Count: 3000, Seed: 5, Incidents: DefaultIncidents(now)}
	var calls []int
	if err := Fill(t.Context(), st, o, 1000, func(done int) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{1000, 2000, 3000}) {
		t.Errorf("progress %v, want 1000, 2000, 3000", calls)
	}
	if n, err := st.CountResults(t.Context(), store.Filter{}); err != nil || n != 3000 {
		t.Fatalf("CountResults = %d, %v; want 3000", n, err)
	}
	want := collect(t, o)
	got := allResults(t, st)
	failures := 0
	for i, r := range got {
		w := want[i].Result
		w.ID = r.ID
		if d := want[i].Diagnosis; d != nil {
			w.Reason = store.ReasonOf(d) // the store sets it with the diagnosis
		}
		if !reflect.DeepEqual(r, w) {
			t.Fatalf("stored result %d:\n%+v\nwant\n%+v", i, r, w)
		}
		ds, err := st.Diagnoses(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict == string(cors.Allowed) {
			if len(ds) != 0 {
				t.Fatalf("allowed result %d has %d diagnoses", r.ID, len(ds))
			}
			continue
		}
		failures++
		if len(ds) != 1 || ds[0].ResultID != r.ID || ds[0].Node != r.Node || ds[0].Origin != r.PageOrigin ||
			cmpOr(ds[0].Reason, ds[0].NetworkClass) != cmpOr(want[i].Diagnosis.Reason, want[i].Diagnosis.NetworkClass) {
			t.Fatalf("failed result %+v has diagnoses %+v", r, ds)
		}
	}
	if failures == 0 {
		t.Error("no failures: the incidents did not apply")
	}
}

func TestFillResumes(t *testing.T) {
	o := Options{Now: now, Span: 24 * time.Hour, Count: 2500, Seed: 9, Incidents: DefaultIncidents(now)}
	st := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	err := Fill(ctx, st, o, 500, func(done int) {
		if done >= 1000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fill after cancel: %v", err)
	}
	n, err := st.CountResults(t.Context(), store.Filter{})
	if err != nil || n == 0 || n >= 2500 {
		t.Fatalf("after the interrupted fill CountResults = %d, %v", n, err)
	}
	if err := FillFrom(t.Context(), st, o, int(n), 500, nil); err != nil {
		t.Fatal(err)
	}
	got := allResults(t, st)
	want := collect(t, o)
	if len(got) != len(want) {
		t.Fatalf("%d results after resuming, want %d", len(got), len(want))
	}
	for i := range got {
		w := want[i].Result
		// The diagnoses of the last batch before the interruption may be missing.
		w.ID, w.Reason = got[i].ID, got[i].Reason
		if !reflect.DeepEqual(got[i], w) {
			t.Fatalf("result %d after resuming:\n%+v\nwant\n%+v", i, got[i], w)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	items, err := Generate(Options{Now: now, Span: 30 * 24 * time.Hour, Count: b.N, Seed: 1, Incidents: DefaultIncidents(now)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for range items {
	}
}
