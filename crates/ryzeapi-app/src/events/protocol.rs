//! The bridge socket protocol, `ryzeapi.bridge.v1` (see `docs/bridge-protocol.md`):
//! frame builders for the server's frames and the parser of the bridge's.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{json, Value};

/// The protocol name and version.
pub const PROTOCOL: &str = "ryzeapi.bridge.v1";

/// Application close codes (4000–4999) and the standard ones used.
pub mod close {
    /// A frame that is not valid JSON.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A frame that breaks the protocol (unknown type, missing fields, binary).
    pub const POLICY: u16 = 1008;
    /// A frame larger than the limit.
    pub const TOO_BIG: u16 = 1009;
    /// A client too slow to keep up (public socket).
    pub const TRY_AGAIN: u16 = 1013;
    /// A newer connection for the same instance took over.
    pub const REPLACED: u16 = 4001;
    /// Nothing heard from the peer within the heartbeat timeout.
    pub const HEARTBEAT_TIMEOUT: u16 = 4002;
    /// The integration (and its stream) was removed or restarted.
    pub const STREAM_CLOSED: u16 = 4003;
    /// Events sent but not acknowledged within the heartbeat timeout.
    pub const ACK_TIMEOUT: u16 = 4004;
    /// The bridge did not send `resume` in time.
    pub const NO_RESUME: u16 = 4005;
    /// Writing to the bridge took longer than the send timeout (it stopped reading).
    pub const WRITE_TIMEOUT: u16 = 4006;
    /// The server failed (e.g. the log could not be read).
    pub const INTERNAL: u16 = 1011;
}

/// `hello`, the server's first frame.
pub fn hello(
    instance: &str,
    acked: u64,
    last: u64,
    oldest: u64,
    window: u64,
    heartbeat_secs: u64,
    max_frame: usize,
) -> String {
    json!({
        "type": "hello",
        "protocol": PROTOCOL,
        "instance": instance,
        "acked_seq": acked,
        "last_seq": last,
        "oldest_seq": oldest,
        "window": window,
        "heartbeat_secs": heartbeat_secs,
        "max_frame_bytes": max_frame,
    })
    .to_string()
}

/// An `event` frame around an already serialised envelope.
pub fn event(seq: u64, event_id: &str, envelope: &str) -> String {
    let mut out = String::with_capacity(envelope.len() + event_id.len() + 48);
    out.push_str(r#"{"type":"event","seq":"#);
    // Writing to a String cannot fail.
    let _ = write!(out, "{seq}");
    out.push_str(r#","id":"#);
    super::envelope::push_json_str(&mut out, event_id);
    out.push_str(r#","event":"#);
    out.push_str(envelope);
    out.push('}');
    out
}

/// `resync`: the requested point is not available; streaming restarts at `from_seq`.
pub fn resync(reason: &str, requested_after: u64, from_seq: u64, last: u64) -> String {
    json!({
        "type": "resync",
        "reason": reason,
        "requested_after": requested_after,
        "from_seq": from_seq,
        "last_seq": last,
    })
    .to_string()
}

/// `status_recorded`: a status report was applied.
pub fn status_recorded(correlation_id: &str, status: &str) -> String {
    json!({"type": "status_recorded", "correlation_id": correlation_id, "status": status})
        .to_string()
}

/// `error`: a frame was understood but refused; the socket stays open.
pub fn error(correlation_id: &str, reason: &str) -> String {
    json!({"type": "error", "correlation_id": correlation_id, "reason": reason}).to_string()
}

/// A command's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent; the WhatsApp message id (empty for `mark_read`).
    Sent(String),
    /// Not sent, and why.
    Failed(String),
}

/// `result` of a command.
pub fn result(
    correlation_id: &str,
    idempotency_key: &str,
    outcome: &Outcome,
    duplicate: bool,
) -> String {
    match outcome {
        Outcome::Sent(id) => json!({
            "type": "result",
            "correlation_id": correlation_id,
            "idempotency_key": idempotency_key,
            "status": "sent",
            "message_id": id,
            "duplicate": duplicate,
        }),
        Outcome::Failed(reason) => json!({
            "type": "result",
            "correlation_id": correlation_id,
            "idempotency_key": idempotency_key,
            "status": "failed",
            "reason": reason,
            "duplicate": duplicate,
        }),
    }
    .to_string()
}

/// A command from the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Send a text.
    SendText {
        /// Recipient JID.
        to: String,
        /// Text.
        text: String,
        /// Message replied to.
        reply_to: Option<String>,
    },
    /// Send media by URL.
    SendMedia {
        /// Recipient JID.
        to: String,
        /// Media URL.
        url: String,
        /// image / video / audio / document.
        media_type: String,
        /// Caption.
        caption: Option<String>,
        /// MIME type.
        mimetype: Option<String>,
        /// File name.
        file_name: Option<String>,
    },
    /// Mark messages read.
    MarkRead {
        /// Chat JID.
        chat: String,
        /// Message ids.
        message_ids: Vec<String>,
    },
}

/// A frame from the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Where to start: everything after `after`.
    Resume {
        /// Last sequence number the bridge has.
        after: u64,
    },
    /// Everything up to `seq` is processed.
    Ack {
        /// Cumulative.
        seq: u64,
    },
    /// Do something on WhatsApp.
    Command {
        /// Echoed in the result.
        correlation_id: String,
        /// The same key twice sends once.
        idempotency_key: String,
        /// What to do.
        command: Command,
    },
    /// The integration's status as the bridge sees it.
    Status {
        /// Echoed in `status_recorded`.
        correlation_id: String,
        /// The bridge's integration id (adopted when the server has none yet).
        integration_id: String,
        /// active / paused / error.
        status: String,
        /// Empty when healthy.
        last_error: String,
        /// Inbox id, 0 when unknown.
        inbox_id: i64,
    },
}

