//! The black-box harness: `spawn_app()` runs the real server on a random
//! port with a fresh database and a fake bridge that is a real HTTP server;
//! a capturing logger records every log line.
//!
//! The database is Postgres, or a SQLite file when `TEST_BACKEND=sqlite`
//! (the whole suite runs on both: see `scripts/test.sh`); a test can choose
//! one with `Options.sqlite`.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use ryzeapi_adapters::testing::TestDatabase;
use ryzeapi_adapters::{RingTokens, SystemClock};
use ryzeapi_app::accounts::create_account;
use ryzeapi_app::{Application, Secret, Settings};
use serde_json::{json, Value};

// ---------------------------------------------------------------- logging

struct Capture {
    lines: Mutex<Vec<String>>,
}

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(line);
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture {
            lines: Mutex::new(Vec::new()),
        }));
        log::set_logger(capture).expect("logger");
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

/// Every log line of the process so far containing `needle`.
pub fn log_lines_containing(needle: &str) -> Vec<String> {
    capture()
        .lines
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------- fake bridge

/// A scripted answer of the fake bridge.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status and JSON body.
    Json(u16, Value),
    /// Status and raw body.
    Raw(u16, &'static str),
    /// Sleep, then answer 200 `{}`.
    Hang(Duration),
}

/// A request the fake bridge received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Default)]
struct BridgeState {
    calls: Vec<Call>,
    activate: VecDeque<Reply>,
    status: VecDeque<Reply>,
    delete: VecDeque<Reply>,
}

/// A fake bridge: a real HTTP server answering the bridge API from scripts,
/// with sensible defaults (activate → active, inbox 41; status → active; delete → 204).
#[derive(Clone)]
pub struct FakeBridge {
    pub url: String,
    state: Arc<Mutex<BridgeState>>,
}

fn error_body(kind: &str, chatwoot_status: u16, detail: &str) -> Value {
    json!({"error": {"kind": kind, "message": detail, "chatwoot_status": chatwoot_status, "detail": detail}})
}

/// A classified Chatwoot failure as the bridge reports it.
pub fn chatwoot_failure(status: u16, kind: &str, detail: &str) -> Reply {
    Reply::Json(status, error_body(kind, status, detail))
}

async fn answer(reply: Reply) -> HttpResponse {
    match reply {
        Reply::Json(code, body) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
                .json(body)
        }
        Reply::Raw(code, body) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
                .body(body)
        }
        Reply::Hang(d) => {
            actix_web::rt::time::sleep(d).await;
            HttpResponse::Ok().json(json!({}))
        }
    }
}

async fn bridge_handler(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<BridgeState>>>,
) -> HttpResponse {
    let call = Call {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let reply = {
        let mut s = state.lock().expect("bridge state");
        s.calls.push(call.clone());
        let id = call.path.rsplit('/').next().unwrap_or_default().to_owned();
        match (call.method.as_str(), call.path.as_str()) {
            ("POST", "/v1/integrations/activate") => s.activate.pop_front().unwrap_or_else(|| {
                Reply::Json(
                    201,
                    json!({
                        "id": format!("int_{}", call.body["instance"].as_str().unwrap_or("x")),
                        "status": "active",
                        "inbox_id": 41,
                        "inbox_name": call.body["inbox_name"],
                        "last_error": ""
                    }),
                )
            }),
            ("GET", _) => s.status.pop_front().unwrap_or_else(|| {
                Reply::Json(200, json!({"id": id, "status": "active", "inbox_id": 41, "inbox_name": "x", "last_error": ""}))
            }),
            ("DELETE", _) => s.delete.pop_front().unwrap_or(Reply::Raw(204, "")),
            _ => Reply::Raw(404, "no such route"),
        }
    };
    answer(reply).await
}

impl FakeBridge {
    /// Starts the fake bridge on a random port.
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(BridgeState::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = state.clone();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(shared.clone()))
                        .default_service(web::to(bridge_handler))
                })
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run()
                .await
            })
        });
        Self { url, state }
    }

    pub fn on_activate(&self, reply: Reply) {
        self.state.lock().expect("state").activate.push_back(reply);
    }
    pub fn on_status(&self, reply: Reply) {
        self.state.lock().expect("state").status.push_back(reply);
    }
    pub fn on_delete(&self, reply: Reply) {
        self.state.lock().expect("state").delete.push_back(reply);
    }
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("state").calls.clone()
    }
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }
}

