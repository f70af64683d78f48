-- Lists are newest first by received_at (then id), with keyset pagination on (received_at, id).
-- Every equality filter gets an index on (column, received_at, id), so "node = $1 AND
-- received_at >= $2 ORDER BY received_at DESC, id DESC LIMIT n" is one short backward range
-- scan, for a recent window as for an old one.
DROP INDEX results_node;
DROP INDEX results_page_origin;
DROP INDEX results_target_kind;
DROP INDEX results_verdict;
DROP INDEX results_agent_id;
DROP INDEX results_reason;
DROP INDEX results_received_at;
CREATE INDEX results_received_at ON results (received_at, id);
CREATE INDEX results_node ON results (node, received_at, id);
CREATE INDEX results_page_origin ON results (page_origin, received_at, id);
CREATE INDEX results_target_kind ON results (target_kind, received_at, id);
CREATE INDEX results_verdict ON results (verdict, received_at, id);
CREATE INDEX results_agent_id ON results (agent_id, received_at, id);
CREATE INDEX results_reason ON results (reason, received_at, id);

-- How long a node has been failing for an origin: its hours by verdict.
CREATE INDEX result_counts_cell ON result_counts (target_kind, node, page_origin, verdict, hour);
