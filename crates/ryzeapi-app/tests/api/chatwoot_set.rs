use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{chatwoot_failure, spawn_app, spawn_app_with, Options, Reply, TestApp};

#[test]
fn set_activates_through_the_bridge() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("suporte");
    let answer = app.post_json(
        "/api/chatwoot/set/suporte",
        Some(&t),
        &TestApp::set_body("sk_live_abc123"),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!({
            "instance": "suporte",
            "status": "active",
            "bridge_integration_id": "int_suporte",
            "message": "chatwoot integration activated"
        })
    );
    let calls = app.bridge.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/v1/integrations/activate")
    );
    assert_eq!(call.authorization, format!("Bearer {}", app.bridge_token));
    assert_eq!(
        call.body,
        json!({
            "instance": "suporte",
            "ryzeapi_url": "http://ryzeapi.internal:8080",
            "ws_path": "/ws/chatwoot/suporte",
            "chatwoot_base_url": "https://chat.example.com",
            "chatwoot_account_id": 5,
            "chatwoot_api_token": "sk_live_abc123",
            "inbox_name": "WhatsApp - Orion",
            "sign_messages": true,
            "ignore_groups": false,
            "start_as_pending": true,
            "reopen_resolved": false
        })
    );
}

#[test]
fn the_default_inbox_name_names_the_instance() {
    let app = spawn_app();
    app.create_instance("loja");
    let answer = app.post_json(
        "/api/chatwoot/set/loja",
        Some(&app.account_token),
        &json!({"chatwootBaseUrl": "https://c.example.com", "chatwootAccountId": 1, "chatwootApiToken": "sk"}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text);
    let call = &app.bridge.calls_to("POST")[0];
    assert_eq!(call.body["inbox_name"], "WhatsApp - loja");
    assert_eq!(call.body["sign_messages"], false);
}

#[test]
fn a_second_set_repairs_the_same_integration() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("suporte");
    app.post_json(
        "/api/chatwoot/set/suporte",
        Some(&t),
        &TestApp::set_body("sk_1"),
    );
    let mut body = TestApp::set_body("sk_2");
    body["ignoreGroups"] = json!(true);
    body["chatwootAccountId"] = json!(7);
    let again = app.post_json("/api/chatwoot/set/suporte", Some(&t), &body);
    assert_eq!(again.status, 201);
    assert_eq!(app.bridge.calls_to("POST").len(), 2);
    let listed = app.get("/api/chatwoot/list/suporte", Some(&t));
    assert_eq!(listed.body["ignore_groups"], true);
    assert_eq!(listed.body["chatwoot_account_id"], 7);
    // one row, not two
    let count = app.get("/api/instance/list", Some(&t));
    assert_eq!(count.body["data"].as_array().unwrap().len(), 1);
    let rows = {
        use ryzeapi_ports::{InstanceRepository, IntegrationRepository};
        let repo = app.db.connect().repository();
        let instance = repo
            .instance_by_name(&ryzeapi_domain::InstanceName::parse("suporte").unwrap())
            .unwrap()
            .unwrap();
        repo.integration(&instance.id).unwrap().into_iter().count()
    };
    assert_eq!(rows, 1);
}