// ---------------------------------------------------------------- the app

/// Whether tests run on SQLite unless they say otherwise: `TEST_BACKEND`
/// is `sqlite`, or `postgres` (the default when it is unset).
pub fn sqlite_by_default() -> bool {
    static SQLITE: OnceLock<bool> = OnceLock::new();
    *SQLITE.get_or_init(|| match std::env::var("TEST_BACKEND") {
        Err(_) => false,
        Ok(v) if v.is_empty() || v == "postgres" => false,
        Ok(v) if v == "sqlite" => true,
        Ok(v) => panic!("TEST_BACKEND must be 'postgres' or 'sqlite', not '{v}'"),
    })
}

/// How to start the app.
pub struct Options {
    /// The embedded default (a SQLite file) instead of Postgres; by default
    /// as `TEST_BACKEND` says ([`sqlite_by_default`]).
    pub sqlite: bool,
    pub module_on: bool,
    /// When set, `BRIDGE_URL` points here instead of at the fake bridge.
    pub bridge_url_override: Option<String>,
    pub rate_limit: u32,
    pub create_rate_limit: u32,
    pub max_body_bytes: usize,
    pub activate_timeout_secs: u64,
    pub max_instances: u32,
    pub heartbeat_secs: u64,
    pub heartbeat_timeout_secs: u64,
    pub prune_interval_secs: u64,
    pub acked_retention_secs: u64,
    pub bridge_max_frame: usize,
    pub public_queue_bytes: usize,
    pub public_max_lag_secs: u64,
    pub window: u64,
    pub send_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    /// 0 (the tests' default): no per-address connection limit.
    pub max_connections_per_ip: usize,
    pub trusted_proxies: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sqlite: sqlite_by_default(),
            module_on: true,
            bridge_url_override: None,
            rate_limit: 10_000,
            create_rate_limit: 10_000,
            max_body_bytes: 64 * 1024,
            activate_timeout_secs: 2,
            max_instances: 100,
            heartbeat_secs: 1,
            heartbeat_timeout_secs: 10,
            prune_interval_secs: 60,
            acked_retention_secs: 3600,
            bridge_max_frame: 64 * 1024,
            public_queue_bytes: 16 * 1024 * 1024,
            public_max_lag_secs: 30,
            window: 1024,
            send_timeout_secs: 2,
            body_read_timeout_secs: 10,
            max_connections_per_ip: 0,
            trusted_proxies: String::new(),
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running server with its database and fake bridge.
pub struct TestApp {
    pub address: String,
    pub bridge: FakeBridge,
    pub bridge_token: String,
    pub account_token: String,
    pub db: TestDatabase,
    agent: ureq::Agent,
    handle: actix_web::dev::ServerHandle,
    bodies: Mutex<Vec<String>>,
    settings: Settings,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _stopping = self.handle.stop(false);
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(Options::default())
}

pub fn spawn_app_with(options: Options) -> TestApp {
    capture();
    let db = if options.sqlite {
        TestDatabase::sqlite()
    } else {
        TestDatabase::postgres()
    };
    let bridge = FakeBridge::start();
    let tokens = RingTokens::new();
    let account_token = format!(
        "acct-{}",
        ryzeapi_ports::TokenService::generate_token(&tokens)
    );
    let bridge_token = format!(
        "bridge-{}",
        ryzeapi_ports::TokenService::generate_token(&tokens)
    );
    let key = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode([9u8; 32])
    };
    let mut settings = Settings {
        database_url: db.url().to_owned(),
        database_pool_size: 4,
        listen_addr: "127.0.0.1:0".into(),
        encryption_key: Secret::new(key),
        bootstrap_account_token: Secret::new(account_token.clone()),
        default_max_instances: options.max_instances,
        rate_limit_per_minute: options.rate_limit,
        rate_limit_create_per_minute: options.create_rate_limit,
        max_body_bytes: options.max_body_bytes,
        bridge_activate_timeout_secs: options.activate_timeout_secs,
        bridge_status_timeout_secs: 2,
        bridge_delete_timeout_secs: 2,
        bridge_connect_timeout_secs: 2,
        workers: 2,
        dev_engine_routes: true,
        ws_heartbeat_secs: options.heartbeat_secs,
        ws_heartbeat_timeout_secs: options.heartbeat_timeout_secs,
        ws_send_timeout_secs: options.send_timeout_secs,
        event_prune_interval_secs: options.prune_interval_secs,
        event_retention_acked_secs: options.acked_retention_secs,
        bridge_max_frame_bytes: options.bridge_max_frame,
        public_ws_queue_bytes: options.public_queue_bytes,
        public_ws_max_lag_secs: options.public_max_lag_secs,
        bridge_window: options.window,
        body_read_timeout_secs: options.body_read_timeout_secs,
        max_connections_per_ip: options.max_connections_per_ip,
        trusted_proxies: options.trusted_proxies.clone(),
        ..Settings::default()
    };
    if options.module_on {
        settings.bridge_url = options
            .bridge_url_override
            .clone()
            .unwrap_or_else(|| bridge.url.clone());
        settings.bridge_token = Secret::new(bridge_token.clone());
        settings.bridge_internal_ryzeapi_url = "http://ryzeapi.internal:8080/".into();
    }
    let (port, handle) = start_server(settings.clone());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        bridge,
        bridge_token,
        account_token,
        db,
        agent,
        handle,
        bodies: Mutex::new(Vec::new()),
        settings,
    }
}

