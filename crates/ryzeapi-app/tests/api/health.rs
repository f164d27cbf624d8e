use crate::helpers::{spawn_app, spawn_app_with, Options};

#[test]
fn health_reports_ready_database_and_module() {
    let app = spawn_app();
    let answer = app.get("/health", None);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["status"], "ok");
    assert_eq!(answer.body["database"], "ok");
    assert_eq!(answer.body["chatwootModule"], "enabled");

    let off = spawn_app_with(Options {
        module_on: false,
        ..Options::default()
    });
    assert_eq!(off.get("/health", None).body["chatwootModule"], "disabled");
}

#[test]
fn unknown_routes_answer_404_in_the_error_envelope() {
    let app = spawn_app();
    let answer = app.get("/api/nope", None);
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["success"], false);
    assert_eq!(answer.message(), "Route not found");
}
