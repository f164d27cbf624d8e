//! The migration that stores the event log in segments keeps every event
//! logged before it, on both backends, and so does its reversal.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::LoadQuery;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use ryzeapi_adapters::testing::TestDatabase;
use ryzeapi_adapters::Database;
use ryzeapi_domain::{InstanceId, Timestamp};
use ryzeapi_ports::{EventLog, NewEvent};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// The migration under test.
const VERSION: &str = "20261125000004";

#[derive(QueryableByName, Debug, PartialEq, Clone)]
struct OldRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    instance_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    event_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    event_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    created_at: i64,
}

fn old_rows() -> Vec<OldRow> {
    let payloads = [
        "{\"event\":\"message.exchange\",\"text\":\"hello\"}",
        "tab\there, line\nbreak, back\\slash, 'quote', olá, 日本語, 😀",
        "",
        &"x".repeat(3_000),
    ];
    let mut rows: Vec<OldRow> = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            let n = i64::try_from(i).unwrap() + 1;
            OldRow {
                instance_id: "i1".into(),
                seq: n + 10,
                event_id: format!("ev-{n}-ünï"),
                event_name: "message.exchange".into(),
                payload: (*payload).to_owned(),
                created_at: 1_764_000_000_000 + n,
            }
        })
        .collect();
    rows.push(OldRow {
        instance_id: "i2".into(),
        seq: 1,
        event_id: "other".into(),
        event_name: "connection.update".into(),
        payload: "{}".into(),
        created_at: 5,
    });
    rows
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Two instances with streams and the rows of [`old_rows`], inserted out of order.
fn seed_sql() -> String {
    let mut sql = String::from(
        "INSERT INTO accounts (id, name, max_instances, token_digest, created_at) \
             VALUES ('a1', 'a', 5, 'd1', 0);
         INSERT INTO instances (id, account_id, name, token_digest, state, created_at)
             VALUES ('i1', 'a1', 'one', 'd2', 'disconnected', 0);
         INSERT INTO instances (id, account_id, name, token_digest, state, created_at)
             VALUES ('i2', 'a1', 'two', 'd3', 'disconnected', 0);
         INSERT INTO bridge_streams VALUES ('i1', 14, 10, 1, 0, 0);
         INSERT INTO bridge_streams VALUES ('i2', 1, 0, 1, 0, 0);\n",
    );
    for row in old_rows().iter().rev() {
        sql.push_str(&format!(
            "INSERT INTO bridge_events (instance_id, seq, event_id, event_name, payload, created_at) \
             VALUES ({}, {}, {}, {}, {}, {});\n",
            quoted(&row.instance_id),
            row.seq,
            quoted(&row.event_id),
            quoted(&row.event_name),
            quoted(&row.payload),
            row.created_at
        ));
    }
    sql
}

fn round_trip<C>(mut conn: C, migrations: fn() -> EmbeddedMigrations, db: &Database)
where
    C: Connection + MigrationHarness<C::Backend>,
    for<'a> SqlQuery: LoadQuery<'a, C, OldRow>,
{
    // The database is fully migrated: step back to one row per event.
    let reverted = conn.revert_last_migration(migrations()).expect("revert");
    assert_eq!(reverted.to_string(), VERSION);
    conn.batch_execute(&seed_sql())
        .expect("rows of the old log");

    let applied = conn.run_pending_migrations(migrations()).expect("migrate");
    assert_eq!(
        applied.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [VERSION]
    );
    let repo = db.repository();
    for instance in ["i1", "i2"] {
        let id = InstanceId::new(instance);
        let logged = repo.read_after(&id, 0, 100).expect("read");
        let want: Vec<OldRow> = old_rows()
            .into_iter()
            .filter(|r| r.instance_id == instance)
            .collect();
        assert_eq!(logged.len(), want.len(), "{instance}");
        for (got, row) in logged.iter().zip(&want) {
            assert_eq!(got.seq, u64::try_from(row.seq).unwrap());
            assert_eq!(
                got.event,
                NewEvent {
                    instance_id: id.clone(),
                    event_id: row.event_id.clone(),
                    name: row.event_name.clone(),
                    payload: row.payload.clone(),
                    created_at: Timestamp::from_millis(row.created_at),
                }
            );
        }
    }
    let position = repo.position(&InstanceId::new("i1")).unwrap().unwrap();
    assert_eq!(
        (position.acked_seq, position.oldest_seq, position.last_seq),
        (10, 11, 14)
    );
    // The log goes on after the converted events, in segments of several.
    let more: Vec<NewEvent> = (0..3)
        .map(|n| NewEvent {
            instance_id: InstanceId::new("i1"),
            event_id: format!("new-{n}"),
            name: "message.exchange".into(),
            payload: format!("{{\"n\":{n}}}"),
            created_at: Timestamp::from_millis(1_764_000_001_000 + n),
        })
        .collect();
    assert_eq!(repo.append(&more).unwrap(), [Some(15), Some(16), Some(17)]);
    assert_eq!(
        repo.read_after(&InstanceId::new("i1"), 13, 10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [14, 15, 16, 17]
    );

    // And back: one row per event again, none lost.
    let reverted = conn.revert_last_migration(migrations()).expect("revert");
    assert_eq!(reverted.to_string(), VERSION);
    let rows: Vec<OldRow> = diesel::sql_query(
        "SELECT instance_id, seq, event_id, event_name, payload, created_at \
         FROM bridge_events ORDER BY instance_id, seq",
    )
    .load(&mut conn)
    .expect("rows after the reversal");
    let mut want = old_rows();
    let i2 = want.pop().unwrap();
    want.extend(more.iter().enumerate().map(|(n, e)| OldRow {
        instance_id: "i1".into(),
        seq: 15 + i64::try_from(n).unwrap(),
        event_id: e.event_id.clone(),
        event_name: e.name.clone(),
        payload: e.payload.clone(),
        created_at: e.created_at.as_millis(),
    }));
    want.push(i2);
    assert_eq!(rows, want);
    conn.run_pending_migrations(migrations())
        .expect("migrate again");
}

#[test]
fn sqlite_keeps_the_log_both_ways() {
    let test = TestDatabase::sqlite();
    let path = test.url().strip_prefix("sqlite://").unwrap().to_owned();
    let conn = SqliteConnection::establish(&path).expect("open");
    round_trip(conn, || SQLITE, &test.connect());
}

#[derive(QueryableByName)]
struct Compression {
    #[diesel(sql_type = diesel::sql_types::Text)]
    method: String,
}

#[test]
fn postgres_keeps_the_log_both_ways() {
    let test = TestDatabase::postgres();
    let conn = PgConnection::establish(test.url()).expect("connect");
    round_trip(conn, || POSTGRES, &test.connect());
}

/// Segment bodies are compressed with lz4 when the server has it, with the
/// server's default otherwise.
#[test]
fn postgres_compresses_segments_with_lz4_where_it_can() {
    let test = TestDatabase::postgres();
    let mut conn = PgConnection::establish(test.url()).expect("connect");
    let lz4 = conn
        .batch_execute("CREATE TEMPORARY TABLE lz4_probe (t TEXT COMPRESSION lz4)")
        .is_ok();
    let column: Compression = diesel::sql_query(
        "SELECT attcompression::text AS method FROM pg_attribute \
         WHERE attrelid = 'bridge_segments'::regclass AND attname = 'body'",
    )
    .get_result(&mut conn)
    .expect("the body column");
    // 'l': lz4; '' (empty): the default of the server
    assert_eq!(
        column.method,
        if lz4 { "l" } else { "" },
        "lz4 available: {lz4}"
    );
}
