//! Every route that reads a body, fed arbitrary bodies: bytes, any JSON, and
//! objects with the route's own field names holding values of any type. No
//! answer is a 5xx, and an answer of 4xx changes nothing a client can see.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use crate::helpers::{spawn_app_with, Options, TestApp};

/// Field names the routes read, so that generated objects reach past the
/// first "missing field" check.
const FIELDS: &[&str] = &[
    "name",
    "token",
    "chatwootEnabled",
    "chatwootBaseUrl",
    "chatwootAccountId",
    "chatwootApiToken",
    "chatwootInboxName",
    "inboxName",
    "signMessages",
    "ignoreGroups",
    "startAsPending",
    "reopenResolved",
    "websocket",
    "enabled",
    "events",
    "mediaBase64",
    "number",
    "message",
    "delay",
    "replyTo",
    "action",
    "messages",
    "from",
    "text",
    "messageId",
    "status",
    "chat",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        prop_oneof![
            Just("https://chatwoot.example.com"),
            Just("connect"),
            Just("message.exchange"),
            Just("5511999990000"),
            Just(""),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(FIELDS), inner), 0..8).prop_map(
                |pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<String, Value>>(),
                    )
                }
            ),
        ]
    })
}

/// A body: raw bytes, or JSON text.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        4 => json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// The routes that read a body, with the method and path.
const ROUTES: &[&str] = &[
    "/api/instance/new",
    "/api/chatwoot/set/a",
    "/api/events/websocket/a",
    "/api/message/text/a",
    "/dev/engine/a/state",
    "/dev/engine/a/messages",
    "/dev/engine/a/receipt",
];

/// What a client can see of the server's state.
fn snapshot(app: &TestApp) -> Vec<String> {
    let token = Some(app.account_token.as_str());
    let mut seen = vec![
        app.get("/api/instance/list", token).text,
        app.get("/api/chatwoot/list/a", token).text,
        app.get("/api/events/getWebsocket/a", token).text,
        app.get("/dev/engine/a/sent", token).text,
    ];
    let events = app.event_stats();
    seen.push(format!("received {}", events["eventsReceived"]));
    // Reads ask the bridge for live status; what changes it is activate and delete.
    seen.push(format!(
        "bridge writes {}",
        app.bridge.calls_to("POST").len() + app.bridge.calls_to("DELETE").len()
    ));
    seen
}

fn run(sqlite: bool) {
    let app = spawn_app_with(Options {
        sqlite,
        ..Options::default()
    });
    app.instance_with_integration("a");
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (proptest::sample::select(ROUTES), body());
    runner
        .run(&strategy, |(route, body)| {
            let before = snapshot(&app);
            let answer = app.post_bytes(route, Some(&app.account_token), &body);
            prop_assert!(
                answer.status < 500,
                "{route} answered {} to {:?}: {}",
                answer.status,
                String::from_utf8_lossy(&body),
                answer.text
            );
            if (400..500).contains(&answer.status) {
                prop_assert_eq!(
                    &snapshot(&app),
                    &before,
                    "{} answered {} and changed something",
                    route,
                    answer.status
                );
                prop_assert!(
                    answer.body["error"]["message"].is_string(),
                    "a 4xx carries a message: {}",
                    answer.text
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bodies_never_get_a_5xx_and_a_4xx_changes_nothing_on_postgres() {
    run(false);
}

#[test]
fn arbitrary_bodies_never_get_a_5xx_and_a_4xx_changes_nothing_on_sqlite() {
    run(true);
}