#[test]
fn invalid_bodies_are_400_and_write_nothing() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    let base = TestApp::set_body("sk");
    let with = |key: &str, value: serde_json::Value| {
        let mut b = base.clone();
        if value.is_null() {
            b.as_object_mut().unwrap().remove(key);
        } else {
            b[key] = value;
        }
        b.to_string()
    };
    let cases = vec![
        (
            with("chatwootBaseUrl", json!(null)),
            "invalid body: chatwootBaseUrl is required",
        ),
        (
            with("chatwootBaseUrl", json!("chat.example.com")),
            "invalid body: chatwootBaseUrl must be an absolute http:// or https:// URL",
        ),
        (
            with("chatwootBaseUrl", json!("ftp://x.example.com")),
            "invalid body: chatwootBaseUrl must be an absolute",
        ),
        (
            with("chatwootBaseUrl", json!("https://")),
            "invalid body: chatwootBaseUrl must name a valid host",
        ),
        (
            with("chatwootBaseUrl", json!(42)),
            "invalid body: invalid type",
        ),
        (
            with("chatwootAccountId", json!(null)),
            "invalid body: chatwootAccountId is required",
        ),
        (
            with("chatwootAccountId", json!(0)),
            "invalid body: chatwootAccountId must be a positive integer",
        ),
        (
            with("chatwootAccountId", json!(-4)),
            "invalid body: chatwootAccountId must be a positive integer",
        ),
        (
            with("chatwootAccountId", json!("5")),
            "invalid body: invalid type",
        ),
        (
            with("chatwootAccountId", json!(1.5)),
            "invalid body: invalid type",
        ),
        (
            with("chatwootAccountId", json!(99_999_999_999_999_999_999.0)),
            "invalid body: invalid type",
        ),
        (
            with("chatwootApiToken", json!(null)),
            "invalid body: chatwootApiToken is required",
        ),
        (
            with("chatwootApiToken", json!("   ")),
            "invalid body: chatwootApiToken is required",
        ),
        (
            with("inboxName", json!("")),
            "invalid body: inboxName must not be empty",
        ),
        (
            with("signMessages", json!("yes")),
            "invalid body: invalid type",
        ),
        ("{not json".to_owned(), "invalid body: "),
        ("[]".to_owned(), "invalid body: expected a JSON object"),
        (String::new(), "invalid body: a JSON object is required"),
    ];
    for (body, prefix) in cases {
        let answer = app.post_raw("/api/chatwoot/set/a", Some(&t), &body);
        assert_eq!(answer.status, 400, "{body} -> {}", answer.text);
        assert!(
            answer.message().starts_with(prefix),
            "{body} -> {}",
            answer.message()
        );
        assert_eq!(answer.body["success"], false);
    }
    assert!(app.bridge.calls().is_empty(), "nothing reached the bridge");
    let listed = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(listed.status, 404);
    assert_eq!(
        listed.message(),
        "no chatwoot integration for this instance"
    );
}

#[test]
fn oversized_set_bodies_are_413() {
    let app = spawn_app_with(Options {
        max_body_bytes: 1024,
        ..Options::default()
    });
    app.create_instance("a");
    let mut body = TestApp::set_body("sk");
    body["inboxName"] = json!("x".repeat(2000));
    let answer = app.post_json("/api/chatwoot/set/a", Some(&app.account_token), &body);
    assert_eq!(answer.status, 413);
    assert!(app.bridge.calls().is_empty());
}

#[test]
fn chatwoot_refusals_are_classified_and_recorded() {
    let cases = [
        (chatwoot_failure(401, "chatwoot_unauthorized", "Invalid Access Token"), 401,
         "Chatwoot rejected the API token — verify chatwootApiToken. Detail: Invalid Access Token"),
        (chatwoot_failure(403, "chatwoot_forbidden", "You are not authorized"), 403,
         "Chatwoot denied the request — verify the API token has admin scope on account 5. Detail: You are not authorized"),
        (chatwoot_failure(404, "chatwoot_not_found", "Not Found"), 400,
         "Chatwoot account or endpoint not found — verify chatwootBaseUrl (https://chat.example.com) and chatwootAccountId (5). Detail: Not Found"),
        (chatwoot_failure(422, "chatwoot_invalid", "Name can't be blank"), 400,
         "Chatwoot rejected the request as invalid — verify inboxName and the integration settings. Detail: Name can't be blank"),
        (Reply::Json(502, json!({"error": {"kind": "chatwoot_unreachable", "message": "connection refused", "chatwoot_status": null, "detail": "connection refused"}})), 502,
         "Chatwoot host unreachable from the integration gateway — verify chatwootBaseUrl (https://chat.example.com) is reachable from the bridge. Detail: connection refused"),
        (Reply::Raw(500, "Internal Server Error"), 502,
         "integration gateway error (HTTP 500) — Detail: unexpected answer: Internal Server Error"),
        (Reply::Raw(200, "<html>not json</html>"), 502,
         "integration gateway error (HTTP 200) — Detail: unreadable answer"),
        (Reply::Json(401, json!({"error": {"kind": "unauthorized", "message": "bad service token"}})), 502,
         "integration gateway rejected the service token (HTTP 401)"),
    ];
    for (reply, status, prefix) in cases {
        let app = spawn_app();
        let t = app.account_token.clone();
        app.create_instance("a");
        app.bridge.on_activate(reply);
        let answer = app.post_json(
            "/api/chatwoot/set/a",
            Some(&t),
            &TestApp::set_body("sk_secret_value"),
        );
        assert_eq!(answer.status, status, "{}", answer.text);
        assert!(answer.message().starts_with(prefix), "{}", answer.message());
        assert!(!answer.text.contains("sk_secret_value"));
        app.bridge.on_status(Reply::Raw(503, "down"));
        let listed = app.get("/api/chatwoot/list/a", Some(&t));
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body["status"], "error");
        assert_eq!(listed.body["last_error"], answer.message());
    }
}

