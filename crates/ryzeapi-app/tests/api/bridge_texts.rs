//! Texts from the bridge are redacted before they are cut: wherever the
//! Chatwoot API token falls in what the bridge says — an error body, a
//! `detail`, a `message`, a live `last_error`, a `status` frame, a frame
//! quoted in a close reason — no piece of it reaches an answer, a close frame,
//! a log line or a stored field.

use std::time::Duration;

use ryzeapi_ports::{InstanceRepository, IntegrationRepository, TokenService};
use serde_json::{json, Value};

use crate::helpers::{chatwoot_failure, log_lines_containing, spawn_app, Ended, Reply, TestApp};

const WAIT: Duration = Duration::from_secs(5);

/// The offsets around the cuts: the 200-character excerpt of a body and the
/// 500-character limit of other texts.
const OFFSETS: [usize; 9] = [0, 150, 190, 195, 199, 200, 480, 495, 499];

/// A Chatwoot API token of this test alone (random base64url, 43 characters).
fn token() -> String {
    ryzeapi_adapters::RingTokens::new().generate_token()
}

/// `text` with `'static` lifetime, for the fake bridge's raw answers.
fn leaked(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `offset` filler characters, the token, then more filler: none of the
/// filler characters occurs in a token.
fn with_token_at(offset: usize, token: &str) -> String {
    format!("{}{token}{}", "<".repeat(offset), ".".repeat(600))
}

/// The first 6 consecutive characters of `token` found in `text`.
fn piece_of(token: &str, text: &str) -> Option<String> {
    let chars: Vec<char> = token.chars().collect();
    chars
        .windows(6)
        .map(|w| w.iter().collect::<String>())
        .find(|w| text.contains(w.as_str()))
}

fn assert_clean(token: &str, what: &str, text: &str) {
    if let Some(piece) = piece_of(token, text) {
        panic!("{what} carries '{piece}' of the token: {text}");
    }
}

/// Every line the server logged. Left out: the test's own clients (the HTTP
/// client's request lines, the WebSocket client's frame traces) and the
/// byte dumps the HTTP library writes at TRACE of everything it sends and
/// receives (off unless `RUST_LOG` asks for them).
fn server_log(app: &TestApp) -> Vec<String> {
    log_lines_containing("")
        .into_iter()
        .filter(|l| !l.contains(&app.address))
        .filter(|l| {
            let mut fields = l.split(' ');
            let level = fields.next().unwrap_or_default();
            let target = fields.next().unwrap_or_default();
            !(target.starts_with("tungstenite") || level == "TRACE" && target.starts_with("ureq"))
        })
        .collect()
}

fn assert_log_clean(app: &TestApp, token: &str) {
    for line in server_log(app) {
        assert_clean(token, "a log line", &line);
    }
}

/// The stored `last_error` of `name`, read back from the repository.
fn stored_last_error(app: &TestApp, name: &str) -> String {
    let repo = app.db.connect().repository();
    let instance = repo
        .instance_by_name(&ryzeapi_domain::InstanceName::parse(name).unwrap())
        .unwrap()
        .unwrap();
    let stored = repo.integration(&instance.id).unwrap().unwrap();
    stored.integration.last_error().to_owned()
}

/// The local view of `name` (the bridge's HTTP API is made to fail).
fn local_view(app: &TestApp, name: &str) -> Value {
    app.bridge.on_status(Reply::Raw(503, "down"));
    let listed = app.get(
        &format!("/api/chatwoot/list/{name}"),
        Some(&app.account_token),
    );
    assert_eq!(listed.status, 200, "{}", listed.text);
    listed.body
}

#[test]
fn a_failed_activation_quotes_no_piece_of_the_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let token = token();
    app.create_instance("leaky_set");
    for offset in OFFSETS {
        let body = with_token_at(offset, &token);
        // a non-JSON 500, a classified Chatwoot failure's detail, an error's message
        let replies = [
            Reply::Raw(500, leaked(body.clone())),
            chatwoot_failure(502, "chatwoot_error", &body),
            Reply::Json(500, json!({"error": {"kind": "internal", "message": body}})),
        ];
        for reply in replies {
            app.bridge.on_activate(reply.clone());
            let answer = app.post_json(
                "/api/chatwoot/set/leaky_set",
                Some(&t),
                &TestApp::set_body(&token),
            );
            assert_eq!(answer.status, 502, "{reply:?}: {}", answer.text);
            let message = answer.message().to_owned();
            assert_clean(&token, "the answer", &answer.text);
            let listed = local_view(&app, "leaky_set");
            assert_eq!(listed["last_error"], message.as_str());
            assert_eq!(stored_last_error(&app, "leaky_set"), message);
            let logged = log_lines_containing(&format!(
                "chatwoot activation of instance 'leaky_set' failed: {message}"
            ));
            assert!(
                logged.iter().any(|l| l.ends_with(&message)),
                "the text logged is not the answer's: {message}"
            );
        }
    }
    assert_log_clean(&app, &token);

    // The excerpt of a body is its first 200 characters, counted after redaction.
    app.bridge
        .on_activate(Reply::Raw(500, leaked(with_token_at(0, &token))));
    let answer = app.post_json(
        "/api/chatwoot/set/leaky_set",
        Some(&t),
        &TestApp::set_body(&token),
    );
    assert_eq!(
        answer.message(),
        format!(
            "integration gateway error (HTTP 500) — Detail: unexpected answer: [redacted]{}",
            ".".repeat(190)
        )
    );
}

