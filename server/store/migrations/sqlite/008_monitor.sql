-- Scheduled checks (the monitor): where a result comes from, incidents, the alert outbox and the
-- lease that lets one instance run the schedule.

-- A result comes from an agent's browser (gadget) or from the service's own check (monitor).
ALTER TABLE results ADD COLUMN source TEXT NOT NULL DEFAULT 'gadget';
CREATE INDEX results_source ON results (source, received_at);

-- The summaries count by source too, so the dashboard can show either. SQLite cannot change a
-- primary key: each table is made again, its rows counted as the gadget's.
CREATE TABLE result_counts_new (
	hour        INTEGER NOT NULL,
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	page_origin TEXT NOT NULL,
	verdict     TEXT NOT NULL,
	source      TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (hour, target_kind, node, page_origin, verdict, source, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO result_counts_new SELECT hour, target_kind, node, page_origin, verdict, 'gadget', shard, n FROM result_counts;
DROP TABLE result_counts;
ALTER TABLE result_counts_new RENAME TO result_counts;
CREATE INDEX result_counts_cell ON result_counts (target_kind, node, page_origin, verdict, hour);

CREATE TABLE result_counts_daily_new (
	day         INTEGER NOT NULL,
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	page_origin TEXT NOT NULL,
	verdict     TEXT NOT NULL,
	source      TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (day, target_kind, node, page_origin, verdict, source, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO result_counts_daily_new SELECT day, target_kind, node, page_origin, verdict, 'gadget', shard, n FROM result_counts_daily;
DROP TABLE result_counts_daily;
ALTER TABLE result_counts_daily_new RENAME TO result_counts_daily;

CREATE TABLE latest_results_new (
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	page_origin TEXT NOT NULL,
	source      TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	verdict     TEXT NOT NULL,
	PRIMARY KEY (target_kind, node, page_origin, source, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO latest_results_new SELECT target_kind, node, page_origin, 'gadget', shard, received_at, verdict FROM latest_results;
DROP TABLE latest_results;
ALTER TABLE latest_results_new RENAME TO latest_results;

CREATE TABLE reason_counts_new (
	hour        INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	source      TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (hour, reason, target_kind, node, source, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO reason_counts_new SELECT hour, reason, target_kind, node, 'gadget', shard, n FROM reason_counts;
DROP TABLE reason_counts;
ALTER TABLE reason_counts_new RENAME TO reason_counts;

-- An incident: a monitored (kind, node, origin, URL) whose verdict changed and stayed changed.
-- Times are Unix microseconds; 0 means not yet. At most one incident of a key is open at a
-- time, whichever instance writes it.
CREATE TABLE incidents (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL,
	node            TEXT NOT NULL,
	origin          TEXT NOT NULL,
	endpoint        TEXT NOT NULL,
	url             TEXT NOT NULL,
	from_verdict    TEXT NOT NULL,
	to_verdict      TEXT NOT NULL,
	reason          TEXT NOT NULL DEFAULT '',
	explanation     TEXT NOT NULL DEFAULT '',
	console         TEXT NOT NULL DEFAULT '',
	fixes           TEXT NOT NULL DEFAULT '[]', -- JSON, as the fix package writes it
	opened_at       INTEGER NOT NULL,
	result_id       INTEGER NOT NULL DEFAULT 0, -- the check that confirmed it (retention may remove it)
	closed_at       INTEGER NOT NULL DEFAULT 0,
	closed_to       TEXT NOT NULL DEFAULT '',
	closed_because  TEXT NOT NULL DEFAULT '',
	close_result_id INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX incidents_open ON incidents (kind, node, origin, url) WHERE closed_at = 0;

-- The alert outbox: one row per incident event and receiver, written in the incident's own
-- transaction, retried until delivered.
CREATE TABLE alert_deliveries (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id   INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	event         TEXT NOT NULL,
	receiver      TEXT NOT NULL,
	receiver_name TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_at       INTEGER NOT NULL,
	last_error    TEXT NOT NULL DEFAULT '',
	delivered_at  INTEGER NOT NULL DEFAULT 0,
	gave_up_at    INTEGER NOT NULL DEFAULT 0,
	UNIQUE (incident_id, event, receiver)
) STRICT;
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE delivered_at = 0 AND gave_up_at = 0;

-- Leases: which instance runs the schedule, until when (Unix microseconds by the database's
-- clock).
CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
