use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Options};

#[test]
fn a_missing_token_is_401() {
    let app = spawn_app();
    for answer in [
        app.get("/api/instance/list", None),
        app.post_json("/api/instance/new", None, &json!({"name": "a"})),
        app.get("/api/chatwoot/list/a", None),
        app.delete("/api/instance/delete/a", None),
    ] {
        assert_eq!(answer.status, 401, "{}", answer.text);
        assert_eq!(
            answer.message(),
            "Missing token in header, Authorization header, or query parameter"
        );
        assert_eq!(answer.body["success"], false);
    }
}

#[test]
fn an_unknown_token_is_401() {
    let app = spawn_app();
    let answer = app.get("/api/instance/list", Some("not-a-token"));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.message(), "Invalid token");
}

#[test]
fn the_token_is_read_from_header_bearer_or_query() {
    let app = spawn_app();
    let t = app.account_token.clone();
    assert_eq!(
        app.get_with("/api/instance/list", &[("token", &t)]).status,
        200
    );
    let bearer = format!("Bearer {t}");
    assert_eq!(
        app.get_with("/api/instance/list", &[("Authorization", &bearer)])
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/instance/list?token={t}"), None)
            .status,
        200
    );
}

#[test]
fn requests_are_rate_limited_per_token_with_headers() {
    let app = spawn_app_with(Options {
        rate_limit: 3,
        ..Options::default()
    });
    let t = app.account_token.clone();
    let first = app.get("/api/instance/list", Some(&t));
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"));
    assert!(first.header("x-ratelimit-reset").is_some());
    app.get("/api/instance/list", Some(&t));
    app.get("/api/instance/list", Some(&t));
    let limited = app.get("/api/instance/list", Some(&t));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.message(), "Rate limit exceeded. Try again later.");
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    // another token has its own budget
    let other = app.another_account(5);
    assert_eq!(app.get("/api/instance/list", Some(&other)).status, 200);
}

#[test]
fn instance_creation_has_its_own_tighter_limit() {
    let app = spawn_app_with(Options {
        create_rate_limit: 2,
        ..Options::default()
    });
    app.create_instance("one");
    app.create_instance("two");
    let third = app.post_json(
        "/api/instance/new",
        Some(&app.account_token),
        &json!({"name": "three"}),
    );
    assert_eq!(third.status, 429);
    assert_eq!(third.message(), "Rate limit exceeded. Try again later.");
    // nothing was created
    let list = app.get("/api/instance/list", Some(&app.account_token));
    assert_eq!(list.body["message"], "2 Instances found");
}
