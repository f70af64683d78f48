-- Admin sessions and API tokens, shared by every instance on the database. Only SHA-256 hashes
-- (hex) of their secrets are kept. Times are Unix microseconds on both backends, so one SQL
-- serves both (see admin.go).
CREATE TABLE admin_sessions (
	hash       TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
) STRICT;
