package store

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// wantSummary recounts rs the slow way: what Summary must return for since and step, of every
// source (but FailingSince, which testFailingSince checks).
func wantSummary(rs []Result, since time.Time, step time.Duration) ([]Count, []Latest) {
	counts := map[countKey]int64{}
	latest := map[cellKey]Latest{}
	for _, r := range rs {
		if hourOf(r.ReceivedAt) >= hourOf(since) {
			period := r.ReceivedAt.Unix() - r.ReceivedAt.Unix()%int64(step/time.Second)
			counts[countKey{period, r.TargetKind, r.Node, r.PageOrigin, r.Verdict, ""}]++
		}
		k := cellKey{r.TargetKind, r.Node, r.PageOrigin, ""}
		at := r.ReceivedAt.Truncate(time.Microsecond).UTC()
		if l, ok := latest[k]; !ok || !at.Before(l.ReceivedAt) {
			latest[k] = Latest{TargetKind: r.TargetKind, Node: r.Node, PageOrigin: r.PageOrigin, ReceivedAt: at, Verdict: r.Verdict}
		}
	}
	cs := []Count{}
	for k, n := range counts {
		cs = append(cs, Count{Hour: time.Unix(k.hour, 0).UTC(), TargetKind: k.targetKind, Node: k.node,
			PageOrigin: k.pageOrigin, Verdict: k.verdict, N: n})
	}
	slices.SortFunc(cs, func(a, b Count) int {
		return cmp.Or(a.Hour.Compare(b.Hour), cmp.Compare(a.TargetKind, b.TargetKind), cmp.Compare(a.Node, b.Node),
			cmp.Compare(a.PageOrigin, b.PageOrigin), cmp.Compare(a.Verdict, b.Verdict))
	})
	ls := []Latest{}
	for _, l := range latest {
		ls = append(ls, l)
	}
	return cs, reduceLatest(ls)
}

func summary(t testing.TB, s Store, since time.Time) Summary {
	t.Helper()
	return summaryBy(t, s, since, time.Hour)
}

