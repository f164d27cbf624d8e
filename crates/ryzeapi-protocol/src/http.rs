//! The bridge's HTTP API, version 1 (`docs/bridge-api.md`): the paths the
//! server calls and the JSON bodies in both directions.
//!
//! | call | request body | answer on success | answer on failure |
//! |---|---|---|---|
//! | `POST` [`ACTIVATE_PATH`] | [`ActivateRequest`] | [`Integration`] | [`ErrorBody`] |
//! | `GET` [`integration_path`] | none | [`Integration`] | 404, or [`ErrorBody`] |
//! | `DELETE` [`integration_path`] | none | any 2xx, body ignored | 404 (already gone), or [`ErrorBody`] |
//!
//! Fields may be added within version 1: both sides ignore fields they do
//! not know.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The path of the activate call.
pub const ACTIVATE_PATH: &str = "/v1/integrations/activate";

/// The largest answer the server reads from the bridge, bytes.
pub const MAX_ANSWER_BYTES: u64 = 1024 * 1024;

/// The path of the status and delete calls for the bridge's integration
/// `id`: every byte other than `A-Z a-z 0-9 - _ . ~` is percent-encoded
/// (ids come from the bridge and must not change the path).
pub fn integration_path(id: &str) -> String {
    let mut path = String::from("/v1/integrations/");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            path.push(char::from(b));
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    path
}

/// The path of the internal socket of `instance`, as in [`ActivateRequest::ws_path`].
pub fn ws_path(instance: &str) -> String {
    format!("/ws/chatwoot/{instance}")
}

/// The body of `POST /v1/integrations/activate`. Its `Debug` leaves the
/// Chatwoot API token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivateRequest {
    /// The instance's name; identifies the integration for idempotency.
    pub instance: String,
    /// The base URL the bridge uses to reach the server, no trailing `/`.
    pub ryzeapi_url: String,
    /// The path of the internal socket ([`ws_path`]).
    pub ws_path: String,
    /// The Chatwoot installation.
    pub chatwoot_base_url: String,
    /// The Chatwoot account, greater than 0.
    pub chatwoot_account_id: i64,
    /// The Chatwoot access token. A secret.
    pub chatwoot_api_token: String,
    /// The name of the inbox to create.
    pub inbox_name: String,
    /// Prefix agent replies with the agent's name.
    pub sign_messages: bool,
    /// Do not route group chats to Chatwoot.
    pub ignore_groups: bool,
    /// New conversations start `pending`.
    pub start_as_pending: bool,
    /// A new message on a resolved conversation reopens it.
    pub reopen_resolved: bool,
}

impl fmt::Debug for ActivateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivateRequest")
            .field("instance", &self.instance)
            .field("ryzeapi_url", &self.ryzeapi_url)
            .field("ws_path", &self.ws_path)
            .field("chatwoot_base_url", &self.chatwoot_base_url)
            .field("chatwoot_account_id", &self.chatwoot_account_id)
            .field("chatwoot_api_token", &"[redacted]")
            .field("inbox_name", &self.inbox_name)
            .field("sign_messages", &self.sign_messages)
            .field("ignore_groups", &self.ignore_groups)
            .field("start_as_pending", &self.start_as_pending)
            .field("reopen_resolved", &self.reopen_resolved)
            .finish()
    }
}

/// The integration object: the answer of activate and of status. Absent
/// optional fields (and `null`) read as their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    /// The bridge's integration id; must not be empty.
    pub id: String,
    /// `active`, `paused` or `error` (checked by the reader, which says what
    /// it found).
    pub status: String,
    /// The inbox id in Chatwoot; 0 while not known (negative reads as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_id: Option<i64>,
    /// The inbox name in Chatwoot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox_name: Option<String>,
    /// Why the status is `error`; empty when healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The answer of activate.
pub type ActivateResponse = Integration;

/// The answer of status.
pub type StatusResponse = Integration;

/// The body of a failed call: `{"error": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The `error` of an [`ErrorBody`]. Every field may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The classification; a `chatwoot_…` kind is decisive.
    #[serde(default)]
    pub kind: ErrorKind,
    /// A short description.
    #[serde(default)]
    pub message: String,
    /// Chatwoot's HTTP status, when Chatwoot answered (`null` otherwise).
    #[serde(default)]
    pub chatwoot_status: Option<u16>,
    /// Chatwoot's raw answer text.
    #[serde(default)]
    pub detail: String,
}

