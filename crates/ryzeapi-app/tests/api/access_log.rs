//! The request log cannot be forged: forwarding headers count only from
//! trusted proxies, every field is escaped, the query string never appears.

use std::time::Duration;

use ryzeapi_app::logging;

use crate::helpers::{eventually, log_lines_containing, spawn_app, spawn_app_with, Options};
use crate::raw::{read_answer, send};

const TARGET: &str = "INFO ryzeapi_app::access_log ";

/// The access log line of the one request whose path contains `marker`.
fn access_line(marker: &str) -> String {
    let mut found = String::new();
    eventually("no access log line", || {
        let lines: Vec<String> = log_lines_containing(marker)
            .into_iter()
            .filter(|l| l.starts_with(TARGET))
            .collect();
        match lines.as_slice() {
            [line] => {
                found = line[TARGET.len()..].to_owned();
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    });
    found
}

#[test]
fn a_forged_forwarding_header_does_not_reach_the_log() {
    let app = spawn_app();
    let marker = "forge-7b1c";
    let secret = "query-secret-0d9f";
    let answer = app.get_with(
        &format!("/{marker}?token={secret}"),
        &[("X-Forwarded-For", "6.6.6.6\" \"GET /api/admin\" 200 SPOOF")],
    );
    assert_eq!(answer.status, 404);
    let line = access_line(marker);
    assert!(
        line.starts_with(&format!("127.0.0.1 \"GET /{marker}\" 404 ")),
        "{line}"
    );
    assert!(line.ends_with("ms"), "{line}");
    assert!(
        !line.contains("6.6.6.6") && !line.contains("SPOOF"),
        "{line}"
    );
    assert!(
        log_lines_containing(secret)
            .iter()
            .all(|l| l.contains(&app.address)),
        "the query string was logged"
    );
}

#[test]
fn hostile_paths_are_escaped_and_cut() {
    let app = spawn_app();
    let marker = "esc-42aa";
    // what a client can put in a path unencoded: quotes and backslashes
    // (control characters and non-ASCII bytes are refused by the parser)
    let mut stream = app.connect();
    send(
        &mut stream,
        &format!(
            "GET /{marker}\"\\\"x HTTP/1.1\r\nHost: {}\r\n\r\n",
            app.host()
        ),
    );
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    assert_eq!(answer.status, 404, "{answer:?}");
    let line = access_line(marker);
    assert!(
        line.starts_with(&format!(r#"127.0.0.1 "GET /{marker}\"\\\"x" 404 "#)),
        "{line}"
    );

    let marker = "long-9e0f";
    let long = format!("/{marker}{}", "a".repeat(4000));
    assert_eq!(app.get(&long, None).status, 404);
    let line = access_line(marker);
    assert!(
        line.contains(&format!("{}...\" 404 ", &long[..512])),
        "{line}"
    );
    assert!(line.len() < 600, "{}", line.len());
}

#[test]
fn a_trusted_proxy_names_the_client() {
    let app = spawn_app_with(Options {
        trusted_proxies: "127.0.0.1".into(),
        ..Options::default()
    });
    let marker = "proxied-51c2";
    app.get_with(
        &format!("/{marker}"),
        &[("X-Forwarded-For", "6.6.6.6, 198.51.100.23")],
    );
    let line = access_line(marker);
    assert!(
        line.starts_with(&format!("198.51.100.23 \"GET /{marker}\" 404 ")),
        "the rightmost address the proxy added: {line}"
    );
}

#[test]
fn malformed_requests_are_recognised_as_client_caused() {
    let app = spawn_app();
    let mut stream = app.connect();
    send(&mut stream, "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    let answer = read_answer(&mut stream, Duration::from_secs(10));
    assert_eq!(answer.status, 400);
    // the line actix-http writes for it (at ERROR) is one that the server's
    // logger turns into a debug line and a summary
    let prefix = format!("ERROR {} ", logging::DISPATCHER_TARGET);
    let mut lines = Vec::new();
    eventually("actix-http logged nothing", || {
        lines = log_lines_containing("request parse error");
        (!lines.is_empty()).then_some(()).ok_or_else(String::new)
    });
    for line in lines {
        let text = line.strip_prefix(&prefix).expect("the dispatcher's line");
        let caused = logging::is_client_caused(
            &log::Record::builder()
                .level(log::Level::Error)
                .target(logging::DISPATCHER_TARGET)
                .args(format_args!("{text}"))
                .build(),
        );
        assert!(caused, "{line}");
    }
}
