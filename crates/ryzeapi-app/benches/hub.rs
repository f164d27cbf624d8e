//! Event delivery through the bridge hub, beside a bare actix-ws loop.
//!
//! `cargo bench -p ryzeapi-app --bench hub` (figures in docs/performance.md).
//!
//! Three measurements, each against a real WebSocket client on loopback:
//! 1. throughput: N events injected into the engine as fast as possible,
//!    through the pump, the durable log (SQLite by default; set
//!    `BENCH_DATABASE_URL=postgres://...` for Postgres) and the bridge hub,
//!    until the bridge client has them all; the bare loop builds N frames with
//!    the same code and sends them from an actix-ws handler; five rounds
//!    each, alternating, and the medians are reported;
//! 2. latency at a fixed rate (p50/p99 from injection to receipt), hub and bare;
//! 3. the same latency run with a public client attached that never reads
//!    (and has a tiny receive buffer, so the server feels it stall at once);
//!    runs 2 and 3 alternate ten times (random order within each pair,
//!    random pauses) and the latencies of each side are pooled (10,000
//!    samples by default) before p50 and p99 are taken.
//!
//! `BENCH_CONTROL=1` attaches no stalled client on either side (an A/A run).
//!
//! Settings: `BENCH_EVENTS` (default 20000), `BENCH_RATE` (events/s, default
//! 2000), `BENCH_LATENCY_EVENTS` (per paced run, default 1000).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use ryzeapi_adapters::engine_memory::{incoming_message_data, IncomingText};
use ryzeapi_adapters::{Database, MemoryEngine, RingTokens};
use ryzeapi_app::accounts::create_account;
use ryzeapi_app::events::envelope;
use ryzeapi_app::{Application, Secret, Settings};
use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::{
    ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, ConnectionState, InboxName, Instance,
    InstanceId, InstanceName, Integration, IntegrationFlags, IntegrationStatus, Timestamp,
    WebsocketConfig,
};
use ryzeapi_ports::{
    EventLog, InstanceRepository, IntegrationRepository, SealedSecret, TokenService,
};
use ryzeapi_protocol::Event;
use serde_json::{json, Value};
use tungstenite::Message;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time (user + system, in clock ticks) used so far by each thread of
/// this process, by thread name.
fn cpu_by_thread() -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // "pid (name) state ppid ..."; utime and stime are fields 14 and 15
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks: u64 = fields
            .get(11..13)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
        *out.entry(name).or_default() += ticks;
    }
    out
}

/// Prints the CPU time each thread used since `before`, per event (µs; the
/// kernel counts in ticks of 10 ms, so short runs are coarse).
fn print_cpu_per_event(
    label: &str,
    before: &std::collections::BTreeMap<String, u64>,
    events: usize,
) {
    let per_event: Vec<String> = cpu_by_thread()
        .iter()
        .filter_map(|(name, ticks)| {
            let used = ticks.saturating_sub(before.get(name).copied().unwrap_or(0));
            (used > 0).then(|| format!("{name} {:.2}", used as f64 * 10_000.0 / events as f64))
        })
        .collect();
    println!(
        "  {label}: CPU µs per event by thread: {}",
        per_event.join(", ")
    );
}

/// The 99th percentile of the pooled samples of the chosen runs.
fn pooled_p99(runs: &[Vec<f64>], chosen: &[usize]) -> f64 {
    let mut pooled: Vec<f64> = chosen
        .iter()
        .flat_map(|&i| runs[i].iter().copied())
        .collect();
    let rank = ((pooled.len() - 1) as f64 * 0.99).round() as usize;
    *pooled
        .select_nth_unstable_by(rank, |a, b| a.partial_cmp(b).unwrap())
        .1
}

/// How sure the p99 comparison is, from 1,000 bootstrap draws that resample
/// whole pairs of runs: the 95 % interval of the pooled p99 change (%), each
/// pair's own p99 change (%), and the 95 % interval of the median of those.
///
/// The pooled p99 is moved a lot by one stall of the machine that delays
/// tens of events in a row; the median of the pairs' own changes is not, so
/// its interval is the narrower one.
fn p99_change_spread(plain: &[Vec<f64>], stalled: &[Vec<f64>]) -> P99Spread {
    let pairs = plain.len();
    let change =
        |chosen: &[usize]| (pooled_p99(stalled, chosen) / pooled_p99(plain, chosen) - 1.0) * 100.0;
    let per_pair: Vec<f64> = (0..pairs).map(|i| change(&[i])).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut pooled_draws = Vec::with_capacity(1000);
    let mut median_draws = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let chosen: Vec<usize> = (0..pairs)
            .map(|_| (next() % pairs as u64) as usize)
            .collect();
        pooled_draws.push(change(&chosen));
        median_draws.push(median(chosen.iter().map(|&i| per_pair[i]).collect()));
    }
    let interval = |mut draws: Vec<f64>| {
        draws.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (draws[25], draws[974])
    };
    P99Spread {
        pooled_interval: interval(pooled_draws),
        median_of_pairs: median(per_pair.clone()),
        median_interval: interval(median_draws),
        per_pair,
    }
}

