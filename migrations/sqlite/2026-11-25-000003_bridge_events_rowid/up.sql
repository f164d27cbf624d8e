-- The log becomes an ordinary (rowid) table. Without a rowid, SQLite keeps
-- whole rows inside the primary key's b-tree, where a row over about 1 KiB
-- (a long message, a media event) spills into overflow pages and every
-- insert costs several times more; with a rowid the key lives in a small
-- index of its own and rows up to a page stay in place.
CREATE TABLE bridge_events_rowid (
    instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    event_name   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
INSERT INTO bridge_events_rowid (instance_id, seq, event_id, event_name, payload, created_at)
SELECT instance_id, seq, event_id, event_name, payload, created_at FROM bridge_events ORDER BY instance_id, seq;
DROP TABLE bridge_events;
ALTER TABLE bridge_events_rowid RENAME TO bridge_events;
CREATE INDEX bridge_events_created_at_idx ON bridge_events (created_at);
