package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/corsquickcheck/corscheck/server/polltest"
)

// testContract is the behaviour every Store must have. newDSN returns the location of a new,
// empty store: a directory for SQLite, a database URL for PostgreSQL.
func testContract(t *testing.T, newDSN func(testing.TB) string) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, dsn string)
	}{
		{"RoundTrip", testRoundTrip},
		{"Batch", testBatch},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Filters", testFilters},
		{"KeysetPagination", testKeysetPagination},
		{"Limits", testLimits},
		{"NotFound", testNotFound},
		{"Validation", testValidation},
		{"Diagnoses", testDiagnoses},
		{"BadDiagnosisFailsAlone", testBadDiagnosisFailsAlone},
		{"DeleteBefore", testDeleteBefore},
		{"Retention", testRetention},
		{"CloseDrains", testCloseDrains},
		{"ReopenMigratesOnce", testReopenMigratesOnce},
		{"Settings", testSettings},
		{"Summary", testSummary},
		{"Reasons", testReasons},
		{"CountUpTo", testCountUpTo},
		{"SummaryRetention", testSummaryRetention},
		{"SummaryBackfill", testSummaryBackfill},
		{"TimeOrder", testTimeOrder},
		{"FailingSince", testFailingSince},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"Sources", testSources},
		{"Incidents", testIncidents},
		{"Outbox", testOutbox},
		{"Lease", testLease},
		{"Cases", testCases},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, newDSN(t)) })
	}
}

var ctx = context.Background()

