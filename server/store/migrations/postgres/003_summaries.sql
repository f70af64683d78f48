-- The dashboard's figures, kept up to date by every commit so that reading them costs the same
-- for ten thousand results as for ten million (see summary.go).

-- The reason of a result: its newest diagnosis's DevTools reason, or its network class when the
-- check never got an HTTP answer. Set when a diagnosis of the result is stored.
ALTER TABLE results ADD COLUMN reason text NOT NULL DEFAULT '';
CREATE INDEX results_reason ON results (reason, id);
UPDATE results SET reason = coalesce((
	SELECT CASE WHEN d.reason <> '' THEN d.reason ELSE d.network_class END
	FROM diagnoses d WHERE d.result_id = results.id ORDER BY d.id DESC LIMIT 1), '')
WHERE id IN (SELECT result_id FROM diagnoses WHERE result_id IS NOT NULL);

-- Results per hour (Unix seconds of the hour's start, UTC), target node, page origin and
-- verdict. A writer adds to its own shard, so concurrent commits never wait on one row.
CREATE TABLE result_counts (
	hour        bigint NOT NULL,
	target_kind text NOT NULL,
	node        text NOT NULL,
	page_origin text NOT NULL,
	verdict     text NOT NULL,
	shard       integer NOT NULL,
	n           bigint NOT NULL,
	PRIMARY KEY (hour, target_kind, node, page_origin, verdict, shard)
);
INSERT INTO result_counts
	SELECT floor(extract(epoch FROM received_at) / 3600)::bigint * 3600, target_kind, node, page_origin, verdict, 0, count(*)
	FROM results GROUP BY 1, 2, 3, 4, 5;

-- The newest result of every target node and page origin.
CREATE TABLE latest_results (
	target_kind text NOT NULL,
	node        text NOT NULL,
	page_origin text NOT NULL,
	shard       integer NOT NULL,
	received_at timestamptz NOT NULL,
	verdict     text NOT NULL,
	PRIMARY KEY (target_kind, node, page_origin, shard)
);
INSERT INTO latest_results
	SELECT target_kind, node, page_origin, 0, received_at, verdict FROM results
	WHERE id IN (SELECT max(id) FROM results GROUP BY target_kind, node, page_origin);

-- Diagnosed failures per hour, reason and target node.
CREATE TABLE reason_counts (
	hour        bigint NOT NULL,
	reason      text NOT NULL,
	target_kind text NOT NULL,
	node        text NOT NULL,
	shard       integer NOT NULL,
	n           bigint NOT NULL,
	PRIMARY KEY (hour, reason, target_kind, node, shard)
);
INSERT INTO reason_counts
	SELECT floor(extract(epoch FROM created_at) / 3600)::bigint * 3600, reason, kind, node, 0, count(*) FROM (
		SELECT created_at, CASE WHEN reason <> '' THEN reason ELSE network_class END AS reason, kind, node
		FROM diagnoses WHERE result_id IS NOT NULL) d
	WHERE reason <> '' GROUP BY 1, 2, 3, 4;
