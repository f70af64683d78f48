-- The dashboard's figures, kept up to date by every commit so that reading them costs the same
-- for ten thousand results as for ten million (see summary.go).

-- The reason of a result: its newest diagnosis's DevTools reason, or its network class when the
-- check never got an HTTP answer. Set when a diagnosis of the result is stored.
ALTER TABLE results ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE INDEX results_reason ON results (reason);
UPDATE results SET reason = coalesce((
	SELECT CASE WHEN d.reason <> '' THEN d.reason ELSE d.network_class END
	FROM diagnoses d WHERE d.result_id = results.id ORDER BY d.id DESC LIMIT 1), '')
WHERE id IN (SELECT result_id FROM diagnoses WHERE result_id IS NOT NULL);

-- Results per hour (Unix seconds of the hour's start, UTC), target node, page origin and
-- verdict. A writer adds to its own shard, so concurrent commits never wait on one row.
CREATE TABLE result_counts (
	hour        INTEGER NOT NULL,
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	page_origin TEXT NOT NULL,
	verdict     TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (hour, target_kind, node, page_origin, verdict, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO result_counts
	SELECT (received_at / 3600000000) * 3600, target_kind, node, page_origin, verdict, 0, count(*)
	FROM results GROUP BY 1, 2, 3, 4, 5;

-- The newest result of every target node and page origin.
CREATE TABLE latest_results (
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	page_origin TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	verdict     TEXT NOT NULL,
	PRIMARY KEY (target_kind, node, page_origin, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO latest_results
	SELECT target_kind, node, page_origin, 0, received_at, verdict FROM results
	WHERE id IN (SELECT max(id) FROM results GROUP BY target_kind, node, page_origin);

-- Diagnosed failures per hour, reason and target node.
CREATE TABLE reason_counts (
	hour        INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	target_kind TEXT NOT NULL,
	node        TEXT NOT NULL,
	shard       INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (hour, reason, target_kind, node, shard)
) STRICT, WITHOUT ROWID;
INSERT INTO reason_counts
	SELECT (created_at / 3600000000) * 3600, reason, kind, node, 0, count(*) FROM (
		SELECT created_at, CASE WHEN reason <> '' THEN reason ELSE network_class END AS reason, kind, node
		FROM diagnoses WHERE result_id IS NOT NULL)
	WHERE reason <> '' GROUP BY 1, 2, 3, 4;
