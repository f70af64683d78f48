-- Times are Unix microseconds (PostgreSQL's timestamptz precision), so both backends read back
-- the same values. AUTOINCREMENT keeps ids from ever being reused once retention has deleted
-- the newest rows, so an id in a log or a link always means the same result.
CREATE TABLE results (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	received_at    INTEGER NOT NULL,
	client_time    INTEGER,
	client_addr    TEXT NOT NULL DEFAULT '',
	gadget_version TEXT NOT NULL DEFAULT '',
	page_origin    TEXT NOT NULL DEFAULT '',
	target_kind    TEXT NOT NULL DEFAULT '',
	node           TEXT NOT NULL DEFAULT '',
	url            TEXT NOT NULL DEFAULT '',
	method         TEXT NOT NULL DEFAULT '',
	header_names   TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	credentials    TEXT NOT NULL DEFAULT '',
	verdict        TEXT NOT NULL DEFAULT '',
	browser_error  TEXT NOT NULL DEFAULT '',
	duration_ms    REAL NOT NULL DEFAULT 0,
	user_agent     TEXT NOT NULL DEFAULT '',
	agent_id       TEXT NOT NULL DEFAULT '',
	extension      TEXT NOT NULL DEFAULT '',
	role           TEXT NOT NULL DEFAULT ''
) STRICT;

-- Lists are newest (highest id) first with keyset pagination on id, so every equality filter
-- has an index ending in id: SQLite appends the rowid to every index, which makes (node) an
-- index on (node, id) that serves "node = ? AND id < ? ORDER BY id DESC LIMIT n" without a sort.
CREATE INDEX results_received_at ON results (received_at);
CREATE INDEX results_node ON results (node);
CREATE INDEX results_page_origin ON results (page_origin);
CREATE INDEX results_target_kind ON results (target_kind);
CREATE INDEX results_verdict ON results (verdict);
CREATE INDEX results_agent_id ON results (agent_id);

CREATE TABLE diagnoses (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	result_id        INTEGER REFERENCES results (id) ON DELETE CASCADE,
	created_at       INTEGER NOT NULL,
	url              TEXT NOT NULL DEFAULT '',
	origin           TEXT NOT NULL DEFAULT '',
	kind             TEXT NOT NULL DEFAULT '',
	node             TEXT NOT NULL DEFAULT '',
	verdict          TEXT NOT NULL DEFAULT '',
	reason           TEXT NOT NULL DEFAULT '',
	failed_parameter TEXT NOT NULL DEFAULT '',
	network_class    TEXT NOT NULL DEFAULT '',
	report           BLOB
) STRICT;

-- result_id makes the cascade from a deleted result an index lookup, not a scan.
CREATE INDEX diagnoses_result_id ON diagnoses (result_id);
CREATE INDEX diagnoses_reason ON diagnoses (reason);
CREATE INDEX diagnoses_created_at ON diagnoses (created_at);