/// Why a frame was refused, with the close code to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Close code.
    pub code: u16,
    /// Close reason, whole: it may quote the frame, so it is redacted before
    /// it is cut to the length of a close reason (`ryzeapi_domain::text::quote`).
    pub reason: String,
}

fn violation(reason: impl Into<String>) -> Violation {
    Violation {
        code: close::POLICY,
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
struct ResumeWire {
    after: u64,
    #[serde(default)]
    protocol: Option<String>,
}

#[derive(Deserialize)]
struct AckWire {
    seq: u64,
}

#[derive(Deserialize)]
struct CommandWire {
    correlation_id: String,
    idempotency_key: String,
    command: String,
    #[serde(default)]
    args: Value,
}

#[derive(Deserialize)]
struct SendTextArgs {
    to: String,
    text: String,
    #[serde(default)]
    reply_to: Option<String>,
}

#[derive(Deserialize)]
struct SendMediaArgs {
    to: String,
    url: String,
    media_type: String,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    mimetype: Option<String>,
    #[serde(default)]
    file_name: Option<String>,
}

#[derive(Deserialize)]
struct MarkReadArgs {
    chat: String,
    message_ids: Vec<String>,
}

#[derive(Deserialize)]
struct StatusWire {
    #[serde(default)]
    correlation_id: String,
    #[serde(default)]
    integration_id: String,
    status: String,
    #[serde(default)]
    last_error: String,
    #[serde(default)]
    inbox_id: i64,
}

fn fields<T: serde::de::DeserializeOwned>(kind: &str, value: Value) -> Result<T, Violation> {
    serde_json::from_value(value).map_err(|e| violation(format!("bad {kind} frame: {e}")))
}

/// Parses one text frame from the bridge.
///
/// # Errors
/// [`Violation`] with 1007 for non-JSON, 1008 for anything else off-protocol.
pub fn parse(text: &str) -> Result<Inbound, Violation> {
    let value: Value = serde_json::from_str(text).map_err(|_| Violation {
        code: close::INVALID_PAYLOAD,
        reason: "frame is not valid JSON".into(),
    })?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| violation("frame has no \"type\""))?
        .to_owned();
    match kind.as_str() {
        "resume" => {
            let w: ResumeWire = fields(&kind, value)?;
            if let Some(p) = w.protocol.filter(|p| p != PROTOCOL) {
                return Err(violation(format!(
                    "unsupported protocol '{p}'; this server speaks {PROTOCOL}"
                )));
            }
            Ok(Inbound::Resume { after: w.after })
        }
        "ack" => {
            let w: AckWire = fields(&kind, value)?;
            Ok(Inbound::Ack { seq: w.seq })
        }
        "command" => {
            let w: CommandWire = fields(&kind, value)?;
            if w.correlation_id.is_empty() || w.idempotency_key.is_empty() {
                return Err(violation(
                    "command needs correlation_id and idempotency_key",
                ));
            }
            let command = match w.command.as_str() {
                "send_text" => {
                    let a: SendTextArgs = fields("send_text", w.args)?;
                    Command::SendText {
                        to: a.to,
                        text: a.text,
                        reply_to: a.reply_to,
                    }
                }
                "send_media" => {
                    let a: SendMediaArgs = fields("send_media", w.args)?;
                    Command::SendMedia {
                        to: a.to,
                        url: a.url,
                        media_type: a.media_type,
                        caption: a.caption,
                        mimetype: a.mimetype,
                        file_name: a.file_name,
                    }
                }
                "mark_read" => {
                    let a: MarkReadArgs = fields("mark_read", w.args)?;
                    Command::MarkRead {
                        chat: a.chat,
                        message_ids: a.message_ids,
                    }
                }
                other => return Err(violation(format!("unknown command '{other}'"))),
            };
            Ok(Inbound::Command {
                correlation_id: w.correlation_id,
                idempotency_key: w.idempotency_key,
                command,
            })
        }
        "status" => {
            let w: StatusWire = fields(&kind, value)?;
            Ok(Inbound::Status {
                correlation_id: w.correlation_id,
                integration_id: w.integration_id,
                status: w.status,
                last_error: w.last_error,
                inbox_id: w.inbox_id,
            })
        }
        other => Err(violation(format!("unknown frame type '{other}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_frame_type() {
        assert_eq!(
            parse(r#"{"type":"resume","after":7}"#),
            Ok(Inbound::Resume { after: 7 })
        );
        assert_eq!(
            parse(r#"{"type":"ack","seq":9}"#),
            Ok(Inbound::Ack { seq: 9 })
        );
        assert_eq!(
            parse(
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_text","args":{"to":"1@s.whatsapp.net","text":"hi"}}"#
            ),
            Ok(Inbound::Command {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::SendText {
                    to: "1@s.whatsapp.net".into(),
                    text: "hi".into(),
                    reply_to: None
                },
            })
        );
        assert!(matches!(
            parse(
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"mark_read","args":{"chat":"1@s.whatsapp.net","message_ids":["a"]}}"#
            ),
            Ok(Inbound::Command {
                command: Command::MarkRead { .. },
                ..
            })
        ));
        assert!(matches!(
            parse(r#"{"type":"status","status":"active","inbox_id":3}"#),
            Ok(Inbound::Status { inbox_id: 3, .. })
        ));
    }

    #[test]
    fn refuses_what_is_off_protocol_with_the_right_code() {
        assert_eq!(
            parse("not json").map_err(|v| v.code),
            Err(close::INVALID_PAYLOAD)
        );
        for bad in [
            r#"[1,2]"#,
            r#"{"no":"type"}"#,
            r#"{"type":"dance"}"#,
            r#"{"type":"ack","seq":-1}"#,
            r#"{"type":"ack"}"#,
            r#"{"type":"resume","after":0,"protocol":"ryzeapi.bridge.v9"}"#,
            r#"{"type":"command","correlation_id":"","idempotency_key":"k","command":"send_text","args":{}}"#,
            r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"explode","args":{}}"#,
            r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_text","args":{"to":1}}"#,
        ] {
            assert_eq!(parse(bad).map_err(|v| v.code), Err(close::POLICY), "{bad}");
        }
    }

    #[test]
    fn refusals_keep_the_quoted_text_whole_for_redaction() {
        let long = "é".repeat(100);
        let v = parse(&format!(r#"{{"type":"{long}"}}"#)).unwrap_err();
        assert_eq!(v.reason, format!("unknown frame type '{long}'"));
    }

    #[test]
    fn event_frames_embed_the_envelope() {
        let frame = event(5, "id\"1", r#"{"event":"x"}"#);
        let v: Value = serde_json::from_str(&frame).unwrap_or_default();
        assert_eq!(v["seq"], 5);
        assert_eq!(v["id"], "id\"1");
        assert_eq!(v["event"]["event"], "x");
    }
}
