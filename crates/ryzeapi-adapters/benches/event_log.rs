//! The durable event log alone: how many events per second `EventLog::append`
//! stores, by batch size, on SQLite (default) or Postgres.
//!
//! `cargo bench -p ryzeapi-adapters --bench event_log` (figures in
//! docs/performance.md). `BENCH_DATABASE_URL=postgres://...` uses Postgres (the
//! database must exist); `BENCH_EVENTS` sets how many events each batch size
//! writes (default 20000).
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use ryzeapi_adapters::Database;
use ryzeapi_adapters::DatabaseKind;
use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, Timestamp,
    WebsocketConfig,
};
use ryzeapi_ports::{AccountRepository, EventLog, InstanceRepository, NewEvent, TokenDigest};

fn main() {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("ryzeapi-log-bench-{}", std::process::id()));
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("log.db").display()));
    let db = Database::connect(&url, 2, Duration::from_secs(10)).unwrap();
    db.migrate().unwrap();
    let repo = db.repository();
    let suffix = std::process::id();
    let account = Account {
        id: AccountId::new(format!("acc-bench-{suffix}")),
        name: "bench".into(),
        max_instances: 10,
        created_at: Timestamp::from_millis(0),
    };
    repo.create_account(&account, &TokenDigest::from_hex(format!("{suffix:064x}")))
        .unwrap();
    let instance = Instance {
        id: InstanceId::new(format!("inst-bench-{suffix}")),
        account_id: account.id.clone(),
        name: InstanceName::parse(&format!("bench{suffix}")).unwrap(),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::parse(false, &[], false).unwrap(),
        created_at: Timestamp::from_millis(0),
    };
    repo.create_instance(
        &instance,
        &TokenDigest::from_hex(format!("{:064x}", u64::from(suffix) + 1)),
        10,
    )
    .unwrap();
    repo.open_stream(&instance.id, Timestamp::from_millis(0))
        .unwrap();
    let kind = if db.kind() == DatabaseKind::Postgres {
        "postgres"
    } else {
        "sqlite"
    };
    println!("durable log append ({kind}; {events} events per batch size)");
    println!(
        "{:>14} {:>10} {:>12} {:>14}",
        "payload bytes", "batch", "events/s", "µs per event"
    );
    // as the server does: the write-ahead log is checkpointed in the
    // background every 500 ms, not by the commits
    let checkpoints = db.clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        checkpoints.checkpoint().unwrap();
    });
    let mut n = 0_u64;
    // envelopes of a short text message (as in the hub benchmark) and of a
    // longer one
    for text_len in [19, 1_000] {
        let payload = format!(
            r#"{{"event":"message.exchange","data":{{"id":"3EB0ABCDEF01000000000001","message":{{"id":"3EB0ABCDEF01000000000001","direction":"incoming","timestamp":"2026-11-25T00:00:00Z","chat":{{"jid":"5511999990000@s.whatsapp.net","lid":"","name":"Ana","type":"private"}},"sender":{{"jid":"5511999990000@s.whatsapp.net","lid":"","name":"Ana"}},"content":{{"text":"{}"}}}}}},"instanceData":{{"instance":"bench","baseUrl":"http://127.0.0.1:8080"}}}}"#,
            "x".repeat(text_len)
        );
        for batch in [1_usize, 16, 64, 256, 1024, 4096] {
            let total = if batch == 1 { events / 10 } else { events };
            let started = Instant::now();
            for _ in 0..total / batch {
                let chunk: Vec<NewEvent> = (0..batch)
                    .map(|_| {
                        n += 1;
                        NewEvent {
                            instance_id: instance.id.clone(),
                            event_id: format!("3EB0{n:020}"),
                            name: "message.exchange".into(),
                            payload: payload.clone(),
                            created_at: Timestamp::from_millis(i64::try_from(n).unwrap()),
                        }
                    })
                    .collect();
                repo.append(&chunk).unwrap();
            }
            let elapsed = started.elapsed().as_secs_f64();
            let done = (total / batch * batch) as f64;
            println!(
                "{:>14} {batch:>10} {:>12.0} {:>14.2}",
                payload.len(),
                done / elapsed,
                elapsed * 1e6 / done
            );
        }
    }
    repo.delete_instance(&instance.id).ok();
    let _ = std::fs::remove_dir_all(&dir);
}
