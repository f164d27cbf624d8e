//! The HTTP bridge client against a local HTTP server: the exact request,
//! 2xx, each classified 4xx, 5xx, garbage, connection refused and a hang.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ryzeapi_adapters::{BridgeTimeouts, HttpBridgeClient};
use ryzeapi_domain::{
    ApiToken, ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, InboxName, IntegrationFlags,
    IntegrationStatus,
};
use ryzeapi_ports::{ActivateRequest, BridgeClient, BridgeError, ChatwootFailure};

/// A request as the stub server saw it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    Status(u16, &'static str),
    Hang,
}

fn read_request(stream: &mut TcpStream) -> Seen {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).expect("body");
    Seen {
        method,
        path,
        headers,
        body: String::from_utf8(body).expect("utf8"),
    }
}

/// Serves one request with `reply`; returns the base URL and what it saw.
fn serve_once(reply: Reply) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let seen = read_request(&mut stream);
        let _ = tx.send(seen);
        match reply {
            Reply::Status(code, body) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
            Reply::Hang => thread::sleep(Duration::from_secs(5)),
        }
    });
    (url, rx)
}

fn client(url: &str) -> HttpBridgeClient {
    HttpBridgeClient::new(
        url,
        "bridge-secret",
        BridgeTimeouts {
            connect: Duration::from_secs(2),
            activate: Duration::from_millis(800),
            status: Duration::from_millis(800),
            delete: Duration::from_millis(800),
        },
    )
}

fn request() -> ActivateRequest {
    ActivateRequest {
        instance: "suporte".into(),
        ryzeapi_url: "http://ryzeapi:8080".into(),
        settings: ChatwootSettings {
            base_url: ChatwootBaseUrl::parse("https://chat.example.com/").expect("url"),
            account_id: ChatwootAccountId::parse(5).expect("id"),
            inbox_name: InboxName::parse("WhatsApp - Orion").expect("inbox"),
            flags: IntegrationFlags {
                sign_messages: true,
                ignore_groups: false,
                start_as_pending: true,
                reopen_resolved: false,
            },
        },
        api_token: ApiToken::parse("sk_live_abc123").expect("token"),
    }
}

const OK_BODY: &str = r#"{"id":"int_42","status":"active","inbox_id":7,"inbox_name":"WhatsApp - Orion","last_error":"","socket_connected":false}"#;