/// The `kind` of an [`ErrorDetail`]. Kinds this version does not know are
/// kept as [`ErrorKind::Other`] (new kinds may be added; the server reads
/// such an answer by its HTTP status).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ErrorKind {
    /// `chatwoot_unauthorized`: Chatwoot said 401, the API token is wrong.
    ChatwootUnauthorized,
    /// `chatwoot_forbidden`: Chatwoot said 403, the token lacks rights.
    ChatwootForbidden,
    /// `chatwoot_not_found`: Chatwoot said 404, wrong base URL or account id.
    ChatwootNotFound,
    /// `chatwoot_invalid`: Chatwoot said 422, the request was invalid.
    ChatwootInvalid,
    /// `chatwoot_unreachable`: the bridge could not connect to Chatwoot.
    ChatwootUnreachable,
    /// `chatwoot_timeout`: Chatwoot did not answer the bridge in time.
    ChatwootTimeout,
    /// `chatwoot_error`: any other Chatwoot failure.
    ChatwootError,
    /// Any other kind (or none: the empty string).
    Other(String),
}

impl ErrorKind {
    const NAMED: [(ErrorKind, &'static str); 7] = [
        (Self::ChatwootUnauthorized, "chatwoot_unauthorized"),
        (Self::ChatwootForbidden, "chatwoot_forbidden"),
        (Self::ChatwootNotFound, "chatwoot_not_found"),
        (Self::ChatwootInvalid, "chatwoot_invalid"),
        (Self::ChatwootUnreachable, "chatwoot_unreachable"),
        (Self::ChatwootTimeout, "chatwoot_timeout"),
        (Self::ChatwootError, "chatwoot_error"),
    ];

    /// The kind as it is written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(kind) => kind,
            named => Self::NAMED
                .iter()
                .find(|(kind, _)| kind == named)
                .map_or("", |(_, text)| text),
        }
    }
}

impl Default for ErrorKind {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

impl From<String> for ErrorKind {
    fn from(text: String) -> Self {
        Self::NAMED
            .iter()
            .find(|(_, name)| *name == text)
            .map_or(Self::Other(text), |(kind, _)| kind.clone())
    }
}

impl From<ErrorKind> for String {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Other(text) => text,
            named => named.as_str().to_owned(),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_are_read_and_written_as_their_names() {
        for (kind, name) in ErrorKind::NAMED {
            assert_eq!(ErrorKind::from(name.to_owned()), kind);
            assert_eq!(serde_json::to_value(&kind).unwrap(), json!(name));
        }
        assert_eq!(
            serde_json::from_value::<ErrorKind>(json!("unauthorized")).unwrap(),
            ErrorKind::Other("unauthorized".into())
        );
        assert!(serde_json::from_value::<ErrorKind>(json!(null)).is_err());
    }

    #[test]
    fn error_bodies_read_with_every_field_optional() {
        let body: ErrorBody = serde_json::from_value(json!({"error": {}})).unwrap();
        assert_eq!(body.error, ErrorDetail::default());
        let body: ErrorBody = serde_json::from_value(
            json!({"error": {"kind": "chatwoot_timeout", "chatwoot_status": null, "more": 1}}),
        )
        .unwrap();
        assert_eq!(body.error.kind, ErrorKind::ChatwootTimeout);
        assert_eq!(body.error.chatwoot_status, None);
        assert!(serde_json::from_value::<ErrorBody>(json!({"error": {"message": null}})).is_err());
    }

    #[test]
    fn paths_encode_what_could_change_them() {
        assert_eq!(
            integration_path("int_8f2c1d"),
            "/v1/integrations/int_8f2c1d"
        );
        assert_eq!(
            integration_path("a/../b c?é"),
            "/v1/integrations/a%2F..%2Fb%20c%3F%C3%A9"
        );
        assert_eq!(ws_path("suporte"), "/ws/chatwoot/suporte");
    }

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let request = ActivateRequest {
            instance: "a".into(),
            ryzeapi_url: "http://r".into(),
            ws_path: ws_path("a"),
            chatwoot_base_url: "https://c".into(),
            chatwoot_account_id: 1,
            chatwoot_api_token: "sk_secret".into(),
            inbox_name: "i".into(),
            sign_messages: true,
            ignore_groups: false,
            start_as_pending: false,
            reopen_resolved: true,
        };
        assert!(!format!("{request:?}").contains("sk_secret"));
    }
}
