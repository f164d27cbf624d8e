use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Options, TestApp};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn websocket_settings_routes() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let a_token = app.create_instance("a");
    app.create_instance("b");
    let got = app.get("/api/events/getWebsocket/a", Some(&t));
    assert_eq!(got.status, 200);
    assert_eq!(
        got.body["data"],
        json!({"enabled": false, "events": [], "mediaBase64": false})
    );
    let set = app.post_json(
        "/api/events/websocket/a",
        Some(&a_token),
        &json!({"enabled": true, "events": ["message.exchange"], "mediaBase64": true}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["message"], "WebSocket configuration saved");
    let got = app.get("/api/events/getWebsocket/a", Some(&t));
    assert_eq!(
        got.body["data"],
        json!({"enabled": true, "events": ["message.exchange"], "mediaBase64": true})
    );
    for (body, prefix) in [
        (json!({"events": []}), "invalid body: enabled is required"),
        (
            json!({"enabled": true, "events": ["bogus"]}),
            "invalid body: events contains unknown event 'bogus'",
        ),
        (json!({"enabled": "yes"}), "invalid body: invalid type"),
    ] {
        let answer = app.post_json("/api/events/websocket/a", Some(&t), &body);
        assert_eq!(answer.status, 400);
        assert!(answer.message().starts_with(prefix), "{}", answer.message());
    }
    assert_eq!(
        app.post_json(
            "/api/events/websocket/b",
            Some(&a_token),
            &json!({"enabled": true})
        )
        .status,
        403
    );
    assert_eq!(
        app.get("/api/events/getWebsocket/b", Some(&a_token)).status,
        403
    );
    assert_eq!(app.get("/api/events/getWebsocket/zz", Some(&t)).status, 404);
}

#[test]
fn the_public_socket_checks_before_upgrading() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let a_token = app.create_instance("a");
    app.create_instance("b");
    // not enabled: 400 with the documented message, before any upgrade
    let answer = app.get_with("/ws/a", &[("token", &t)]);
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.message(),
        "WebSocket is not enabled for this instance. Configure it first using POST /api/events/websocket/a"
    );
    assert_eq!(app.ws("/ws/a", &[("token", &t)]).err(), Some(400));
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    app.post_json(
        "/api/events/websocket/b",
        Some(&t),
        &json!({"enabled": true}),
    );
    assert_eq!(app.ws("/ws/a", &[]).err(), Some(401));
    assert_eq!(app.ws("/ws/a?token=nope", &[]).err(), Some(401));
    assert_eq!(app.ws("/ws/b", &[("token", &a_token)]).err(), Some(403));
    let stranger = app.another_account(3);
    assert_eq!(
        app.ws(&format!("/ws/a?token={stranger}"), &[]).err(),
        Some(404)
    );
    // the bridge token is not a public token
    assert_eq!(
        app.ws(&format!("/ws/a?token={}", app.bridge_token), &[])
            .err(),
        Some(401)
    );
    assert!(app.ws("/ws/a", &[("token", &a_token)]).is_ok());
    assert!(app.ws(&format!("/ws/a?token={t}"), &[]).is_ok());
}

#[test]
fn clients_get_filtered_envelopes_in_order() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let mut all = app.public_socket("a", &t);
    let mut second = app.public_socket("a", &t);
    std::thread::sleep(Duration::from_millis(200));
    let ids = app.inject("a", 3, "m");
    let receipt = app.post_json(
        "/dev/engine/a/receipt",
        Some(&t),
        &json!({"messageId": ids[0], "status": "read", "chat": "5511999990000"}),
    );
    assert_eq!(receipt.status, 200);
    for client in [&mut all, &mut second] {
        for id in &ids {
            let frame = client.recv_json(WAIT).expect("event");
            assert_eq!(frame["event"], "message.exchange");
            assert_eq!(frame["data"]["id"], *id);
            assert_eq!(frame["data"]["message"]["direction"], "incoming");
            assert_eq!(frame["instanceData"]["instance"], "a");
            assert!(frame["instanceData"]["baseUrl"]
                .as_str()
                .unwrap()
                .starts_with("http://"));
        }
        let status = client.recv_json(WAIT).expect("receipt");
        assert_eq!(status["event"], "message.status");
        assert_eq!(status["data"]["status"], "read");
    }
}

#[test]
fn the_server_pings_public_clients() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let mut client = app.public_socket("a", &t);
    client
        .socket
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let pinged = (0..10).any(|_| matches!(client.socket.read(), Ok(tungstenite::Message::Ping(_))));
    assert!(pinged, "no ping within the heartbeat interval");
}

#[test]
fn the_filter_leaves_out_other_events() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true, "events": ["message.status"]}),
    );
    let mut client = app.public_socket("a", &t);
    let ids = app.inject("a", 2, "m");
    app.post_json(
        "/dev/engine/a/receipt",
        Some(&t),
        &json!({"messageId": ids[1], "status": "delivered", "chat": "5511999990000"}),
    );
    let frame = client.recv_json(WAIT).expect("event");
    assert_eq!(frame["event"], "message.status");
    assert_eq!(frame["data"]["id"], ids[1]);
}