func open(t testing.TB, dsn string, opts Options) Store {
	t.Helper()
	s, err := Open(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// base has nanoseconds, which the stores keep to the microsecond.
var base = time.Date(2026, 11, 20, 9, 30, 0, 123456789, time.UTC)

var (
	nodes    = []string{"finesse-a.example.com", "finesse-b.example.com", "cuic.example.com"}
	origins  = []string{"https://finesse-a.example.com:8445", "https://finesse-b.example.com:8445"}
	kinds    = []string{"rest", "websocket"}
	verdicts = []string{"allowed", "blocked", "unreachable"}
	agents   = []string{"", "agent1", "agent2", "agent3"}
	headers  = [][]string{nil, {"content-type"}, {"authorization", "x-requested-with"}}
)

// sampleResult varies every field with i, so filters have something to tell apart.
func sampleResult(i int) Result {
	r := Result{
		ReceivedAt:    base.Add(time.Duration(i) * time.Second),
		ClientAddr:    fmt.Sprintf("10.0.0.%d", i%250),
		GadgetVersion: "1.4.2",
		PageOrigin:    origins[i%len(origins)],
		TargetKind:    kinds[i%len(kinds)],
		Node:          nodes[i%len(nodes)],
		URL:           fmt.Sprintf("https://%s/api/%d", nodes[i%len(nodes)], i),
		Method:        []string{"GET", "PUT", "POST"}[i%3],
		HeaderNames:   headers[i%len(headers)],
		Credentials:   []string{"include", "omit"}[i%2],
		Verdict:       verdicts[i%len(verdicts)],
		DurationMs:    float64(i) + 0.25,
		UserAgent:     "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
		AgentID:       agents[i%len(agents)],
	}
	if i%2 == 0 {
		r.ClientTime = r.ReceivedAt.Add(-1500 * time.Millisecond).In(time.FixedZone("CET", 3600))
	}
	if r.Verdict != "allowed" {
		r.BrowserError = "TypeError: Failed to fetch — ünïcödé ✓"
	}
	if r.AgentID != "" {
		r.Extension, r.Role = fmt.Sprintf("10%02d", i%100), "Agent"
	}
	return r
}

// stored is r as a store returns it: with its id, times to the microsecond in UTC, and
// header names never nil.
func stored(r Result, id int64) Result {
	r.ID = id
	r.ReceivedAt = r.ReceivedAt.Truncate(time.Microsecond).UTC()
	if !r.ClientTime.IsZero() {
		r.ClientTime = r.ClientTime.Truncate(time.Microsecond).UTC()
	}
	if r.HeaderNames == nil {
		r.HeaderNames = []string{}
	}
	r.Source = r.sourceOf()
	return r
}

func sameResult(t testing.TB, got, want Result) {
	t.Helper()
	if !got.ReceivedAt.Equal(want.ReceivedAt) || !got.ClientTime.Equal(want.ClientTime) ||
		got.ReceivedAt.Location() != time.UTC || got.ClientTime.Location() != time.UTC {
		t.Fatalf("result %d times: got %v / %v, want %v / %v", want.ID, got.ReceivedAt, got.ClientTime, want.ReceivedAt, want.ClientTime)
	}
	got.ReceivedAt, got.ClientTime, want.ReceivedAt, want.ClientTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("result differs:\n got %+v\nwant %+v", got, want)
	}
}

func add(t testing.TB, s Store, rs ...Result) []int64 {
	t.Helper()
	ids, err := s.AddResults(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(rs) {
		t.Fatalf("%d ids for %d results", len(ids), len(rs))
	}
	return ids
}

// allResults pages through every result matching f.
func allResults(t testing.TB, s Store, f Filter) []Result {
	t.Helper()
	f.Limit = 1000
	all, err := All(ctx, s, f)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func testRoundTrip(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rs := []Result{sampleResult(0), sampleResult(1), sampleResult(2), sampleResult(5)}
	ids := add(t, s, rs...)
	for i, id := range ids {
		if id <= 0 || i > 0 && id <= ids[i-1] {
			t.Fatalf("ids %v: want positive and ascending", ids)
		}
	}
	for i, id := range ids {
		got, err := s.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, got, stored(rs[i], id))
	}
	list, err := s.Results(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(rs) {
		t.Fatalf("listed %d results, want %d", len(list), len(rs))
	}
	for i, got := range list { // newest first
		k := len(rs) - 1 - i
		sameResult(t, got, stored(rs[k], ids[k]))
	}
}

func testBatch(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 100 {
		rs = append(rs, sampleResult(i))
	}
	ids := add(t, s, rs...)
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("ids not ascending at %d: %v", i, ids)
		}
	}
	if n, err := s.CountResults(ctx, Filter{}); err != nil || n != 100 {
		t.Fatalf("count %d (%v), want 100", n, err)
	}
	for i, got := range allResults(t, s, Filter{}) {
		k := len(rs) - 1 - i
		sameResult(t, got, stored(rs[k], ids[k]))
	}
	// An empty call writes nothing and succeeds.
	if ids, err := s.AddResults(ctx, nil); err != nil || len(ids) != 0 {
		t.Fatalf("AddResults(nil) = %v, %v", ids, err)
	}
}

func testConcurrentWriters(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	const writers, calls = 64, 15
	var mu sync.Mutex
	urls := map[int64]string{}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for c := range calls {
				rs := make([]Result, 1+c%3)
				for k := range rs {
					rs[k] = sampleResult(g + c + k)
					rs[k].URL = fmt.Sprintf("https://node.test/%d/%d/%d", g, c, k)
				}
				ids, err := s.AddResults(ctx, rs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for k, id := range ids {
					if _, dup := urls[id]; dup {
						t.Errorf("id %d given twice", id)
					}
					urls[id] = rs[k].URL
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := allResults(t, s, Filter{})
	if len(all) != len(urls) {
		t.Fatalf("%d rows, %d acknowledged ids", len(all), len(urls))
	}
	for _, r := range all {
		if urls[r.ID] != r.URL {
			t.Fatalf("result %d has URL %q, want %q", r.ID, r.URL, urls[r.ID])
		}
	}
}

// filterCases are the filters the admin pages use, each with the predicate it must mean.
func filterCases() []struct {
	name  string
	f     Filter
	match func(Result) bool
} {
	// Filters compare to the microsecond, as the stores keep times.
	since, until := base.Truncate(time.Microsecond).Add(20*time.Second), base.Truncate(time.Microsecond).Add(50*time.Second)
	return []struct {
		name  string
		f     Filter
		match func(Result) bool
	}{
		{"none", Filter{}, func(Result) bool { return true }},
		{"node", Filter{Node: nodes[1]}, func(r Result) bool { return r.Node == nodes[1] }},
		{"page origin", Filter{PageOrigin: origins[0]}, func(r Result) bool { return r.PageOrigin == origins[0] }},
		{"target kind", Filter{TargetKind: "websocket"}, func(r Result) bool { return r.TargetKind == "websocket" }},
		{"verdict", Filter{Verdict: "blocked"}, func(r Result) bool { return r.Verdict == "blocked" }},
		{"agent", Filter{AgentID: "agent2"}, func(r Result) bool { return r.AgentID == "agent2" }},
		{"since", Filter{Since: since}, func(r Result) bool { return !r.ReceivedAt.Before(since) }},
		{"until", Filter{Until: until}, func(r Result) bool { return r.ReceivedAt.Before(until) }},
		{"range", Filter{Since: since, Until: until}, func(r Result) bool {
			return !r.ReceivedAt.Before(since) && r.ReceivedAt.Before(until)
		}},
		{"node, verdict and range", Filter{Node: nodes[0], Verdict: "allowed", Since: since, Until: until}, func(r Result) bool {
			return r.Node == nodes[0] && r.Verdict == "allowed" && !r.ReceivedAt.Before(since) && r.ReceivedAt.Before(until)
		}},
		{"nothing matches", Filter{Node: "nowhere.example.com"}, func(Result) bool { return false }},
	}
}

func testFilters(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 72 {
		rs = append(rs, sampleResult(i))
	}
	ids := add(t, s, rs...)
	for _, c := range filterCases() {
		t.Run(c.name, func(t *testing.T) {
			var want []int64
			for i, r := range rs {
				if c.match(stored(r, ids[i])) {
					want = append(want, ids[i])
				}
			}
			slices.Reverse(want)
			got, err := s.Results(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			gotIDs := []int64{}
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			if !slices.Equal(gotIDs, want) && !(len(want) == 0 && len(gotIDs) == 0) {
				t.Fatalf("ids %v, want %v", gotIDs, want)
			}
			n, err := s.CountResults(ctx, c.f)
			if err != nil || n != int64(len(want)) {
				t.Fatalf("count %d (%v), want %d", n, err, len(want))
			}
		})
	}
}

func testKeysetPagination(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 95 {
		rs = append(rs, sampleResult(i))
	}
	ids := add(t, s, rs...)
	for _, c := range filterCases() {
		t.Run(c.name, func(t *testing.T) {
			var want []int64
			for i, r := range rs {
				if c.match(stored(r, ids[i])) {
					want = append(want, ids[i])
				}
			}
			slices.Reverse(want)
			var got []int64
			f := c.f
			f.Limit = 7
			for page := 0; ; page++ {
				if page > len(rs) {
					t.Fatal("pagination does not end")
				}
				rows, err := s.Results(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					got = append(got, r.ID)
				}
				if len(rows) < f.Limit {
					break
				}
				f.Before = rows[len(rows)-1].Cursor()
			}
			if !slices.Equal(got, want) {
				t.Fatalf("pages gave %v, want each of %v once, in order", got, want)
			}
			// Before does not change the count.
			if n, err := s.CountResults(ctx, Filter{Node: c.f.Node, Verdict: c.f.Verdict, Before: Cursor{ReceivedAt: base, ID: ids[10]}, Limit: 1,
				Since: c.f.Since, Until: c.f.Until, PageOrigin: c.f.PageOrigin, TargetKind: c.f.TargetKind,
				AgentID: c.f.AgentID}); err != nil || n != int64(len(want)) {
				t.Fatalf("count %d (%v), want %d", n, err, len(want))
			}
		})
	}
}

func testLimits(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 1005 {
		rs = append(rs, sampleResult(i))
	}
	add(t, s, rs...)
	for _, c := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {1, 1}, {999, 999}, {1000, 1000}, {5000, 1000}} {
		got, err := s.Results(ctx, Filter{Limit: c.limit})
		if err != nil || len(got) != c.want {
			t.Fatalf("Limit %d: %d results (%v), want %d", c.limit, len(got), err, c.want)
		}
	}
}

func testNotFound(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	id := add(t, s, sampleResult(1))[0]
	for _, missing := range []int64{id + 1000, 0, -1} {
		if _, err := s.Result(ctx, missing); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Result(%d): %v, want ErrNotFound", missing, err)
		}
	}
	if ds, err := s.Diagnoses(ctx, id+1000); err != nil || len(ds) != 0 {
		t.Fatalf("Diagnoses of a missing result: %v, %v", ds, err)
	}
}

func testValidation(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	r := sampleResult(1)
	r.ReceivedAt = time.Time{}
	if _, err := s.AddResults(ctx, []Result{sampleResult(2), r}); err == nil {
		t.Fatal("a result without ReceivedAt was accepted")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.AddResults(canceled, []Result{sampleResult(3)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: %v", err)
	}
	if n, _ := s.CountResults(ctx, Filter{}); n != 0 {
		t.Fatalf("%d results stored by failed calls", n)
	}
}

func sampleDiagnosis(resultID int64, i int) Diagnosis {
	return Diagnosis{
		ResultID:        resultID,
		CreatedAt:       base.Add(time.Duration(i)*time.Minute + 789*time.Nanosecond),
		URL:             fmt.Sprintf("https://finesse-a.example.com:8445/api/%d", i),
		Origin:          "https://finesse-b.example.com:8445",
		Kind:            "rest",
		Node:            "finesse-a.example.com",
		Verdict:         "blocked",
		Reason:          "PreflightMissingAllowOriginHeader",
		FailedParameter: "",
		NetworkClass:    "ok",
		Report:          []byte(fmt.Sprintf(`{"steps":[%d],"note":"ünïcödé"}`, i)),
	}
}

func sameDiagnosis(t testing.TB, got, want Diagnosis) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt.Truncate(time.Microsecond)) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("diagnosis %d CreatedAt %v, want %v", want.ID, got.CreatedAt, want.CreatedAt)
	}
	if !bytes.Equal(got.Report, want.Report) {
		t.Fatalf("diagnosis %d report %q, want %q", want.ID, got.Report, want.Report)
	}
	got.CreatedAt, want.CreatedAt, got.Report, want.Report = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diagnosis differs:\n got %+v\nwant %+v", got, want)
	}
}

func addDiagnosis(t testing.TB, s Store, d Diagnosis) int64 {
	t.Helper()
	id, err := s.AddDiagnosis(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if id <= 0 {
		t.Fatalf("diagnosis id %d", id)
	}
	return id
}

func testDiagnoses(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	ids := add(t, s, sampleResult(1), sampleResult(2))
	d1 := sampleDiagnosis(ids[0], 1)
	d1.ID = addDiagnosis(t, s, d1)
	d2 := sampleDiagnosis(ids[0], 2)
	d2.Report, d2.Reason, d2.NetworkClass = nil, "", "dns"
	d2.ID = addDiagnosis(t, s, d2)
	unlinked := sampleDiagnosis(0, 3)
	unlinked.ID = addDiagnosis(t, s, unlinked)
	if !(d1.ID < d2.ID && d2.ID < unlinked.ID) {
		t.Fatalf("diagnosis ids %d %d %d not ascending", d1.ID, d2.ID, unlinked.ID)
	}

	got, err := s.Diagnoses(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d diagnoses, want 2", len(got))
	}
	sameDiagnosis(t, got[0], d2) // newest first
	sameDiagnosis(t, got[1], d1)
	if got, err := s.Diagnoses(ctx, ids[1]); err != nil || len(got) != 0 {
		t.Fatalf("diagnoses of a result without any: %v, %v", got, err)
	}

	// A zero CreatedAt means now.
	before := time.Now().Add(-time.Second)
	now := sampleDiagnosis(ids[1], 4)
	now.CreatedAt = time.Time{}
	addDiagnosis(t, s, now)
	if got, err := s.Diagnoses(ctx, ids[1]); err != nil || len(got) != 1 || got[0].CreatedAt.Before(before) {
		t.Fatalf("diagnosis without CreatedAt: %+v, %v", got, err)
	}
}

// A diagnosis of a result that does not exist fails, and only it, even when it shares a group
// commit with good writes.
func testBadDiagnosisFailsAlone(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	id := add(t, s, sampleResult(1))[0]
	var wg sync.WaitGroup
	var bad, good int
	var mu sync.Mutex
	for g := range 32 {
		wg.Go(func() {
			for c := range 10 {
				var err error
				if (g+c)%7 == 0 {
					_, err = s.AddDiagnosis(ctx, sampleDiagnosis(id+1_000_000, c))
					mu.Lock()
					if err == nil {
						t.Error("diagnosis of a missing result was accepted")
					}
					bad++
					mu.Unlock()
					continue
				}
				if c%2 == 0 {
					_, err = s.AddDiagnosis(ctx, sampleDiagnosis(id, c))
				} else {
					_, err = s.AddResults(ctx, []Result{sampleResult(c)})
				}
				mu.Lock()
				if err != nil {
					t.Errorf("good write failed: %v", err)
				}
				good++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if bad == 0 || good == 0 {
		t.Fatalf("bad %d good %d", bad, good)
	}
}

func testDeleteBefore(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	cutoff := base.Add(time.Hour)
	var old, recent []Result
	for i := range 30 {
		r := sampleResult(i)
		r.ReceivedAt = cutoff.Add(-time.Duration(i+1) * time.Minute)
		old = append(old, r)
		r = sampleResult(i)
		r.ReceivedAt = cutoff.Add(time.Duration(i) * time.Minute) // the first one is at the cutoff: kept
		recent = append(recent, r)
	}
	oldIDs := add(t, s, old...)
	recentIDs := add(t, s, recent...)
	addDiagnosis(t, s, sampleDiagnosis(oldIDs[0], 1))
	addDiagnosis(t, s, sampleDiagnosis(oldIDs[0], 2))
	keep := addDiagnosis(t, s, sampleDiagnosis(recentIDs[0], 3))
	oldUnlinked := sampleDiagnosis(0, 4)
	oldUnlinked.CreatedAt = cutoff.Add(-time.Minute)
	addDiagnosis(t, s, oldUnlinked)

	n, err := s.DeleteBefore(ctx, cutoff)
	if err != nil || n != int64(len(old)) {
		t.Fatalf("DeleteBefore: %d (%v), want %d", n, err, len(old))
	}
	if _, err := s.Result(ctx, oldIDs[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old result still there: %v", err)
	}
	if ds, err := s.Diagnoses(ctx, oldIDs[0]); err != nil || len(ds) != 0 {
		t.Fatalf("diagnoses of a deleted result: %v, %v", ds, err)
	}
	if ds, err := s.Diagnoses(ctx, recentIDs[0]); err != nil || len(ds) != 1 || ds[0].ID != keep {
		t.Fatalf("diagnoses of a kept result: %+v, %v", ds, err)
	}
	if c, _ := s.CountResults(ctx, Filter{}); c != int64(len(recent)) {
		t.Fatalf("%d results left, want %d", c, len(recent))
	}
	if n, err := s.DeleteBefore(ctx, cutoff); err != nil || n != 0 {
		t.Fatalf("second DeleteBefore: %d, %v", n, err)
	}
	// More than one chunk.
	var many []Result
	for i := range deleteChunk + 10 {
		r := sampleResult(i)
		r.ReceivedAt = base.Add(-time.Duration(i+1) * time.Millisecond)
		many = append(many, r)
	}
	add(t, s, many...)
	if n, err := s.DeleteBefore(ctx, base); err != nil || n != int64(len(many)) {
		t.Fatalf("DeleteBefore over %d results: %d, %v", len(many), n, err)
	}
}

func testRetention(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	now := time.Now()
	r := sampleResult(1)
	r.ReceivedAt = now.Add(-2 * time.Hour)
	oldID := add(t, s, r)[0]
	r.ReceivedAt = now.Add(-10 * time.Minute)
	newID := add(t, s, r)[0]
	s.Close()

	s = open(t, dsn, Options{Retention: time.Hour})
	var err error
	if !polltest.Until(20*time.Second, func() bool {
		_, err = s.Result(ctx, oldID)
		return errors.Is(err, ErrNotFound)
	}) {
		t.Fatalf("retention did not delete a 2 h old result within 20 s: %v", err)
	}
	if _, err := s.Result(ctx, newID); err != nil {
		t.Fatalf("retention deleted a recent result: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close answers every call already queued: each one that returned ids has its rows when the
// store is reopened, and calls after Close get ErrClosed.
func testCloseDrains(t *testing.T, dsn string) {
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	urls := map[int64]string{}
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for g := range 64 {
		wg.Go(func() {
			for c := 0; ; c++ {
				r := sampleResult(c)
				r.URL = fmt.Sprintf("https://node.test/%d/%d", g, c)
				ids, err := s.AddResults(ctx, []Result{r})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("write during Close: %v, want ErrClosed", err)
					}
					return
				}
				mu.Lock()
				urls[ids[0]] = r.URL
				if len(urls) == 200 {
					once.Do(func() { close(started) })
				}
				mu.Unlock()
			}
		})
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = open(t, dsn, Options{})
	for _, r := range allResults(t, s, Filter{}) {
		if want, ok := urls[r.ID]; ok && want != r.URL {
			t.Fatalf("result %d has URL %q, want %q", r.ID, r.URL, want)
		}
		delete(urls, r.ID)
	}
	if len(urls) > 0 {
		t.Fatalf("%d acknowledged results lost by Close", len(urls))
	}
}

func testReopenMigratesOnce(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	id := add(t, s, sampleResult(1))[0]
	s.Close()
	for range 2 {
		s = open(t, dsn, Options{})
		if _, err := s.Result(ctx, id); err != nil {
			t.Fatalf("result lost on reopening: %v", err)
		}
		s.Close()
	}
	s = open(t, dsn, Options{})
	got := schemaVersions(t, s)
	ms, err := migrations(dialect(s))
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.version)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("schema_version %v, want each of %v once", got, want)
	}
}

func dialect(s Store) string {
	if _, ok := s.(*pgStore); ok {
		return "postgres"
	}
	return "sqlite"
}

// schemaVersions lists schema_version's rows, duplicates included.
func schemaVersions(t testing.TB, s Store) []int {
	t.Helper()
	var vs []int
	const q = "SELECT version FROM schema_version ORDER BY version"
	switch s := s.(type) {
	case *sqliteStore:
		rows, err := s.readers.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
	case *pgStore:
		rows, err := s.pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
	default:
		t.Fatalf("unknown store %T", s)
	}
	return vs
}

func testSettings(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	if _, err := s.Setting(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing setting: %v, want ErrNotFound", err)
	}
	if v, err := s.InitSetting(ctx, "k", "first"); err != nil || v != "first" {
		t.Fatalf("InitSetting: %q %v", v, err)
	}
	// A second instance starting later keeps the first one's value.
	if v, err := s.InitSetting(ctx, "k", "second"); err != nil || v != "first" {
		t.Fatalf("InitSetting again: %q %v, want first", v, err)
	}
	if err := s.PutSetting(ctx, "k", "third"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting(ctx, "k"); err != nil || v != "third" {
		t.Fatalf("after PutSetting: %q %v", v, err)
	}
	// The version changes with every replacement, and only then.
	if _, err := s.SettingVersion(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("version of a missing setting: %v, want ErrNotFound", err)
	}
	v1, err := s.SettingVersion(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SettingVersion(ctx, "k"); v != v1 {
		t.Fatalf("the version moved from %d to %d without a change", v1, v)
	}
	if err := s.PutSetting(ctx, "k", "fourth"); err != nil {
		t.Fatal(err)
	}
	if v2, err := s.SettingVersion(ctx, "k"); err != nil || v2 == v1 {
		t.Fatalf("version after PutSetting: %d %v, was %d", v2, err, v1)
	}
}
