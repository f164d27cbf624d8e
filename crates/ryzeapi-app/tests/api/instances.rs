use serde_json::json;

use crate::helpers::{chatwoot_failure, spawn_app, spawn_app_with, Options, TestApp};

#[test]
fn create_returns_the_instance_and_its_token() {
    let app = spawn_app();
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "suporte"}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["success"], true);
    assert_eq!(answer.body["message"], "Instance created");
    assert_eq!(answer.body["instance"]["name"], "suporte");
    assert_eq!(answer.body["instance"]["state"], "disconnected");
    assert!(
        answer.body.get("chatwoot").is_none(),
        "no block, no chatwoot object"
    );
    let token = answer.body["instance"]["token"].as_str().unwrap();
    assert!(token.len() >= 32);
    // the new TokenInstance works, for its own instance only
    let own = app.get("/api/instance/list", Some(token));
    assert_eq!(own.status, 200);
    assert_eq!(own.body["message"], "1 Instance found");
    assert_eq!(own.body["data"][0]["name"], "suporte");
}

#[test]
fn create_validates_the_body_and_writes_nothing_on_error() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let cases: Vec<(String, u16, &str)> = vec![
        (r#"{}"#.into(), 400, "invalid body: name is required"),
        (
            r#"{"name": ""}"#.into(),
            400,
            "invalid body: name is required",
        ),
        (
            r#"{"name": "a b"}"#.into(),
            400,
            "invalid body: name may hold only",
        ),
        (r#"{"name": 5}"#.into(), 400, "invalid body: invalid type"),
        (
            r#"{"name": "x", "token": "short"}"#.into(),
            400,
            "invalid body: token must be",
        ),
        (
            r#"[1,2]"#.into(),
            400,
            "invalid body: expected a JSON object",
        ),
        (r#"{"name": "#.into(), 400, "invalid body: "),
        ("".into(), 400, "invalid body: a JSON object is required"),
    ];
    for (body, status, prefix) in cases {
        let answer = app.post_raw("/api/instance/new", Some(&t), &body);
        assert_eq!(answer.status, status, "{body} -> {}", answer.text);
        assert!(
            answer.message().starts_with(prefix),
            "{body} -> {}",
            answer.message()
        );
    }
    let list = app.get("/api/instance/list", Some(&t));
    assert_eq!(list.body["message"], "0 Instances found");
}

#[test]
fn oversized_bodies_are_413_and_change_nothing() {
    let app = spawn_app_with(Options {
        max_body_bytes: 2048,
        ..Options::default()
    });
    let big = json!({"name": "big", "pad": "x".repeat(4096)});
    let answer = app.post_json("/api/instance/new", Some(&app.account_token), &big);
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.message(),
        "invalid body: the body exceeds the limit of 2048 bytes"
    );
    assert_eq!(
        app.get("/api/instance/list", Some(&app.account_token)).body["message"],
        "0 Instances found"
    );
}

#[test]
fn duplicate_names_are_409_even_across_accounts() {
    let app = spawn_app();
    app.create_instance("suporte");
    let again = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "suporte"}),
    );
    assert_eq!(again.status, 409);
    assert_eq!(again.message(), "Instance name already in use");
    let other = app.another_account(5);
    let theirs = app.post_json(
        "/api/instance/new",
        Some(&other),
        &json!({"name": "suporte"}),
    );
    assert_eq!(theirs.status, 409);
}

#[test]
fn a_custom_token_is_used_and_must_be_unique() {
    let app = spawn_app();
    let custom = "my-own-instance-token-123";
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "a", "token": custom}),
    );
    assert_eq!(answer.status, 201);
    assert_eq!(answer.body["instance"]["token"], custom);
    assert_eq!(
        app.get("/api/instance/list", Some(custom)).body["data"][0]["name"],
        "a"
    );
    let again = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "b", "token": custom}),
    );
    assert_eq!(again.status, 409);
    assert_eq!(again.message(), "Token already in use");
    let account_clash = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "c", "token": app.account_token}),
    );
    assert_eq!(account_clash.status, 409);
}

#[test]
fn the_quota_is_403() {
    let app = spawn_app_with(Options {
        max_instances: 2,
        ..Options::default()
    });
    app.create_instance("a");
    app.create_instance("b");
    let third = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "c"}),
    );
    assert_eq!(third.status, 403);
    assert_eq!(third.message(), "Account instance quota exceeded");
}

