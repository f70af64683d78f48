-- Admin sessions and API tokens, shared by every instance on the database. Only SHA-256 hashes
-- (hex) of their secrets are kept. Times are Unix microseconds on both backends, so one SQL
-- serves both (see admin.go).
CREATE TABLE admin_sessions (
	hash       text PRIMARY KEY,
	expires_at bigint NOT NULL
);
CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);

CREATE TABLE api_tokens (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         text NOT NULL,
	hash         text NOT NULL,
	created_at   bigint NOT NULL,
	last_used_at bigint NOT NULL DEFAULT 0
);
