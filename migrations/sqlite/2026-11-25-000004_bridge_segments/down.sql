-- Back to one row per event: each segment body is walked record by record
-- (the header's fixed-width fields give where each part ends).
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

WITH RECURSIVE
    walk (instance_id, rest) AS (
        SELECT instance_id, CAST(body AS BLOB) FROM bridge_segments
        UNION ALL
        SELECT instance_id,
               substr(rest, 76 + CAST(CAST(substr(rest, 43, 10) AS TEXT) AS INTEGER)
                               + CAST(CAST(substr(rest, 54, 10) AS TEXT) AS INTEGER)
                               + CAST(CAST(substr(rest, 65, 10) AS TEXT) AS INTEGER) + 1)
        FROM walk
        WHERE length(rest) > 0
    ),
    record (instance_id, rest, id_len, name_len, payload_len) AS (
        SELECT instance_id, rest,
               CAST(CAST(substr(rest, 43, 10) AS TEXT) AS INTEGER),
               CAST(CAST(substr(rest, 54, 10) AS TEXT) AS INTEGER),
               CAST(CAST(substr(rest, 65, 10) AS TEXT) AS INTEGER)
        FROM walk
        WHERE length(rest) > 0
    )
INSERT INTO bridge_events (instance_id, seq, event_id, event_name, payload, created_at)
SELECT instance_id,
       CAST(CAST(substr(rest, 1, 20) AS TEXT) AS INTEGER),
       CAST(substr(rest, 76, id_len) AS TEXT),
       CAST(substr(rest, 76 + id_len, name_len) AS TEXT),
       CAST(substr(rest, 76 + id_len + name_len, payload_len) AS TEXT),
       CAST(CAST(substr(rest, 22, 20) AS TEXT) AS INTEGER)
FROM record;

DROP TABLE bridge_segments;
