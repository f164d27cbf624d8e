//! The SQLite write-ahead log is folded into the database file by
//! `Database::checkpoint`, not by the commits themselves.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use ryzeapi_adapters::testing::{instance_with_stream, TestDatabase};
use ryzeapi_adapters::Database;
use ryzeapi_domain::{InstanceId, Timestamp};
use ryzeapi_ports::{EventLog, NewEvent};

/// Appends `count` events of about 1 KiB to a fresh stream.
fn write_events(db: &Database, count: u32) {
    let repo = db.repository();
    let instance = instance_with_stream(&repo);
    let events: Vec<NewEvent> = (0..count)
        .map(|n| NewEvent {
            instance_id: instance.clone(),
            event_id: format!("ev{n}"),
            name: "message.exchange".into(),
            payload: format!(r#"{{"n":{n},"text":"{}"}}"#, "x".repeat(1_000)),
            created_at: Timestamp::from_millis(i64::from(n)),
        })
        .collect();
    for batch in events.chunks(100) {
        repo.append(batch).unwrap();
    }
}

#[test]
fn commits_leave_the_write_ahead_log_to_the_checkpoint() {
    let test = TestDatabase::sqlite();
    let db = test.connect();
    // 4,000 events of about 1 KiB: well past the 1,000 pages after which
    // SQLite's default folds the log on commit; a log that still holds more
    // than that shows that no commit did
    write_events(&db, 4_000);
    let first = db.checkpoint().unwrap().expect("SQLite checkpoints");
    assert!(
        first.log_pages >= 1_000,
        "every commit since the start is still in the log: {first:?}"
    );
    assert_eq!(
        first.checkpointed_pages, first.log_pages,
        "nothing else was using the database, so all of it was copied"
    );
    // the log starts over after a complete checkpoint
    let repo = db.repository();
    repo.append(&[NewEvent {
        instance_id: InstanceId::new("i1"),
        event_id: "last".into(),
        name: "message.exchange".into(),
        payload: "{}".into(),
        created_at: Timestamp::from_millis(5_000),
    }])
    .unwrap();
    let second = db.checkpoint().unwrap().expect("SQLite checkpoints");
    assert!(
        second.log_pages < first.log_pages / 10,
        "the log restarted: {second:?} after {first:?}"
    );
    assert_eq!(
        repo.read_after(&InstanceId::new("i1"), 0, 10_000)
            .unwrap()
            .len(),
        4_001,
        "everything is there after the checkpoints"
    );
}

#[test]
fn postgres_needs_no_checkpoint() {
    let test = TestDatabase::postgres();
    assert_eq!(test.connect().checkpoint().unwrap(), None);
}
