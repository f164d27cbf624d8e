-- The bridge's event stream of an instance; `active` while the instance has
-- a Chatwoot integration. Sequence numbers are allocated here and never
-- reused for the instance: a closed stream keeps its row (inactive) so that a
-- later stream continues after it.
CREATE TABLE bridge_streams (
    instance_id  TEXT PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    acked_seq    BIGINT NOT NULL DEFAULT 0,
    active       INTEGER NOT NULL DEFAULT 1,
    opened_at    BIGINT NOT NULL,
    acked_at     BIGINT NOT NULL
);

-- The durable log: every event is stored here before it is offered.
CREATE TABLE bridge_events (
    instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    event_name   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE INDEX bridge_events_created_at_idx ON bridge_events (created_at);

-- Results of the bridge's commands, by idempotency key: the same key twice sends once.
CREATE TABLE bridge_commands (
    instance_id      TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL,
    result           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (instance_id, idempotency_key)
);
CREATE INDEX bridge_commands_created_at_idx ON bridge_commands (created_at);

-- Integrations that exist already get their stream now.
INSERT INTO bridge_streams (instance_id, last_seq, acked_seq, active, opened_at, acked_at)
SELECT instance_id, 0, 0, 1, updated_at, updated_at FROM chatwoot_integrations;