struct P99Spread {
    pooled_interval: (f64, f64),
    per_pair: Vec<f64>,
    median_of_pairs: f64,
    median_interval: (f64, f64),
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A client that reads rounds of `sizes[i]` event frames, acknowledging as it
/// goes, and reports each round's latencies (ms) and the instant it ended.
fn read_frames(
    mut ws: tungstenite::WebSocket<TcpStream>,
    sizes: Vec<usize>,
    results: mpsc::Sender<(Vec<f64>, Instant)>,
) {
    for size in sizes {
        let mut latencies = Vec::with_capacity(size);
        while latencies.len() < size {
            match ws.read().expect("read") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("json");
                    if frame["type"] != "event" {
                        continue;
                    }
                    let sent: u128 = frame["event"]["data"]["message"]["content"]["text"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .expect("timestamp");
                    latencies.push((now_nanos().saturating_sub(sent)) as f64 / 1e6);
                    if frame["seq"].as_u64().unwrap() % 256 == 0 {
                        ws.send(Message::Text(
                            json!({"type": "ack", "seq": frame["seq"]})
                                .to_string()
                                .into(),
                        ))
                        .expect("ack");
                    }
                }
                Message::Close(_) => panic!("closed"),
                _ => {}
            }
        }
        // acknowledge the tail so the window never holds the next round back
        ws.send(Message::Text(
            json!({"type": "ack", "seq": 1u64 << 60}).to_string().into(),
        ))
        .expect("ack");
        results.send((latencies, Instant::now())).expect("report");
    }
}

fn connect(addr: &str, path: &str, bearer: Option<&str>) -> tungstenite::WebSocket<TcpStream> {
    use tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(b) = bearer {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {b}").parse().unwrap());
    }
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    tungstenite::client(request, stream).expect("handshake").0
}

/// A public client that never reads, with a receive buffer of a few KiB, so
/// that the server feels it stall after a few frames (not after the
/// megabytes loopback buffers would otherwise take in).
fn connect_stalled(addr: &str, path: &str) -> tungstenite::WebSocket<TcpStream> {
    use tungstenite::client::IntoClientRequest as _;
    let target: std::net::SocketAddr = addr.parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&target.into()).unwrap();
    let stream: TcpStream = socket.into();
    let request = format!("ws://{addr}{path}").into_client_request().unwrap();
    tungstenite::client(request, stream).expect("handshake").0
}

/// Paces `count` calls of `f` at `rate` per second.
fn paced(count: usize, rate: usize, mut f: impl FnMut(usize)) {
    let start = Instant::now();
    for i in 0..count {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        f(i);
    }
}

/// The machine's own noise: how late a thread that sleeps 500 µs wakes up,
/// over `duration` (ms: p50, p99, max, and the share of wake-ups more than
/// 1 ms late). Every hand-over between threads on the way to the bridge
/// pays this once.
fn wake_up_lateness(duration: Duration) -> (f64, f64, f64, f64) {
    let nap = Duration::from_micros(500);
    let mut late = Vec::new();
    let start = Instant::now();
    while start.elapsed() < duration {
        let before = Instant::now();
        thread::sleep(nap);
        late.push((before.elapsed().saturating_sub(nap)).as_secs_f64() * 1e3);
    }
    let over_1ms = late.iter().filter(|l| **l > 1.0).count() as f64 / late.len() as f64;
    late.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (
        percentile(&late, 50.0),
        percentile(&late, 99.0),
        late[late.len() - 1],
        over_1ms * 100.0,
    )
}

struct Stats {
    rate: f64,
    p50: f64,
    p99: f64,
}

fn summarise(mut latencies: Vec<f64>) -> (f64, f64) {
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&latencies, 50.0), percentile(&latencies, 99.0))
}

// ---------------------------------------------------------------- the bare loop

#[derive(Clone, Copy)]
enum BarePlan {
    Burst(usize),
    Paced(usize, usize),
}