#[test]
fn a_token_instance_cannot_create_or_delete_instances() {
    let app = spawn_app();
    let instance_token = app.create_instance("a");
    let create = app.post_json(
        "/api/instance/new",
        Some(&instance_token),
        &json!({"name": "b"}),
    );
    assert_eq!(create.status, 403);
    assert_eq!(create.message(), "This route requires an account token");
    let delete = app.delete("/api/instance/delete/a", Some(&instance_token));
    assert_eq!(delete.status, 403);
}

#[test]
fn list_filters_by_name_and_scopes_by_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let a_token = app.create_instance("a");
    app.create_instance("b");
    app.create_instance("c");
    let all = app.get("/api/instance/list", Some(&t));
    assert_eq!(all.body["message"], "3 Instances found");
    assert_eq!(all.body["data"].as_array().unwrap().len(), 3);
    let one = app.get("/api/instance/list?instanceName=b", Some(&t));
    assert_eq!(one.body["message"], "1 Instance found");
    assert_eq!(one.body["data"][0]["name"], "b");
    assert_eq!(one.body["data"][0]["state"], "disconnected");
    let two = app.get("/api/instance/list?instanceName=a,c", Some(&t));
    assert_eq!(two.body["message"], "2 Instances found");
    let missing = app.get("/api/instance/list?instanceName=zzz", Some(&t));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.message(), "Instance not found");
    // a TokenInstance sees its own instance only
    let own = app.get("/api/instance/list", Some(&a_token));
    assert_eq!(own.body["message"], "1 Instance found");
    let other = app.get("/api/instance/list?instanceName=b", Some(&a_token));
    assert_eq!(other.status, 403);
    assert_eq!(
        other.message(),
        "Instance token does not match this instance"
    );
    // another account sees none of them
    let stranger = app.another_account(5);
    assert_eq!(
        app.get("/api/instance/list", Some(&stranger)).body["message"],
        "0 Instances found"
    );
    assert_eq!(
        app.get("/api/instance/list?instanceName=a", Some(&stranger))
            .status,
        404
    );
}

#[test]
fn inline_chatwoot_activation_succeeds() {
    let app = spawn_app();
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({
            "name": "suporte",
            "chatwootEnabled": true,
            "chatwootBaseUrl": "https://chatwoot.example.com",
            "chatwootAccountId": 5,
            "chatwootApiToken": "sk_live_inline_1",
            "chatwootInboxName": "WhatsApp - Orion",
            "chatwootSignMessages": true
        }),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["chatwoot"]["status"], "active");
    assert_eq!(
        answer.body["chatwoot"]["bridge_integration_id"],
        "int_suporte"
    );
    let activate = &app.bridge.calls_to("POST")[0];
    assert_eq!(activate.body["inbox_name"], "WhatsApp - Orion");
    assert_eq!(activate.body["sign_messages"], true);
    assert_eq!(activate.body["chatwoot_api_token"], "sk_live_inline_1");
    let list = app.get("/api/instance/list", Some(&app.account_token));
    let summary = &list.body["data"][0]["integrations"]["chatwoot"];
    assert_eq!(summary["status"], "active");
    assert_eq!(summary["chatwoot_inbox_id"], 41);
    assert!(!list.text.contains("sk_live_inline_1"));
}

#[test]
fn inline_failure_still_creates_the_instance_and_set_repairs_it() {
    let app = spawn_app();
    app.bridge.on_activate(chatwoot_failure(
        401,
        "chatwoot_unauthorized",
        "Invalid Access Token",
    ));
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({
            "name": "suporte",
            "chatwootEnabled": true,
            "chatwootBaseUrl": "https://chatwoot.example.com",
            "chatwootAccountId": 5,
            "chatwootApiToken": "sk_wrong"
        }),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["instance"]["name"], "suporte");
    assert_eq!(answer.body["chatwoot"]["status"], "error");
    assert_eq!(
        answer.body["chatwoot"]["error"],
        "Chatwoot rejected the API token — verify chatwootApiToken. Detail: Invalid Access Token"
    );
    let t = app.account_token.clone();
    let listed = app.get("/api/chatwoot/list/suporte", Some(&t));
    assert_eq!(listed.body["status"], "error");
    assert!(listed.body["last_error"]
        .as_str()
        .unwrap()
        .starts_with("Chatwoot rejected the API token"));
    // fix the credentials without recreating the instance
    let fixed = app.post_json(
        "/api/chatwoot/set/suporte",
        Some(&t),
        &TestApp::set_body("sk_right"),
    );
    assert_eq!(fixed.status, 201, "{}", fixed.text);
    let listed = app.get("/api/chatwoot/list/suporte", Some(&t));
    assert_eq!(listed.body["status"], "active");
    assert_eq!(listed.body["last_error"], "");
}