/// Runs the server on its own thread; returns its port and handle.
fn start_server(settings: Settings) -> (u16, actix_web::dev::ServerHandle) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(settings) {
                Ok(app) => {
                    tx.send(Ok((app.port(), app.handle()))).expect("send");
                    app.run_until_stopped().await.expect("server");
                }
                Err(e) => tx.send(Err(format!("{e:#}"))).expect("send"),
            }
        });
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the app did not start in time")
        .unwrap_or_else(|e| panic!("the app failed to start: {e}"))
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        text,
        headers,
    }
}

impl TestApp {
    /// Stops the server and starts a new one on the same database and
    /// settings (a restart); the address changes.
    pub fn restart(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let (port, handle) = start_server(self.settings.clone());
        self.address = format!("http://127.0.0.1:{port}");
        self.handle = handle;
    }

    fn record(&self, answer: Answer) -> Answer {
        self.bodies
            .lock()
            .expect("bodies")
            .push(answer.text.clone());
        answer
    }

    /// Every response body this app has given so far.
    pub fn all_bodies(&self) -> Vec<String> {
        self.bodies.lock().expect("bodies").clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.get(&self.url(path));
        if let Some(t) = token {
            req = req.header("token", t);
        }
        self.record(read(req.call().expect("request")))
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.agent.delete(&self.url(path));
        if let Some(t) = token {
            req = req.header("token", t);
        }
        self.record(read(req.call().expect("request")))
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.post_raw(path, token, &body.to_string())
    }

    pub fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> Answer {
        self.post_bytes(path, token, body.as_bytes())
    }

