//! The bridge socket protocol over a real socket.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Ended, Options, Reply, Ws};

const WAIT: Duration = Duration::from_secs(5);

fn events(ws: &mut Ws, n: usize) -> Vec<Value> {
    ws.events(n)
}

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames.iter().map(|f| f["seq"].as_u64().unwrap()).collect()
}

#[test]
fn hello_resume_and_ordered_events() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(hello["protocol"], "ryzeapi.bridge.v1");
    assert_eq!(hello["instance"], "a");
    assert_eq!(hello["last_seq"], 0);
    assert_eq!(hello["acked_seq"], 0);
    assert_eq!(hello["window"], 1024);
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let ids = app.inject("a", 3, "hi ");
    let got = events(&mut ws, 3);
    assert_eq!(seqs(&got), vec![1, 2, 3]);
    for (frame, id) in got.iter().zip(&ids) {
        assert_eq!(frame["id"], *id);
        assert_eq!(frame["event"]["event"], "message.exchange");
        assert_eq!(frame["event"]["data"]["id"], *id);
        assert_eq!(frame["event"]["instanceData"]["instance"], "a");
    }
    assert_eq!(
        got[2]["event"]["data"]["message"]["content"]["text"],
        "hi 2"
    );
    ws.send_json(&json!({"type": "ack", "seq": 3}));
    std::thread::sleep(Duration::from_millis(600));
    app.bridge.on_status(Reply::Raw(503, "down"));
    let listed = app.get("/api/chatwoot/list/a", Some(&app.account_token));
    let stream = &listed.body["stream"];
    assert_eq!(stream["socket_connected"], true);
    assert_eq!(stream["last_seq"], 3);
    assert_eq!(stream["acked_seq"], 3);
    assert_eq!(stream["pending"], 0);
}

#[test]
fn an_instance_created_again_under_its_old_name_gets_its_own_events() {
    // The pump remembers instances by name; a deletion must make it look
    // again, or the new instance's first events would go to the old one.
    let app = spawn_app();
    app.instance_with_integration("a");
    app.inject("a", 3, "before ");
    app.wait_logged("a", 3);
    let deleted = app.delete("/api/instance/delete/a", Some(&app.account_token));
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    app.instance_with_integration("a");
    let ids = app.inject("a", 2, "after ");
    app.wait_logged("a", 2);
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(hello["last_seq"], 2);
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let got = events(&mut ws, 2);
    assert_eq!(
        got.iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ids
    );
}

#[test]
fn events_wait_in_the_log_while_the_bridge_is_away() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let ids = app.inject("a", 5, "offline ");
    app.wait_logged("a", 5);
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(hello["last_seq"], 5);
    assert_eq!(hello["oldest_seq"], 1);
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let got = events(&mut ws, 5);
    assert_eq!(seqs(&got), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        got.iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>(),
        ids
    );
}

#[test]
fn a_server_restart_loses_nothing() {
    let mut app = spawn_app();
    app.instance_with_integration("a");
    let ids = app.inject("a", 5, "before restart ");
    app.wait_logged("a", 5);
    {
        let (mut ws, _) = app.bridge_socket("a");
        ws.send_json(&json!({"type": "resume", "after": 0}));
        events(&mut ws, 2);
        ws.send_json(&json!({"type": "ack", "seq": 2}));
        std::thread::sleep(Duration::from_millis(600));
    }
    app.restart();
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(
        (hello["last_seq"].as_u64(), hello["acked_seq"].as_u64()),
        (Some(5), Some(2))
    );
    ws.send_json(&json!({"type": "resume", "after": 2}));
    let got = events(&mut ws, 3);
    assert_eq!(seqs(&got), vec![3, 4, 5]);
    assert_eq!(got[0]["id"], ids[2]);
    app.inject("a", 1, "after restart");
    assert_eq!(seqs(&events(&mut ws, 1)), vec![6], "numbering carries on");
}

#[test]
fn instances_without_an_integration_are_not_logged() {
    let app = spawn_app();
    app.create_instance("plain");
    app.instance_with_integration("a");
    app.inject("plain", 3, "x");
    app.wait_received(3);
    app.inject("a", 1, "y");
    app.wait_logged("a", 1);
    let stats = app.event_stats();
    assert_eq!(stats["eventsReceived"], 4);
    assert_eq!(
        stats["eventsLogged"], 1,
        "only the instance with an integration is logged"
    );
}

