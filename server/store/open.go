package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Options tune a Store. The zero value is a sensible default.
type Options struct {
	// Retention is how long results are kept; older ones are deleted at start and every hour.
	// 0 keeps them forever.
	Retention time.Duration
	// Logger receives retention runs and background errors; slog.Default() when nil.
	Logger *slog.Logger
	// MaxBatch caps how many rows one group commit gathers from several callers (default
	// 1000); callers queued beyond it wait for the next transaction. One call with more rows
	// is still one transaction of its own.
	MaxBatch int
	// pgWriters is how many group-commit goroutines write to PostgreSQL (default half the
	// pool); -1 commits each call on its own. For the benchmarks that chose the default.
	pgWriters int
}

const (
	defaultMaxBatch = 1000
	retentionEvery  = time.Hour
	// deleteChunk bounds how many results one retention transaction deletes, so a first run
	// over millions of old rows never holds SQLite's single write lock for long.
	deleteChunk = 5000
)

// Open opens the store at dsn and brings its schema up to date. A dsn starting with
// postgres:// or postgresql:// is a PostgreSQL connection string (pgxpool settings such as
// pool_max_conns allowed); anything else is a data directory, created if missing, holding the
// SQLite database corscheck.db.
func Open(ctx context.Context, dsn string, opts Options) (Store, error) {
	if dsn == "" {
		return nil, errors.New("store: empty database location")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultMaxBatch
	}
	if opts.Retention < 0 {
		return nil, fmt.Errorf("store: negative retention %s", opts.Retention)
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn, opts)
	}
	return openSQLite(ctx, dsn, opts)
}

// validResults checks what the database would otherwise accept silently.
func validResults(rs []Result) error {
	for i, r := range rs {
		if r.ReceivedAt.IsZero() {
			return fmt.Errorf("store: result %d has no ReceivedAt", i)
		}
		if r.Source != "" && !slices.Contains(Sources, r.Source) {
			return fmt.Errorf("store: result %d has source %q, not gadget or monitor", i, r.Source)
		}
	}
	return nil
}

// limit applies Filter.Limit's default and cap.
func (f Filter) limit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}