    /// A POST of arbitrary bytes as `application/json`.
    pub fn post_bytes(&self, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
        let mut req = self
            .agent
            .post(&self.url(path))
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("token", t);
        }
        self.record(read(req.send(body).expect("request")))
    }

    /// A request with arbitrary headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut req = self.agent.get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.record(read(req.call().expect("request")))
    }

    /// Creates an instance with the account token; returns its TokenInstance.
    pub fn create_instance(&self, name: &str) -> String {
        let answer = self.post_json(
            "/api/instance/new",
            Some(&self.account_token),
            &json!({"name": name}),
        );
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["instance"]["token"]
            .as_str()
            .expect("instance token")
            .to_owned()
    }

    /// A second account on the same server; returns its token.
    pub fn another_account(&self, max_instances: u32) -> String {
        let repo = self.db.connect().repository();
        let (_, token) = create_account(
            &repo,
            &RingTokens::new(),
            &SystemClock,
            "other",
            max_instances,
        )
        .expect("account");
        token
    }

    /// A valid set body.
    pub fn set_body(api_token: &str) -> Value {
        json!({
            "chatwootBaseUrl": "https://chat.example.com/",
            "chatwootAccountId": 5,
            "chatwootApiToken": api_token,
            "inboxName": "WhatsApp - Orion",
            "signMessages": true,
            "ignoreGroups": false,
            "startAsPending": true,
            "reopenResolved": false
        })
    }
}

// ---------------------------------------------------------------- sockets

/// A WebSocket client over a plain TCP stream.
pub struct Ws {
    pub socket: tungstenite::WebSocket<std::net::TcpStream>,
}

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code and reason.
    Closed(u16, String),
    /// The connection dropped without a close frame.
    Dropped,
}

impl Ws {
    pub fn send_json(&mut self, value: &Value) {
        self.socket
            .send(tungstenite::Message::Text(value.to_string().into()))
            .expect("send");
    }

    pub fn send_raw(&mut self, message: tungstenite::Message) {
        self.socket.send(message).expect("send");
    }

    /// The next JSON text frame within `timeout`; pings are answered on the way.
    /// The next `n` event frames (other frames are skipped), 5 s for each.
    pub fn events(&mut self, n: usize) -> Vec<Value> {
        let mut got = Vec::new();
        while got.len() < n {
            let frame = self.recv_json(Duration::from_secs(5)).expect("frame");
            if frame["type"] == "event" {
                got.push(frame);
            }
        }
        got
    }

    pub fn recv_json(&mut self, timeout: Duration) -> Result<Value, Ended> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                panic!("no frame within {timeout:?}");
            }
            self.socket
                .get_mut()
                .set_read_timeout(Some(left.min(Duration::from_millis(500))))
                .expect("timeout");
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    return Ok(serde_json::from_str(text.as_str()).expect("json frame"))
                }
                Ok(tungstenite::Message::Close(frame)) => {
                    return Err(frame.map_or(Ended::Dropped, |f| {
                        Ended::Closed(u16::from(f.code), f.reason.to_string())
                    }))
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Err(Ended::Dropped),
            }
        }
    }

    /// Reads until the socket ends, skipping frames; how it ended.
    pub fn until_end(&mut self, timeout: Duration) -> Ended {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            self.socket
                .get_mut()
                .set_read_timeout(Some(Duration::from_millis(200)))
                .expect("timeout");
            match self.socket.read() {
                Ok(tungstenite::Message::Close(frame)) => {
                    return frame.map_or(Ended::Dropped, |f| {
                        Ended::Closed(u16::from(f.code), f.reason.to_string())
                    })
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Ended::Dropped,
            }
        }
        panic!("the socket did not end within {timeout:?}");
    }
}

