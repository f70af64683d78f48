package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
)

// The settings SQL is the same on both dialects.
const (
	initSettingSQL = `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
	putSettingSQL  = `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = settings.version + 1`
	getSettingSQL     = `SELECT value FROM settings WHERE key = $1`
	settingVersionSQL = `SELECT version FROM settings WHERE key = $1`
)

func (s *sqliteStore) InitSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := s.writer.ExecContext(ctx, initSettingSQL, key, value); err != nil {
		return "", err
	}
	return s.Setting(ctx, key)
}

func (s *sqliteStore) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.writer.ExecContext(ctx, putSettingSQL, key, value)
	return err
}

func (s *sqliteStore) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.writer.QueryRowContext(ctx, getSettingSQL, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

func (s *pgStore) InitSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := s.pool.Exec(ctx, initSettingSQL, key, value); err != nil {
		return "", err
	}
	return s.Setting(ctx, key)
}

func (s *pgStore) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, putSettingSQL, key, value)
	return err
}

func (s *pgStore) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, getSettingSQL, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}