func summaryBy(t testing.TB, s Store, since time.Time, step time.Duration) Summary {
	t.Helper()
	sum, err := s.Summary(ctx, since, step, "")
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func testSummary(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	if sum := summary(t, s, base); len(sum.Counts)+len(sum.Latest)+len(sum.Reasons) != 0 {
		t.Fatalf("empty store: %+v", sum)
	}
	// Five hours of results from concurrent writers, in batches, some out of time order.
	var all []Result
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for b := range 5 {
				var batch []Result
				for i := range 40 {
					n := w*1000 + b*40 + i
					r := sampleResult(n)
					r.ReceivedAt = base.Add(time.Duration((n*7919)%(5*3600)) * time.Second)
					batch = append(batch, r)
				}
				if _, err := s.AddResults(ctx, batch); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, batch...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, c := range []struct {
		since time.Time
		step  time.Duration
	}{
		{base.Add(-time.Hour), time.Hour}, {base.Add(2*time.Hour + 5*time.Minute), time.Hour}, {base.Add(10 * time.Hour), time.Hour},
		{base.Add(-24 * time.Hour), 2 * time.Hour}, {base.Add(-24 * time.Hour), 24 * time.Hour},
		{base.Truncate(24 * time.Hour), 24 * time.Hour}, {base.Truncate(24 * time.Hour).Add(-48 * time.Hour), 48 * time.Hour}, // the daily counts
	} {
		since := c.since
		sum := summaryBy(t, s, since, c.step)
		for i := range sum.Latest {
			sum.Latest[i].FailingSince, sum.Latest[i].AllowedBefore = time.Time{}, false
		}
		wantCounts, wantLatest := wantSummary(all, since, c.step)
		if !reflect.DeepEqual(sum.Counts, wantCounts) {
			t.Fatalf("since %v: counts\n got %+v\nwant %+v", since, sum.Counts, wantCounts)
		}
		if !reflect.DeepEqual(sum.Latest, wantLatest) {
			t.Fatalf("latest\n got %+v\nwant %+v", sum.Latest, wantLatest)
		}
		if want := time.Unix(hourOf(since), 0).UTC(); !sum.Since.Equal(want) {
			t.Fatalf("Since %v, want %v", sum.Since, want)
		}
	}
	// An older result arriving late counts in its hour but is not the latest.
	late := sampleResult(0)
	late.ReceivedAt = base.Add(-30 * time.Minute)
	late.Verdict = "unreachable"
	add(t, s, late)
	all = append(all, late)
	sum := summary(t, s, base.Add(-time.Hour))
	for i := range sum.Latest {
		sum.Latest[i].FailingSince, sum.Latest[i].AllowedBefore = time.Time{}, false
	}
	wantCounts, wantLatest := wantSummary(all, base.Add(-time.Hour), time.Hour)
	if !reflect.DeepEqual(sum.Counts, wantCounts) || !reflect.DeepEqual(sum.Latest, wantLatest) {
		t.Fatalf("after a late result:\n got %+v %+v\nwant %+v %+v", sum.Counts, sum.Latest, wantCounts, wantLatest)
	}
}

func testReasons(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	ids := add(t, s, sampleResult(1), sampleResult(2), sampleResult(3), sampleResult(4), sampleResult(5))
	diag := func(id int64, reason, class string, at time.Duration) Diagnosis {
		d := sampleDiagnosis(id, 1)
		d.Reason, d.NetworkClass, d.CreatedAt = reason, class, base.Add(at)
		return d
	}
	addDiagnosis(t, s, diag(ids[0], "AllowOriginMismatch", "", 0))
	addDiagnosis(t, s, diag(ids[0], "PreflightMissingAllowOriginHeader", "", time.Minute)) // newest wins
	addDiagnosis(t, s, diag(ids[1], "PreflightMissingAllowOriginHeader", "", 2*time.Hour))
	addDiagnosis(t, s, diag(ids[2], "", "dns", 0))
	addDiagnosis(t, s, diag(ids[3], "", "", 0))                             // found nothing wrong
	addDiagnosis(t, s, diag(0, "PreflightMissingAllowOriginHeader", "", 0)) // explains no result
	// The same node and reason for another kind of target is counted apart: the dashboard
	// names the kind and links to that kind's results.
	other := diag(ids[4], "PreflightMissingAllowOriginHeader", "", 0)
	other.Kind = "livedata"
	addDiagnosis(t, s, other)

	for i, want := range []string{"PreflightMissingAllowOriginHeader", "PreflightMissingAllowOriginHeader", "dns", "",
		"PreflightMissingAllowOriginHeader"} {
		r, err := s.Result(ctx, ids[i])
		if err != nil || r.Reason != want {
			t.Fatalf("result %d reason %q (%v), want %q", i, r.Reason, err, want)
		}
	}
	got := allResults(t, s, Filter{Reason: "PreflightMissingAllowOriginHeader"})
	if len(got) != 3 || got[0].ID != ids[4] || got[1].ID != ids[1] || got[2].ID != ids[0] {
		t.Fatalf("filter by reason: %+v", got)
	}
	node, kind := sampleDiagnosis(0, 0).Node, sampleDiagnosis(0, 0).Kind
	want := []ReasonCount{
		{Reason: "PreflightMissingAllowOriginHeader", TargetKind: kind, Node: node, N: 2},
		{Reason: "AllowOriginMismatch", TargetKind: kind, Node: node, N: 1},
		{Reason: "PreflightMissingAllowOriginHeader", TargetKind: "livedata", Node: node, N: 1},
		{Reason: "dns", TargetKind: kind, Node: node, N: 1},
	}
	if sum := summary(t, s, base); !reflect.DeepEqual(sum.Reasons, want) {
		t.Fatalf("reasons\n got %+v\nwant %+v", sum.Reasons, want)
	}
	want = []ReasonCount{{Reason: "PreflightMissingAllowOriginHeader", TargetKind: kind, Node: node, N: 1}}
	if sum := summary(t, s, base.Add(2*time.Hour)); !reflect.DeepEqual(sum.Reasons, want) {
		t.Fatalf("reasons of the last hour\n got %+v\nwant %+v", sum.Reasons, want)
	}
	// A diagnosis of a result that does not exist changes no count.
	if _, err := s.AddDiagnosis(ctx, diag(1<<40, "AllowOriginMismatch", "", 0)); err == nil {
		t.Fatal("diagnosis of a missing result stored")
	}
	if sum := summary(t, s, base); sum.Reasons[1].N != 1 {
		t.Fatalf("a failed diagnosis counted: %+v", sum.Reasons)
	}
}

func testCountUpTo(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	hourStart := time.Unix(hourOf(base), 0).UTC()
	var rs []Result
	for i := range 30 {
		rs = append(rs, sampleResult(i))
	}
	add(t, s, rs...)
	for _, c := range []struct {
		f          Filter
		upTo, want int64
	}{
		{Filter{}, 10, 10}, {Filter{}, 100, 30}, {Filter{}, 0, 30},
		{Filter{Verdict: "blocked"}, 5, 5}, {Filter{Verdict: "blocked"}, 50, 10},
		{Filter{Node: "nowhere.example.com"}, 10, 0},
		// Two summary columns and whole hours: counted from the summaries.
		{Filter{Node: nodes[0], Verdict: verdicts[0]}, 5, 5}, {Filter{Node: nodes[0], Verdict: verdicts[0]}, 50, 10},
		{Filter{Node: nodes[0], Verdict: verdicts[0], Since: hourStart, Until: hourStart.Add(time.Hour)}, 50, 10},
		{Filter{Node: nodes[0], Verdict: verdicts[0], Since: hourStart.Add(time.Hour)}, 50, 0},
		// Not whole hours, or an agent: counted from the results.
		{Filter{Node: nodes[0], Verdict: verdicts[0], Since: base.Add(15 * time.Second)}, 50, 5},
		{Filter{Node: nodes[0], Verdict: verdicts[0], AgentID: "agent1"}, 50, 2},
		{Filter{Node: nodes[0], Verdict: verdicts[0], AgentID: agents[3]}, 50, 3},
	} {
		if n, err := s.CountResultsUpTo(ctx, c.f, c.upTo); err != nil || n != c.want {
			t.Errorf("CountResultsUpTo(%+v, %d) = %d (%v), want %d", c.f, c.upTo, n, err, c.want)
		}
	}
}

func testSummaryRetention(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	r := func(at time.Time, node string) Result {
		x := sampleResult(0)
		x.ReceivedAt, x.Node = at, node
		return x
	}
	hour := time.Unix(hourOf(base), 0).UTC()
	ids := add(t, s, r(hour.Add(-2*time.Hour), "gone.example.com"), r(hour.Add(-50*time.Minute), "kept.example.com"),
		r(hour.Add(-30*time.Minute), "kept.example.com"), r(hour.Add(10*time.Minute), "kept.example.com"))
	d := sampleDiagnosis(ids[0], 0)
	d.CreatedAt = hour.Add(-2 * time.Hour)
	addDiagnosis(t, s, d)
	if n, err := s.DeleteBefore(ctx, hour.Add(-45*time.Minute)); err != nil || n != 2 {
		t.Fatalf("DeleteBefore: %d, %v", n, err)
	}
	sum := summary(t, s, hour.Add(-3*time.Hour))
	var hours []string
	for _, c := range sum.Counts {
		hours = append(hours, fmt.Sprintf("%s %s %d", c.Hour.Format("15:04"), c.Node, c.N))
	}
	// Summaries keep whole hours: the cutoff's hour still counts the result deleted from it.
	if want := []string{hour.Add(-time.Hour).Format("15:04") + " kept.example.com 2", hour.Format("15:04") + " kept.example.com 1"}; !slices.Equal(hours, want) {
		t.Fatalf("counts after retention %q, want %q", hours, want)
	}
	if len(sum.Latest) != 1 || sum.Latest[0].Node != "kept.example.com" {
		t.Fatalf("latest after retention %+v", sum.Latest)
	}
	if len(sum.Reasons) != 0 {
		t.Fatalf("reasons after retention %+v", sum.Reasons)
	}
	if _, err := s.Result(ctx, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

// rawExec runs one statement on the store's database, bypassing the Store interface.
func rawExec(t testing.TB, s Store, query string) {
	t.Helper()
	var err error
	switch s := s.(type) {
	case *sqliteStore:
		_, err = s.writer.ExecContext(ctx, query)
	case *pgStore:
		_, err = s.pool.Exec(ctx, query)
	default:
		t.Fatalf("unknown store %T", s)
	}
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// testSummaryBackfill undoes migrations 3 and later on a store holding results and diagnoses, as
// if it had been written by the version before them; reopening must rebuild the same summaries.
func testSummaryBackfill(t *testing.T, dsn string) {
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rs []Result
	for i := range 200 {
		r := sampleResult(i)
		r.ReceivedAt = base.Add(time.Duration(i*97) * time.Second)
		rs = append(rs, r)
	}
	ids := add(t, s, rs...)
	addDiagnosis(t, s, sampleDiagnosis(ids[3], 1))
	network := sampleDiagnosis(ids[4], 2)
	network.Reason, network.NetworkClass = "", "tls-untrusted"
	addDiagnosis(t, s, network)
	want := summary(t, s, base)
	day := base.Truncate(24 * time.Hour)
	wantDaily := summaryBy(t, s, day, 24*time.Hour)
	for _, q := range []string{"DROP TABLE result_counts", "DROP TABLE latest_results", "DROP TABLE reason_counts",
		"DROP INDEX results_reason", "ALTER TABLE results DROP COLUMN reason", "DROP TABLE result_counts_daily", "DROP TABLE admin_sessions", "DROP TABLE api_tokens",
		"ALTER TABLE settings DROP COLUMN version", "DROP TABLE cases",
		"DROP TABLE alert_deliveries", "DROP TABLE incidents", "DROP TABLE leases", "DROP INDEX results_source",
		"ALTER TABLE results DROP COLUMN source",
		"DELETE FROM schema_version WHERE version >= 3"} {
		rawExec(t, s, q)
	}
	s.Close()

	s = open(t, dsn, Options{})
	if got := summary(t, s, base); !reflect.DeepEqual(got, want) {
		t.Fatalf("backfilled summary\n got %+v\nwant %+v", got, want)
	}
	if got := summaryBy(t, s, day, 24*time.Hour); !reflect.DeepEqual(got, wantDaily) || len(got.Counts) == 0 {
		t.Fatalf("backfilled daily summary\n got %+v\nwant %+v", got, wantDaily)
	}
	if r, err := s.Result(ctx, ids[4]); err != nil || r.Reason != "tls-untrusted" {
		t.Fatalf("backfilled reason %q, %v", r.Reason, err)
	}
}

// testTimeOrder: lists are newest first by the time the service received a result, not by id
// (two instances on one PostgreSQL commit out of time order), and pages with ties in time
// still list every result once.
func testTimeOrder(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	var rs []Result
	for i := range 250 {
		r := sampleResult(i)
		r.ReceivedAt = base.Add(time.Duration((i*37)%50) * time.Second) // ties, out of id order
		rs = append(rs, r)
	}
	ids := add(t, s, rs...)
	want := make([]Cursor, len(rs))
	for i, r := range rs {
		want[i] = Cursor{ReceivedAt: r.ReceivedAt.Truncate(time.Microsecond).UTC(), ID: ids[i]}
	}
	slices.SortFunc(want, func(a, b Cursor) int { return cmp.Or(b.ReceivedAt.Compare(a.ReceivedAt), cmp.Compare(b.ID, a.ID)) })
	for _, limit := range []int{1, 7, 1000} {
		var got []Cursor
		f := Filter{Limit: limit}
		for {
			page, err := s.Results(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				got = append(got, r.Cursor())
			}
			if len(page) < limit {
				break
			}
			f.Before = page[len(page)-1].Cursor()
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("pages of %d: %d results in the wrong order", limit, len(got))
		}
	}
}

// testFailingSince: how long a node has failed for an origin, from its hours by verdict.
func testFailingSince(t *testing.T, dsn string) {
	s := open(t, dsn, Options{})
	hour := time.Unix(hourOf(base), 0).UTC()
	at := func(h int, node, verdict string) Result {
		r := sampleResult(0)
		r.ReceivedAt, r.Node, r.Verdict = hour.Add(time.Duration(h)*time.Hour+time.Minute), node, verdict
		return r
	}
	add(t, s,
		// Worked, then failed from hour 3 on (with an unreachable hour in between).
		at(0, "upgraded.example.com", "allowed"), at(2, "upgraded.example.com", "allowed"),
		at(3, "upgraded.example.com", "blocked"), at(4, "upgraded.example.com", "unreachable"),
		at(5, "upgraded.example.com", "blocked"),
		// Never worked.
		at(1, "never.example.com", "blocked"), at(4, "never.example.com", "blocked"),
		// Fails now and then.
		at(1, "flaky.example.com", "blocked"), at(4, "flaky.example.com", "allowed"), at(4, "flaky.example.com", "blocked"),
		// Works.
		at(1, "fine.example.com", "blocked"), at(5, "fine.example.com", "allowed"))
	got := map[string]string{}
	for _, l := range summary(t, s, hour.Add(4*time.Hour)).Latest { // the window does not matter
		got[l.Node] = fmt.Sprintf("%s %v", l.FailingSince.Format("15:04"), l.AllowedBefore)
	}
	zero := time.Time{}.Format("15:04")
	want := map[string]string{
		"upgraded.example.com": hour.Add(3*time.Hour).Format("15:04") + " true",
		"never.example.com":    hour.Add(time.Hour).Format("15:04") + " false",
		"flaky.example.com":    zero + " false",
		"fine.example.com":     zero + " false",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("failing since %v, want %v", got, want)
	}
	if _, err := s.Summary(ctx, base, 90*time.Minute, ""); err == nil {
		t.Fatal("a step of 90 minutes was accepted")
	}
}