impl TestApp {
    /// Opens a WebSocket on `path`; `Err(status)` when the server refuses the upgrade.
    pub fn ws(&self, path: &str, headers: &[(&str, &str)]) -> Result<Ws, u16> {
        use tungstenite::client::IntoClientRequest as _;
        let addr = self.address.trim_start_matches("http://");
        let mut request = format!("ws://{addr}{path}")
            .into_client_request()
            .expect("request");
        for (k, v) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        match tungstenite::client(request, stream) {
            Ok((socket, _)) => Ok(Ws { socket }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("handshake failed: {e}"),
        }
    }

    /// The bridge's socket for `instance`, after `hello`; returns the hello too.
    pub fn bridge_socket(&self, instance: &str) -> (Ws, Value) {
        let bearer = format!("Bearer {}", self.bridge_token);
        let mut ws = self
            .ws(
                &format!("/ws/chatwoot/{instance}"),
                &[("Authorization", &bearer)],
            )
            .expect("bridge socket");
        let hello = ws.recv_json(Duration::from_secs(5)).expect("hello");
        assert_eq!(hello["type"], "hello", "{hello}");
        (ws, hello)
    }

    /// A public socket client of `instance` (token in the query).
    pub fn public_socket(&self, instance: &str, token: &str) -> Ws {
        self.ws(&format!("/ws/{instance}?token={token}"), &[])
            .expect("public socket")
    }

    /// A public client with a receive buffer of a few KiB, as a client far
    /// away or on a slow link has in effect (no megabytes of loopback
    /// buffering on its side).
    pub fn small_window_public_socket(&self, instance: &str, token: &str) -> Ws {
        use tungstenite::client::IntoClientRequest as _;
        let addr = self.address.trim_start_matches("http://");
        let target: std::net::SocketAddr = addr.parse().expect("address");
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        socket.connect(&target.into()).expect("connect");
        let request = format!("ws://{addr}/ws/{instance}?token={token}")
            .into_client_request()
            .expect("request");
        let (socket, _) =
            tungstenite::client(request, std::net::TcpStream::from(socket)).expect("handshake");
        Ws { socket }
    }

    /// An instance with an active integration; returns its TokenInstance.
    pub fn instance_with_integration(&self, name: &str) -> String {
        let token = self.create_instance(name);
        let set = self.post_json(
            &format!("/api/chatwoot/set/{name}"),
            Some(&self.account_token),
            &Self::set_body("sk_test"),
        );
        assert_eq!(set.status, 201, "{}", set.text);
        token
    }

    /// Injects `count` incoming texts through the development routes; returns their ids.
    pub fn inject(&self, instance: &str, count: usize, prefix: &str) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        let mut n = 0;
        while n < count {
            let batch = (count - n).min(400);
            let messages: Vec<Value> = (n..n + batch)
                .map(|i| json!({"from": "5511999990000", "text": format!("{prefix}{i}"), "pushName": "Ana"}))
                .collect();
            let answer = self.post_json(
                &format!("/dev/engine/{instance}/messages"),
                Some(&self.account_token),
                &json!({"messages": messages}),
            );
            assert_eq!(answer.status, 200, "{}", answer.text);
            ids.extend(
                answer.body["data"]["messageIds"]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .map(|v| v.as_str().expect("id").to_owned()),
            );
            n += batch;
        }
        ids
    }

    /// Connects or disconnects the in-process engine for `instance`.
    pub fn engine_state(&self, instance: &str, action: &str) {
        let answer = self.post_json(
            &format!("/dev/engine/{instance}/state"),
            Some(&self.account_token),
            &json!({"action": action}),
        );
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    /// Waits until the log holds `last_seq` events for `instance` (events
    /// reach the log asynchronously, through the pump).
    pub fn wait_logged(&self, instance: &str, last_seq: u64) {
        eventually("not logged", || {
            let listed = self.get(
                &format!("/api/chatwoot/list/{instance}"),
                Some(&self.account_token),
            );
            (listed.body["stream"]["last_seq"].as_u64() == Some(last_seq))
                .then_some(())
                .ok_or(listed.text)
        });
    }

    /// Waits until the pump has received `count` events in all.
    pub fn wait_received(&self, count: u64) {
        eventually("events not received", || {
            let stats = self.event_stats();
            (stats["eventsReceived"].as_u64().unwrap_or(0) >= count)
                .then_some(())
                .ok_or(stats.to_string())
        });
    }

    /// The hub counters from `/health`.
    pub fn event_stats(&self) -> Value {
        self.get("/health", None).body["events"].clone()
    }
}

/// Polls `check` until it succeeds; fails after 10 s with `what` and what
/// the last attempt saw (things the server does asynchronously).
pub fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let started = std::time::Instant::now();
    loop {
        let seen = match check() {
            Ok(()) => return,
            Err(seen) => seen,
        };
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: {seen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
