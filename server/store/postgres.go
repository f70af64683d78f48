package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgStore uses the same group commit as SQLite, with several writer goroutines: PostgreSQL
// takes concurrent transactions, and one group's commit (its WAL fsync) then overlaps the
// next group's statements. Each group is one pipelined pgx.Batch, so one round trip and one
// implicit transaction however many callers it answers.
type pgStore struct {
	queued
	portable
	pool      *pgxpool.Pool
	shards    atomic.Uint32 // round-robin shard of the summary rows a commit adds to
	retention *retention
	closeOnce sync.Once
}

const (
	// pgChunk rows per INSERT: 500 × 19 parameters stays well below PostgreSQL's 65535.
	pgChunk = 500
	// migrationLock is the pg_advisory_lock key that serialises migrations when several
	// instances start at once ("cors" in ASCII).
	migrationLock int64 = 0x636f7273
	// pgShards is how many rows of each summary key concurrent commits spread over.
	pgShards = 16
)

func openPostgres(ctx context.Context, dsn string, opts Options) (Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included.
		return nil, errors.New("store: invalid PostgreSQL connection string")
	}
	where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	// pgxpool.New connects lazily: fail now, not at the first result.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	s := &pgStore{pool: pool, portable: portable{pgDB{pool}}}
	// Half the pool writes, so reads for the admin pages always find a connection.
	writers := max(1, int(cfg.MaxConns)/2)
	if opts.pgWriters != 0 {
		writers = opts.pgWriters
	}
	if writers < 0 {
		s.direct = s.commit
	} else {
		s.commits = newGroupCommit(writers, opts.MaxBatch, s.commit)
	}
	if opts.Retention > 0 {
		s.retention = startRetention(s, opts.Retention, opts.Logger)
	}
	return s, nil
}

