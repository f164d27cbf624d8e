use crate::helpers::{spawn_app, Reply, TestApp};

#[test]
fn delete_tears_down_on_the_bridge_then_locally() {
    let app = spawn_app();
    let t = app.account_token.clone();
    app.create_instance("a");
    app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"));
    let answer = app.delete("/api/chatwoot/delete/a", Some(&t));
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body,
        serde_json::json!({"message": "chatwoot integration deactivated"})
    );
    let deletes = app.bridge.calls_to("DELETE");
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/v1/integrations/int_a");
    assert_eq!(
        deletes[0].authorization,
        format!("Bearer {}", app.bridge_token)
    );
    let after = app.get("/api/chatwoot/list/a", Some(&t));
    assert_eq!(after.status, 404);
    assert_eq!(after.message(), "no chatwoot integration for this instance");
    let again = app.delete("/api/chatwoot/delete/a", Some(&t));
    assert_eq!(again.status, 404);
    assert_eq!(again.message(), "no chatwoot integration to delete");
    // a later set provisions anew
    assert_eq!(
        app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"))
            .status,
        201
    );
}

#[test]
fn delete_tolerates_a_bridge_that_already_forgot_or_fails() {
    for reply in [
        Reply::Raw(404, "gone"),
        Reply::Raw(500, "boom"),
        Reply::Hang(std::time::Duration::from_secs(4)),
    ] {
        let app = spawn_app();
        let t = app.account_token.clone();
        app.create_instance("a");
        app.post_json("/api/chatwoot/set/a", Some(&t), &TestApp::set_body("sk"));
        app.bridge.on_delete(reply.clone());
        let answer = app.delete("/api/chatwoot/delete/a", Some(&t));
        assert_eq!(answer.status, 200, "{reply:?}: {}", answer.text);
        assert_eq!(app.get("/api/chatwoot/list/a", Some(&t)).status, 404);
    }
}

#[test]
fn delete_of_an_unknown_instance() {
    let app = spawn_app();
    let answer = app.delete("/api/chatwoot/delete/ghost", Some(&app.account_token));
    assert_eq!(answer.status, 404);
    assert_eq!(answer.message(), "instance not found");
}
