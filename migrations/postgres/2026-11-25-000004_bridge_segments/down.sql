-- Back to one row per event: each segment body is walked record by record
-- (the header's fixed-width fields give where each part ends, in bytes).
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
        SELECT instance_id, convert_to(body, 'UTF8') FROM bridge_segments
        UNION ALL
        SELECT instance_id,
               substring(rest FROM 76 + convert_from(substring(rest FROM 43 FOR 10), 'UTF8')::int
                                      + convert_from(substring(rest FROM 54 FOR 10), 'UTF8')::int
                                      + convert_from(substring(rest FROM 65 FOR 10), 'UTF8')::int + 1)
        FROM walk
        WHERE length(rest) > 0
    ),
    record (instance_id, rest, id_len, name_len, payload_len) AS (
        SELECT instance_id, rest,
               convert_from(substring(rest FROM 43 FOR 10), 'UTF8')::int,
               convert_from(substring(rest FROM 54 FOR 10), 'UTF8')::int,
               convert_from(substring(rest FROM 65 FOR 10), 'UTF8')::int
        FROM walk
        WHERE length(rest) > 0
    )
INSERT INTO bridge_events (instance_id, seq, event_id, event_name, payload, created_at)
SELECT instance_id,
       convert_from(substring(rest FROM 1 FOR 20), 'UTF8')::bigint,
       convert_from(substring(rest FROM 76 FOR id_len), 'UTF8'),
       convert_from(substring(rest FROM 76 + id_len FOR name_len), 'UTF8'),
       convert_from(substring(rest FROM 76 + id_len + name_len FOR payload_len), 'UTF8'),
       convert_from(substring(rest FROM 22 FOR 20), 'UTF8')::bigint
FROM record;

DROP TABLE bridge_segments;
