//! Frames the server sends to the bridge: [`ServerFrame`], one JSON object
//! per WebSocket text frame, tagged by its `type` (`hello`, `event`,
//! `resync`, `result`, `status_recorded`, `error`).
//!
//! An [`Event`] carries the event envelope as JSON that is already encoded
//! (the server stores it so), borrowed while the frame is written: the hot
//! path writes a frame around it without parsing it.

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// The server's first frame, sent right after the upgrade.
    Hello(Hello),
    /// One logged event.
    Event(Event<'a>),
    /// The point asked for is not available; the stream continues at `from_seq`.
    Resync(Resync),
    /// The outcome of a command.
    Result(CommandResult),
    /// A status report was applied (or was already the current state).
    StatusRecorded(StatusRecorded),
    /// A frame was understood but refused; the socket stays open.
    Error(ErrorFrame),
}

impl ServerFrame<'_> {
    /// The frame as JSON text.
    pub fn encode(&self) -> String {
        crate::to_json(self)
    }

    /// The frame's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Event(_) => "event",
            Self::Resync(_) => "resync",
            Self::Result(_) => "result",
            Self::StatusRecorded(_) => "status_recorded",
            Self::Error(_) => "error",
        }
    }
}

impl ServerFrame<'static> {
    /// Reads a frame from its JSON text. Fields a frame does not define are
    /// ignored; an unknown `type` is an error (a bridge should ignore such
    /// frames: the server may add types within version 1).
    ///
    /// # Errors
    /// When the text is not JSON, has no string `type`, names an unknown
    /// type, or lacks a field of its type (or has one of the wrong type).
    pub fn decode(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| serde_json::Error::custom("frame has no \"type\""))?
            .to_owned();
        Ok(match kind.as_str() {
            "hello" => Self::Hello(Hello::deserialize(value)?),
            "event" => Self::Event(Event::deserialize(value)?),
            "resync" => Self::Resync(Resync::deserialize(value)?),
            "result" => Self::Result(CommandResult::deserialize(value)?),
            "status_recorded" => Self::StatusRecorded(StatusRecorded::deserialize(value)?),
            "error" => Self::Error(ErrorFrame::deserialize(value)?),
            other => {
                return Err(serde_json::Error::custom(format!(
                    "unknown frame type '{other}'"
                )))
            }
        })
    }
}

/// Decoded through a JSON value: the frame's `type` decides which fields are
/// read, and an event's envelope is kept as JSON text.
impl<'de> Deserialize<'de> for ServerFrame<'static> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(value).map_err(D::Error::custom)
    }
}

/// `hello`: what the stream looks like and the connection's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`crate::PROTOCOL`].
    pub protocol: String,
    /// The instance's name.
    pub instance: String,
    /// The highest sequence number recorded as acknowledged; 0 when none.
    pub acked_seq: u64,
    /// The highest sequence number allocated so far; 0 for a stream without events.
    pub last_seq: u64,
    /// The lowest sequence number still retained; `last_seq + 1` when none is.
    pub oldest_seq: u64,
    /// How many events may be unacknowledged at once.
    pub window: u64,
    /// The interval of the server's pings, seconds.
    pub heartbeat_secs: u64,
    /// The largest frame the server accepts from the bridge, bytes.
    pub max_frame_bytes: u64,
}

/// `event`: one logged event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event<'a> {
    /// The event's sequence number in the instance's stream.
    pub seq: u64,
    /// The event's id; the bridge removes duplicates by it.
    pub id: Cow<'a, str>,
    /// The event envelope ([`crate::Envelope`]), as JSON text.
    pub event: Cow<'a, RawValue>,
}

impl<'a> Event<'a> {
    /// An event frame around an envelope that is already encoded.
    pub fn new(seq: u64, id: &'a str, envelope: &'a RawValue) -> Self {
        Self {
            seq,
            id: Cow::Borrowed(id),
            event: Cow::Borrowed(envelope),
        }
    }
}

impl Event<'_> {
    /// The `event` frame of an envelope that is JSON text, written like
    /// [`ServerFrame::encode`] writes it, but with the envelope embedded as
    /// it is, not parsed (the server's way for every event it sends: it
    /// wrote the envelope itself). serde writes the frame with `null` for
    /// `event`, its last field, and the envelope goes where that `null` is.
    pub fn encode_around(seq: u64, id: &str, envelope: &str) -> String {
        const PLACEHOLDER: &[u8] = b"null}";
        let frame = ServerFrame::Event(Event::new(seq, id, RawValue::NULL));
        let mut out = Vec::with_capacity(envelope.len() + id.len() + 48);
        if serde_json::to_writer(&mut out, &frame).is_err() || !out.ends_with(PLACEHOLDER) {
            return frame.encode();
        }
        out.truncate(out.len() - PLACEHOLDER.len());
        out.extend_from_slice(envelope.as_bytes());
        out.push(b'}');
        crate::into_text(out)
    }
}

/// Two events are equal when their numbers, ids and envelope texts are.
impl PartialEq for Event<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq && self.id == other.id && self.event.get() == other.event.get()
    }
}

/// `resync`: the point asked for is not available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resync {
    /// Why.
    pub reason: ResyncReason,
    /// The position the server was asked to continue after.
    pub requested_after: u64,
    /// The next event sent will be this one (or later ones if it is pruned too).
    pub from_seq: u64,
    /// The highest sequence number allocated so far.
    pub last_seq: u64,
}

/// Why a `resync` was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResyncReason {
    /// The bridge's cursor is older than the oldest event retained.
    CursorExpired,
    /// The bridge's cursor is beyond the last event allocated.
    CursorAhead,
    /// Events after the last one sent were pruned meanwhile.
    Pruned,
}