func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations("postgres")
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// A session lock, held across all migrations: instances starting together take turns, and
	// each then finds what the others applied.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return err
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
			// The lock lives as long as the session: end it rather than pool a locked connection.
			conn.Conn().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	var newest int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&newest); err != nil {
		return err
	}
	if known := ms[len(ms)-1].version; newest > known {
		return fmt.Errorf("database schema version %d is newer than this program's (%d)", newest, known)
	}
	for _, m := range ms {
		if m.version <= newest {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

var pgInsertResults sync.Map // rows → INSERT statement

// pgInsertResultsSQL returns a multi-row INSERT of n results returning their ids.
func pgInsertResultsSQL(n int) string {
	if q, ok := pgInsertResults.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO results (" + resultInsertColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(placeholders(1+i*resultInsertArity, resultInsertArity))
	}
	b.WriteString(" RETURNING id")
	pgInsertResults.Store(n, b.String())
	return b.String()
}

var pgInsertDiagnosis = "INSERT INTO diagnoses (" + diagnosisInsertColumns + ") VALUES " + placeholders(1, 11) + " RETURNING id"

// commit writes ws as one pipelined batch, which PostgreSQL runs as one implicit transaction.
func (s *pgStore) commit(ctx context.Context, ws []*write) error {
	b := &pgx.Batch{}
	statements := make([]int, len(ws)) // how many queued statements return ws[i]'s ids
	for i, w := range ws {
		if d := w.diagnosis; d != nil {
			b.Queue(pgInsertDiagnosis, nullID(d.ResultID), d.CreatedAt, d.URL, d.Origin, d.Kind, d.Node,
				d.Verdict, d.Reason, d.FailedParameter, d.NetworkClass, nullBytes(d.Report))
			statements[i] = 1
			continue
		}
		for start := 0; start < len(w.results); start += pgChunk {
			chunk := w.results[start:min(start+pgChunk, len(w.results))]
			args := make([]any, 0, len(chunk)*resultInsertArity)
			for j := range chunk {
				r := &chunk[j]
				headers := r.HeaderNames
				if headers == nil {
					headers = []string{}
				}
				args = append(args, r.ReceivedAt, pgNullTime(r.ClientTime), r.ClientAddr, r.GadgetVersion,
					r.PageOrigin, r.TargetKind, r.Node, r.URL, r.Method, headers, r.Credentials, r.Verdict,
					r.BrowserError, r.DurationMs, r.UserAgent, r.AgentID, r.Extension, r.Role, r.sourceOf())
			}
			b.Queue(pgInsertResultsSQL(len(chunk)), args...)
			statements[i]++
		}
	}
	summary := deltaOf(ws).statements(int(s.shards.Add(1)%pgShards), pgTime)
	for _, st := range summary {
		b.Queue(st.sql, st.args...)
	}
	br := s.pool.SendBatch(ctx, b)
	err := readIDs(br, ws, statements)
	for range summary {
		if err != nil {
			break
		}
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr // the implicit transaction's commit is only known here
	}
	if err != nil {
		for _, w := range ws {
			w.ids = nil
		}
	}
	return err
}

func readIDs(br pgx.BatchResults, ws []*write, statements []int) error {
	for i, w := range ws {
		w.ids = make([]int64, 0, w.rows())
		for range statements[i] {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				w.ids = append(w.ids, id)
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		// The identity default runs row by row in VALUES order, so the i-th row has the i-th
		// smallest id whatever order RETURNING lists them in.
		slices.Sort(w.ids)
		if len(w.ids) != w.rows() {
			return fmt.Errorf("store: inserted %d rows but got %d ids", w.rows(), len(w.ids))
		}
	}
	return nil
}

func pgNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func pgTime(t time.Time) any { return t }

func scanPGResult(row scanner) (Result, error) {
	var r Result
	var client *time.Time
	err := row.Scan(&r.ID, &r.ReceivedAt, &client, &r.ClientAddr, &r.GadgetVersion, &r.PageOrigin,
		&r.TargetKind, &r.Node, &r.URL, &r.Method, &r.HeaderNames, &r.Credentials, &r.Verdict, &r.BrowserError,
		&r.DurationMs, &r.UserAgent, &r.AgentID, &r.Extension, &r.Role, &r.Source, &r.Reason)
	if err != nil {
		return Result{}, err
	}
	r.ReceivedAt = r.ReceivedAt.UTC()
	if client != nil {
		r.ClientTime = client.UTC()
	}
	if r.HeaderNames == nil {
		r.HeaderNames = []string{}
	}
	return r, nil
}

func (s *pgStore) Results(ctx context.Context, f Filter) ([]Result, error) {
	query, args := resultsQuery(f, pgTime)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, scanPGResult, min(f.limit(), 128))
}

func (s *pgStore) Result(ctx context.Context, id int64) (Result, error) {
	r, err := scanPGResult(s.pool.QueryRow(ctx, "SELECT "+resultColumns+" FROM results WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, ErrNotFound
	}
	return r, err
}

func (s *pgStore) Diagnoses(ctx context.Context, resultID int64) ([]Diagnosis, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT "+diagnosisColumns+" FROM diagnoses WHERE result_id = $1 ORDER BY id DESC", resultID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, scanPGDiagnosis, 4)
}

func scanPGDiagnosis(row scanner) (Diagnosis, error) {
	var d Diagnosis
	var result *int64
	if err := row.Scan(&d.ID, &result, &d.CreatedAt, &d.URL, &d.Origin, &d.Kind, &d.Node, &d.Verdict,
		&d.Reason, &d.FailedParameter, &d.NetworkClass, &d.Report); err != nil {
		return Diagnosis{}, err
	}
	if result != nil {
		d.ResultID = *result
	}
	d.CreatedAt = d.CreatedAt.UTC()
	return d, nil
}

func (s *pgStore) CountResults(ctx context.Context, f Filter) (int64, error) {
	return s.CountResultsUpTo(ctx, f, 0)
}

func (s *pgStore) CountResultsUpTo(ctx context.Context, f Filter, upTo int64) (int64, error) {
	query, args := countQuery(f, upTo, pgTime)
	var n int64
	err := s.pool.QueryRow(ctx, query, args...).Scan(&n)
	if upTo > 0 {
		n = min(n, upTo)
	}
	return n, err
}

func (s *pgStore) Summary(ctx context.Context, since time.Time, step time.Duration, source string) (Summary, error) {
	return summarize(ctx, func(ctx context.Context, query string, args ...any) (rows, func(), error) {
		rs, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, nil, err
		}
		return rs, rs.Close, nil
	}, func(v any) time.Time { return v.(*time.Time).UTC() }, func() any { return new(time.Time) }, since, step, source)
}

// DeleteBefore deletes in chunks, so no transaction holds millions of row locks.
func (s *pgStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := deleteInChunks(ctx, func(ctx context.Context, query string) (int64, error) {
		tag, err := s.pool.Exec(ctx, query, t, deleteChunk)
		return tag.RowsAffected(), err
	})
	if err != nil {
		return n, err
	}
	for _, st := range pruneSummary(t, pgTime) {
		if _, err := s.pool.Exec(ctx, st.sql, st.args...); err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *pgStore) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

func (s *pgStore) Close() error {
	s.closeOnce.Do(func() {
		s.retention.stop()
		if s.commits != nil {
			s.commits.close()
		}
		s.pool.Close()
	})
	return nil
}