#[test]
fn media_content_is_inlined_only_when_asked() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let mut plain = app.public_socket("a", &t);
    let message =
        json!({"messages": [{"from": "5511999990000", "text": "pic", "mediaBase64": "QUJD"}]});
    app.post_json("/dev/engine/a/messages", Some(&t), &message);
    let frame = plain.recv_json(WAIT).expect("event");
    assert_eq!(frame["data"]["message"]["media"]["type"], "image");
    assert!(frame["data"]["message"]["media"].get("base64").is_none());
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true, "mediaBase64": true}),
    );
    std::thread::sleep(Duration::from_millis(200));
    app.post_json("/dev/engine/a/messages", Some(&t), &message);
    let frame = plain.recv_json(WAIT).expect("event");
    assert_eq!(frame["data"]["message"]["media"]["base64"], "QUJD");
}

#[test]
fn disabling_the_socket_closes_its_clients() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let mut client = app.public_socket("a", &t);
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": false}),
    );
    assert_eq!(
        client.until_end(WAIT),
        crate::helpers::Ended::Closed(1000, "WebSocket disabled for this instance".into())
    );
}

#[test]
fn a_stalled_client_is_dropped_and_the_bridge_gets_everything_in_order() {
    let app = spawn_app_with(Options {
        public_queue_bytes: 256 * 1024,
        ..Options::default()
    });
    let t = app.account_token.clone();
    app.instance_with_integration("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    // a public client that never reads
    let stalled = app.public_socket("a", &t);
    let (mut bridge, _) = app.bridge_socket("a");
    bridge.send_json(&json!({"type": "resume", "after": 0}));

    const N: usize = 10_000;
    let reader = std::thread::spawn(move || {
        let mut seqs = Vec::with_capacity(N);
        let mut ids = Vec::with_capacity(N);
        while seqs.len() < N {
            let frame = bridge.recv_json(Duration::from_secs(30)).expect("event");
            if frame["type"] != "event" {
                continue;
            }
            let seq = frame["seq"].as_u64().unwrap();
            seqs.push(seq);
            ids.push(frame["id"].as_str().unwrap().to_owned());
            if seq % 100 == 0 {
                bridge.send_json(&json!({"type": "ack", "seq": seq}));
            }
        }
        (seqs, ids)
    });
    let injected = app.inject("a", N, "load-");
    let (seqs, ids) = reader.join().unwrap();
    assert_eq!(
        seqs,
        (1..=N as u64).collect::<Vec<_>>(),
        "every event, in order"
    );
    assert_eq!(ids, injected, "the events in the order they happened");

    // the stalled client was dropped in bounded time, and nobody else waited for it
    wait_for_counters(&app, "stalled client still attached", |stats| {
        stats["publicDroppedSlow"].as_u64().unwrap() >= 1 && stats["publicConnections"] == 0
    });
    drop(stalled);
}

/// Polls `/health`'s event counters until `done` holds; fails after 10 s.
fn wait_for_counters(app: &TestApp, what: &str, done: impl Fn(&Value) -> bool) {
    crate::helpers::eventually(what, || {
        let stats = app.event_stats();
        done(&stats).then_some(()).ok_or(stats.to_string())
    });
}

/// The server's send buffer is bounded (`TCP_SEND_BUFFER_BYTES`, 128 KiB by
/// default): a client that stops reading is noticed and dropped after about
/// a megabyte of events, not after the several MiB a growing kernel buffer
/// would take in first.
#[test]
fn a_stalled_client_is_noticed_after_a_bounded_amount_of_data() {
    let app = spawn_app_with(Options::default());
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let stalled = app.small_window_public_socket("a", &t);
    // about 1 MB of frames
    for _ in 0..10 {
        app.inject("a", 200, "stall-");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_counters(
        &app,
        "a client that read nothing of 2,000 events is still attached",
        |stats| stats["publicDroppedSlow"].as_u64().unwrap() >= 1,
    );
    drop(stalled);
}

/// A burst far larger than one batch of the log (4,096 events on Postgres)
/// reaches a client that keeps reading, whole and in order: a client is
/// judged by how long it has been behind, not by the size of a burst. A
/// reconnecting phone delivering its backlog produces such bursts.
fn a_reading_client_gets_a_whole_burst(sqlite: bool) {
    let app = spawn_app_with(Options {
        sqlite,
        ..Options::default()
    });
    let t = app.account_token.clone();
    app.instance_with_integration("a");
    app.post_json(
        "/api/events/websocket/a",
        Some(&t),
        &json!({"enabled": true}),
    );
    let mut client = app.public_socket("a", &t);
    std::thread::sleep(Duration::from_millis(200));

    const N: usize = 10_000;
    let reader = std::thread::spawn(move || {
        let mut ids = Vec::with_capacity(N);
        while ids.len() < N {
            match client.recv_json(Duration::from_secs(30)) {
                Ok(frame) => ids.push(frame["data"]["id"].as_str().unwrap().to_owned()),
                Err(ended) => panic!("closed after {} events: {ended:?}", ids.len()),
            }
        }
        (ids, client)
    });
    let injected = app.inject("a", N, "burst-");
    let (ids, client) = reader.join().unwrap();
    assert_eq!(ids, injected, "every event, in order");
    let stats = app.event_stats();
    assert_eq!(stats["publicDroppedSlow"], 0, "{stats}");
    assert_eq!(stats["publicConnections"], 1, "still connected: {stats}");
    drop(client);
}

#[test]
fn a_reading_client_gets_a_whole_burst_on_postgres() {
    a_reading_client_gets_a_whole_burst(false);
}

#[test]
fn a_reading_client_gets_a_whole_burst_on_sqlite() {
    a_reading_client_gets_a_whole_burst(true);
}
