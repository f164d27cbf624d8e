//! Every example frame and body in `docs/bridge-protocol.md` and
//! `docs/bridge-api.md` is read with this crate's types and written back to
//! the same JSON value, so the documentation cannot drift from the code.
//!
//! The examples are the ```json blocks (one or more JSON values each) and
//! the JSON bodies of the ```http blocks; what each one is, is decided by
//! its content.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use ryzeapi_protocol::http::{ActivateRequest, ErrorBody, Integration};
use ryzeapi_protocol::{BridgeFrame, Envelope, ServerFrame};
use serde_json::Value;

/// The JSON examples of a markdown file: (line of the block, value).
fn examples(doc: &str) -> Vec<(usize, Value)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(doc);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut found = Vec::new();
    let mut block: Option<(usize, &str, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut block {
            None => {
                if let Some(lang) = line.strip_prefix("```") {
                    block = Some((i + 1, lang.trim(), String::new()));
                }
            }
            Some((start, lang, body)) => {
                if line.starts_with("```") {
                    let json = match *lang {
                        "json" => Some(body.as_str()),
                        // a request: the body after the headers' empty line
                        "http" => body.split_once("\n\n").map(|(_, b)| b),
                        _ => None,
                    };
                    if let Some(json) = json.filter(|j| !j.trim().is_empty()) {
                        for value in serde_json::Deserializer::from_str(json).into_iter::<Value>() {
                            let value = value.unwrap_or_else(|e| {
                                panic!("{doc}, block at line {start}: not JSON: {e}")
                            });
                            found.push((*start, value));
                        }
                    }
                    block = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    found
}

const SERVER_TYPES: [&str; 6] = [
    "hello",
    "event",
    "resync",
    "result",
    "status_recorded",
    "error",
];
const BRIDGE_TYPES: [&str; 4] = ["resume", "ack", "command", "status"];

/// Reads `value` as what its content says it is, writes it back, and
/// returns what it was taken for.
fn check(doc: &str, line: usize, value: &Value) -> String {
    let at = format!("{doc}, block at line {line}");
    let text = value.to_string();
    let (kind, again): (String, Value) = match value.get("type").and_then(Value::as_str) {
        Some(t) if SERVER_TYPES.contains(&t) => {
            let frame = ServerFrame::decode(&text).unwrap_or_else(|e| panic!("{at}: {e}"));
            if let ServerFrame::Event(event) = &frame {
                // the envelope inside is an example too
                let envelope: Envelope<'_> = serde_json::from_str(event.event.get())
                    .unwrap_or_else(|e| panic!("{at}: envelope: {e}"));
                let back: Value = serde_json::from_str(envelope.encode().get()).unwrap();
                assert_eq!(&back, &value["event"], "{at}: envelope");
            }
            (
                format!("server {t}"),
                serde_json::from_str(&frame.encode()).unwrap(),
            )
        }
        Some(t) if BRIDGE_TYPES.contains(&t) => {
            let frame = BridgeFrame::parse(&text).unwrap_or_else(|e| panic!("{at}: {e}"));
            let kind = match &frame {
                BridgeFrame::Command(c) => format!("bridge command {}", c.command.name()),
                _ => format!("bridge {t}"),
            };
            (kind, serde_json::from_str(&frame.encode()).unwrap())
        }
        Some(t) => panic!("{at}: a frame of unknown type '{t}'"),
        None if value.get("error").is_some() => {
            let body: ErrorBody = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{at}: error body: {e}"));
            ("http error".into(), serde_json::to_value(&body).unwrap())
        }
        None if value.get("ryzeapi_url").is_some() => {
            let body: ActivateRequest = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{at}: activate request: {e}"));
            ("http activate".into(), serde_json::to_value(&body).unwrap())
        }
        None if value.get("id").is_some() && value.get("status").is_some() => {
            let body: Integration = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{at}: integration object: {e}"));
            (
                "http integration".into(),
                serde_json::to_value(&body).unwrap(),
            )
        }
        None => panic!("{at}: not a frame or body of the contract: {value}"),
    };
    assert_eq!(&again, value, "{at}: written back differently");
    kind
}

#[test]
fn every_example_in_the_docs_is_read_and_written_back_unchanged() {
    let mut seen = BTreeSet::new();
    for doc in ["bridge-protocol.md", "bridge-api.md"] {
        let found = examples(doc);
        assert!(!found.is_empty(), "{doc} has no JSON examples");
        for (line, value) in &found {
            seen.insert(check(doc, *line, value));
        }
    }
    // every frame, command and body of the contract has an example
    let mut wanted: BTreeSet<String> = SERVER_TYPES.iter().map(|t| format!("server {t}")).collect();
    for t in ["resume", "ack", "status"] {
        wanted.insert(format!("bridge {t}"));
    }
    for c in ["send_text", "send_media", "mark_read"] {
        wanted.insert(format!("bridge command {c}"));
    }
    for b in ["http error", "http activate", "http integration"] {
        wanted.insert(b.into());
    }
    assert_eq!(seen, wanted);
}
