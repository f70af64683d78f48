package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteFile is the database's name inside the data directory.
const sqliteFile = "corscheck.db"

// sqliteStore writes through one connection, fed by one group-commit goroutine, so our own
// writes never meet SQLITE_BUSY; reads go through a separate read-only pool, which WAL lets
// run alongside the writer.
//
// Durability: journal_mode=WAL with synchronous=FULL, so a result is acknowledged only once
// its commit is fsynced, and survives kill -9, a kernel crash and a power cut. NORMAL would
// survive only the first, and buys nothing here: with group commit one fsync covers a whole
// burst, and measured with 64 writers on 2 cores NORMAL was no faster (15.5–16.9 k results/s
// against 16.6–20.4 k for FULL: without the fsync wait, groups are smaller). See bench_test.go.
type sqliteStore struct {
	queued
	portable
	writer, readers *sql.DB
	insertResult    *sql.Stmt
	insertDiagnosis *sql.Stmt
	retention       *retention
	closeOnce       sync.Once
	closeErr        error
}

func openSQLite(ctx context.Context, dir string, opts Options) (Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	file, err := filepath.Abs(filepath.Join(dir, sqliteFile))
	if err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	// A URI filename, escaped, so a directory name with '?' or '#' stays a file name.
	name := "file:" + (&url.URL{Path: filepath.ToSlash(file)}).EscapedPath()
	common := "?_busy_timeout=10000&_foreign_keys=1"

	s := &sqliteStore{}
	// _txlock=immediate: a transaction takes the write lock at BEGIN, where busy_timeout
	// applies, rather than failing with SQLITE_BUSY when it first writes (another process
	// holding the file, say a backup tool).
	s.writer, err = sql.Open("sqlite", name+common+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	fail := func(err error) (Store, error) {
		s.closeDBs()
		return nil, fmt.Errorf("store: open %s: %w", file, err)
	}
	if err := s.writer.PingContext(ctx); err != nil {
		return fail(err)
	}
	if err := migrateSQLite(ctx, s.writer); err != nil {
		return fail(err)
	}
	s.readers, err = sql.Open("sqlite", name+common+"&_query_only=1")
	if err != nil {
		return fail(err)
	}
	s.readers.SetMaxOpenConns(max(4, runtime.NumCPU()))
	s.readers.SetMaxIdleConns(max(4, runtime.NumCPU()))
	if err := s.readers.PingContext(ctx); err != nil {
		return fail(err)
	}
	s.insertResult, err = s.writer.PrepareContext(ctx,
		"INSERT INTO results ("+resultInsertColumns+") VALUES "+placeholders(1, resultInsertArity))
	if err != nil {
		return fail(err)
	}
	s.insertDiagnosis, err = s.writer.PrepareContext(ctx,
		"INSERT INTO diagnoses ("+diagnosisInsertColumns+") VALUES "+placeholders(1, 11))
	if err != nil {
		return fail(err)
	}
	s.portable = portable{sqliteDB{writer: s.writer, readers: s.readers}}
	s.commits = newGroupCommit(1, opts.MaxBatch, s.commit)
	if opts.Retention > 0 {
		s.retention = startRetention(s, opts.Retention, opts.Logger)
	}
	return s, nil
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	ms, err := migrations("sqlite")
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return err
	}
	var newest int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&newest); err != nil {
		return err
	}
	if known := ms[len(ms)-1].version; newest > known {
		return fmt.Errorf("database schema version %d is newer than this program's (%d)", newest, known)
	}
	for _, m := range ms {
		if m.version <= newest {
			continue
		}
		if err := applySQLite(ctx, db, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// applySQLite applies m unless another process did so first: the check runs inside the
// migration's write transaction (BEGIN IMMEDIATE), which processes take in turn.
func applySQLite(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_version WHERE version = $1", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// commit writes ws in one transaction; the group-commit goroutine is its only caller.
func (s *sqliteStore) commit(ctx context.Context, ws []*write) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			for _, w := range ws {
				w.ids = nil
			}
		}
	}()
	insertResult := tx.StmtContext(ctx, s.insertResult)
	insertDiagnosis := tx.StmtContext(ctx, s.insertDiagnosis)
	for _, w := range ws {
		w.ids = make([]int64, 0, w.rows())
		var res sql.Result
		if d := w.diagnosis; d != nil {
			if res, err = insertDiagnosis.ExecContext(ctx, sqliteDiagnosisArgs(d)...); err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			w.ids = append(w.ids, id)
			continue
		}
		for i := range w.results {
			args, err := sqliteResultArgs(&w.results[i])
			if err != nil {
				return err
			}
			if res, err = insertResult.ExecContext(ctx, args...); err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			w.ids = append(w.ids, id)
		}
	}
	for _, st := range deltaOf(ws).statements(0, sqliteTime) {
		if _, err = tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Times are stored as Unix microseconds, PostgreSQL's precision.
func sqliteTime(t time.Time) any { return t.UnixMicro() }

func sqliteNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func sqliteResultArgs(r *Result) ([]any, error) {
	headers, err := encodeHeaderNames(r.HeaderNames)
	if err != nil {
		return nil, err
	}
	return []any{
		r.ReceivedAt.UnixMicro(), sqliteNullTime(r.ClientTime), r.ClientAddr, r.GadgetVersion, r.PageOrigin,
		r.TargetKind, r.Node, r.URL, r.Method, headers, r.Credentials, r.Verdict, r.BrowserError,
		r.DurationMs, r.UserAgent, r.AgentID, r.Extension, r.Role, r.sourceOf(),
	}, nil
}

func sqliteDiagnosisArgs(d *Diagnosis) []any {
	return []any{
		nullID(d.ResultID), d.CreatedAt.UnixMicro(), d.URL, d.Origin, d.Kind, d.Node, d.Verdict, d.Reason,
		d.FailedParameter, d.NetworkClass, nullBytes(d.Report),
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullBytes stores an empty report as NULL, so it reads back as nil on both backends.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func encodeHeaderNames(h []string) (string, error) {
	if len(h) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(h)
	return string(b), err
}

// decodeHeaderNames never returns nil, so an API encodes an empty list as [] rather than null.
func decodeHeaderNames(s string) ([]string, error) {
	h := []string{}
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return nil, fmt.Errorf("header_names: %w", err)
	}
	if h == nil {
		h = []string{}
	}
	return h, nil
}

func scanSQLiteResult(row scanner) (Result, error) {
	var r Result
	var received int64
	var client sql.NullInt64
	var headers string
	err := row.Scan(&r.ID, &received, &client, &r.ClientAddr, &r.GadgetVersion, &r.PageOrigin,
		&r.TargetKind, &r.Node, &r.URL, &r.Method, &headers, &r.Credentials, &r.Verdict, &r.BrowserError,
		&r.DurationMs, &r.UserAgent, &r.AgentID, &r.Extension, &r.Role, &r.Source, &r.Reason)
	if err != nil {
		return Result{}, err
	}
	r.ReceivedAt = fromMicros(received)
	if client.Valid {
		r.ClientTime = fromMicros(client.Int64)
	}
	r.HeaderNames, err = decodeHeaderNames(headers)
	return r, err
}

func (s *sqliteStore) Results(ctx context.Context, f Filter) ([]Result, error) {
	query, args := resultsQuery(f, sqliteTime)
	rows, err := s.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, scanSQLiteResult, min(f.limit(), 128))
}

func (s *sqliteStore) Result(ctx context.Context, id int64) (Result, error) {
	r, err := scanSQLiteResult(s.readers.QueryRowContext(ctx, "SELECT "+resultColumns+" FROM results WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Result{}, ErrNotFound
	}
	return r, err
}

func (s *sqliteStore) Diagnoses(ctx context.Context, resultID int64) ([]Diagnosis, error) {
	rows, err := s.readers.QueryContext(ctx,
		"SELECT "+diagnosisColumns+" FROM diagnoses WHERE result_id = $1 ORDER BY id DESC", resultID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return collect(rows, scanSQLiteDiagnosis, 4)
}

func scanSQLiteDiagnosis(row scanner) (Diagnosis, error) {
	var d Diagnosis
	var result sql.NullInt64
	var created int64
	if err := row.Scan(&d.ID, &result, &created, &d.URL, &d.Origin, &d.Kind, &d.Node, &d.Verdict,
		&d.Reason, &d.FailedParameter, &d.NetworkClass, &d.Report); err != nil {
		return Diagnosis{}, err
	}
	d.ResultID = result.Int64
	d.CreatedAt = fromMicros(created)
	return d, nil
}

func (s *sqliteStore) CountResults(ctx context.Context, f Filter) (int64, error) {
	return s.CountResultsUpTo(ctx, f, 0)
}

func (s *sqliteStore) CountResultsUpTo(ctx context.Context, f Filter, upTo int64) (int64, error) {
	query, args := countQuery(f, upTo, sqliteTime)
	var n int64
	err := s.readers.QueryRowContext(ctx, query, args...).Scan(&n)
	if upTo > 0 {
		n = min(n, upTo)
	}
	return n, err
}

func (s *sqliteStore) Summary(ctx context.Context, since time.Time, step time.Duration, source string) (Summary, error) {
	return summarize(ctx, func(ctx context.Context, query string, args ...any) (rows, func(), error) {
		rs, err := s.readers.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, nil, err
		}
		return rs, func() { rs.Close() }, nil
	}, func(v any) time.Time { return fromMicros(*v.(*int64)) }, func() any { return new(int64) }, since, step, source)
}

// DeleteBefore deletes in chunks so that group commits get the write connection in between.
// Diagnoses that explain no result go by their own age.
func (s *sqliteStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := deleteInChunks(ctx, func(ctx context.Context, query string) (int64, error) {
		res, err := s.writer.ExecContext(ctx, query, t.UnixMicro(), deleteChunk)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if err != nil {
		return n, err
	}
	for _, st := range pruneSummary(t, sqliteTime) {
		if _, err := s.writer.ExecContext(ctx, st.sql, st.args...); err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteInChunks runs the retention deletes through exec, which binds $1 to the cutoff and
// $2 to the chunk size, and returns how many results went.
func deleteInChunks(ctx context.Context, exec func(ctx context.Context, query string) (int64, error)) (int64, error) {
	var results int64
	for _, q := range []struct {
		sql     string
		results bool
	}{
		{"DELETE FROM results WHERE id IN (SELECT id FROM results WHERE received_at < $1 ORDER BY received_at LIMIT $2)", true},
		{"DELETE FROM diagnoses WHERE id IN (SELECT id FROM diagnoses WHERE result_id IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2)", false},
	} {
		for {
			n, err := exec(ctx, q.sql)
			if err != nil {
				return results, err
			}
			if q.results {
				results += n
			}
			if n < deleteChunk {
				break
			}
		}
	}
	return results, nil
}

func (s *sqliteStore) Ping(ctx context.Context) error {
	return s.readers.PingContext(ctx)
}

func (s *sqliteStore) Close() error {
	s.closeOnce.Do(func() {
		s.retention.stop()
		s.commits.close()
		// Keeps the query planner's statistics fresh, as SQLite recommends on closing.
		if _, err := s.writer.Exec("PRAGMA optimize"); err != nil {
			s.closeErr = err
		}
		if err := s.closeDBs(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

func (s *sqliteStore) closeDBs() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insertResult, s.insertDiagnosis} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, db := range []*sql.DB{s.readers, s.writer} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
