package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The dashboard asks "how is every node doing for every origin" over a window of hours or days.
// Counting that from the results table costs as much as the table is big; instead every commit
// adds its results to three small tables in the same transaction (so they are exactly as
// durable as the results), and the dashboard reads only those:
//
//   - result_counts: results per hour, target node, page origin, verdict and source, and the
//     same per UTC day in result_counts_daily, for long windows;
//   - latest_results: the newest result's time and verdict per target node, page origin and
//     source;
//   - reason_counts: diagnosed failures per hour, reason, target node and source.
//
// A commit first sums its rows in memory, so a burst of a thousand results from the same
// desktops costs a handful of upserts. Rows carry a shard: concurrent PostgreSQL writers add to
// different rows and never wait for each other's commit; readers sum the shards.

// Count is how many results one target node gave one page origin with one verdict in one period.
type Count struct {
	Hour       time.Time // the period's start, UTC
	TargetKind string
	Node       string
	PageOrigin string
	Verdict    string
	N          int64
}

// Latest is the newest result of a target node for a page origin.
type Latest struct {
	TargetKind string
	Node       string
	PageOrigin string
	ReceivedAt time.Time
	Verdict    string
	// For a failing node and origin: the first hour with a failure after the last hour with an
	// allowed result (AllowedBefore), or after none at all (the first failure kept). Zero
	// when the newest hour with a failure also had an allowed result: an intermittent failure.
	FailingSince  time.Time
	AllowedBefore bool
}

// ReasonCount is how many failures of a target node the service diagnosed with one reason.
type ReasonCount struct {
	Reason     string // a DevTools CorsError name, or a network class
	TargetKind string
	Node       string
	N          int64
}

// Summary is what the dashboard shows for the hours from Since (rounded down to the hour) on.
type Summary struct {
	Since   time.Time
	Step    time.Duration // the periods of Counts
	Counts  []Count       // by period, then node and origin
	Latest  []Latest      // every node and origin ever seen (within retention)
	Reasons []ReasonCount // most frequent first
}

// ReasonOf is the reason a diagnosis gives a result: the DevTools reason, or the network class
// when the check got no HTTP answer; empty when it found nothing wrong.
func ReasonOf(d *Diagnosis) string {
	if d.Reason != "" {
		return d.Reason
	}
	return d.NetworkClass
}

func hourOf(t time.Time) int64 { return t.Unix() - t.Unix()%3600 }

// day is a UTC day in seconds.
const day = 24 * 3600

type countKey struct {
	hour                                          int64
	targetKind, node, pageOrigin, verdict, source string
}

type cellKey struct{ targetKind, node, pageOrigin, source string }

// summaryDelta is what one commit adds to the summary tables.
type summaryDelta struct {
	counts   map[countKey]int64
	latest   map[cellKey]Result // ReceivedAt and Verdict of the newest
	reasonOf []resultReason
}

// resultReason is a diagnosis of a result: the result gets its reason, and reason_counts counts
// it under the result's source, which the statement reads from the result itself.
type resultReason struct {
	id               int64
	reason           string
	hour             int64
	targetKind, node string
}

func deltaOf(ws []*write) summaryDelta {
	d := summaryDelta{counts: map[countKey]int64{}, latest: map[cellKey]Result{}}
	for _, w := range ws {
		if diag := w.diagnosis; diag != nil {
			reason := ReasonOf(diag)
			if diag.ResultID == 0 || reason == "" {
				continue
			}
			d.reasonOf = append(d.reasonOf, resultReason{diag.ResultID, reason, hourOf(diag.CreatedAt), diag.Kind, diag.Node})
			continue
		}
		for i := range w.results {
			r := &w.results[i]
			source := r.sourceOf()
			d.counts[countKey{hourOf(r.ReceivedAt), r.TargetKind, r.Node, r.PageOrigin, r.Verdict, source}]++
			c := cellKey{r.TargetKind, r.Node, r.PageOrigin, source}
			if old, ok := d.latest[c]; !ok || !r.ReceivedAt.Before(old.ReceivedAt) {
				d.latest[c] = Result{ReceivedAt: r.ReceivedAt, Verdict: r.Verdict}
			}
		}
	}
	return d
}

