package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// The SQL below runs unchanged on both backends: modernc's SQLite driver gives $N the
// PostgreSQL meaning (the N-th argument).

const resultColumns = `id, received_at, client_time, client_addr, gadget_version, page_origin,
	target_kind, node, url, method, header_names, credentials, verdict, browser_error,
	duration_ms, user_agent, agent_id, extension, role, source, reason`

const diagnosisColumns = `id, result_id, created_at, url, origin, kind, node, verdict, reason,
	failed_parameter, network_class, report`

// resultInsertColumns is resultColumns without id; resultArgs lists values in this order.
const resultInsertColumns = `received_at, client_time, client_addr, gadget_version, page_origin,
	target_kind, node, url, method, header_names, credentials, verdict, browser_error,
	duration_ms, user_agent, agent_id, extension, role, source`

const resultInsertArity = 19

const diagnosisInsertColumns = `result_id, created_at, url, origin, kind, node, verdict, reason,
	failed_parameter, network_class, report`

// placeholders returns "($first, …, $first+n-1)".
func placeholders(first, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", first+i)
	}
	b.WriteByte(')')
	return b.String()
}

// where renders f's conditions; timeArg converts a time to the backend's column type. With
// keyset, the Before cursor is included.
func where(f Filter, keyset bool, timeArg func(time.Time) any) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if !f.Since.IsZero() {
		add("received_at >= $%d", timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add("received_at < $%d", timeArg(f.Until))
	}
	// Equality filters, the most selective column first. Only the first present one may use
	// its index: the others are written as "column || ''", which no index serves, so the
	// plan does not depend on statistics the database may not have (SQLite without ANALYZE
	// chose the target kind's index for a dashboard cell, reading every CUIC node's rows).
	indexed := false
	for _, eq := range []struct{ column, value string }{
		{"agent_id", f.AgentID},
		{"reason", f.Reason},
		{"node", f.Node},
		{"page_origin", f.PageOrigin},
		{"verdict", f.Verdict},
		{"target_kind", f.TargetKind},
		{"source", f.Source},
	} {
		switch {
		case eq.value == "":
		case indexed:
			add(eq.column+" || '' = $%d", eq.value)
		default:
			add(eq.column+" = $%d", eq.value)
			indexed = true
		}
	}
	if keyset && !f.Before.IsZero() {
		args = append(args, timeArg(f.Before.ReceivedAt), f.Before.ID)
		conds = append(conds, fmt.Sprintf("(received_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func resultsQuery(f Filter, timeArg func(time.Time) any) (string, []any) {
	w, args := where(f, true, timeArg)
	return fmt.Sprintf("SELECT %s FROM results%s ORDER BY received_at DESC, id DESC LIMIT %d", resultColumns, w, f.limit()), args
}

// countQuery counts the results matching f; with upTo > 0 it stops there (the caller caps
// the count at upTo: from the summaries it may be more).
func countQuery(f Filter, upTo int64, timeArg func(time.Time) any) (string, []any) {
	if upTo > 0 {
		if q, args, ok := summaryCount(f); ok {
			return q, args
		}
	}
	w, args := where(f, false, timeArg)
	if upTo > 0 {
		return fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM results%s LIMIT %d) AS matching", w, upTo), args
	}
	return "SELECT count(*) FROM results" + w, args
}

// summaryCount counts from result_counts when that is exact and cheaper than reading up to
// upTo index entries. Exact: the filter uses only the summary's columns and whole hours.
// Cheaper: two or more of those columns, where the results' indexes, which cover one column
// and the time, would make every candidate a row lookup. (A dashboard cell's results are
// kind, node and origin since an hour.) After retention the hour of the cut still counts the
// results deleted from it, as on the dashboard.
func summaryCount(f Filter) (string, []any, bool) {
	aligned := func(t time.Time) bool { return t.IsZero() || t.Equal(time.Unix(hourOf(t), 0)) }
	if f.AgentID != "" || f.Reason != "" || !aligned(f.Since) || !aligned(f.Until) {
		return "", nil, false
	}
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	for _, eq := range []struct{ column, value string }{
		{"target_kind", f.TargetKind}, {"node", f.Node}, {"page_origin", f.PageOrigin}, {"verdict", f.Verdict},
		{"source", f.Source},
	} {
		if eq.value != "" {
			add(eq.column+" = $%d", eq.value)
		}
	}
	if len(conds) < 2 {
		return "", nil, false
	}
	if !f.Since.IsZero() {
		add("hour >= $%d", f.Since.Unix())
	}
	if !f.Until.IsZero() {
		add("hour < $%d", f.Until.Unix())
	}
	return "SELECT coalesce(sum(n), 0) FROM result_counts WHERE " + strings.Join(conds, " AND "), args, true
}

// All pages through every result matching f, newest first, f.Limit at a time (default 1000).
// For tests and tools: an admin page reads one page.
func All(ctx context.Context, s Store, f Filter) ([]Result, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var all []Result
	for {
		page, err := s.Results(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.limit() {
			return all, nil
		}
		f.Before = page[len(page)-1].Cursor()
	}
}

// retention deletes results older than keep, at start and then every hour, until stop.
type retention struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startRetention(s Store, keep time.Duration, log *slog.Logger) *retention {
	ctx, cancel := context.WithCancel(context.Background())
	r := &retention{cancel: cancel}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(retentionEvery)
		defer t.Stop()
		for {
			cutoff := time.Now().Add(-keep)
			n, err := s.DeleteBefore(ctx, cutoff)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				log.Error("store: retention", "before", cutoff, "err", err)
			case n > 0:
				log.Info("store: retention deleted old results", "before", cutoff, "results", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return r
}

func (r *retention) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.done.Wait()
}

// scanner is one row of either driver.
type scanner interface{ Scan(dest ...any) error }

// rows is what both drivers' result sets offer.
type rows interface {
	scanner
	Next() bool
	Err() error
}

// collect scans every row with scan; the caller closes rs.
func collect[T any](rs rows, scan func(scanner) (T, error), capacity int) ([]T, error) {
	out := make([]T, 0, capacity)
	for rs.Next() {
		v, err := scan(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rs.Err()
}
