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