// statement is one SQL statement with its arguments.
type statement struct {
	sql  string
	args []any
}

// upsert is a multi-row INSERT … ON CONFLICT of one summary table: its head up to VALUES, its
// tail from ON CONFLICT, and how many values a row has. One statement per table and commit,
// however many keys, keeps a commit's summary work to a few statements.
type upsert struct {
	head, tail string
	arity      int
}

var (
	addCounts = upsert{`INSERT INTO result_counts (hour, target_kind, node, page_origin, verdict, source, shard, n) VALUES `,
		` ON CONFLICT (hour, target_kind, node, page_origin, verdict, source, shard) DO UPDATE SET n = result_counts.n + excluded.n`, 8}
	addDailyCounts = upsert{`INSERT INTO result_counts_daily (day, target_kind, node, page_origin, verdict, source, shard, n) VALUES `,
		` ON CONFLICT (day, target_kind, node, page_origin, verdict, source, shard) DO UPDATE SET n = result_counts_daily.n + excluded.n`, 8}
	putLatest = upsert{`INSERT INTO latest_results (target_kind, node, page_origin, source, shard, received_at, verdict) VALUES `,
		` ON CONFLICT (target_kind, node, page_origin, source, shard) DO UPDATE
		SET received_at = excluded.received_at, verdict = excluded.verdict
		WHERE excluded.received_at >= latest_results.received_at`, 7}
)

const setReasonSQL = `UPDATE results SET reason = $1 WHERE id = $2`

// addReasonSQL counts one diagnosed failure under the source of the result it explains.
const addReasonSQL = `INSERT INTO reason_counts (hour, reason, target_kind, node, source, shard, n)
	SELECT $1, $2, $3, $4, source, $5, 1 FROM results WHERE id = $6
	ON CONFLICT (hour, reason, target_kind, node, source, shard) DO UPDATE SET n = reason_counts.n + excluded.n`

// upsertChunk bounds the rows of one statement: 500 × 7 parameters stays far below both
// backends' limits.
const upsertChunk = 500

// statements returns rows (each of u.arity values, keys distinct) as few statements.
func (u upsert) statements(rows [][]any) []statement {
	var out []statement
	for start := 0; start < len(rows); start += upsertChunk {
		chunk := rows[start:min(start+upsertChunk, len(rows))]
		var b strings.Builder
		b.WriteString(u.head)
		args := make([]any, 0, len(chunk)*u.arity)
		for i, row := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(placeholders(1+i*u.arity, u.arity))
			args = append(args, row...)
		}
		b.WriteString(u.tail)
		out = append(out, statement{b.String(), args})
	}
	return out
}

// statements returns the delta as SQL for shard, in one fixed order (table by table, keys
// sorted), so concurrent transactions lock rows in the same order and cannot deadlock.
// timeArg converts a time to the backend's column type.
func (d summaryDelta) statements(shard int, timeArg func(time.Time) any) []statement {
	var out []statement
	slices.SortFunc(d.reasonOf, func(a, b resultReason) int { return cmp.Compare(a.id, b.id) })
	for _, r := range d.reasonOf {
		out = append(out, statement{setReasonSQL, []any{r.reason, r.id}})
	}
	var rows [][]any
	for _, k := range sortedKeys(d.counts, compareCountKeys) {
		rows = append(rows, []any{k.hour, k.targetKind, k.node, k.pageOrigin, k.verdict, k.source, shard, d.counts[k]})
	}
	out = append(out, addCounts.statements(rows)...)
	daily := map[countKey]int64{}
	for k, n := range d.counts {
		k.hour -= k.hour % day
		daily[k] += n
	}
	rows = rows[:0]
	for _, k := range sortedKeys(daily, compareCountKeys) {
		rows = append(rows, []any{k.hour, k.targetKind, k.node, k.pageOrigin, k.verdict, k.source, shard, daily[k]})
	}
	out = append(out, addDailyCounts.statements(rows)...)
	rows = rows[:0]
	for _, k := range sortedKeys(d.latest, func(a, b cellKey) int {
		return cmp.Or(cmp.Compare(a.targetKind, b.targetKind), cmp.Compare(a.node, b.node), cmp.Compare(a.pageOrigin, b.pageOrigin),
			cmp.Compare(a.source, b.source))
	}) {
		l := d.latest[k]
		rows = append(rows, []any{k.targetKind, k.node, k.pageOrigin, k.source, shard, timeArg(l.ReceivedAt), l.Verdict})
	}
	out = append(out, putLatest.statements(rows)...)
	// In the order of their keys, as the other tables (the source comes last in the key, and
	// a result has one).
	slices.SortFunc(d.reasonOf, func(a, b resultReason) int {
		return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.reason, b.reason), cmp.Compare(a.targetKind, b.targetKind),
			cmp.Compare(a.node, b.node), cmp.Compare(a.id, b.id))
	})
	for _, r := range d.reasonOf {
		out = append(out, statement{addReasonSQL, []any{r.hour, r.reason, r.targetKind, r.node, shard, r.id}})
	}
	return out
}

