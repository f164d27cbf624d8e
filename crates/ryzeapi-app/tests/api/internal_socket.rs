//! `/ws/chatwoot/:instance` while the module is on: only `BRIDGE_TOKEN` opens it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::{spawn_app, TestApp};

/// Sends a WebSocket handshake and returns the status line and what followed.
fn handshake(app: &TestApp, path: &str, authorization: Option<&str>) -> (u16, String) {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.len() > 64 && String::from_utf8_lossy(&got).contains("hello") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn only_the_bridge_token_opens_the_internal_socket() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let instance_token = app.create_instance("a");
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"));

    assert_eq!(handshake(&app, "/ws/chatwoot/a", None).0, 401);
    assert_eq!(
        handshake(&app, "/ws/chatwoot/a", Some(&format!("Bearer {t}"))).0,
        401
    );
    assert_eq!(
        handshake(
            &app,
            "/ws/chatwoot/a",
            Some(&format!("Bearer {instance_token}"))
        )
        .0,
        401
    );
    // the public token forms are not accepted either
    assert_eq!(
        handshake(
            &app,
            &format!("/ws/chatwoot/a?token={}", app.bridge_token),
            None
        )
        .0,
        401
    );
    let (status, text) = handshake(
        &app,
        "/ws/chatwoot/a",
        Some(&format!("Bearer {}", app.bridge_token)),
    );
    assert_eq!(status, 101, "{text}");
    assert!(text.contains("ryzeapi.bridge.v1"), "{text}");
}

#[test]
fn the_internal_socket_needs_an_instance_with_an_integration() {
    let app = spawn_app();
    app.create_instance("plain");
    let bearer = format!("Bearer {}", app.bridge_token);
    assert_eq!(handshake(&app, "/ws/chatwoot/ghost", Some(&bearer)).0, 404);
    assert_eq!(handshake(&app, "/ws/chatwoot/plain", Some(&bearer)).0, 404);
}
