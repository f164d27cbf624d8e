//! Raw HTTP over TCP, for what a friendly client hides: partial or slow
//! bodies, odd headers, connections the server refuses or closes.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::TestApp;

/// An answer read off a raw connection.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    /// The status line and headers, lower-cased names.
    pub head: String,
    pub body: Value,
}

impl RawAnswer {
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

impl TestApp {
    /// A plain TCP connection to the server.
    pub fn connect(&self) -> TcpStream {
        let stream =
            TcpStream::connect(self.address.trim_start_matches("http://")).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }

    /// `host:port` of the server.
    pub fn host(&self) -> &str {
        self.address.trim_start_matches("http://")
    }
}

/// Writes `bytes` (a head, maybe part of a body).
pub fn send(stream: &mut TcpStream, bytes: &str) {
    stream.write_all(bytes.as_bytes()).expect("write");
    stream.flush().expect("flush");
}

/// Reads one answer: its head, then its body (by `content-length`; none
/// for 101). Panics when nothing complete arrives within `timeout`.
pub fn read_answer(stream: &mut TcpStream, timeout: Duration) -> RawAnswer {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, rest)) = text.split_once("\r\n\r\n") {
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let length = head.lines().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())
                    .flatten()
            });
            if status == 101 || length.is_some_and(|n| rest.len() >= n) {
                let body_text = length.map_or(String::new(), |n| rest[..n].to_owned());
                return RawAnswer {
                    status,
                    head: head.to_owned(),
                    body: serde_json::from_str(&body_text).unwrap_or(Value::Null),
                };
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no complete answer within {timeout:?}: {text:?}"
        );
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) => panic!("the connection closed before a complete answer: {text:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading the answer: {e} (got {text:?})"),
        }
    }
}

/// Whether the server closes the connection within `timeout` (end of
/// stream or a reset), discarding anything else it sends.
pub fn closes_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}
