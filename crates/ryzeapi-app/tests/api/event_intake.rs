//! Whatever the engine hands over: no event stops the others. On both
//! backends, an event the database refuses is set aside while every other
//! event is logged and delivered, and events whose every string is arbitrary
//! (NUL, control characters, 100 KB, every Unicode plane) are all taken.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::helpers::{eventually, spawn_app_with, Options, TestApp, Ws};

const WAIT: Duration = Duration::from_secs(10);

fn app(sqlite: bool) -> TestApp {
    spawn_app_with(Options {
        sqlite,
        // A 100 KB field of control characters is 600 KB as JSON; several
        // such fields share one body.
        max_body_bytes: 8 * 1024 * 1024,
        bridge_max_frame: 1024 * 1024,
        ..Options::default()
    })
}

/// Instance `b` without an integration and with its public socket open.
fn watched_instance(app: &TestApp) -> Ws {
    let token = app.create_instance("b");
    let set = app.post_json(
        "/api/events/websocket/b",
        Some(&token),
        &json!({"enabled": true, "events": [], "mediaBase64": false}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    app.public_socket("b", &token)
}

fn a_message_reaches(app: &TestApp, public: &mut Ws, text: &str) {
    app.post_json(
        "/dev/engine/b/messages",
        Some(&app.account_token),
        &json!({"messages": [{"from": "5511999990000", "text": text}]}),
    );
    let frame = public.recv_json(WAIT).expect("a public event");
    assert_eq!(frame["data"]["message"]["content"]["text"], text, "{frame}");
}

fn refused_event_is_set_aside(sqlite: bool) {
    let app = app(sqlite);
    app.db.refuse_segments_containing("poisonmarker");
    app.instance_with_integration("a");
    let mut public = watched_instance(&app);
    let before = app.inject("a", 30, "before ");
    let refused = app.post_json(
        "/dev/engine/a/messages",
        Some(&app.account_token),
        &json!({"messages": [{"from": "5511999990000", "text": "a poisonmarker"}]}),
    );
    assert_eq!(
        refused.status, 200,
        "the engine's side never sees the refusal"
    );
    let after = app.inject("a", 30, "after ");

    // Every other event is logged, numbered without a gap, and delivered in order.
    app.wait_logged("a", 60);
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let got = ws.events(60);
    let ids: Vec<&str> = got.iter().map(|f| f["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = before.iter().chain(&after).map(String::as_str).collect();
    assert_eq!(ids, expected);
    let seqs: Vec<u64> = got.iter().map(|f| f["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<u64>>());

    // Monitoring sees it; the refused event is kept.
    let health = app.get("/health", None);
    assert_eq!(health.status, 200);
    assert_eq!(health.body["status"], "degraded", "{}", health.text);
    assert_eq!(health.body["events"]["setAside"], 1, "{}", health.text);
    assert!(
        health.body["reasons"][0]
            .as_str()
            .unwrap()
            .contains("set aside"),
        "{}",
        health.text
    );
    // The others keep flowing.
    a_message_reaches(&app, &mut public, "still flowing");
    app.inject("a", 1, "later ");
    app.wait_logged("a", 61);
}

#[test]
fn an_event_the_database_refuses_is_set_aside_and_the_others_flow_on_postgres() {
    refused_event_is_set_aside(false);
}

#[test]
fn an_event_the_database_refuses_is_set_aside_and_the_others_flow_on_sqlite() {
    refused_event_is_set_aside(true);
}

/// Any string: NUL and the other controls, any plane, or 100 KB of one
/// character.
fn field() -> impl Strategy<Value = String> {
    let hostile = prop_oneof![
        Just('\u{0}'),
        (0_u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\u{0}')),
        Just('\u{7f}'),
        (0x80_u32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('\u{0}')),
        Just('%'),
        Just('"'),
        Just('\\'),
        any::<char>(),
    ];
    prop_oneof![
        4 => any::<String>(),
        4 => proptest::collection::vec(hostile, 0..40).prop_map(String::from_iter),
        1 => any::<char>().prop_map(|c| c.to_string().repeat(100_000 / c.len_utf8())),
    ]
}

fn arbitrary_strings_are_all_taken(sqlite: bool) {
    let app = app(sqlite);
    app.instance_with_integration("a");
    let mut public = watched_instance(&app);
    let injected = std::cell::Cell::new(0_u64);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
        field(),
    );
    runner
        .run(
            &strategy,
            |(message_id, status, chat, from, text, push_name, group)| {
                let receipt = app.post_json(
                    "/dev/engine/a/receipt",
                    Some(&app.account_token),
                    &json!({"messageId": message_id, "status": status, "chat": chat}),
                );
                prop_assert_eq!(receipt.status, 200, "{}", receipt.text);
                let message = app.post_json(
                    "/dev/engine/a/messages",
                    Some(&app.account_token),
                    &json!({"messages": [{"from": from, "text": text, "pushName": push_name, "group": group}]}),
                );
                prop_assert_eq!(message.status, 200, "{}", message.text);
                injected.set(injected.get() + 2);
                Ok(())
            },
        )
        .unwrap();

    // Every event was taken and logged: none refused, none lost.
    let injected = injected.get();
    app.wait_logged("a", injected);
    let health = app.get("/health", None);
    assert_eq!(health.body["status"], "ok", "{}", health.text);
    assert_eq!(health.body["events"]["setAside"], 0);
    // Each comes out as JSON with an id free of control characters.
    let (mut ws, _) = app.bridge_socket("a");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    let got = ws.events(usize::try_from(injected).unwrap());
    for frame in &got {
        let id = frame["id"].as_str().unwrap();
        assert!(!id.chars().any(char::is_control), "{id:?}");
        assert!(id.len() <= 512);
        assert!(frame["event"]["data"].is_object(), "{frame}");
    }
    a_message_reaches(&app, &mut public, "still flowing");
    eventually("health stays ok", || {
        let health = app.get("/health", None);
        (health.body["status"] == "ok")
            .then_some(())
            .ok_or(health.text)
    });
}

#[test]
fn events_with_arbitrary_strings_are_all_taken_on_postgres() {
    arbitrary_strings_are_all_taken(false);
}

#[test]
fn events_with_arbitrary_strings_are_all_taken_on_sqlite() {
    arbitrary_strings_are_all_taken(true);
}