async fn bare(
    req: HttpRequest,
    body: web::Payload,
    plan: web::Data<BarePlan>,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, _stream) = actix_ws::handle(&req, body)?;
    let plan = **plan;
    actix_web::rt::spawn(async move {
        // The same frame the hub builds for an injected message, with the
        // same code: the engine's event data, the envelope, the event frame.
        let frame = |seq: usize| {
            let id = format!("3EB0{seq:020}");
            let data = incoming_message_data(
                &id,
                &Timestamp::from_millis((now_nanos() / 1_000_000) as i64).to_rfc3339(),
                &incoming(),
            );
            let (env, _) =
                envelope::build("message.exchange", &data, "bench", "http://127.0.0.1:8080");
            Event::encode_around(seq as u64, &id, &env)
        };
        match plan {
            BarePlan::Burst(n) => {
                for seq in 1..=n {
                    if session.text(frame(seq)).await.is_err() {
                        return;
                    }
                }
            }
            BarePlan::Paced(n, rate) => {
                let start = tokio::time::Instant::now();
                for seq in 1..=n {
                    let due = start + Duration::from_secs_f64((seq - 1) as f64 / rate as f64);
                    tokio::time::sleep_until(due).await;
                    if session.text(frame(seq)).await.is_err() {
                        return;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    Ok(response)
}

fn start_bare(plan: BarePlan) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(plan))
                    .route("/bare", web::get().to(bare))
            })
            .workers(1)
            .tcp_nodelay(true)
            .listen(listener)
            .unwrap()
            .run()
            .await
        })
    };
    thread::Builder::new()
        .name("bench-bare-server".into())
        .spawn(server)
        .unwrap();
    addr
}

fn bare_run(plan: BarePlan, expect: usize) -> (Vec<f64>, Duration) {
    let addr = start_bare(plan);
    let ws = connect(&addr, "/bare", None);
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    thread::Builder::new()
        .name("bench-bare-client".into())
        .spawn(move || read_frames(ws, vec![expect], tx))
        .unwrap();
    let (latencies, done) = rx.recv().unwrap();
    (latencies, done - started)
}

// ---------------------------------------------------------------- the hub

struct Hub {
    addr: String,
    engine: Arc<MemoryEngine>,
    name: InstanceName,
    account_token: String,
    bridge_token: String,
}

fn prepare(url: &str) -> String {
    let db = Database::connect(url, 2, Duration::from_secs(10)).unwrap();
    db.migrate().unwrap();
    let repo = db.repository();
    let tokens = RingTokens::new();
    let (account, token) =
        create_account(&repo, &tokens, &ryzeapi_adapters::SystemClock, "bench", 10).unwrap();
    let instance = Instance {
        id: InstanceId::new(tokens.generate_id()),
        account_id: account.id,
        name: InstanceName::parse("bench").unwrap(),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::parse(true, &[], false).unwrap(),
        created_at: Timestamp::from_millis(0),
    };
    repo.create_instance(&instance, &tokens.digest(&tokens.generate_token()), 10)
        .unwrap();
    let integration = Integration::activated(
        instance.id.clone(),
        ChatwootSettings {
            base_url: ChatwootBaseUrl::parse("https://chat.example.com").unwrap(),
            account_id: ChatwootAccountId::parse(1).unwrap(),
            inbox_name: InboxName::parse("bench").unwrap(),
            flags: IntegrationFlags::default(),
        },
        &RemoteState {
            bridge_integration_id: "int_bench".into(),
            status: IntegrationStatus::Active,
            inbox_id: 1,
            inbox_name: "bench".into(),
            last_error: String::new(),
        },
        Timestamp::from_millis(0),
    )
    .unwrap();
    repo.save_integration(&integration, &SealedSecret::new("v1.1.unused"))
        .unwrap();
    repo.open_stream(&instance.id, Timestamp::from_millis(0))
        .unwrap();
    token
}

fn start_hub(url: &str) -> Hub {
    let account_token = prepare(url);
    let bridge_token = "bench-bridge-token".to_owned();
    let settings = Settings {
        database_url: url.to_owned(),
        listen_addr: "127.0.0.1:0".into(),
        encryption_key: Secret::new({
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode([3u8; 32])
        }),
        bridge_url: "http://127.0.0.1:9".into(),
        bridge_token: Secret::new(bridge_token.clone()),
        rate_limit_per_minute: 0,
        workers: 2,
        ..Settings::default()
    };
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(settings).expect("app");
            tx.send((app.port(), app.memory_engine())).unwrap();
            app.run_until_stopped().await.unwrap();
        })
    });
    let (port, engine) = rx.recv().unwrap();
    Hub {
        addr: format!("127.0.0.1:{port}"),
        engine,
        name: InstanceName::parse("bench").unwrap(),
        account_token,
        bridge_token,
    }
}

