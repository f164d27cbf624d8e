//! Both sockets upgrade only on a real WebSocket handshake: `Upgrade` must
//! be the token `websocket`, `Connection` must carry `upgrade`; anything
//! else is 400 in the error envelope, before upgrading.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app, TestApp};
use crate::raw::{read_answer, send, RawAnswer};

fn handshake(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> RawAnswer {
    let mut stream = app.connect();
    let mut extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    if !headers.iter().any(|(k, _)| *k == "Sec-WebSocket-Version") {
        extra.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    send(
        &mut stream,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n",
            app.host()
        ),
    );
    read_answer(&mut stream, Duration::from_secs(10))
}

fn check_both_rules(app: &TestApp, path: &str, auth: (&str, &str)) {
    for upgrade in ["notwebsocket", "websocketx", "web-socket"] {
        let answer = handshake(
            app,
            path,
            &[auth, ("Upgrade", upgrade), ("Connection", "Upgrade")],
        );
        assert_eq!(answer.status, 400, "{upgrade}: {answer:?}");
        assert_eq!(answer.body["success"], false);
        assert_eq!(
            answer.message(),
            "WebSocket handshake required: the Upgrade header must be 'websocket'",
            "{upgrade}"
        );
    }
    let answer = handshake(
        app,
        path,
        &[
            auth,
            ("Upgrade", "h2c, websocket"),
            ("Connection", "Upgrade"),
        ],
    );
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.message(),
        "WebSocket handshake required: the Upgrade header must name only 'websocket'"
    );
    for connection in ["keep-alive", "notupgrade", "close, upgrade"] {
        let answer = handshake(
            app,
            path,
            &[auth, ("Upgrade", "websocket"), ("Connection", connection)],
        );
        assert_eq!(answer.status, 400, "{connection}: {answer:?}");
        assert_eq!(
            answer.message(),
            "WebSocket handshake required: the Connection header must include 'upgrade'"
        );
    }
    // no handshake at all
    let answer = handshake(app, path, &[auth]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["success"], false);
    // an unsupported version: 426, in the envelope too
    let answer = handshake(
        app,
        path,
        &[
            auth,
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "8"),
        ],
    );
    assert_eq!(answer.status, 426, "{answer:?}");
    assert!(
        answer
            .message()
            .starts_with("WebSocket handshake refused: "),
        "{answer:?}"
    );

    let answer = handshake(
        app,
        path,
        &[
            auth,
            ("Upgrade", "WebSocket"),
            ("Connection", "keep-alive, Upgrade"),
        ],
    );
    assert_eq!(answer.status, 101, "{answer:?}");
}

#[test]
fn the_public_socket_needs_a_real_handshake() {
    let app = spawn_app();
    let token = app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&token),
        &json!({"enabled": true}),
    );
    check_both_rules(&app, "/ws/a", ("token", &token));
}

#[test]
fn the_bridge_socket_needs_a_real_handshake() {
    let app = spawn_app();
    app.instance_with_integration("b");
    let bearer = format!("Bearer {}", app.bridge_token);
    check_both_rules(&app, "/ws/chatwoot/b", ("Authorization", &bearer));
}