#[test]
fn inline_block_errors_are_reported_per_block() {
    let app = spawn_app();
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({
            "name": "a",
            "chatwootEnabled": true,
            "chatwootAccountId": "five",
            "websocketEnabled": true,
            "websocketEvents": ["nope"]
        }),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["chatwoot"]["status"], "error");
    assert!(answer.body["chatwoot"]["error"]
        .as_str()
        .unwrap()
        .starts_with("invalid body: invalid type"));
    assert_eq!(answer.body["websocket"]["status"], "error");
    assert!(answer.body["websocket"]["error"]
        .as_str()
        .unwrap()
        .contains("unknown event 'nope'"));
    assert!(app.bridge.calls().is_empty());

    let missing = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "b", "chatwootEnabled": true, "chatwootAccountId": 5}),
    );
    assert_eq!(missing.status, 201);
    assert_eq!(
        missing.body["chatwoot"]["error"],
        "invalid body: chatwootBaseUrl is required"
    );

    let disabled = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "c", "chatwootEnabled": false, "chatwootBaseUrl": "https://x.example.com"}),
    );
    assert_eq!(disabled.body["chatwoot"]["status"], "disabled");
    assert!(app.bridge.calls().is_empty());
}

#[test]
fn the_websocket_block_is_stored() {
    let app = spawn_app();
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({
            "name": "a",
            "websocketEnabled": true,
            "websocketEvents": ["message.exchange", "instance.state"],
            "websocketMediaBase64": true
        }),
    );
    assert_eq!(answer.status, 201);
    let ws = &answer.body["instance"]["websocket"];
    assert_eq!(ws["enabled"], true);
    assert_eq!(ws["events"], json!(["message.exchange", "instance.state"]));
    let listed = app.get("/api/instance/list", Some(&app.account_token));
    assert_eq!(listed.body["data"][0]["websocket"]["mediaBase64"], true);
}

#[test]
fn delete_removes_the_instance_and_tears_the_integration_down() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let instance_token = app.create_instance("suporte");
    assert_eq!(
        app.post_json(
            "/api/chatwoot/set/suporte",
            Some(&t),
            &TestApp::set_body("sk_1")
        )
        .status,
        201
    );
    let answer = app.delete("/api/instance/delete/suporte", Some(&t));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!({"success": true, "message": "Instance deleted", "instance": {"status": "deleted"}})
    );
    let deletes = app.bridge.calls_to("DELETE");
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/v1/integrations/int_suporte");
    // gone: its token no longer works, its name is free again
    assert_eq!(
        app.get("/api/instance/list", Some(&instance_token)).status,
        401
    );
    assert_eq!(
        app.delete("/api/instance/delete/suporte", Some(&t)).status,
        404
    );
    app.create_instance("suporte");
}

#[test]
fn delete_is_best_effort_on_the_bridge_and_scoped_to_the_account() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk_1"));
    let stranger = app.another_account(5);
    let not_theirs = app.delete("/api/instance/delete/a", Some(&stranger));
    assert_eq!(not_theirs.status, 404);
    assert_eq!(not_theirs.message(), "Instance not found");
    app.bridge
        .on_delete(crate::helpers::Reply::Raw(500, "bridge exploded"));
    let answer = app.delete("/api/instance/delete/a", Some(&t));
    assert_eq!(
        answer.status, 200,
        "a bridge failure must not block the delete"
    );
    assert_eq!(app.delete("/api/instance/delete/a", Some(&t)).status, 404);
    let unknown = app.delete("/api/instance/delete/never", Some(&t));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.message(), "Instance not found");
}
