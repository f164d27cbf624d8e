//! Frames the bridge sends to the server: [`BridgeFrame`], one JSON object
//! per WebSocket text frame, tagged by its `type` (`resume`, `ack`,
//! `command`, `status`).
//!
//! [`BridgeFrame::parse`] is the server's reader: it accepts exactly what
//! `docs/bridge-protocol.md` allows and refuses anything else with a
//! [`ParseError`] whose text is the close reason and whose
//! [`ParseError::close_code`] is the close code. Fields a frame does not
//! define are ignored. A field is checked against its frame's own type (the
//! frame is read as a JSON value first, so the reasons carry no positions).

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{close, present, PROTOCOL};

/// A frame from the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BridgeFrame {
    /// Where to start: everything after `after`. The first frame, once.
    Resume(Resume),
    /// Everything up to `seq` is processed (cumulative).
    Ack(Ack),
    /// Do something on WhatsApp.
    Command(CommandFrame),
    /// The integration's status as the bridge sees it.
    Status(Status),
}

/// `resume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The last sequence number the bridge has processed; 0 for "from the beginning".
    pub after: u64,
    /// The protocol the bridge speaks; when present it must be [`PROTOCOL`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// `ack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Everything up to and including this number is processed.
    pub seq: u64,
}

/// `command`: `correlation_id`, `idempotency_key`, and the command with its
/// `args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandFrame {
    /// Copied into the `result`; never empty.
    pub correlation_id: String,
    /// The same key twice sends once; never empty.
    pub idempotency_key: String,
    /// `command` and `args`.
    #[serde(flatten)]
    pub command: Command,
}

/// A command, tagged by `command`, with its arguments in `args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", content = "args", rename_all = "snake_case")]
pub enum Command {
    /// Send a text.
    SendText(SendTextArgs),
    /// Send media by URL.
    SendMedia(SendMediaArgs),
    /// Mark messages read.
    MarkRead(MarkReadArgs),
}

impl Command {
    /// The command's name, as in its `command` field.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SendText(_) => "send_text",
            Self::SendMedia(_) => "send_media",
            Self::MarkRead(_) => "mark_read",
        }
    }
}

/// The `args` of `send_text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendTextArgs {
    /// Recipient JID.
    pub to: String,
    /// The text.
    pub text: String,
    /// The WhatsApp id of the message replied to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The `args` of `send_media` (the engine downloads the media from `url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMediaArgs {
    /// Recipient JID.
    pub to: String,
    /// `http://` or `https://` URL of the media.
    pub url: String,
    /// `image`, `video`, `audio` or `document`.
    pub media_type: String,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    /// File name (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// The `args` of `mark_read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkReadArgs {
    /// The chat's JID.
    pub chat: String,
    /// The ids of the messages read.
    pub message_ids: Vec<String>,
}

/// `status`: the integration's status as the bridge sees it. Only `status`
/// is required; a field that is present must have its type (`null` is a
/// wrong type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Copied into the answer (`status_recorded` or `error`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<String>,
    /// The bridge's integration id (adopted when the server has none yet).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub integration_id: Option<String>,
    /// `active`, `paused` or `error` (another value is answered with an
    /// `error` frame, not refused here).
    pub status: String,
    /// Why the status is `error`; empty when healthy.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_error: Option<String>,
    /// The inbox id in Chatwoot; 0 or absent while not known.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub inbox_id: Option<i64>,
}

/// Why a frame from the bridge was refused. The text is the close reason
/// (whole: it may quote the frame, so whoever sends it redacts it before
/// cutting it to [`crate::limits::MAX_CLOSE_REASON_BYTES`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not JSON.
    #[error("frame is not valid JSON")]
    NotJson,
    /// Not an object with a string `type`.
    #[error("frame has no \"type\"")]
    NoType,
    /// A `type` this protocol does not have.
    #[error("unknown frame type '{0}'")]
    UnknownType(String),
    /// A required field is missing or a field has the wrong type; `frame` is
    /// the frame's type, or the command's name for its `args`.
    #[error("bad {frame} frame: {detail}")]
    Bad {
        /// `resume`, `ack`, `command`, `status`, `send_text`, `send_media` or `mark_read`.
        frame: &'static str,
        /// What serde said.
        detail: String,
    },
    /// A command with an empty `correlation_id` or `idempotency_key`.
    #[error("command needs correlation_id and idempotency_key")]
    MissingIds,
    /// A command this protocol does not have.
    #[error("unknown command '{0}'")]
    UnknownCommand(String),
    /// `resume.protocol` names another protocol.
    #[error("unsupported protocol '{0}'; this server speaks {PROTOCOL}")]
    UnsupportedProtocol(String),
}

impl ParseError {
    /// The close code for this refusal: 1007 for text that is not JSON,
    /// 1008 for everything else.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::NotJson => close::INVALID_PAYLOAD,
            _ => close::POLICY,
        }
    }
}

