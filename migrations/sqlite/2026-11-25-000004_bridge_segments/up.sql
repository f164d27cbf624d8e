-- The durable log keeps events in segments: one row holds up to 256 events
-- of one instance (about 256 KiB at most, unless one event alone is larger),
-- so that a batch of events costs a few rows, not one row and two index
-- entries each. `body` holds the events, each as a header line of five
-- fixed-width fields (sequence number and creation time, 20 characters each;
-- the byte lengths of the event id, name and payload, 10 digits each), then
-- those three back to back and a line break. `first_seq`, `last_seq`,
-- `oldest_at` and `newest_at` bound what the body holds; `events` counts it.
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

-- Events logged before become segments of one event each.
INSERT INTO bridge_segments (instance_id, last_seq, first_seq, events, oldest_at, newest_at, body)
SELECT instance_id, seq, seq, 1, created_at, created_at,
       printf('%020d %020d %010d %010d %010d', seq, created_at,
              length(CAST(event_id AS BLOB)), length(CAST(event_name AS BLOB)),
              length(CAST(payload AS BLOB)))
       || char(10) || event_id || event_name || payload || char(10)
FROM bridge_events;
DROP TABLE bridge_events;
