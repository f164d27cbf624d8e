use serde_json::json;

use crate::helpers::{spawn_app_with, Options, TestApp};

const OFF: &str = "integration gateway not configured (set BRIDGE_URL and BRIDGE_TOKEN)";

fn off() -> TestApp {
    spawn_app_with(Options {
        module_on: false,
        ..Options::default()
    })
}

#[test]
fn every_module_route_is_503_before_any_lookup() {
    let app = off();
    let t = app.account_token.clone();
    app.create_instance("real");
    for name in ["real", "made-up-name", "x y"] {
        for answer in [
            app.post_json(
                &format!("/api/chatwoot/set/{}", name.replace(' ', "%20")),
                Some(&t),
                &TestApp::set_body("sk"),
            ),
            app.get(
                &format!("/api/chatwoot/list/{}", name.replace(' ', "%20")),
                Some(&t),
            ),
            app.delete(
                &format!("/api/chatwoot/delete/{}", name.replace(' ', "%20")),
                Some(&t),
            ),
            // not even a token is needed to learn the module is off
            app.get(
                &format!("/api/chatwoot/list/{}", name.replace(' ', "%20")),
                None,
            ),
        ] {
            assert_eq!(answer.status, 503, "{}", answer.text);
            assert_eq!(answer.message(), OFF);
        }
    }
}

#[test]
fn the_internal_socket_route_does_not_exist() {
    let app = off();
    let answer = app.get_with("/ws/chatwoot/real", &[("Authorization", "Bearer anything")]);
    assert_eq!(answer.status, 404);
}

#[test]
fn inline_activation_reports_the_module_as_off_and_creates_the_instance() {
    let app = off();
    let answer = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({
            "name": "suporte",
            "chatwootEnabled": true,
            "chatwootBaseUrl": "https://chatwoot.example.com",
            "chatwootAccountId": 5,
            "chatwootApiToken": "sk"
        }),
    );
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.body["chatwoot"],
        json!({"status": "error", "error": OFF})
    );
    assert_eq!(
        app.get("/api/instance/list", Some(&app.account_token)).body["message"],
        "1 Instance found"
    );
    assert!(app.bridge.calls().is_empty());
}
