CREATE TABLE results (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	received_at    timestamptz NOT NULL,
	client_time    timestamptz,
	client_addr    text NOT NULL DEFAULT '',
	gadget_version text NOT NULL DEFAULT '',
	page_origin    text NOT NULL DEFAULT '',
	target_kind    text NOT NULL DEFAULT '',
	node           text NOT NULL DEFAULT '',
	url            text NOT NULL DEFAULT '',
	method         text NOT NULL DEFAULT '',
	header_names   jsonb NOT NULL DEFAULT '[]',
	credentials    text NOT NULL DEFAULT '',
	verdict        text NOT NULL DEFAULT '',
	browser_error  text NOT NULL DEFAULT '',
	duration_ms    double precision NOT NULL DEFAULT 0,
	user_agent     text NOT NULL DEFAULT '',
	agent_id       text NOT NULL DEFAULT '',
	extension      text NOT NULL DEFAULT '',
	role           text NOT NULL DEFAULT ''
);

-- Lists are newest (highest id) first with keyset pagination on id, so every equality filter
-- has an index ending in id: "node = $1 AND id < $2 ORDER BY id DESC LIMIT n" is then a short
-- backward index scan, however many rows the node has.
CREATE INDEX results_received_at ON results (received_at);
CREATE INDEX results_node ON results (node, id);
CREATE INDEX results_page_origin ON results (page_origin, id);
CREATE INDEX results_target_kind ON results (target_kind, id);
CREATE INDEX results_verdict ON results (verdict, id);
CREATE INDEX results_agent_id ON results (agent_id, id);

CREATE TABLE diagnoses (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	result_id        bigint REFERENCES results (id) ON DELETE CASCADE,
	created_at       timestamptz NOT NULL,
	url              text NOT NULL DEFAULT '',
	origin           text NOT NULL DEFAULT '',
	kind             text NOT NULL DEFAULT '',
	node             text NOT NULL DEFAULT '',
	verdict          text NOT NULL DEFAULT '',
	reason           text NOT NULL DEFAULT '',
	failed_parameter text NOT NULL DEFAULT '',
	network_class    text NOT NULL DEFAULT '',
	report           bytea
);

-- result_id makes the cascade from a deleted result an index lookup, not a scan.
CREATE INDEX diagnoses_result_id ON diagnoses (result_id, id);
CREATE INDEX diagnoses_reason ON diagnoses (reason);
CREATE INDEX diagnoses_created_at ON diagnoses (created_at);