#[test]
fn resume_after_a_dropped_connection_loses_and_repeats_nothing_after_dedupe() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let ids = app.inject("a", 100, "m");
    app.wait_logged("a", 100);
    let mut seen: Vec<String> = Vec::new();
    {
        let (mut ws, _) = app.bridge_socket("a");
        ws.send_json(&json!({"type": "resume", "after": 0}));
        let got = events(&mut ws, 40);
        seen.extend(got.iter().map(|f| f["id"].as_str().unwrap().to_owned()));
        ws.send_json(&json!({"type": "ack", "seq": 30}));
        std::thread::sleep(Duration::from_millis(600));
        // dropped mid-stream, without a close frame
    }
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(hello["acked_seq"], 30, "the server kept the cursor");
    ws.send_json(&json!({"type": "resume", "after": hello["acked_seq"]}));
    let got = events(&mut ws, 70);
    assert_eq!(seqs(&got), (31..=100).collect::<Vec<u64>>());
    seen.extend(got.iter().map(|f| f["id"].as_str().unwrap().to_owned()));
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 100, "every event at least once");
    let mut deduped: Vec<String> = Vec::new();
    for id in seen {
        if !deduped.contains(&id) {
            deduped.push(id);
        }
    }
    assert_eq!(deduped, ids, "exactly once and in order after dedupe by id");
}

#[test]
fn the_window_holds_back_events_until_acknowledged() {
    let app = spawn_app_with(Options {
        window: 10,
        ..Options::default()
    });
    app.instance_with_integration("a");
    app.inject("a", 25, "w");
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(hello["window"], 10);
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let first = events(&mut ws, 10);
    assert_eq!(seqs(&first), (1..=10).collect::<Vec<u64>>());
    // nothing more until an ack
    ws.socket
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    if let Ok(tungstenite::Message::Text(t)) = ws.socket.read() {
        panic!("sent past the window: {t}");
    }
    ws.send_json(&json!({"type": "ack", "seq": 10}));
    let next = events(&mut ws, 10);
    assert_eq!(seqs(&next), (11..=20).collect::<Vec<u64>>());
}

#[test]
fn an_expired_or_impossible_cursor_gets_an_explicit_resync() {
    let app = spawn_app_with(Options {
        prune_interval_secs: 1,
        acked_retention_secs: 0,
        ..Options::default()
    });
    app.instance_with_integration("a");
    app.inject("a", 10, "r");
    {
        let (mut ws, _) = app.bridge_socket("a");
        ws.send_json(&json!({"type": "resume", "after": 0}));
        events(&mut ws, 10);
        ws.send_json(&json!({"type": "ack", "seq": 10}));
        std::thread::sleep(Duration::from_millis(600));
    }
    // wait for the pruner to drop the acknowledged events
    let mut pruned = false;
    for _ in 0..50 {
        let (_, hello) = app.bridge_socket("a");
        if hello["oldest_seq"] == 11 {
            pruned = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(pruned, "acknowledged events were not pruned");
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 3}));
    let resync = ws.recv_json(WAIT).expect("resync");
    assert_eq!(resync["type"], "resync");
    assert_eq!(resync["reason"], "cursor_expired");
    assert_eq!(resync["requested_after"], 3);
    assert_eq!(resync["from_seq"], 11);
    app.inject("a", 1, "after");
    assert_eq!(seqs(&events(&mut ws, 1)), vec![11]);
    drop(ws);

    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 999}));
    let resync = ws.recv_json(WAIT).expect("resync");
    assert_eq!(resync["reason"], "cursor_ahead");
}