func compareCountKeys(a, b countKey) int {
	return cmp.Or(cmp.Compare(a.hour, b.hour), cmp.Compare(a.targetKind, b.targetKind), cmp.Compare(a.node, b.node),
		cmp.Compare(a.pageOrigin, b.pageOrigin), cmp.Compare(a.verdict, b.verdict), cmp.Compare(a.source, b.source))
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}

// The summary queries, the same on both backends; shards and sources are summed here or in
// reduceLatest. Each %s is where bySource puts the condition on one source.
const (
	countsSQL = `SELECT (hour / $2) * $2 AS period, target_kind, node, page_origin, verdict, sum(n) FROM result_counts
		WHERE hour >= $1%s GROUP BY period, target_kind, node, page_origin, verdict
		ORDER BY period, target_kind, node, page_origin, verdict`
	dailyCountsSQL = `SELECT (day / $2) * $2 AS period, target_kind, node, page_origin, verdict, sum(n) FROM result_counts_daily
		WHERE day >= $1%s GROUP BY period, target_kind, node, page_origin, verdict
		ORDER BY period, target_kind, node, page_origin, verdict`
	// failingSinceSQL returns the first hour with a failure after the last hour with an allowed
	// result, and that last allowed hour (NULLs when there are none), of one node and origin.
	failingSinceSQL = `SELECT
		(SELECT min(hour) FROM result_counts WHERE target_kind = $1 AND node = $2 AND page_origin = $3
			AND verdict <> 'allowed' AND hour > coalesce(a.last, -1)%[1]s),
		a.last
		FROM (SELECT max(hour) AS last FROM result_counts
			WHERE target_kind = $1 AND node = $2 AND page_origin = $3 AND verdict = 'allowed'%[1]s) AS a`
	latestSQL  = `SELECT target_kind, node, page_origin, received_at, verdict FROM latest_results WHERE 1 = 1%s`
	reasonsSQL = `SELECT reason, target_kind, node, sum(n) FROM reason_counts WHERE hour >= $1%s
		GROUP BY reason, target_kind, node`
)

// bySource completes query, whose args are given, with the condition on source: none for
// every source ("").
func bySource(query, source string, args ...any) (string, []any) {
	if source == "" {
		return fmt.Sprintf(query, ""), args
	}
	return fmt.Sprintf(query, fmt.Sprintf(" AND source = $%d", len(args)+1)), append(args, source)
}

// pruneSummary returns the statements that delete summary rows older than retention keeps:
// hours that ended before the cutoff, and nodes and origins with no result since.
func pruneSummary(cutoff time.Time, timeArg func(time.Time) any) []statement {
	hour := hourOf(cutoff)
	return []statement{
		{`DELETE FROM result_counts WHERE hour < $1`, []any{hour}},
		{`DELETE FROM result_counts_daily WHERE day < $1`, []any{hour - hour%day}},
		{`DELETE FROM reason_counts WHERE hour < $1`, []any{hour}},
		{`DELETE FROM latest_results WHERE received_at < $1`, []any{timeArg(cutoff)}},
	}
}