/// An incoming message whose text is the time it was made, in nanoseconds.
fn incoming() -> IncomingText {
    IncomingText {
        from: "5511999990000".into(),
        push_name: Some("Ana".into()),
        text: now_nanos().to_string(),
        ..IncomingText::default()
    }
}

fn inject(hub: &Hub) {
    // A full intake makes the engine wait; the benchmark waits with it.
    while hub.engine.inject_text(&hub.name, &incoming()).is_err() {}
}

fn main() {
    let events = env_usize("BENCH_EVENTS", 20_000);
    let rate = env_usize("BENCH_RATE", 2_000);
    let latency_events = env_usize("BENCH_LATENCY_EVENTS", 1_000);
    let pairs = env_usize("BENCH_PAIRS", 10).max(1);
    let dir = std::env::temp_dir().join(format!("ryzeapi-bench-{}", std::process::id()));
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let rss_start = rss_mib();

    // the hub: one bridge client for every round
    let hub = start_hub(&url);
    let mut ws = connect(&hub.addr, "/ws/chatwoot/bench", Some(&hub.bridge_token));
    let _hello = ws.read().unwrap();
    ws.send(Message::Text(
        json!({"type": "resume", "after": 0}).to_string().into(),
    ))
    .unwrap();
    let (tx, rx) = mpsc::channel();
    // Rounds: bursts alternating with the bare loop's (ABAB…), then paced
    // runs alternating without and with a stalled public client, so slow
    // drifts of the machine hit both sides alike.
    const ROUNDS: usize = 5;
    let mut sizes = vec![events; ROUNDS];
    sizes.extend(std::iter::repeat_n(latency_events, 2 * pairs + 1));
    thread::Builder::new()
        .name("bench-bridge".into())
        .spawn(move || read_frames(ws, sizes, tx))
        .unwrap();

    let mut bursts = Vec::new();
    for _ in 0..ROUNDS {
        let cpu_before = cpu_by_thread();
        let (_, bare_elapsed) = bare_run(BarePlan::Burst(events), events);
        if std::env::var("BENCH_VERBOSE").is_ok() {
            print_cpu_per_event("bare", &cpu_before, events);
        }
        let bare_rate = events as f64 / bare_elapsed.as_secs_f64();
        let cpu_before = cpu_by_thread();
        let started = Instant::now();
        for _ in 0..events {
            inject(&hub);
        }
        let injected = started.elapsed();
        let (_, done) = rx.recv().unwrap();
        if std::env::var("BENCH_VERBOSE").is_ok() {
            print_cpu_per_event("hub", &cpu_before, events);
        }
        let hub_rate = events as f64 / (done - started).as_secs_f64();
        if std::env::var("BENCH_VERBOSE").is_ok() {
            println!(
                "burst: bare {bare_rate:.0}/s; hub {hub_rate:.0}/s (injected in {injected:?}, delivered in {:?})",
                done - started
            );
        }
        bursts.push((bare_rate, hub_rate));
    }
    let (bare_lat, _) = bare_run(BarePlan::Paced(latency_events, rate), latency_events);
    let (bare_p50, bare_p99) = summarise(bare_lat);
    let lateness = wake_up_lateness(Duration::from_secs(2));

    // latencies of every paced run, pooled per side: the tail of 10 x 1,000
    // samples, alternating every half second, is far steadier than any
    // single run's
    let mut plain = Vec::new();
    let mut stalled = Vec::new();
    let verbose = std::env::var("BENCH_VERBOSE").is_ok();
    // first a paced run that is not counted: the bursts left the log and
    // the write-ahead log large, and the first checkpoints after them are
    // not part of either side's picture
    thread::sleep(Duration::from_secs(1));
    paced(latency_events, rate, |_| inject(&hub));
    rx.recv().unwrap();
    // Within each pair the order (without/with or with/without) is drawn at
    // random, and each run starts after a pause of 100-300 ms drawn at
    // random, so that neither position nor anything periodic in the server
    // (checkpoints every 500 ms, heartbeats) lines up with one side.
    let seed = std::cell::Cell::new(now_nanos() as u64 | 1);
    let random = || {
        let mut x = seed.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seed.set(x);
        x
    };
    let pause = || thread::sleep(Duration::from_millis(100 + random() % 200));
    // BENCH_CONTROL=1: no stalled client on either side (an A/A run), to see
    // how far the comparison moves when nothing differs
    let control = std::env::var("BENCH_CONTROL").is_ok();
    let run = |with_stalled_client: bool| {
        // a public client that never reads, for this run only
        let client = (with_stalled_client && !control)
            .then(|| connect_stalled(&hub.addr, &format!("/ws/bench?token={}", hub.account_token)));
        pause();
        paced(latency_events, rate, |_| inject(&hub));
        let latencies = rx.recv().unwrap().0;
        drop(client);
        latencies
    };
    for _ in 0..pairs {
        let (without, with) = if random() % 2 == 0 {
            let without = run(false);
            (without, run(true))
        } else {
            let with = run(true);
            (run(false), with)
        };
        if verbose {
            let (a, b) = (summarise(without.clone()), summarise(with.clone()));
            let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
            println!(
                "paced: p50/p99/max without {:.3}/{:.3}/{:.1} ms, with a stalled client {:.3}/{:.3}/{:.1} ms",
                a.0, a.1, max(&without), b.0, b.1, max(&with)
            );
        }
        plain.push(without);
        stalled.push(with);
    }
    let spread = p99_change_spread(&plain, &stalled);
    let plain: Vec<f64> = plain.concat();
    let stalled: Vec<f64> = stalled.concat();
    let median_of = |pick: fn(&(f64, f64)) -> f64| median(bursts.iter().map(pick).collect());
    let bare = Stats {
        rate: median_of(|r| r.0),
        p50: bare_p50,
        p99: bare_p99,
    };
    let (hub_p50, hub_p99) = summarise(plain);
    let hub_stats = Stats {
        rate: median_of(|r| r.1),
        p50: hub_p50,
        p99: hub_p99,
    };
    let ratio = median_of(|r| r.1 / r.0);
    let (sp50, sp99) = summarise(stalled);
    let rss_end = rss_mib();
    // how many stalled clients the public hub dropped (one per paced run
    // with a stalled client, if the hub dropped each of them)
    let health: Value = ureq::get(&format!("http://{}/health", hub.addr))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_json().ok())
        .unwrap_or(Value::Null);
    let dropped = health["events"]["publicDroppedSlow"].as_u64().unwrap_or(0);
    if std::env::var("BENCH_VERBOSE").is_ok() {
        println!("/health events: {}", health["events"]);
    }

    println!("ryzeapi bridge hub benchmark ({backend} log; bursts of {events} events, {latency_events} events at {rate}/s; {ROUNDS} alternating bursts and {pairs} alternating paced runs each; rates: medians, latencies: pooled)");
    println!(
        "{:<34} {:>12} {:>10} {:>10}",
        "", "events/s", "p50 ms", "p99 ms"
    );
    println!(
        "{:<34} {:>12.0} {:>10.3} {:>10.3}",
        "bare actix-ws loop", bare.rate, bare.p50, bare.p99
    );
    println!(
        "{:<34} {:>12.0} {:>10.3} {:>10.3}",
        "hub (durable log + protocol)", hub_stats.rate, hub_stats.p50, hub_stats.p99
    );
    println!(
        "{:<34} {:>12} {:>10.3} {:>10.3}",
        "hub + stalled public client", "-", sp50, sp99
    );
    println!();
    println!(
        "hub rate / bare rate:                 {ratio:.2}  (target >= 0.50; per round: {})",
        bursts
            .iter()
            .map(|(b, h)| format!("{:.2}", h / b))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "p99 change with a stalled client:     {:+.1} %  (target < 10 %)",
        (sp99 / hub_stats.p99 - 1.0) * 100.0
    );
    println!(
        "  95 % bootstrap interval (resampling the {pairs} pairs): {:+.1} % to {:+.1} %",
        spread.pooled_interval.0, spread.pooled_interval.1
    );
    println!(
        "median of the pairs' own p99 changes: {:+.1} %  (95 % interval {:+.1} % to {:+.1} %; {} of {pairs} pairs above +10 %)",
        spread.median_of_pairs,
        spread.median_interval.0,
        spread.median_interval.1,
        spread.per_pair.iter().filter(|c| **c > 10.0).count()
    );
    println!("stalled public clients dropped by the hub: {dropped} of {pairs}");
    println!("process RSS: {rss_start:.0} MiB at start, {rss_end:.0} MiB at the end");
    println!(
        "this machine: a thread sleeping 0.5 ms wakes up late by {:.3} ms (p50), {:.3} ms (p99), {:.1} ms (max); {:.2} % of wake-ups more than 1 ms late",
        lateness.0, lateness.1, lateness.2, lateness.3
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::process::exit(0);
}
