//! Messages sent in fragments are held to the same limits as single frames
//! on both sockets, and a close frame from the bridge is answered with one.

use std::time::Duration;

use serde_json::json;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;

use crate::helpers::{spawn_app, spawn_app_with, Ended, Options, Ws};

const WAIT: Duration = Duration::from_secs(5);

/// Sends `text` as a text message in `parts` fragments of (nearly) equal size.
fn send_fragmented(ws: &mut Ws, text: &str, parts: usize) {
    let bytes = text.as_bytes();
    let size = bytes.len().div_ceil(parts);
    let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let last = i + 1 == chunks.len();
        ws.send_raw(tungstenite::Message::Frame(Frame::message(
            chunk.to_vec(),
            opcode,
            last,
        )));
    }
}

#[test]
fn the_public_socket_limits_assembled_messages_to_16_kib() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    // within the limit in fragments: accepted, the client still gets events
    let mut client = app.public_socket("a", &t);
    send_fragmented(&mut client, &"a".repeat(12 * 1024), 3);
    std::thread::sleep(Duration::from_millis(200));
    app.inject("a", 1, "still open");
    assert_eq!(
        client.recv_json(WAIT).expect("event")["event"],
        "message.exchange"
    );
    // 24 KiB in three fragments of 8 KiB, each under the frame limit
    let mut client = app.public_socket("a", &t);
    send_fragmented(&mut client, &"a".repeat(24 * 1024), 3);
    assert_eq!(
        client.until_end(WAIT),
        Ended::Closed(1009, "frame too large or malformed".into())
    );
}

#[test]
fn the_bridge_socket_limits_assembled_messages_to_max_frame_bytes() {
    let app = spawn_app_with(Options {
        bridge_max_frame: 4096,
        ..Options::default()
    });
    app.instance_with_integration("a");
    // a fragmented frame within the limit is read as one
    let (mut ws, _) = app.bridge_socket("a");
    let resume = json!({"type": "resume", "after": 0, "pad": "x".repeat(3000)}).to_string();
    send_fragmented(&mut ws, &resume, 4);
    app.inject("a", 1, "x");
    let event = ws.recv_json(WAIT).expect("event");
    assert_eq!(
        (event["type"].as_str(), event["seq"].as_u64()),
        (Some("event"), Some(1))
    );
    // 6000 bytes in three fragments of 2000, each under the frame limit
    let ack = json!({"type": "ack", "seq": 1, "pad": "x".repeat(6000)}).to_string();
    send_fragmented(&mut ws, &ack, 3);
    assert_eq!(
        ws.until_end(WAIT),
        Ended::Closed(1009, "frame larger than max_frame_bytes".into())
    );
}

#[test]
fn a_close_frame_from_the_bridge_is_answered() {
    let app = spawn_app();
    app.instance_with_integration("a");
    // while streaming, and before resume
    for resume in [true, false] {
        let (mut ws, _) = app.bridge_socket("a");
        if resume {
            ws.send_json(&json!({"type": "resume", "after": 0}));
        }
        ws.socket
            .close(Some(tungstenite::protocol::CloseFrame {
                code: tungstenite::protocol::frame::coding::CloseCode::Normal,
                reason: "bridge shutting down".into(),
            }))
            .expect("close");
        assert_eq!(ws.until_end(WAIT), Ended::Closed(1000, String::new()));
    }
    // the connection is released: the next one streams
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    app.inject("a", 1, "after");
    assert_eq!(ws.recv_json(WAIT).expect("event")["seq"], 1);
}