// reduceLatest keeps the newest row of every node and origin across shards (and sources).
func reduceLatest(rows []Latest) []Latest {
	newest := map[cellKey]int{}
	out := rows[:0]
	for _, l := range rows {
		k := cellKey{l.TargetKind, l.Node, l.PageOrigin, ""}
		if i, ok := newest[k]; ok {
			if l.ReceivedAt.After(out[i].ReceivedAt) {
				out[i] = l
			}
			continue
		}
		newest[k] = len(out)
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Latest) int {
		return cmp.Or(cmp.Compare(a.TargetKind, b.TargetKind), cmp.Compare(a.Node, b.Node), cmp.Compare(a.PageOrigin, b.PageOrigin))
	})
	return out
}

// sortReasons orders the most frequent first, then by name, so the page is stable.
func sortReasons(rs []ReasonCount) {
	slices.SortFunc(rs, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.TargetKind, b.TargetKind),
			cmp.Compare(a.Node, b.Node))
	})
}

// summarize reads the summary through q (a query on the backend's read pool, returning the rows
// and their close), with timeDest and timeFrom scanning the backend's time column.
func summarize(ctx context.Context, q func(ctx context.Context, sql string, args ...any) (rows, func(), error),
	timeFrom func(v any) time.Time, timeDest func() any, since time.Time, step time.Duration, source string) (Summary, error) {
	if step < time.Hour || step%time.Hour != 0 {
		return Summary{}, fmt.Errorf("store: summary step %s is not a whole number of hours", step)
	}
	s := Summary{Since: time.Unix(hourOf(since), 0).UTC(), Step: step}
	hour := hourOf(since)

	counts := countsSQL
	if step%(24*time.Hour) == 0 && hour%day == 0 {
		counts = dailyCountsSQL // whole days from the start of one: the daily counts are exact
	}
	query, args := bySource(counts, source, hour, int64(step/time.Second))
	rs, done, err := q(ctx, query, args...)
	if err != nil {
		return Summary{}, err
	}
	s.Counts, err = collect(rs, func(r scanner) (Count, error) {
		var c Count
		var h int64
		err := r.Scan(&h, &c.TargetKind, &c.Node, &c.PageOrigin, &c.Verdict, &c.N)
		c.Hour = time.Unix(h, 0).UTC()
		return c, err
	}, 256)
	done()
	if err != nil {
		return Summary{}, err
	}

	query, args = bySource(latestSQL, source)
	rs, done, err = q(ctx, query, args...)
	if err != nil {
		return Summary{}, err
	}
	latest, err := collect(rs, func(r scanner) (Latest, error) {
		var l Latest
		at := timeDest()
		err := r.Scan(&l.TargetKind, &l.Node, &l.PageOrigin, at, &l.Verdict)
		l.ReceivedAt = timeFrom(at)
		return l, err
	}, 64)
	done()
	if err != nil {
		return Summary{}, err
	}
	s.Latest = reduceLatest(latest)
	for i := range s.Latest {
		l := &s.Latest[i]
		if l.Verdict == "allowed" {
			continue
		}
		query, args := bySource(failingSinceSQL, source, l.TargetKind, l.Node, l.PageOrigin)
		rs, done, err := q(ctx, query, args...)
		if err != nil {
			return Summary{}, err
		}
		var first, lastAllowed *int64
		if rs.Next() {
			err = rs.Scan(&first, &lastAllowed)
		}
		if err == nil {
			err = rs.Err()
		}
		done()
		if err != nil {
			return Summary{}, err
		}
		if first != nil {
			l.FailingSince, l.AllowedBefore = time.Unix(*first, 0).UTC(), lastAllowed != nil
		}
	}

	query, args = bySource(reasonsSQL, source, hour)
	rs, done, err = q(ctx, query, args...)
	if err != nil {
		return Summary{}, err
	}
	s.Reasons, err = collect(rs, func(r scanner) (ReasonCount, error) {
		var c ReasonCount
		err := r.Scan(&c.Reason, &c.TargetKind, &c.Node, &c.N)
		return c, err
	}, 32)
	done()
	if err != nil {
		return Summary{}, err
	}
	sortReasons(s.Reasons)
	return s, nil
}
