-- Scheduled checks (the monitor): where a result comes from, incidents, the alert outbox and the
-- lease that lets one instance run the schedule.

-- A result comes from an agent's browser (gadget) or from the service's own check (monitor).
-- A constant default adds the column without rewriting the table.
ALTER TABLE results ADD COLUMN source text NOT NULL DEFAULT 'gadget';
CREATE INDEX results_source ON results (source, received_at, id);

-- The summaries count by source too, so the dashboard can show either; their rows so far are
-- the gadget's.
ALTER TABLE result_counts ADD COLUMN source text NOT NULL DEFAULT 'gadget';
ALTER TABLE result_counts DROP CONSTRAINT result_counts_pkey,
	ADD PRIMARY KEY (hour, target_kind, node, page_origin, verdict, source, shard);
ALTER TABLE result_counts_daily ADD COLUMN source text NOT NULL DEFAULT 'gadget';
ALTER TABLE result_counts_daily DROP CONSTRAINT result_counts_daily_pkey,
	ADD PRIMARY KEY (day, target_kind, node, page_origin, verdict, source, shard);
ALTER TABLE latest_results ADD COLUMN source text NOT NULL DEFAULT 'gadget';
ALTER TABLE latest_results DROP CONSTRAINT latest_results_pkey,
	ADD PRIMARY KEY (target_kind, node, page_origin, source, shard);
ALTER TABLE reason_counts ADD COLUMN source text NOT NULL DEFAULT 'gadget';
ALTER TABLE reason_counts DROP CONSTRAINT reason_counts_pkey,
	ADD PRIMARY KEY (hour, reason, target_kind, node, source, shard);

-- An incident: a monitored (kind, node, origin, URL) whose verdict changed and stayed changed.
-- Times are Unix microseconds, as in the admin tables, so one SQL serves both backends; 0
-- means not yet. At most one incident of a key is open at a time, whichever instance writes it.
CREATE TABLE incidents (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind            text NOT NULL,
	node            text NOT NULL,
	origin          text NOT NULL,
	endpoint        text NOT NULL,
	url             text NOT NULL,
	from_verdict    text NOT NULL,
	to_verdict      text NOT NULL,
	reason          text NOT NULL DEFAULT '',
	explanation     text NOT NULL DEFAULT '',
	console         text NOT NULL DEFAULT '',
	fixes           text NOT NULL DEFAULT '[]', -- JSON, as the fix package writes it
	opened_at       bigint NOT NULL,
	result_id       bigint NOT NULL DEFAULT 0, -- the check that confirmed it (retention may remove it)
	closed_at       bigint NOT NULL DEFAULT 0,
	closed_to       text NOT NULL DEFAULT '',
	closed_because  text NOT NULL DEFAULT '',
	close_result_id bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX incidents_open ON incidents (kind, node, origin, url) WHERE closed_at = 0;

-- The alert outbox: one row per incident event and receiver, written in the incident's own
-- transaction, retried until delivered.
CREATE TABLE alert_deliveries (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	incident_id   bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	event         text NOT NULL,
	receiver      text NOT NULL,
	receiver_name text NOT NULL,
	created_at    bigint NOT NULL,
	attempts      integer NOT NULL DEFAULT 0,
	next_at       bigint NOT NULL,
	last_error    text NOT NULL DEFAULT '',
	delivered_at  bigint NOT NULL DEFAULT 0,
	gave_up_at    bigint NOT NULL DEFAULT 0,
	UNIQUE (incident_id, event, receiver)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE delivered_at = 0 AND gave_up_at = 0;

-- Leases: which instance runs the schedule, until when (Unix microseconds by the database's
-- clock).
CREATE TABLE leases (
	name       text PRIMARY KEY,
	holder     text NOT NULL,
	expires_at bigint NOT NULL
);