#[test]
fn the_live_status_quotes_no_piece_of_the_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let token = token();
    app.create_instance("leaky_live");
    let set = app.post_json(
        "/api/chatwoot/set/leaky_live",
        Some(&t),
        &TestApp::set_body(&token),
    );
    assert_eq!(set.status, 201, "{}", set.text);
    for offset in OFFSETS {
        let last_error = with_token_at(offset, &token);
        app.bridge.on_status(Reply::Json(
            200,
            json!({"id": "int_leaky_live", "status": "error", "inbox_id": 41, "inbox_name": "x", "last_error": last_error}),
        ));
        let listed = app.get("/api/chatwoot/list/leaky_live", Some(&t));
        assert_eq!(listed.body["live"], true, "{}", listed.text);
        assert_eq!(listed.body["status"], "error");
        assert_clean(&token, "the answer", &listed.text);
        let shown = listed.body["last_error"].as_str().unwrap().to_owned();
        assert!(shown.starts_with(&"<".repeat(offset)), "{shown}");
        assert!(shown.chars().count() <= 500, "{shown}");
        assert_eq!(stored_last_error(&app, "leaky_live"), shown);

        // the live status fails with the token in its body: logged, not answered
        app.bridge.on_status(Reply::Raw(500, leaked(last_error)));
        let listed = app.get("/api/chatwoot/list/leaky_live", Some(&t));
        assert_eq!(listed.body["live"], false, "{}", listed.text);
        assert_clean(&token, "the answer", &listed.text);
    }
    let warnings = log_lines_containing(
        "instance 'leaky_live': live status unavailable, answering from local data: integration gateway error (HTTP 500) — Detail: unexpected answer: ",
    );
    assert_eq!(warnings.len(), OFFSETS.len(), "{warnings:?}");
    assert_log_clean(&app, &token);
}

#[test]
fn teardown_failures_log_no_piece_of_the_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let token = token();
    for (name, route) in [
        ("leaky_td1", "/api/chatwoot/delete/leaky_td1"),
        ("leaky_td2", "/api/instance/delete/leaky_td2"),
    ] {
        app.create_instance(name);
        let set = app.post_json(
            &format!("/api/chatwoot/set/{name}"),
            Some(&t),
            &TestApp::set_body(&token),
        );
        assert_eq!(set.status, 201, "{}", set.text);
        app.bridge
            .on_delete(Reply::Raw(500, leaked(with_token_at(190, &token))));
        let deleted = app.delete(route, Some(&t));
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        let warnings = log_lines_containing(&format!(
            "instance '{name}': bridge teardown of integration int_{name} failed"
        ));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_clean(&token, "the warning", &warnings[0]);
        assert!(warnings[0].contains("[redacted]"), "{warnings:?}");
    }
    assert_log_clean(&app, &token);
}