/// The first stage of reading a `command`: its ids and name, with `args`
/// left as they came (they are read once the name is known).
#[derive(Deserialize)]
struct CommandHead {
    correlation_id: String,
    idempotency_key: String,
    command: String,
    #[serde(default)]
    args: Value,
}

fn fields<T: DeserializeOwned>(frame: &'static str, value: Value) -> Result<T, ParseError> {
    serde_json::from_value(value).map_err(|e| ParseError::Bad {
        frame,
        detail: e.to_string(),
    })
}

impl BridgeFrame {
    /// Reads one text frame, refusing what the protocol does not allow.
    ///
    /// # Errors
    /// [`ParseError`]: the reason and the close code of the refusal.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let value: Value = serde_json::from_str(text).map_err(|_| ParseError::NotJson)?;
        Self::from_value(value)
    }

    /// As [`BridgeFrame::parse`], from a JSON value.
    ///
    /// # Errors
    /// [`ParseError`], never [`ParseError::NotJson`].
    pub fn from_value(value: Value) -> Result<Self, ParseError> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or(ParseError::NoType)?
            .to_owned();
        match kind.as_str() {
            "resume" => {
                let resume: Resume = fields("resume", value)?;
                if let Some(p) = resume.protocol.as_deref().filter(|p| *p != PROTOCOL) {
                    return Err(ParseError::UnsupportedProtocol(p.to_owned()));
                }
                Ok(Self::Resume(resume))
            }
            "ack" => fields("ack", value).map(Self::Ack),
            "command" => {
                let head: CommandHead = fields("command", value)?;
                if head.correlation_id.is_empty() || head.idempotency_key.is_empty() {
                    return Err(ParseError::MissingIds);
                }
                let command = match head.command.as_str() {
                    "send_text" => Command::SendText(fields("send_text", head.args)?),
                    "send_media" => Command::SendMedia(fields("send_media", head.args)?),
                    "mark_read" => Command::MarkRead(fields("mark_read", head.args)?),
                    _ => return Err(ParseError::UnknownCommand(head.command)),
                };
                Ok(Self::Command(CommandFrame {
                    correlation_id: head.correlation_id,
                    idempotency_key: head.idempotency_key,
                    command,
                }))
            }
            "status" => fields("status", value).map(Self::Status),
            _ => Err(ParseError::UnknownType(kind)),
        }
    }

    /// The frame as JSON text.
    pub fn encode(&self) -> String {
        crate::to_json(self)
    }

    /// The frame's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Resume(_) => "resume",
            Self::Ack(_) => "ack",
            Self::Command(_) => "command",
            Self::Status(_) => "status",
        }
    }
}

/// The same reading as [`BridgeFrame::parse`]; the [`ParseError`]'s text
/// becomes the error's.
impl<'de> Deserialize<'de> for BridgeFrame {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(value).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(text: &str) -> (u16, String) {
        let e = BridgeFrame::parse(text).unwrap_err();
        (e.close_code(), e.to_string())
    }

