use serde_json::json;

use crate::helpers::{spawn_app, Reply, TestApp};

#[test]
fn list_answers_with_live_status_and_every_field() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("suporte");
    app.post_json(
        "/api/chatwoot/set/suporte",
        Some(&t),
        &TestApp::set_body("sk_live_xyz"),
    );
    app.bridge.on_status(Reply::Json(
        200,
        json!({"id": "int_suporte", "status": "paused", "inbox_id": 41, "inbox_name": "x", "last_error": "", "socket_connected": true}),
    ));
    let answer = app.get("/api/chatwoot/list/suporte", Some(&t));
    assert_eq!(answer.status, 200, "{}", answer.text);
    let b = &answer.body;
    assert_eq!(b["instance_name"], "suporte");
    assert_eq!(b["status"], "paused");
    assert_eq!(b["bridge_integration_id"], "int_suporte");
    assert_eq!(b["chatwoot_base_url"], "https://chat.example.com");
    assert_eq!(b["chatwoot_account_id"], 5);
    assert_eq!(b["chatwoot_inbox_id"], 41);
    assert_eq!(b["chatwoot_inbox_name"], "WhatsApp - Orion");
    assert_eq!(b["last_error"], "");
    assert_eq!(b["sign_messages"], true);
    assert_eq!(b["start_as_pending"], true);
    assert_eq!(b["live"], true);
    let created = b["created_at"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    assert!(!answer.text.contains("sk_live_xyz"));
    let status_call = app.bridge.calls_to("GET").pop().unwrap();
    assert_eq!(status_call.path, "/v1/integrations/int_suporte");
    assert_eq!(
        status_call.authorization,
        format!("Bearer {}", app.bridge_token)
    );

    // the live status was stored: with the bridge down, the local row says paused
    app.bridge.on_status(Reply::Raw(500, "down"));
    let local = app.get("/api/chatwoot/list/suporte", Some(&t));
    assert_eq!(local.body["status"], "paused");
    assert_eq!(local.body["live"], false);
}

#[test]
fn list_backfills_an_unknown_inbox_id_only() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.bridge.on_activate(Reply::Json(
        201,
        json!({"id": "int_a", "status": "active", "inbox_id": 0, "inbox_name": "", "last_error": ""}),
    ));
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"));
    app.bridge.on_status(Reply::Json(
        200,
        json!({"id": "int_a", "status": "active", "inbox_id": 77}),
    ));
    assert_eq!(
        app.get("/api/chatwoot/list/a", Some(&t)).body["chatwoot_inbox_id"],
        77
    );
    app.bridge.on_status(Reply::Json(
        200,
        json!({"id": "int_a", "status": "active", "inbox_id": 78}),
    ));
    assert_eq!(
        app.get("/api/chatwoot/list/a", Some(&t)).body["chatwoot_inbox_id"],
        77
    );
    app.bridge
        .on_status(Reply::Hang(std::time::Duration::from_secs(4)));
    let slow = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(slow.status, 200);
    assert_eq!(slow.body["chatwoot_inbox_id"], 77);
    assert_eq!(slow.body["live"], false);
}

#[test]
fn list_reports_errors_the_bridge_reports() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"));
    app.bridge.on_status(Reply::Json(
        200,
        json!({"id": "int_a", "status": "error", "inbox_id": 41, "last_error": "Chatwoot answered 401 for the inbox"}),
    ));
    let answer = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(answer.body["status"], "error");
    assert_eq!(
        answer.body["last_error"],
        "Chatwoot answered 401 for the inbox"
    );
    // the bridge forgot the integration
    app.bridge.on_status(Reply::Json(
        404,
        json!({"error": {"kind": "not_found", "message": "no such integration"}}),
    ));
    let gone = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(gone.body["status"], "error");
    assert!(gone.body["last_error"]
        .as_str()
        .unwrap()
        .contains("POST /api/chatwoot/set/a"));
}

#[test]
fn list_404s() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let none = app.get("/api/chatwoot/list/ghost", Some(&t));
    assert_eq!(none.status, 404);
    assert_eq!(none.message(), "instance not found");
    app.create_instance("a");
    let no_integration = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(no_integration.status, 404);
    assert_eq!(
        no_integration.message(),
        "no chatwoot integration for this instance"
    );
}