#[test]
fn status_frames_store_no_piece_of_the_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let token = token();
    app.create_instance("leaky_status");
    let set = app.post_json(
        "/api/chatwoot/set/leaky_status",
        Some(&t),
        &TestApp::set_body(&token),
    );
    assert_eq!(set.status, 201, "{}", set.text);
    let (mut ws, _) = app.bridge_socket("leaky_status");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    for (i, offset) in OFFSETS.into_iter().enumerate() {
        let correlation = format!("s{i}");
        ws.send_json(
            &json!({"type": "status", "correlation_id": correlation, "status": "error",
            "last_error": format!("{}\n{}", with_token_at(offset, &token), token)}),
        );
        let recorded = ws.recv_json(WAIT).expect("status answer");
        assert_eq!(
            recorded,
            json!({"type": "status_recorded", "correlation_id": correlation, "status": "error"})
        );
        let stored = stored_last_error(&app, "leaky_status");
        assert_clean(&token, "the stored last_error", &stored);
        assert!(stored.starts_with(&"<".repeat(offset)), "{stored}");
        let listed = local_view(&app, "leaky_status");
        assert_clean(&token, "the listed last_error", &listed.to_string());
        assert_eq!(listed["last_error"], stored.as_str());
    }
    assert_log_clean(&app, &token);
}

#[test]
fn close_reasons_quote_no_piece_of_the_token() {
    let app = spawn_app();
    let t = app.account_token.clone();
    let token = token();
    app.create_instance("leaky_close");
    let set = app.post_json(
        "/api/chatwoot/set/leaky_close",
        Some(&t),
        &TestApp::set_body(&token),
    );
    assert_eq!(set.status, 201, "{}", set.text);
    // Each reason quotes the bridge's value; the token straddles the 120-byte
    // limit of a close reason, or lies inside it.
    for filler in [0, 60, 85, 95, 100] {
        let value = format!("{}{token}", "<".repeat(filler));
        let frames = [
            json!({"type": value}),
            json!({"type": "resume", "after": 0, "protocol": value}),
            json!({"type": "command", "correlation_id": "c", "idempotency_key": "k", "command": value, "args": {}}),
            json!({"type": "ack", "seq": value}),
        ];
        for (i, frame) in frames.into_iter().enumerate() {
            let (mut ws, _) = app.bridge_socket("leaky_close");
            if i > 1 {
                ws.send_json(&json!({"type": "resume", "after": 0}));
            }
            ws.send_json(&frame);
            match ws.until_end(WAIT) {
                Ended::Closed(code, reason) => {
                    assert_eq!(code, 1008, "{frame}: {reason}");
                    assert_clean(&token, "a close reason", &reason);
                    assert!(reason.len() <= 120, "{reason}");
                    let logged = log_lines_containing(&format!(
                        "bridge socket of 'leaky_close' closed: 1008 {reason}"
                    ));
                    assert!(
                        !logged.is_empty(),
                        "the reason is not the one logged: {reason}"
                    );
                }
                Ended::Dropped => panic!("dropped without a close frame: {frame}"),
            }
        }
    }

    // The bridge's own close reason is logged quoted, too.
    let (mut ws, _) = app.bridge_socket("leaky_close");
    ws.send_json(&json!({"type": "resume", "after": 0}));
    // 122 bytes: the token straddles the 120-byte limit of a reason
    let reason = format!("going away {}{token}", "<".repeat(68));
    ws.socket
        .close(Some(tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Away,
            reason: reason.into(),
        }))
        .expect("close");
    assert_eq!(ws.until_end(WAIT), Ended::Closed(1001, String::new()));
    crate::helpers::eventually("the bridge's close is logged", || {
        let logged = log_lines_containing(
            "bridge socket of 'leaky_close' closed by the bridge: 1001 going away",
        );
        (logged.len() == 1)
            .then_some(())
            .ok_or(format!("{logged:?}"))
    });
    assert_log_clean(&app, &token);
}
