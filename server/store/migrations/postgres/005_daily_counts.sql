-- Results per UTC day (Unix seconds of its start), target node, page origin and verdict: the
-- dashboard's 30-day view reads 30 rows per node and origin instead of 720.
CREATE TABLE result_counts_daily (
	day         bigint NOT NULL,
	target_kind text NOT NULL,
	node        text NOT NULL,
	page_origin text NOT NULL,
	verdict     text NOT NULL,
	shard       integer NOT NULL,
	n           bigint NOT NULL,
	PRIMARY KEY (day, target_kind, node, page_origin, verdict, shard)
);
INSERT INTO result_counts_daily
	SELECT (hour / 86400) * 86400, target_kind, node, page_origin, verdict, shard, sum(n)
	FROM result_counts GROUP BY 1, 2, 3, 4, 5, 6;
