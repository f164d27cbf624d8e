use serde_json::json;

use crate::helpers::spawn_app;

#[test]
fn sending_a_text_needs_a_connected_instance() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let instance_token = app.create_instance("a");
    let body = json!({"number": "+55 11 99999-0000", "message": "olá"});
    let refused = app.post_json("/api/message/text/a", Some(&t), &body);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.message(), "Instance is not connected to WhatsApp");

    app.engine_state("a", "connect");
    let sent = app.post_json("/api/message/text/a", Some(&instance_token), &body);
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.body["success"], true);
    assert_eq!(sent.body["message"], "Message sent successfully");
    assert_eq!(sent.body["status"], "sent");
    let id = sent.body["data"]["messageId"].as_str().unwrap().to_owned();
    let recorded = app.get("/dev/engine/a/sent", Some(&t));
    assert_eq!(recorded.body["data"][0]["messageId"], id);
    assert_eq!(
        recorded.body["data"][0]["to"],
        "5511999990000@s.whatsapp.net"
    );
    assert_eq!(recorded.body["data"][0]["text"], "olá");
    // the instance's state follows the engine
    let listed = app.get("/api/instance/list", Some(&t));
    assert_eq!(listed.body["data"][0]["state"], "connected");
}

#[test]
fn send_validates_its_body() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.engine_state("a", "connect");
    for (body, prefix) in [
        (json!({"message": "x"}), "invalid body: number is required"),
        (
            json!({"number": "abc", "message": "x"}),
            "invalid body: number must be",
        ),
        (
            json!({"number": "5511999990000"}),
            "invalid body: message is required",
        ),
        (
            json!({"number": "5511999990000", "message": "  "}),
            "invalid body: message is required",
        ),
        (
            json!({"number": "5511999990000", "message": "x", "delay": 999_999}),
            "invalid body: delay must be",
        ),
        (
            json!({"number": 5511, "message": "x"}),
            "invalid body: invalid type",
        ),
    ] {
        let answer = app.post_json("/api/message/text/a", Some(&t), &body);
        assert_eq!(answer.status, 400, "{body}");
        assert!(answer.message().starts_with(prefix), "{}", answer.message());
    }
    assert_eq!(
        app.get("/dev/engine/a/sent", Some(&t)).body["data"],
        json!([])
    );
    assert_eq!(
        app.post_json("/api/message/text/ghost", Some(&t), &json!({}))
            .status,
        404
    );
}

#[test]
fn development_routes_need_a_token_and_an_own_instance() {
    let app = spawn_app();
    app.create_instance("a");
    let stranger = app.another_account(3);
    let answer = app.post_json(
        "/dev/engine/a/state",
        Some(&stranger),
        &json!({"action": "connect"}),
    );
    assert_eq!(answer.status, 404);
    let answer = app.post_json("/dev/engine/a/state", None, &json!({"action": "connect"}));
    assert_eq!(answer.status, 401);
}

#[test]
fn the_stored_state_follows_the_engine_across_a_restart() {
    let mut app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.engine_state("a", "connect");
    wait_for_state(&app, "connected");
    app.restart();
    let listed = app.get("/api/instance/list", Some(&t));
    assert_eq!(listed.body["data"][0]["state"], "disconnected");
    let refused = app.post_json(
        "/api/message/text/a",
        Some(&t),
        &json!({"number": "5511999990000", "message": "x"}),
    );
    assert_eq!(refused.message(), "Instance is not connected to WhatsApp");
}

/// Waits until `GET /api/instance/list` shows the state `expected` (the
/// pump records it asynchronously).
fn wait_for_state(app: &crate::helpers::TestApp, expected: &str) {
    crate::helpers::eventually(&format!("state never became {expected}"), || {
        let listed = app.get("/api/instance/list", Some(&app.account_token));
        (listed.body["data"][0]["state"] == expected)
            .then_some(())
            .ok_or(listed.text)
    });
}

#[test]
fn an_instance_created_again_under_its_old_name_gets_its_own_state() {
    // The pump remembers instances it looked up for message events; a state
    // change must still reach the instance that carries the name now.
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.engine_state("a", "connect");
    wait_for_state(&app, "connected");
    app.inject("a", 3, "before");
    app.wait_received(4);
    let deleted = app.delete("/api/instance/delete/a", Some(&t));
    assert_eq!(deleted.status, 200, "{}", deleted.text);

    app.create_instance("a");
    let listed = app.get("/api/instance/list", Some(&t));
    assert_eq!(listed.body["data"][0]["state"], "disconnected");
    app.engine_state("a", "connect");
    wait_for_state(&app, "connected");
}
