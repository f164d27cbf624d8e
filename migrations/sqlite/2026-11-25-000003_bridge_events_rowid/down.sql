CREATE TABLE bridge_events_norowid (
    instance_id  TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    event_name   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
INSERT INTO bridge_events_norowid (instance_id, seq, event_id, event_name, payload, created_at)
SELECT instance_id, seq, event_id, event_name, payload, created_at FROM bridge_events;
DROP TABLE bridge_events;
ALTER TABLE bridge_events_norowid RENAME TO bridge_events;
CREATE INDEX bridge_events_created_at_idx ON bridge_events (created_at);