#[test]
fn an_unreachable_bridge_is_502() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let app = spawn_app_with(Options {
        bridge_url_override: Some(closed),
        ..Options::default()
    });
    app.create_instance("a");
    let answer = app.post_json(
        "/api/chatwoot/set/a",
        Some(&app.account_token),
        &TestApp::set_body("sk"),
    );
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert!(answer.message().starts_with(
        "integration gateway unreachable — verify BRIDGE_URL and that the bridge is running."
    ));
    // the list still answers, from local data
    let listed = app.get("/api/chatwoot/list/a", Some(&app.account_token));
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["status"], "error");
    assert_eq!(listed.body["live"], false);
}

#[test]
fn a_hung_bridge_is_504_and_stalls_nothing_else() {
    let app = spawn_app_with(Options {
        activate_timeout_secs: 2,
        ..Options::default()
    });
    let t = app.account_token.clone();
    app.create_instance("a");
    app.bridge.on_activate(Reply::Hang(Duration::from_secs(6)));
    let started = Instant::now();
    let (answer, others) = std::thread::scope(|scope| {
        let hung = scope
            .spawn(|| app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk")));
        std::thread::sleep(Duration::from_millis(300));
        // while the activation hangs, other requests are served at once
        let mut others = Vec::new();
        for _ in 0..5 {
            let begun = Instant::now();
            let health = app.get("/health", None);
            let list = app.get("/api/instance/list", Some(&t));
            others.push((health.status, list.status, begun.elapsed()));
        }
        (hung.join().unwrap(), others)
    });
    assert_eq!(answer.status, 504, "{}", answer.text);
    assert_eq!(
        answer.message(),
        "integration gateway timed out after 2s — retry; if it persists, check the bridge"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(5),
        "the budget was not enforced: {elapsed:?}"
    );
    for (health, list, took) in others {
        assert_eq!((health, list), (200, 200));
        assert!(
            took < Duration::from_millis(1500),
            "a request waited {took:?} behind the hung bridge"
        );
    }
}

#[test]
fn ownership_rules_of_the_module_routes() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let a_token = app.create_instance("a");
    app.create_instance("b");
    // unknown instance
    let unknown = app.post_json("/api/chatwoot/set/zzz", Some(&t), &TestApp::set_body("sk"));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.message(), "instance not found");
    // another account's instance looks unknown
    let stranger = app.another_account(5);
    let theirs = app.post_json(
        "/api/chatwoot/set/a",
        Some(&stranger),
        &TestApp::set_body("sk"),
    );
    assert_eq!(theirs.status, 404);
    assert_eq!(theirs.message(), "instance not found");
    // a TokenInstance of another instance is 403
    let mismatch = app.post_json(
        "/api/chatwoot/set/b",
        Some(&a_token),
        &TestApp::set_body("sk"),
    );
    assert_eq!(mismatch.status, 403);
    assert_eq!(
        mismatch.message(),
        "Instance token does not match this instance"
    );
    // its own instance works
    let own = app.post_json(
        "/api/chatwoot/set/a",
        Some(&a_token),
        &TestApp::set_body("sk"),
    );
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(app.get("/api/chatwoot/list/a", Some(&a_token)).status, 200);
    assert_eq!(app.get("/api/chatwoot/list/b", Some(&a_token)).status, 403);
    assert_eq!(
        app.delete("/api/chatwoot/delete/b", Some(&a_token)).status,
        403
    );
    assert_eq!(app.get("/api/chatwoot/list/a", Some(&stranger)).status, 404);
    assert_eq!(
        app.delete("/api/chatwoot/delete/a", Some(&stranger)).status,
        404
    );
    assert_eq!(app.bridge.calls_to("POST").len(), 1);
}
