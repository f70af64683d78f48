package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// APIToken is a credential for the admin API. The store keeps a hash of its secret, never the
// secret itself.
type APIToken struct {
	ID         int64
	Name       string
	Hash       string // hex SHA-256 of the secret
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// The admin tables keep times as Unix microseconds on both backends, so the SQL below and its
// arguments are the same for SQLite and PostgreSQL; only the driver calls differ (sqlDB).
const (
	addSessionSQL      = `INSERT INTO admin_sessions (hash, expires_at) VALUES ($1, $2)`
	expireSessionsSQL  = `DELETE FROM admin_sessions WHERE expires_at <= $1`
	sessionExpiresSQL  = `SELECT expires_at FROM admin_sessions WHERE hash = $1`
	deleteSessionSQL   = `DELETE FROM admin_sessions WHERE hash = $1`
	addTokenSQL        = `INSERT INTO api_tokens (name, hash, created_at) VALUES ($1, $2, $3) RETURNING id`
	tokenColumns       = `id, name, hash, created_at, last_used_at`
	tokensSQL          = `SELECT ` + tokenColumns + ` FROM api_tokens ORDER BY id`
	tokenSQL           = `SELECT ` + tokenColumns + ` FROM api_tokens WHERE id = $1`
	useTokenSQL        = `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`
	deleteTokenSQL     = `DELETE FROM api_tokens WHERE id = $1`
	maxTokenNameLength = 100
)

// sqlDB is what portable needs of a database: statements whose SQL is the same on both.
type sqlDB interface {
	// exec runs a write and returns how many rows it changed.
	exec(ctx context.Context, query string, args ...any) (int64, error)
	// insert runs an INSERT … RETURNING id.
	insert(ctx context.Context, query string, args ...any) (int64, error)
	// queryRow reads one row; its Scan returns ErrNotFound when there is none.
	queryRow(ctx context.Context, query string, args ...any) scanner
	query(ctx context.Context, query string, args ...any) (rows, func(), error)
	// tx runs fn in one transaction, with fn's statements on it (see monitor.go).
	tx(ctx context.Context, fn func(sqlDB) error) error
	// clock is the SQL of the database's time in Unix microseconds.
	clock() string
}

// portable implements the Store methods whose SQL and arguments are the same on both databases:
// sessions, API tokens and settings' versions.
type portable struct{ db sqlDB }

func (a portable) SettingVersion(ctx context.Context, key string) (int64, error) {
	var v int64
	err := a.db.queryRow(ctx, settingVersionSQL, key).Scan(&v)
	return v, err
}

func (a portable) AddSession(ctx context.Context, hash string, expires, now time.Time) error {
	if _, err := a.db.exec(ctx, expireSessionsSQL, now.UnixMicro()); err != nil {
		return err
	}
	_, err := a.db.exec(ctx, addSessionSQL, hash, expires.UnixMicro())
	return err
}

func (a portable) SessionExpires(ctx context.Context, hash string) (time.Time, error) {
	var us int64
	if err := a.db.queryRow(ctx, sessionExpiresSQL, hash).Scan(&us); err != nil {
		return time.Time{}, err
	}
	return fromMicros(us), nil
}

func (a portable) DeleteSession(ctx context.Context, hash string) error {
	_, err := a.db.exec(ctx, deleteSessionSQL, hash)
	return err
}

func (a portable) AddAPIToken(ctx context.Context, t APIToken) (int64, error) {
	if t.Name == "" || len(t.Name) > maxTokenNameLength || t.Hash == "" || t.CreatedAt.IsZero() {
		return 0, errors.New("store: an API token needs a name of 1-100 bytes, a hash and a creation time")
	}
	return a.db.insert(ctx, addTokenSQL, t.Name, t.Hash, t.CreatedAt.UnixMicro())
}

func (a portable) APITokens(ctx context.Context) ([]APIToken, error) {
	rs, done, err := a.db.query(ctx, tokensSQL)
	if err != nil {
		return nil, err
	}
	defer done()
	return collect(rs, scanToken, 8)
}

func (a portable) APIToken(ctx context.Context, id int64) (APIToken, error) {
	return scanToken(a.db.queryRow(ctx, tokenSQL, id))
}

func (a portable) UseAPIToken(ctx context.Context, id int64, at time.Time) error {
	_, err := a.db.exec(ctx, useTokenSQL, id, at.UnixMicro())
	return err
}

func (a portable) DeleteAPIToken(ctx context.Context, id int64) error {
	n, err := a.db.exec(ctx, deleteTokenSQL, id)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

func scanToken(row scanner) (APIToken, error) {
	var t APIToken
	var created, used int64
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &created, &used); err != nil {
		return APIToken{}, err
	}
	t.CreatedAt = fromMicros(created)
	if used != 0 {
		t.LastUsedAt = fromMicros(used)
	}
	return t, nil
}

// sqliteDB writes through the store's one writer connection and reads from its readers; in a
// transaction (tx), both are the transaction.
type sqliteDB struct{ writer, readers sqlConn }

// sqlConn is what *sql.DB and *sql.Tx both offer.
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (d sqliteDB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sqliteDB) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := d.writer.QueryRowContext(ctx, query, args...).Scan(&id)
	return id, err
}

func (d sqliteDB) queryRow(ctx context.Context, query string, args ...any) scanner {
	return notFound{d.readers.QueryRowContext(ctx, query, args...)}
}

func (d sqliteDB) query(ctx context.Context, query string, args ...any) (rows, func(), error) {
	rs, err := d.readers.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	return rs, func() { rs.Close() }, nil
}

// pgDB runs everything on the store's pool, or in a transaction (tx) on that transaction.
type pgDB struct{ pool pgConn }

// pgConn is what *pgxpool.Pool and pgx.Tx both offer.
type pgConn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

func (d pgDB) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (d pgDB) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := d.pool.QueryRow(ctx, query, args...).Scan(&id)
	return id, err
}

func (d pgDB) queryRow(ctx context.Context, query string, args ...any) scanner {
	return notFound{d.pool.QueryRow(ctx, query, args...)}
}

func (d pgDB) query(ctx context.Context, query string, args ...any) (rows, func(), error) {
	rs, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	return rs, rs.Close, nil
}

// notFound turns either driver's "no rows" into ErrNotFound.
type notFound struct{ row scanner }

func (n notFound) Scan(dest ...any) error {
	err := n.row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
