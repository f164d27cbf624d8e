-- The durable log keeps events in segments: one row holds up to 256 events
-- of one instance (about 256 KiB at most, unless one event alone is larger),
-- so that a batch of events costs a few rows, not one row, two index entries
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
-- Bodies are compressed with lz4 where the server offers it (PostgreSQL 14
-- and later, built with lz4): as small as with the default (pglz), and
-- written in about half the time. Elsewhere the default stays.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE bridge_segments ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 is not available: the event log keeps the default compression';
END
$$;

-- Events logged before become segments of one event each. Lengths are
-- counted in UTF-8, as the server reads them, whatever the database's encoding.
INSERT INTO bridge_segments (instance_id, last_seq, first_seq, events, oldest_at, newest_at, body)
SELECT instance_id, seq, seq, 1, created_at, created_at,
       CASE WHEN seq < 0 THEN '-' || lpad((-seq)::text, 19, '0') ELSE lpad(seq::text, 20, '0') END
       || ' ' ||
       CASE WHEN created_at < 0 THEN '-' || lpad((-created_at)::text, 19, '0')
            ELSE lpad(created_at::text, 20, '0') END
       || ' ' || lpad(octet_length(convert_to(event_id, 'UTF8'))::text, 10, '0')
       || ' ' || lpad(octet_length(convert_to(event_name, 'UTF8'))::text, 10, '0')
       || ' ' || lpad(octet_length(convert_to(payload, 'UTF8'))::text, 10, '0')
       || chr(10) || event_id || event_name || payload || chr(10)
FROM bridge_events;
DROP TABLE bridge_events;