/// `result`: the outcome of a command, one per command, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    /// Copied from the command.
    pub correlation_id: String,
    /// Copied from the command.
    pub idempotency_key: String,
    /// `status` with `message_id` or `reason`.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The key had already been sent: nothing was sent again.
    pub duplicate: bool,
}

/// A command's outcome, tagged by `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// `sent`.
    Sent {
        /// The WhatsApp message id; empty for `mark_read`.
        message_id: String,
    },
    /// `failed`.
    Failed {
        /// Why.
        reason: String,
    },
}

/// `status_recorded`: a status report was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecorded {
    /// Copied from the report.
    pub correlation_id: String,
    /// The status now stored.
    pub status: String,
}

/// `error`: a frame was understood but refused; the socket stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFrame {
    /// Copied from the refused frame.
    pub correlation_id: String,
    /// Why it was refused.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(frame: &ServerFrame<'_>) -> Value {
        let text = frame.encode();
        let back = ServerFrame::decode(&text).unwrap();
        assert_eq!(&back, frame, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn every_frame_has_its_type_and_fields() {
        let hello = ServerFrame::Hello(Hello {
            protocol: crate::PROTOCOL.into(),
            instance: "a".into(),
            acked_seq: 1,
            last_seq: 2,
            oldest_seq: 1,
            window: 3,
            heartbeat_secs: 20,
            max_frame_bytes: 4096,
        });
        assert_eq!(
            round_trip(&hello),
            json!({"type": "hello", "protocol": "ryzeapi.bridge.v1", "instance": "a",
                   "acked_seq": 1, "last_seq": 2, "oldest_seq": 1, "window": 3,
                   "heartbeat_secs": 20, "max_frame_bytes": 4096})
        );
        let resync = ServerFrame::Resync(Resync {
            reason: ResyncReason::CursorAhead,
            requested_after: 9,
            from_seq: 1,
            last_seq: 5,
        });
        assert_eq!(
            round_trip(&resync),
            json!({"type": "resync", "reason": "cursor_ahead", "requested_after": 9, "from_seq": 1, "last_seq": 5})
        );
        let sent = ServerFrame::Result(CommandResult {
            correlation_id: "c".into(),
            idempotency_key: "k".into(),
            outcome: Outcome::Sent {
                message_id: "m".into(),
            },
            duplicate: true,
        });
        assert_eq!(
            round_trip(&sent),
            json!({"type": "result", "correlation_id": "c", "idempotency_key": "k", "status": "sent", "message_id": "m", "duplicate": true})
        );
        let failed = ServerFrame::Result(CommandResult {
            correlation_id: "c".into(),
            idempotency_key: "k".into(),
            outcome: Outcome::Failed {
                reason: "no".into(),
            },
            duplicate: false,
        });
        assert_eq!(
            round_trip(&failed),
            json!({"type": "result", "correlation_id": "c", "idempotency_key": "k", "status": "failed", "reason": "no", "duplicate": false})
        );
        let recorded = ServerFrame::StatusRecorded(StatusRecorded {
            correlation_id: "s".into(),
            status: "paused".into(),
        });
        assert_eq!(
            round_trip(&recorded),
            json!({"type": "status_recorded", "correlation_id": "s", "status": "paused"})
        );
        let error = ServerFrame::Error(ErrorFrame {
            correlation_id: "s".into(),
            reason: "r".into(),
        });
        assert_eq!(
            round_trip(&error),
            json!({"type": "error", "correlation_id": "s", "reason": "r"})
        );
        for frame in [&hello, &resync, &sent, &recorded, &error] {
            assert_eq!(round_trip(frame)["type"], frame.kind());
        }
    }

    #[test]
    fn event_frames_carry_the_envelope_as_it_was_encoded() {
        let envelope: &RawValue =
            serde_json::from_str(r#"{"event":"x","data":{"b":1,"a":"\u00e9"}}"#).unwrap();
        let frame = ServerFrame::Event(Event::new(5, "id\"1", envelope));
        let text = frame.encode();
        assert_eq!(
            text,
            r#"{"type":"event","seq":5,"id":"id\"1","event":{"event":"x","data":{"b":1,"a":"\u00e9"}}}"#
        );
        let ServerFrame::Event(back) = ServerFrame::decode(&text).unwrap() else {
            panic!("not an event: {text}");
        };
        assert_eq!((back.seq, back.id.as_ref()), (5, "id\"1"));
        let value: Value = serde_json::from_str(back.event.get()).unwrap();
        assert_eq!(value, json!({"event": "x", "data": {"a": "é", "b": 1}}));
        assert_eq!(frame.kind(), "event");
        assert_eq!(Event::encode_around(5, "id\"1", envelope.get()), text);
        for id in ["", "3EB0", "a\\\"null}", "é\u{7f}\n"] {
            assert_eq!(
                Event::encode_around(u64::MAX, id, envelope.get()),
                ServerFrame::Event(Event::new(u64::MAX, id, envelope)).encode()
            );
        }
    }

    #[test]
    fn unknown_and_untyped_frames_are_errors() {
        for (text, wanted) in [
            (r#"{"type":"later"}"#, "unknown frame type 'later'"),
            (r#"{"seq":1}"#, "frame has no \"type\""),
            (r#"{"type":"ack","seq":1"#, "EOF"),
            (
                r#"{"type":"resync","reason":"other","requested_after":0,"from_seq":1,"last_seq":0}"#,
                "unknown variant",
            ),
        ] {
            let e = ServerFrame::decode(text).unwrap_err().to_string();
            assert!(e.contains(wanted), "{text}: {e}");
        }
    }
}
