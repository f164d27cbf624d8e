-- The whole schema of the server. Each backend has its own copy of this
-- migration (Postgres and SQLite differ in a few types); the adapter's
-- schema test checks both against the code's table definitions.

-- Accounts own instances. Tokens are stored as SHA-256 digests only.
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    max_instances  BIGINT NOT NULL CHECK (max_instances >= 0),
    token_digest   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    CONSTRAINT accounts_token_digest_key UNIQUE (token_digest)
);

-- Instance names are unique server-wide: they address the internal socket.
CREATE TABLE instances (
    id                      TEXT PRIMARY KEY,
    account_id              TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    token_digest            TEXT NOT NULL,
    state                   TEXT NOT NULL,
    websocket_enabled       INTEGER NOT NULL DEFAULT 0,
    websocket_events        TEXT NOT NULL DEFAULT '',
    websocket_media_base64  INTEGER NOT NULL DEFAULT 0,
    created_at              BIGINT NOT NULL,
    CONSTRAINT instances_name_key UNIQUE (name),
    CONSTRAINT instances_token_digest_key UNIQUE (token_digest)
);
CREATE INDEX instances_account_id_idx ON instances (account_id, created_at);

-- One Chatwoot integration per instance. The API token is AES-256-GCM sealed.
CREATE TABLE chatwoot_integrations (
    instance_id              TEXT PRIMARY KEY REFERENCES instances (id) ON DELETE CASCADE,
    bridge_integration_id    TEXT NOT NULL DEFAULT '',
    chatwoot_base_url        TEXT NOT NULL,
    chatwoot_account_id      BIGINT NOT NULL CHECK (chatwoot_account_id > 0),
    chatwoot_api_token_enc   TEXT NOT NULL,
    chatwoot_inbox_id        BIGINT NOT NULL DEFAULT 0,
    chatwoot_inbox_name      TEXT NOT NULL,
    requested_inbox_name     TEXT NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('active', 'paused', 'error')),
    last_error               TEXT NOT NULL DEFAULT '',
    sign_messages            INTEGER NOT NULL DEFAULT 0,
    ignore_groups            INTEGER NOT NULL DEFAULT 0,
    start_as_pending         INTEGER NOT NULL DEFAULT 0,
    reopen_resolved          INTEGER NOT NULL DEFAULT 0,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);

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

-- The durable log, in segments: one row holds up to 256 events of one
-- instance (about 256 KiB at most, unless one event alone is larger), so
-- that a batch of events costs a few rows, not one row, two index entries
-- and a foreign-key check each. `body` holds the events, each as a header
-- line of five fixed-width fields (sequence number and creation time, 20
-- characters each; the byte lengths of the event id, name and payload, 10
-- digits each), then those three back to back and a line break.
-- `first_seq`, `last_seq`, `oldest_at` and `newest_at` bound what the body
-- holds; `events` counts it.
CREATE TABLE bridge_segments (
    instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    last_seq     BIGINT NOT NULL,
    first_seq    BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    oldest_at    BIGINT NOT NULL,
    newest_at    BIGINT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (instance_id, last_seq)
);
CREATE INDEX bridge_segments_oldest_at_idx ON bridge_segments (oldest_at);

-- Results of the bridge's commands, by idempotency key: the same key twice sends once.
CREATE TABLE bridge_commands (
    instance_id      TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    idempotency_key  TEXT NOT NULL,
    result           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (instance_id, idempotency_key)
);
CREATE INDEX bridge_commands_created_at_idx ON bridge_commands (created_at);

-- Events the log refused to store, kept here so that they stop holding up
-- the others. The id and the payload are bytes, which store whatever they
-- hold; `reason` is the database's answer. An operator inspects them and
-- removes the rows once dealt with (docs/operations.md).
CREATE TABLE set_aside_events (
    id            INTEGER PRIMARY KEY,
    instance_id   TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    event_id      BLOB NOT NULL,
    event_name    TEXT NOT NULL,
    payload       BLOB NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    set_aside_at  BIGINT NOT NULL
);
CREATE INDEX set_aside_events_instance_idx ON set_aside_events (instance_id);
