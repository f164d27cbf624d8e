//! The Chatwoot API token never leaves the server: not in answers, not in
//! logs, not in the database in clear.

use serde_json::json;

use crate::helpers::{chatwoot_failure, log_lines_containing, spawn_app, TestApp};

#[test]
fn the_api_token_is_never_returned_logged_or_stored_in_clear() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let secret = "sk_live_never_shown_0123456789";
    let instance_token = app.create_instance("a");
    // inline, set, failing set, list with both token types, instance list, delete
    app.post_json(
        "/api/instance/new",
        Some(&t),
        &json!({"name": "b", "chatwootEnabled": true, "chatwootBaseUrl": "https://c.example.com",
                "chatwootAccountId": 3, "chatwootApiToken": secret}),
    );
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body(secret));
    app.bridge.on_activate(chatwoot_failure(
        401,
        "chatwoot_unauthorized",
        &format!("token {secret} is invalid"),
    ));
    let failed = app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body(secret));
    assert_eq!(failed.status, 401);
    app.get("/api/chatwoot/list/a", Some(&t));
    app.get("/api/chatwoot/list/a", Some(&instance_token));
    app.get("/api/chatwoot/list/b", Some(&t));
    app.get("/api/instance/list", Some(&t));
    app.get(&format!("/api/instance/list?token={t}"), None);
    app.delete("/api/chatwoot/delete/b", Some(&t));

    let bodies = app.all_bodies();
    assert!(bodies.len() >= 9);
    for body in &bodies {
        assert!(
            !body.contains(secret),
            "an answer carried the API token: {body}"
        );
    }
    // The test's own HTTP client logs the URLs it calls (with `?token=`);
    // those lines are the client's, not the server's, and are left out.
    let server_lines = |needle: &str| -> Vec<String> {
        log_lines_containing(needle)
            .into_iter()
            .filter(|l| !l.contains(&app.address))
            .collect()
    };
    assert!(
        server_lines(secret).is_empty(),
        "{:?}",
        server_lines(secret)
    );
    assert!(
        server_lines(&t).is_empty(),
        "the account token was logged: {:?}",
        server_lines(&t)
    );
    assert!(
        server_lines(&app.bridge_token).is_empty(),
        "the bridge token was logged"
    );
    assert!(
        !log_lines_containing("/api/instance/list").is_empty(),
        "the capture saw the server's request log"
    );

    // stored sealed, bound to its row
    use ryzeapi_ports::{InstanceRepository, IntegrationRepository};
    let repo = app.db.connect().repository();
    let instance = repo
        .instance_by_name(&ryzeapi_domain::InstanceName::parse("a").unwrap())
        .unwrap()
        .unwrap();
    let stored = repo.integration(&instance.id).unwrap().unwrap();
    assert!(stored.api_token.as_str().starts_with("v1.1."));
    assert!(!stored.api_token.as_str().contains(secret));
    assert!(!format!("{stored:?}").contains(secret));
}