    #[test]
    fn parses_every_frame_type() {
        assert_eq!(
            BridgeFrame::parse(r#"{"type":"resume","after":7}"#),
            Ok(BridgeFrame::Resume(Resume {
                after: 7,
                protocol: None
            }))
        );
        assert_eq!(
            BridgeFrame::parse(r#"{"type":"resume","after":7,"protocol":"ryzeapi.bridge.v1"}"#),
            Ok(BridgeFrame::Resume(Resume {
                after: 7,
                protocol: Some(PROTOCOL.into())
            }))
        );
        assert_eq!(
            BridgeFrame::parse(r#"{"type":"ack","seq":9,"extra":true}"#),
            Ok(BridgeFrame::Ack(Ack { seq: 9 }))
        );
        assert_eq!(
            BridgeFrame::parse(
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_text","args":{"to":"1@s.whatsapp.net","text":"hi"}}"#
            ),
            Ok(BridgeFrame::Command(CommandFrame {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::SendText(SendTextArgs {
                    to: "1@s.whatsapp.net".into(),
                    text: "hi".into(),
                    reply_to: None
                }),
            }))
        );
        assert_eq!(
            BridgeFrame::parse(
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_media","args":{"to":"t","url":"u","media_type":"image","caption":null}}"#
            ),
            Ok(BridgeFrame::Command(CommandFrame {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::SendMedia(SendMediaArgs {
                    to: "t".into(),
                    url: "u".into(),
                    media_type: "image".into(),
                    caption: None,
                    mimetype: None,
                    file_name: None,
                }),
            }))
        );
        assert!(matches!(
            BridgeFrame::parse(
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"mark_read","args":{"chat":"1@s.whatsapp.net","message_ids":["a"]}}"#
            ),
            Ok(BridgeFrame::Command(CommandFrame {
                command: Command::MarkRead(MarkReadArgs { .. }),
                ..
            }))
        ));
        assert_eq!(
            BridgeFrame::parse(r#"{"type":"status","status":"active","inbox_id":3}"#),
            Ok(BridgeFrame::Status(Status {
                correlation_id: None,
                integration_id: None,
                status: "active".into(),
                last_error: None,
                inbox_id: Some(3),
            }))
        );
    }

    #[test]
    fn refuses_what_is_off_protocol_with_its_code_and_reason() {
        assert_eq!(
            reason("not json"),
            (close::INVALID_PAYLOAD, "frame is not valid JSON".into())
        );
        for (bad, wanted) in [
            (r#"[1,2]"#, r#"frame has no "type""#),
            (r#"{"no":"type"}"#, r#"frame has no "type""#),
            (r#"{"type":7}"#, r#"frame has no "type""#),
            (r#"{"type":"dance"}"#, "unknown frame type 'dance'"),
            (
                r#"{"type":"ack","seq":-1}"#,
                "bad ack frame: invalid value: integer `-1`, expected u64",
            ),
            (r#"{"type":"ack"}"#, "bad ack frame: missing field `seq`"),
            (
                r#"{"type":"ack","seq":"x"}"#,
                r#"bad ack frame: invalid type: string "x", expected u64"#,
            ),
            (
                r#"{"type":"resume"}"#,
                "bad resume frame: missing field `after`",
            ),
            (
                r#"{"type":"resume","after":0,"protocol":"ryzeapi.bridge.v9"}"#,
                "unsupported protocol 'ryzeapi.bridge.v9'; this server speaks ryzeapi.bridge.v1",
            ),
            (
                r#"{"type":"command","correlation_id":"","idempotency_key":"k","command":"explode","args":{}}"#,
                "command needs correlation_id and idempotency_key",
            ),
            (
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"explode","args":{}}"#,
                "unknown command 'explode'",
            ),
            (
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","args":{}}"#,
                "bad command frame: missing field `command`",
            ),
            (
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_text","args":{"to":1}}"#,
                "bad send_text frame: invalid type: integer `1`, expected a string",
            ),
            (
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"send_text"}"#,
                "bad send_text frame: invalid type: null, expected struct SendTextArgs",
            ),
            (
                r#"{"type":"command","correlation_id":"c","idempotency_key":"k","command":"mark_read","args":{"chat":"x"}}"#,
                "bad mark_read frame: missing field `message_ids`",
            ),
            (
                r#"{"type":"status","inbox_id":1}"#,
                "bad status frame: missing field `status`",
            ),
            (
                r#"{"type":"status","status":"active","last_error":null}"#,
                "bad status frame: invalid type: null, expected a string",
            ),
        ] {
            assert_eq!(reason(bad), (close::POLICY, wanted.to_owned()), "{bad}");
        }
    }

    #[test]
    fn refusals_keep_the_quoted_text_whole_for_redaction() {
        let long = "é".repeat(100);
        assert_eq!(
            reason(&format!(r#"{{"type":"{long}"}}"#)).1,
            format!("unknown frame type '{long}'")
        );
    }

    #[test]
    fn encoding_and_parsing_agree() {
        let frames = [
            BridgeFrame::Resume(Resume {
                after: 3,
                protocol: Some(PROTOCOL.into()),
            }),
            BridgeFrame::Ack(Ack { seq: 4 }),
            BridgeFrame::Command(CommandFrame {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::SendText(SendTextArgs {
                    to: "t".into(),
                    text: "x".into(),
                    reply_to: Some("r".into()),
                }),
            }),
            BridgeFrame::Command(CommandFrame {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::SendMedia(SendMediaArgs {
                    to: "t".into(),
                    url: "https://h/a.png".into(),
                    media_type: "image".into(),
                    caption: None,
                    mimetype: Some("image/png".into()),
                    file_name: None,
                }),
            }),
            BridgeFrame::Command(CommandFrame {
                correlation_id: "c".into(),
                idempotency_key: "k".into(),
                command: Command::MarkRead(MarkReadArgs {
                    chat: "t".into(),
                    message_ids: vec!["a".into(), "b".into()],
                }),
            }),
            BridgeFrame::Status(Status {
                correlation_id: Some("s".into()),
                integration_id: None,
                status: "error".into(),
                last_error: Some("down".into()),
                inbox_id: Some(0),
            }),
        ];
        for frame in frames {
            let text = frame.encode();
            assert_eq!(BridgeFrame::parse(&text).as_ref(), Ok(&frame), "{text}");
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(value["type"], frame.kind());
            if let BridgeFrame::Command(c) = &frame {
                assert_eq!(value["command"], c.command.name());
            }
            assert_eq!(serde_json::from_value::<BridgeFrame>(value).unwrap(), frame);
        }
        assert_eq!(
            serde_json::from_value::<BridgeFrame>(json!({"type": "ack"}))
                .unwrap_err()
                .to_string(),
            "bad ack frame: missing field `seq`"
        );
    }
}
