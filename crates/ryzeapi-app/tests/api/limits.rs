//! What one client can hold: a body must arrive within
//! `BODY_READ_TIMEOUT_SECS` (408, then the connection is closed), and one
//! address may hold at most `MAX_CONNECTIONS_PER_IP` connections (503 at
//! once for the next).

use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{eventually, spawn_app_with, Options};
use crate::raw::{closes_within, read_answer, send};

const TIMEOUT_MESSAGE: &str = "request timeout: the body was not received within 1 s";

fn quick_timeout() -> Options {
    Options {
        body_read_timeout_secs: 1,
        ..Options::default()
    }
}

#[test]
fn a_body_that_never_arrives_is_408_and_the_connection_closes() {
    let app = spawn_app_with(quick_timeout());
    let mut stream = app.connect();
    let started = Instant::now();
    send(
        &mut stream,
        &format!(
            "POST /api/instance/new HTTP/1.1\r\nHost: {}\r\ntoken: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            app.host(),
            app.account_token
        ),
    );
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    let waited = started.elapsed();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.message(), TIMEOUT_MESSAGE);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.header("connection").as_deref(), Some("close"));
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "answered after {waited:?}"
    );
    assert!(
        closes_within(&mut stream, Duration::from_secs(5)),
        "the connection stayed open"
    );
    let listed = app.get("/api/instance/list", Some(&app.account_token));
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
}

/// Sends the head, then one piece every 300 ms from another thread until the
/// server stops taking them; returns the answer and when it came.
fn trickle(
    app: &crate::helpers::TestApp,
    head: &str,
    piece: &'static str,
) -> (crate::raw::RawAnswer, Duration, std::net::TcpStream) {
    let mut stream = app.connect();
    let started = Instant::now();
    send(&mut stream, head);
    let mut writer = stream.try_clone().expect("clone");
    thread::spawn(move || {
        for _ in 0..100 {
            thread::sleep(Duration::from_millis(300));
            if std::io::Write::write_all(&mut writer, piece.as_bytes()).is_err() {
                return;
            }
        }
    });
    let answer = read_answer(&mut stream, Duration::from_secs(15));
    (answer, started.elapsed(), stream)
}

#[test]
fn a_trickled_body_is_cut_at_the_deadline() {
    let app = spawn_app_with(quick_timeout());
    app.create_instance("a");
    // Content-Length, a byte every 300 ms: 30 s for the whole body
    let (answer, waited, mut stream) = trickle(
        &app,
        &format!(
            "POST /api/events/websocket/a HTTP/1.1\r\nHost: {}\r\ntoken: {}\r\nContent-Length: 100\r\n\r\n",
            app.host(),
            app.account_token
        ),
        " ",
    );
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.message(), TIMEOUT_MESSAGE);
    assert!(waited < Duration::from_secs(4), "answered after {waited:?}");
    assert!(closes_within(&mut stream, Duration::from_secs(5)));

    // chunked, to a route that never reads a body: without the deadline the
    // server would discard the chunks for as long as they come
    let (answer, waited, mut stream) = trickle(
        &app,
        &format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
            app.host()
        ),
        "1\r\nx\r\n",
    );
    assert_eq!(answer.status, 408, "{answer:?}");
    assert!(waited < Duration::from_secs(4), "answered after {waited:?}");
    assert!(
        closes_within(&mut stream, Duration::from_secs(5)),
        "the connection stayed open while the client trickled"
    );
}

#[test]
fn a_body_that_arrives_in_time_is_served() {
    let app = spawn_app_with(Options {
        body_read_timeout_secs: 2,
        max_body_bytes: 1024,
        ..Options::default()
    });
    let mut stream = app.connect();
    let body = r#"{"name": "slow"}"#;
    send(
        &mut stream,
        &format!(
            "POST /api/instance/new HTTP/1.1\r\nHost: {}\r\ntoken: {}\r\nContent-Length: {}\r\n\r\n{}",
            app.host(),
            app.account_token,
            body.len(),
            &body[..5]
        ),
    );
    thread::sleep(Duration::from_millis(300));
    send(&mut stream, &body[5..]);
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    assert_eq!(answer.status, 201, "{answer:?}");
    // the connection is kept for the next request
    send(
        &mut stream,
        &format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", app.host()),
    );
    assert_eq!(
        read_answer(&mut stream, Duration::from_secs(10)).status,
        200
    );

    // too large: the usual order of checks holds (401 before 413)
    let big = "x".repeat(2000);
    let mut stream = app.connect();
    send(
        &mut stream,
        &format!(
            "POST /api/instance/new HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{big}",
            app.host(),
            big.len()
        ),
    );
    assert_eq!(
        read_answer(&mut stream, Duration::from_secs(10)).status,
        401
    );
    let mut stream = app.connect();
    send(
        &mut stream,
        &format!(
            "POST /api/instance/new HTTP/1.1\r\nHost: {}\r\ntoken: {}\r\nContent-Length: {}\r\n\r\n{big}",
            app.host(),
            app.account_token,
            big.len()
        ),
    );
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(
        answer.message(),
        "invalid body: the body exceeds the limit of 1024 bytes"
    );
}

/// A keep-alive connection that has been served once (so the server has
/// surely counted it).
fn served_connection(app: &crate::helpers::TestApp) -> Result<std::net::TcpStream, u16> {
    let mut stream = app.connect();
    send(
        &mut stream,
        &format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", app.host()),
    );
    match read_answer(&mut stream, Duration::from_secs(10)).status {
        200 => Ok(stream),
        other => Err(other),
    }
}

#[test]
fn one_address_holds_at_most_the_limit_of_connections() {
    let app = spawn_app_with(Options {
        max_connections_per_ip: 3,
        ..Options::default()
    });
    let mut held: Vec<_> = (0..3)
        .map(|_| served_connection(&app).expect("within the limit"))
        .collect();

    // the next one is answered at once, without a request, and closed
    let mut extra = app.connect();
    let started = Instant::now();
    let answer = read_answer(&mut extra, Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.message(), "Too many connections from this address");
    assert!(closes_within(&mut extra, Duration::from_secs(5)));
    // a request sent on such a connection is not served
    assert_eq!(served_connection(&app).err(), Some(503));

    // a connection that ends frees its place
    held.pop();
    eventually("no place was freed", || {
        served_connection(&app)
            .map(|s| held.push(s))
            .map_err(|status| format!("status {status}"))
    });
    assert_eq!(served_connection(&app).err(), Some(503));
}
