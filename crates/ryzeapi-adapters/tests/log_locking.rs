//! Pruning takes an instance's stream row before it touches its segments, as
//! appending and closing do: a stream closed while it is pruned stays empty.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use ryzeapi_adapters::testing::{instance_with_stream, TestDatabase};
use ryzeapi_domain::Timestamp;
use ryzeapi_ports::{EventLog, NewEvent};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[test]
fn a_stream_closed_during_pruning_keeps_none_of_its_events() {
    let test = TestDatabase::postgres();
    let db = test.connect();
    let repo = db.repository();
    let instance = instance_with_stream(&repo);
    // One segment, half of it acknowledged and old enough to go: pruning
    // rewrites it without those events.
    let events: Vec<NewEvent> = (1..=10)
        .map(|n| NewEvent {
            instance_id: instance.clone(),
            event_id: format!("ev{n}"),
            name: "message.exchange".into(),
            payload: format!("{{\"n\":{n}}}"),
            created_at: Timestamp::from_millis(n),
        })
        .collect();
    repo.append(&events).unwrap();
    repo.ack(&instance, 5, Timestamp::from_millis(0)).unwrap();

    // Another session closes the stream the way close_stream does, and
    // holds its transaction open while pruning starts.
    let mut other = PgConnection::establish(test.url()).unwrap();
    other
        .batch_execute(
            "BEGIN;
             UPDATE bridge_streams SET active = 0, acked_seq = last_seq WHERE instance_id = 'i1';
             DELETE FROM bridge_segments WHERE instance_id = 'i1';",
        )
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let pruning = {
        let repo = db.repository();
        std::thread::spawn(move || {
            let removed = repo.prune(Timestamp::from_millis(100), Timestamp::from_millis(0));
            done_tx.send(()).unwrap();
            removed
        })
    };
    assert!(
        done_rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "pruning waits for the stream row while the closing transaction holds it"
    );
    other.batch_execute("COMMIT;").unwrap();
    let removed = pruning.join().unwrap().expect("prune");
    assert_eq!(removed, 0, "the closed stream had nothing left to prune");
    let left: Count =
        diesel::sql_query("SELECT count(*) AS n FROM bridge_segments WHERE instance_id = 'i1'")
            .get_result(&mut other)
            .unwrap();
    assert_eq!(
        left.n, 0,
        "no segment came back after the stream was closed"
    );
    assert_eq!(repo.position(&instance).unwrap(), None);
}