#[test]
fn commands_are_idempotent_and_answered() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.instance_with_integration("a");
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let command = |key: &str, correlation: &str| {
        json!({
            "type": "command", "correlation_id": correlation, "idempotency_key": key,
            "command": "send_text", "args": {"to": "5511999990000@s.whatsapp.net", "text": "Olá!", "reply_to": "3EB0AA"}
        })
    };
    let next_result = |ws: &mut Ws| loop {
        let frame = ws.recv_json(WAIT).expect("frame");
        if frame["type"] == "result" {
            return frame;
        }
    };
    // not connected: failed, and not remembered
    ws.send_json(&command("k1", "c1"));
    let failed = next_result(&mut ws);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["reason"], "Instance is not connected to WhatsApp");
    assert_eq!(failed["correlation_id"], "c1");

    app.engine_state("a", "connect");
    ws.send_json(&command("k1", "c2"));
    let sent = next_result(&mut ws);
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(sent["correlation_id"], "c2");
    assert_eq!(sent["idempotency_key"], "k1");
    assert_eq!(sent["duplicate"], false);
    ws.send_json(&command("k1", "c3"));
    let again = next_result(&mut ws);
    assert_eq!(again["status"], "sent");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["message_id"], sent["message_id"]);
    let recorded = app.get("/dev/engine/a/sent", Some(&t));
    let texts = recorded.body["data"].as_array().unwrap();
    assert_eq!(texts.len(), 1, "the same key twice sends once");
    assert_eq!(texts[0]["replyTo"], "3EB0AA");

    ws.send_json(&json!({"type": "command", "correlation_id": "c4", "idempotency_key": "k2",
        "command": "send_media", "args": {"to": "5511999990000@s.whatsapp.net", "url": "https://files.example.com/a.png", "media_type": "image", "caption": "see"}}));
    assert_eq!(next_result(&mut ws)["status"], "sent");
    ws.send_json(&json!({"type": "command", "correlation_id": "c5", "idempotency_key": "k3",
        "command": "mark_read", "args": {"chat": "5511999990000@s.whatsapp.net", "message_ids": ["3EB0AA"]}}));
    assert_eq!(next_result(&mut ws)["status"], "sent");
    ws.send_json(
        &json!({"type": "command", "correlation_id": "c6", "idempotency_key": "k4",
        "command": "send_text", "args": {"to": "not-a-jid", "text": "x"}}),
    );
    let invalid = next_result(&mut ws);
    assert_eq!(invalid["status"], "failed");
    assert!(
        invalid["reason"].as_str().unwrap().starts_with(
            "invalid request: to must be a phone number with country code or a WhatsApp JID"
        ),
        "the send route's address rule: {invalid}"
    );
    assert_eq!(
        app.get("/dev/engine/a/sent", Some(&t)).body["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn status_reports_update_the_integration() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.bridge.on_activate(Reply::Json(201, json!({"id": "int_a", "status": "active", "inbox_id": 0, "inbox_name": "", "last_error": ""})));
    app.post_json(
        "/api/chatwoot/set/a",
        Some(&t),
        &crate::helpers::TestApp::set_body("sk"),
    );
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    ws.send_json(&json!({"type": "status", "correlation_id": "s1", "status": "paused", "last_error": "", "inbox_id": 7}));
    let recorded = ws.recv_json(WAIT).expect("ack of the status");
    assert_eq!(
        recorded,
        json!({"type": "status_recorded", "correlation_id": "s1", "status": "paused"})
    );
    app.bridge.on_status(Reply::Raw(503, "bridge http down"));
    let listed = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(listed.body["status"], "paused");
    assert_eq!(listed.body["chatwoot_inbox_id"], 7);
    assert_eq!(listed.body["live"], false);

    ws.send_json(
        &json!({"type": "status", "correlation_id": "s2", "status": "error", "last_error": ""}),
    );
    let refused = ws.recv_json(WAIT).expect("error frame");
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["correlation_id"], "s2");
    ws.send_json(&json!({"type": "status", "correlation_id": "s3", "status": "error", "last_error": "Chatwoot answered 401"}));
    assert_eq!(ws.recv_json(WAIT).expect("ack")["type"], "status_recorded");
    app.bridge.on_status(Reply::Raw(503, "bridge http down"));
    let listed = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(listed.body["status"], "error");
    assert_eq!(listed.body["last_error"], "Chatwoot answered 401");
}

#[test]
fn the_newest_connection_wins() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let (mut first, _) = app.bridge_socket("a");
    first.send_json(&json!({"type": "resume", "after": 0}));
    let (mut second, _) = app.bridge_socket("a");
    second.send_json(&json!({"type": "resume", "after": 0}));
    assert_eq!(
        first.until_end(WAIT),
        Ended::Closed(4001, "replaced by a newer connection".into())
    );
    app.inject("a", 1, "x");
    assert_eq!(seqs(&events(&mut second, 1)), vec![1]);
}

#[test]
fn deactivation_closes_the_socket() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        app.delete("/api/chatwoot/delete/a", Some(&app.account_token))
            .status,
        200
    );
    assert_eq!(
        ws.until_end(WAIT),
        Ended::Closed(4003, "integration removed".into())
    );
    assert_eq!(
        app.ws(
            "/ws/chatwoot/a",
            &[("Authorization", &format!("Bearer {}", app.bridge_token))]
        )
        .err(),
        Some(404)
    );
}

#[test]
fn a_silent_bridge_is_dropped_after_the_heartbeat_timeout() {
    let app = spawn_app_with(Options {
        heartbeat_secs: 1,
        heartbeat_timeout_secs: 2,
        ..Options::default()
    });
    app.instance_with_integration("a");
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    // not reading means not answering pings
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        ws.until_end(WAIT),
        Ended::Closed(4002, "heartbeat timeout".into())
    );

    // a bridge that never says resume
    let (mut quiet, _) = app.bridge_socket("a");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        quiet.until_end(WAIT),
        Ended::Closed(4005, "no resume frame in time".into())
    );
}