#[test]
fn activate_sends_the_documented_request() {
    let (url, seen) = serve_once(Reply::Status(201, OK_BODY));
    let state = client(&url).activate(&request()).expect("activate");
    assert_eq!(state.bridge_integration_id, "int_42");
    assert_eq!(state.status, IntegrationStatus::Active);
    assert_eq!(state.inbox_id, 7);
    assert_eq!(state.inbox_name, "WhatsApp - Orion");

    let seen = seen.recv().expect("request");
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/v1/integrations/activate");
    assert_eq!(seen.header("authorization"), Some("Bearer bridge-secret"));
    assert!(seen
        .header("content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
    let body: serde_json::Value = serde_json::from_str(&seen.body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({
            "instance": "suporte",
            "ryzeapi_url": "http://ryzeapi:8080",
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
fn classified_chatwoot_failures_are_kept() {
    let cases = [
        (401, "chatwoot_unauthorized", ChatwootFailure::Unauthorized),
        (403, "chatwoot_forbidden", ChatwootFailure::Forbidden),
        (400, "chatwoot_not_found", ChatwootFailure::NotFound),
        (422, "chatwoot_invalid", ChatwootFailure::Invalid),
        (502, "chatwoot_unreachable", ChatwootFailure::Unreachable),
        (504, "chatwoot_timeout", ChatwootFailure::Timeout),
        (502, "chatwoot_error", ChatwootFailure::Other),
    ];
    for (code, kind, failure) in cases {
        let body: &'static str = Box::leak(
            format!(
                r#"{{"error":{{"kind":"{kind}","message":"m","chatwoot_status":{code},"detail":"raw {kind}"}}}}"#
            )
            .into_boxed_str(),
        );
        let (url, _seen) = serve_once(Reply::Status(code, body));
        let err = client(&url).activate(&request()).expect_err(kind);
        assert_eq!(
            err,
            BridgeError::Chatwoot {
                failure,
                status: Some(code),
                detail: format!("raw {kind}"),
            }
        );
    }
}

#[test]
fn a_refused_service_token_is_its_own_error() {
    let (url, _seen) = serve_once(Reply::Status(
        401,
        r#"{"error":{"kind":"unauthorized","message":"bad token"}}"#,
    ));
    assert_eq!(
        client(&url).activate(&request()),
        Err(BridgeError::Rejected(401))
    );
}

#[test]
fn server_errors_and_garbage_are_upstream_failures() {
    let (url, _seen) = serve_once(Reply::Status(500, "<html>boom</html>"));
    match client(&url).activate(&request()) {
        Err(BridgeError::Upstream {
            status: Some(500),
            message,
        }) => {
            assert!(message.contains("boom"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let (url, _seen) = serve_once(Reply::Status(200, "not json"));
    match client(&url).activate(&request()) {
        Err(BridgeError::Upstream {
            status: Some(200),
            message,
        }) => {
            assert!(message.contains("unreadable"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let (url, _seen) = serve_once(Reply::Status(200, r#"{"id":"x","status":"exploded"}"#));
    assert!(matches!(
        client(&url).activate(&request()),
        Err(BridgeError::Upstream { .. })
    ));
    // a 404 on activate means the bridge lacks the route: not "integration gone"
    let (url, _seen) = serve_once(Reply::Status(404, "{}"));
    assert!(matches!(
        client(&url).activate(&request()),
        Err(BridgeError::Upstream {
            status: Some(404),
            ..
        })
    ));
}

#[test]
fn connection_refused_is_unreachable() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let err = client(&format!("http://127.0.0.1:{port}"))
        .activate(&request())
        .expect_err("refused");
    assert!(matches!(err, BridgeError::Unreachable(_)), "{err:?}");
}

#[test]
fn a_hung_bridge_times_out_within_the_budget() {
    let (url, _seen) = serve_once(Reply::Hang);
    let started = Instant::now();
    let err = client(&url).status("int_1").expect_err("hang");
    assert_eq!(err, BridgeError::Timeout(Duration::from_millis(800)));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn status_and_delete() {
    let (url, seen) = serve_once(Reply::Status(
        200,
        r#"{"id":"int/42","status":"error","inbox_id":9,"inbox_name":"x","last_error":"inbox deleted in Chatwoot"}"#,
    ));
    let state = client(&url).status("int/42").expect("status");
    assert_eq!(state.status, IntegrationStatus::Error);
    assert_eq!(state.last_error, "inbox deleted in Chatwoot");
    let seen = seen.recv().expect("request");
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/v1/integrations/int%2F42")
    );
    assert_eq!(seen.header("authorization"), Some("Bearer bridge-secret"));

    let (url, _seen) = serve_once(Reply::Status(
        404,
        r#"{"error":{"kind":"not_found","message":"no such integration"}}"#,
    ));
    assert_eq!(client(&url).status("int_1"), Err(BridgeError::NotFound));

    let (url, seen) = serve_once(Reply::Status(204, ""));
    client(&url).delete("int_1").expect("delete");
    let seen = seen.recv().expect("request");
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("DELETE", "/v1/integrations/int_1")
    );

    let (url, _seen) = serve_once(Reply::Status(404, ""));
    assert_eq!(client(&url).delete("int_1"), Err(BridgeError::NotFound));
    let (url, _seen) = serve_once(Reply::Status(
        503,
        r#"{"error":{"kind":"internal","message":"database down"}}"#,
    ));
    assert_eq!(
        client(&url).delete("int_1"),
        Err(BridgeError::Upstream {
            status: Some(503),
            message: "database down".into()
        })
    );
}

#[test]
fn the_bridge_texts_are_passed_on_whole_for_the_caller_to_redact() {
    // A secret straddling character 200 must reach the caller whole: a cut
    // here, before the caller can redact it, would leave a piece behind.
    let secret = "Zq8xWv3TkPmR7nLcY2bH5dJf";
    let body = format!(
        "{}{secret}{}{secret}\u{0}tail",
        "<".repeat(190),
        "-".repeat(300)
    );
    let body: &'static str = Box::leak(body.into_boxed_str());
    let expected = BridgeError::Upstream {
        status: Some(500),
        message: format!("unexpected answer: {body}"),
    };
    let (url, _seen) = serve_once(Reply::Status(500, body));
    assert_eq!(client(&url).activate(&request()), Err(expected.clone()));
    let (url, _seen) = serve_once(Reply::Status(500, body));
    assert_eq!(client(&url).status("int_1"), Err(expected.clone()));
    let (url, _seen) = serve_once(Reply::Status(500, body));
    assert_eq!(client(&url).delete("int_1"), Err(expected));

    let detail = format!("{}{secret}", "d".repeat(495));
    let envelope: &'static str = Box::leak(
        serde_json::json!({"error": {"kind": "chatwoot_error", "message": "m", "chatwoot_status": 500, "detail": detail}})
            .to_string()
            .into_boxed_str(),
    );
    let (url, _seen) = serve_once(Reply::Status(502, envelope));
    assert_eq!(
        client(&url).activate(&request()),
        Err(BridgeError::Chatwoot {
            failure: ChatwootFailure::Other,
            status: Some(500),
            detail,
        })
    );

    let (url, _seen) = serve_once(Reply::Status(500, " \r\n\u{0} "));
    assert_eq!(
        client(&url).activate(&request()),
        Err(BridgeError::Upstream {
            status: Some(500),
            message: "empty answer".into()
        })
    );
}