#[test]
fn a_bridge_that_answers_pings_stays() {
    let app = spawn_app_with(Options {
        heartbeat_secs: 1,
        heartbeat_timeout_secs: 2,
        ..Options::default()
    });
    app.instance_with_integration("a");
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    // reading answers pings; for 4 s nothing but pings arrives
    ws.socket
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(4);
    while std::time::Instant::now() < until {
        match ws.socket.read() {
            Ok(tungstenite::Message::Close(frame)) => panic!("closed: {frame:?}"),
            Ok(_) => {}
            Err(tungstenite::Error::Io(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    app.inject("a", 1, "still here");
    assert_eq!(seqs(&events(&mut ws, 1)), vec![1]);
}

#[test]
fn malformed_and_oversized_frames_close_the_socket_with_a_code() {
    let app = spawn_app_with(Options {
        bridge_max_frame: 4096,
        ..Options::default()
    });
    app.instance_with_integration("a");
    let cases: Vec<(tungstenite::Message, u16)> = vec![
        (tungstenite::Message::Text("{not json".into()), 1007),
        (
            tungstenite::Message::Text(r#"{"type":"dance"}"#.into()),
            1008,
        ),
        (
            tungstenite::Message::Text(r#"{"type":"ack","seq":"x"}"#.into()),
            1008,
        ),
        (tungstenite::Message::Binary(vec![1, 2, 3].into()), 1008),
        (
            tungstenite::Message::Text(
                json!({"type": "ack", "seq": 1, "pad": "x".repeat(8000)})
                    .to_string()
                    .into(),
            ),
            1009,
        ),
    ];
    for (message, code) in cases {
        let (mut ws, _) = app.bridge_socket("a");
        ws.send_json(&json!({"type": "resume", "after": 0}));
        ws.send_raw(message.clone());
        match ws.until_end(WAIT) {
            Ended::Closed(got, _) => assert_eq!(got, code, "{message:?}"),
            Ended::Dropped => panic!("dropped without a close frame: {message:?}"),
        }
    }
    // the first frame must be resume
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "ack", "seq": 0}));
    assert_eq!(
        ws.until_end(WAIT),
        Ended::Closed(1008, "the first frame must be resume".into())
    );
    // the hub survived all of it
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    app.inject("a", 1, "fine");
    assert_eq!(seqs(&events(&mut ws, 1)), vec![1]);
}

#[test]
fn a_late_activation_is_adopted_from_the_bridge_status() {
    let app = spawn_app_with(Options {
        activate_timeout_secs: 1,
        ..Options::default()
    });
    let t = app.account_token.clone();
    app.create_instance("a");
    app.bridge.on_activate(Reply::Hang(Duration::from_secs(3)));
    let timed_out = app.post_json(
        "/api/chatwoot/set/a",
        Some(&t),
        &crate::helpers::TestApp::set_body("sk"),
    );
    assert_eq!(timed_out.status, 504);
    // the bridge did create it after all, and says so on its socket
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    ws.send_json(&json!({"type": "status", "correlation_id": "s1", "integration_id": "int_late", "status": "active", "inbox_id": 9}));
    assert_eq!(ws.recv_json(WAIT).expect("ack")["type"], "status_recorded");
    app.bridge.on_status(Reply::Raw(503, "down"));
    let listed = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(listed.body["status"], "active");
    assert_eq!(listed.body["bridge_integration_id"], "int_late");
    assert_eq!(listed.body["chatwoot_inbox_id"], 9);
    assert_eq!(listed.body["last_error"], "");
}

#[test]
fn a_new_integration_continues_the_numbering_of_the_old_one() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.instance_with_integration("a");
    app.inject("a", 4, "old ");
    app.wait_logged("a", 4);
    assert_eq!(app.delete("/api/chatwoot/delete/a", Some(&t)).status, 200);
    app.inject("a", 2, "between ");
    app.wait_received(6);
    let set = app.post_json(
        "/api/chatwoot/set/a",
        Some(&t),
        &crate::helpers::TestApp::set_body("sk"),
    );
    assert_eq!(set.status, 201);
    // a bridge that kept its old cursor (4) gets nothing twice and misses nothing
    let (mut ws, hello) = app.bridge_socket("a");
    assert_eq!(
        (hello["last_seq"].as_u64(), hello["acked_seq"].as_u64()),
        (Some(4), Some(4))
    );
    ws.send_json(&json!({"type": "resume", "after": hello["acked_seq"]}));
    app.inject("a", 1, "new ");
    let got = events(&mut ws, 1);
    assert_eq!(seqs(&got), vec![5]);
    assert_eq!(
        got[0]["event"]["data"]["message"]["content"]["text"],
        "new 0"
    );
}

/// The first frame is read like any other frame before its place is
/// judged: a malformed first frame is closed with its own code and reason,
/// and only a well-formed frame other than `resume` gets `the first frame
/// must be resume`. Nothing a frame before `resume` asks for is done.
#[test]
fn a_malformed_first_frame_is_refused_as_malformed_not_as_out_of_place() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.instance_with_integration("a");
    app.engine_state("a", "connect");
    let command = json!({"type": "command", "correlation_id": "c1", "idempotency_key": "k1",
        "command": "send_text", "args": {"to": "5511999990000@s.whatsapp.net", "text": "too early"}});
    let status = json!({"type": "status", "status": "error", "last_error": "too early"});
    for (frame, code, reason) in [
        ("{not json".to_owned(), 1007, "frame is not valid JSON"),
        (r#"{"after":0}"#.to_owned(), 1008, "frame has no \"type\""),
        (
            r#"{"type":"ack"}"#.to_owned(),
            1008,
            "bad ack frame: missing field `seq`",
        ),
        (
            r#"{"type":"dance"}"#.to_owned(),
            1008,
            "unknown frame type 'dance'",
        ),
        (
            r#"{"type":"resume"}"#.to_owned(),
            1008,
            "bad resume frame: missing field `after`",
        ),
        (
            r#"{"type":"ack","seq":0}"#.to_owned(),
            1008,
            "the first frame must be resume",
        ),
        (command.to_string(), 1008, "the first frame must be resume"),
        (status.to_string(), 1008, "the first frame must be resume"),
    ] {
        let (mut ws, _) = app.bridge_socket("a");
        ws.send_raw(tungstenite::Message::Text(frame.clone().into()));
        assert_eq!(
            ws.until_end(WAIT),
            Ended::Closed(code, reason.into()),
            "{frame}"
        );
    }
    assert_eq!(
        app.get("/dev/engine/a/sent", Some(&t)).body["data"],
        json!([]),
        "a command before resume is not run"
    );
    let listed = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(
        listed.body["status"], "active",
        "a status before resume is not applied: {}",
        listed.text
    );
}

/// Acknowledgements are stored every 250 ms and when a connection ends, so
/// the `hello` of a connection that replaces another may carry an older
/// `acked_seq` than the replaced connection's last `ack`. A bridge that
/// resumes from it gets those events again and drops them by id; a bridge
/// that resumes from its own cursor gets nothing twice.
#[test]
fn a_replacing_connection_may_see_an_older_ack_and_dedupe_by_id_covers_it() {
    let app = spawn_app();
    app.instance_with_integration("a");
    let mut ids = app.inject("a", 50, "m");
    app.wait_logged("a", 50);
    let (mut first, _) = app.bridge_socket("a");
    first.send_json(&json!({"type": "resume", "after": 0}));
    let mut seen: Vec<String> = events(&mut first, 50)
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    first.send_json(&json!({"type": "ack", "seq": 50}));
    // At once, as a restarted bridge process would.
    let (mut second, hello) = app.bridge_socket("a");
    let acked = hello["acked_seq"].as_u64().unwrap();
    assert!(acked <= 50, "{hello}");
    assert_eq!(
        first.until_end(WAIT),
        Ended::Closed(4001, "replaced by a newer connection".into())
    );

    // Without a cursor of its own: from `hello.acked_seq`, then by id.
    second.send_json(&json!({"type": "resume", "after": acked}));
    ids.extend(app.inject("a", 10, "n"));
    let got = events(&mut second, usize::try_from(60 - acked).unwrap());
    assert_eq!(seqs(&got), (acked + 1..=60).collect::<Vec<u64>>());
    seen.extend(got.iter().map(|f| f["id"].as_str().unwrap().to_owned()));
    let mut deduped: Vec<String> = Vec::new();
    for id in seen {
        if !deduped.contains(&id) {
            deduped.push(id);
        }
    }
    assert_eq!(deduped, ids, "exactly once and in order after dedupe by id");

    // With its own cursor (60, processed but not acknowledged): nothing twice.
    let (mut third, _) = app.bridge_socket("a");
    third.send_json(&json!({"type": "resume", "after": 60}));
    app.inject("a", 1, "o");
    assert_eq!(seqs(&events(&mut third, 1)), vec![61]);
}
