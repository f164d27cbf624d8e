//! The one place where failures become HTTP answers: [`ApiError`], its
//! `ResponseError`, and the mapping of bridge failures (see `docs/chatwoot-errors.md`).
//!
//! Every error body is `{"success": false, "error": {"message": "..."}}`.
//! 500 bodies are generic; the cause goes to the log.
//!
//! Every text that comes from the bridge is quoted through [`Secrets::quote`]
//! (secrets redacted, then one line, then cut), whether it ends up in an
//! answer, a log line, a stored field or a close frame.

use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ryzeapi_adapters::bridge_http::UNEXPECTED_ANSWER;
use ryzeapi_domain::text::{quote, Limit};
use ryzeapi_domain::{ChatwootAccountId, ChatwootBaseUrl};
use ryzeapi_ports::{BridgeError, ChatwootFailure};
use serde_json::json;

/// The 503 message of the Chatwoot module while it is off.
pub const MODULE_OFF: &str = "integration gateway not configured (set BRIDGE_URL and BRIDGE_TOKEN)";
/// 401 without any token.
pub const MISSING_TOKEN: &str = "Missing token in header, Authorization header, or query parameter";
/// 401 with an unknown token.
pub const INVALID_TOKEN: &str = "Invalid token";
/// 401 on the bridge socket without a Bearer token.
pub const BRIDGE_TOKEN_REQUIRED: &str =
    "Missing bridge token: this route accepts only Authorization: Bearer <BRIDGE_TOKEN>";
/// 403 for a TokenInstance used on another instance.
pub const TOKEN_INSTANCE_MISMATCH: &str = "Instance token does not match this instance";
/// 403 for a TokenInstance on an account-only route.
pub const ACCOUNT_TOKEN_REQUIRED: &str = "This route requires an account token";
/// 403 when the quota is used up.
pub const QUOTA_EXCEEDED: &str = "Account instance quota exceeded";
/// 503 when the server's event intake is full.
pub const EVENTS_BUSY: &str =
    "The server is behind on WhatsApp events (its event intake is full). Try again shortly.";
/// 429.
pub const RATE_LIMITED: &str = "Rate limit exceeded. Try again later.";

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a value is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 413: the body exceeds the limit.
    #[error("invalid body: the body exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// 401: no token at all.
    #[error("{MISSING_TOKEN}")]
    MissingToken,
    /// 401: a token that matches nothing.
    #[error("{INVALID_TOKEN}")]
    InvalidToken,
    /// 401: the bridge socket without `Authorization: Bearer`.
    #[error("{BRIDGE_TOKEN_REQUIRED}")]
    BridgeTokenRequired,
    /// 403: a valid token without rights here.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404 with the route's own wording.
    #[error("{0}")]
    NotFound(&'static str),
    /// 409: a name or token already taken.
    #[error("{0}")]
    Conflict(&'static str),
    /// 429: too many requests for this token.
    #[error("{RATE_LIMITED}")]
    RateLimited,
    /// 503: the Chatwoot module is off.
    #[error("{MODULE_OFF}")]
    ModuleOff,
    /// 503: the event intake stayed full for its bounded wait; retry shortly.
    #[error("{EVENTS_BUSY}")]
    EventsBusy,
    /// A bridge failure, already classified (400/401/403/502/504).
    #[error("{message}")]
    Bridge {
        /// The answer's status.
        status: StatusCode,
        /// The answer's message.
        message: String,
    },
    /// 500 with a message the route's contract fixes (e.g. `Failed to delete instance: …`).
    #[error("{0}")]
    InternalWithMessage(String),
    /// 500 with a generic message; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 `invalid body: …`.
    pub fn invalid_body(detail: impl std::fmt::Display) -> Self {
        Self::BadRequest(format!("invalid body: {detail}"))
    }

    /// A 500 whose cause is logged.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingToken | Self::InvalidToken | Self::BridgeTokenRequired => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::ModuleOff | Self::EventsBusy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Bridge { status, .. } => *status,
            Self::InternalWithMessage(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            log::error!("internal error: {cause:#}");
        }
        HttpResponse::build(self.status_code())
            .json(json!({"success": false, "error": {"message": self.to_string()}}))
    }
}

/// The most characters of a text from the bridge (an error's `detail` or
/// `message`, a `last_error`, a transport failure) that a message, a log line
/// or a stored field quotes.
pub const DETAIL_CHARS: usize = 500;

/// The most characters of the body of an unexpected answer (one that is not an
/// error object) that a message quotes, after `unexpected answer: `.
pub const EXCERPT_CHARS: usize = 200;

/// The most bytes of a WebSocket close reason (the protocol allows 123).
pub const CLOSE_REASON_BYTES: usize = 120;

/// What replaces a text from the bridge when the secrets it must not reveal
/// could not be read (the stored Chatwoot API token did not open).
pub const WITHHELD: &str =
    "[withheld: the stored Chatwoot API token could not be read to redact this text]";

/// The secrets a text from the bridge must not reveal: the integration's
/// Chatwoot API token and the service token, as given and as they read inside
/// a JSON string.
#[derive(Clone, Default)]
pub struct Secrets {
    /// `None` when they could not be read: then every text is withheld.
    known: Option<Vec<String>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known {
            Some(known) => write!(f, "Secrets({} forms)", known.len()),
            None => f.write_str("Secrets(unreadable)"),
        }
    }
}

impl Secrets {
    /// These secrets (empty ones are ignored).
    pub fn new(secrets: &[&str]) -> Self {
        let mut known = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            known.push((*secret).to_owned());
            let escaped = serde_json::to_string(secret).unwrap_or_default();
            let escaped = escaped
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .unwrap_or_default();
            if !escaped.is_empty() && escaped != *secret {
                known.push(escaped.to_owned());
            }
        }
        Self { known: Some(known) }
    }

    /// Secrets that could not be read: every non-blank text is [`WITHHELD`].
    pub fn unreadable() -> Self {
        Self { known: None }
    }

    /// `text` safe to quote within `limit` (see [`quote`]); a blank text stays
    /// empty.
    pub fn quote(&self, text: &str, limit: Limit) -> String {
        match &self.known {
            Some(known) => {
                let secrets: Vec<&str> = known.iter().map(String::as_str).collect();
                quote(text, &secrets, limit)
            }
            None if text.chars().all(|c| c.is_whitespace() || c.is_control()) => String::new(),
            None => quote(WITHHELD, &[], limit),
        }
    }

    /// A bridge error's text: the body of an unexpected answer is cut to
    /// [`EXCERPT_CHARS`] after its `unexpected answer: ` label, any other text
    /// to [`DETAIL_CHARS`].
    fn quote_detail(&self, text: &str) -> String {
        match text.strip_prefix(UNEXPECTED_ANSWER) {
            Some(body) => format!(
                "{UNEXPECTED_ANSWER}{}",
                self.quote(body, Limit::Chars(EXCERPT_CHARS))
            ),
            None => self.quote(text, Limit::Chars(DETAIL_CHARS)),
        }
    }
}

/// What the error messages of an activation refer to.
#[derive(Debug, Clone)]
pub struct ActivationContext<'a> {
    /// The Chatwoot base URL the user gave.
    pub base_url: &'a ChatwootBaseUrl,
    /// The Chatwoot account id the user gave.
    pub account_id: ChatwootAccountId,
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// Maps a bridge failure to the status and message of `docs/chatwoot-errors.md`.
/// Every text of the bridge's in it is quoted with `secrets`.
pub fn bridge_error(
    err: &BridgeError,
    ctx: Option<&ActivationContext<'_>>,
    secrets: &Secrets,
) -> ApiError {
    let (status, message) = match err {
        BridgeError::Chatwoot {
            failure, detail, ..
        } => {
            let detail = secrets.quote_detail(detail);
            let url = ctx.map_or_else(String::new, |c| c.base_url.to_string());
            let account = ctx.map_or_else(String::new, |c| c.account_id.to_string());
            match failure {
                ChatwootFailure::NotFound => (
                    StatusCode::BAD_REQUEST,
                    format!("Chatwoot account or endpoint not found — verify chatwootBaseUrl ({url}) and chatwootAccountId ({account}). Detail: {detail}"),
                ),
                ChatwootFailure::Invalid => (
                    StatusCode::BAD_REQUEST,
                    format!("Chatwoot rejected the request as invalid — verify inboxName and the integration settings. Detail: {detail}"),
                ),
                ChatwootFailure::Unauthorized => (
                    StatusCode::UNAUTHORIZED,
                    format!("Chatwoot rejected the API token — verify chatwootApiToken. Detail: {detail}"),
                ),
                ChatwootFailure::Forbidden => (
                    StatusCode::FORBIDDEN,
                    format!("Chatwoot denied the request — verify the API token has admin scope on account {account}. Detail: {detail}"),
                ),
                ChatwootFailure::Unreachable => (
                    StatusCode::BAD_GATEWAY,
                    format!("Chatwoot host unreachable from the integration gateway — verify chatwootBaseUrl ({url}) is reachable from the bridge. Detail: {detail}"),
                ),
                ChatwootFailure::Timeout => (
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("Chatwoot did not answer the integration gateway in time — verify chatwootBaseUrl ({url}) and retry. Detail: {detail}"),
                ),
                ChatwootFailure::Other => (
                    StatusCode::BAD_GATEWAY,
                    format!("Chatwoot failed while the integration gateway provisioned the inbox — retry later. Detail: {detail}"),
                ),
            }
        }
        BridgeError::Unreachable(cause) => (
            StatusCode::BAD_GATEWAY,
            format!("integration gateway unreachable — verify BRIDGE_URL and that the bridge is running. Detail: {}", secrets.quote_detail(cause)),
        ),
        BridgeError::Timeout(budget) => (
            StatusCode::GATEWAY_TIMEOUT,
            format!("integration gateway timed out after {}s — retry; if it persists, check the bridge", secs(*budget)),
        ),
        BridgeError::Rejected(code) => (
            StatusCode::BAD_GATEWAY,
            format!("integration gateway rejected the service token (HTTP {code}) — BRIDGE_TOKEN must be the same on the server and the bridge"),
        ),
        BridgeError::NotFound => (
            StatusCode::BAD_GATEWAY,
            "integration gateway error (HTTP 404) — Detail: the bridge does not know this integration".to_owned(),
        ),
        BridgeError::Upstream { status, message } => {
            let message = secrets.quote_detail(message);
            (
                StatusCode::BAD_GATEWAY,
                match status {
                    Some(code) => format!("integration gateway error (HTTP {code}) — Detail: {message}"),
                    None => format!("integration gateway error — Detail: {message}"),
                },
            )
        }
    };
    ApiError::Bridge { status, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody as _;

    fn body_of(err: &ApiError) -> serde_json::Value {
        let bytes = err
            .error_response()
            .into_body()
            .try_into_bytes()
            .unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn every_variant_has_its_status_and_the_error_envelope() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::invalid_body("name is required"), 400),
            (ApiError::TooLarge(10), 413),
            (ApiError::MissingToken, 401),
            (ApiError::InvalidToken, 401),
            (ApiError::BridgeTokenRequired, 401),
            (ApiError::Forbidden(TOKEN_INSTANCE_MISMATCH), 403),
            (ApiError::NotFound("instance not found"), 404),
            (ApiError::Conflict("Instance name already in use"), 409),
            (ApiError::RateLimited, 429),
            (ApiError::ModuleOff, 503),
            (ApiError::EventsBusy, 503),
            (
                ApiError::Bridge {
                    status: StatusCode::GATEWAY_TIMEOUT,
                    message: "x".into(),
                },
                504,
            ),
            (
                ApiError::InternalWithMessage("Failed to delete instance: x".into()),
                500,
            ),
            (
                ApiError::internal(anyhow::anyhow!("db password=hunter2")),
                500,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.status_code().as_u16(), code, "{err:?}");
            let body = body_of(&err);
            assert_eq!(body["success"], false);
            assert_eq!(body["error"]["message"], err.to_string());
        }
        let hidden = body_of(&ApiError::internal(anyhow::anyhow!("db password=hunter2")));
        assert_eq!(hidden["error"]["message"], "internal error");
    }

    #[test]
    fn bridge_failures_map_to_the_documented_answers() {
        let url =
            ChatwootBaseUrl::parse("https://chat.example.com").unwrap_or_else(|_| unreachable!());
        let ctx = ActivationContext {
            base_url: &url,
            account_id: ChatwootAccountId::parse(5).unwrap_or_else(|_| unreachable!()),
        };
        let secrets = Secrets::new(&["sk_live_abc"]);
        let cw = |failure| BridgeError::Chatwoot {
            failure,
            status: Some(1),
            detail: "raw sk_live_abc".into(),
        };
        let cases = [
            (cw(ChatwootFailure::NotFound), 400, "Chatwoot account or endpoint not found — verify chatwootBaseUrl (https://chat.example.com) and chatwootAccountId (5). Detail: raw [redacted]"),
            (cw(ChatwootFailure::Invalid), 400, "Chatwoot rejected the request as invalid"),
            (cw(ChatwootFailure::Unauthorized), 401, "Chatwoot rejected the API token — verify chatwootApiToken. Detail: raw [redacted]"),
            (cw(ChatwootFailure::Forbidden), 403, "Chatwoot denied the request — verify the API token has admin scope on account 5. Detail: "),
            (cw(ChatwootFailure::Unreachable), 502, "Chatwoot host unreachable"),
            (cw(ChatwootFailure::Timeout), 504, "Chatwoot did not answer"),
            (cw(ChatwootFailure::Other), 502, "Chatwoot failed"),
            (BridgeError::Unreachable("refused".into()), 502, "integration gateway unreachable"),
            (BridgeError::Timeout(Duration::from_secs(60)), 504, "integration gateway timed out after 60s"),
            (BridgeError::Rejected(401), 502, "integration gateway rejected the service token (HTTP 401)"),
            (BridgeError::Upstream { status: Some(500), message: "boom".into() }, 502, "integration gateway error (HTTP 500) — Detail: boom"),
            (BridgeError::Upstream { status: None, message: "reset".into() }, 502, "integration gateway error — Detail: reset"),
            (BridgeError::NotFound, 502, "integration gateway error (HTTP 404)"),
        ];
        for (err, code, prefix) in cases {
            let api = bridge_error(&err, Some(&ctx), &secrets);
            assert_eq!(api.status_code().as_u16(), code, "{err:?}");
            let text = api.to_string();
            assert!(text.starts_with(prefix), "{text}");
            assert!(!text.contains("sk_live_abc"), "{text}");
        }
    }

    /// Whether any 6 consecutive characters of `secret` occur in `text`.
    fn leaks(text: &str, secret: &str) -> bool {
        let chars: Vec<char> = secret.chars().collect();
        chars
            .windows(6)
            .any(|w| text.contains(&w.iter().collect::<String>()))
    }

    #[test]
    fn a_token_straddling_a_cut_leaves_no_piece_in_the_message() {
        let token = "Zq8xWv3TkPmR7nLcY2bH5dJf";
        let secrets = Secrets::new(&[token, "bridge-service-token"]);
        for offset in [0, 150, 190, 195, 199, 200, 480, 490, 499] {
            let text = format!("{}{token}{}", "<".repeat(offset), "-".repeat(600));
            let cases = [
                BridgeError::Upstream {
                    status: Some(500),
                    message: format!("{UNEXPECTED_ANSWER}{text}"),
                },
                BridgeError::Upstream {
                    status: Some(500),
                    message: text.clone(),
                },
                BridgeError::Upstream {
                    status: None,
                    message: text.clone(),
                },
                BridgeError::Chatwoot {
                    failure: ChatwootFailure::Other,
                    status: Some(500),
                    detail: text.clone(),
                },
                BridgeError::Unreachable(text.clone()),
            ];
            for err in cases {
                let message = bridge_error(&err, None, &secrets).to_string();
                assert!(!leaks(&message, token), "offset {offset}: {message}");
            }
        }
        let long = format!("{UNEXPECTED_ANSWER}{}", "é".repeat(300));
        let message = bridge_error(
            &BridgeError::Upstream {
                status: Some(500),
                message: long,
            },
            None,
            &secrets,
        )
        .to_string();
        assert!(message.ends_with(&format!("{UNEXPECTED_ANSWER}{}", "é".repeat(200))));
        let detail = bridge_error(
            &BridgeError::Upstream {
                status: Some(500),
                message: format!("line\n{}", "x".repeat(900)),
            },
            None,
            &secrets,
        )
        .to_string();
        assert!(detail.ends_with(&format!("Detail: line {}", "x".repeat(DETAIL_CHARS - 5))));
    }

    #[test]
    fn secrets_are_redacted_as_given_and_as_escaped_in_json() {
        let secrets = Secrets::new(&["ab\"cd/ef", ""]);
        assert_eq!(
            secrets.quote("x ab\"cd/ef y ab\\\"cd/ef z", Limit::Chars(100)),
            "x [redacted] y [redacted] z"
        );
    }

    #[test]
    fn unreadable_secrets_withhold_every_text() {
        let secrets = Secrets::unreadable();
        assert_eq!(secrets.quote(" \n", Limit::Chars(100)), "");
        assert_eq!(secrets.quote("sk_live_abc", Limit::Chars(500)), WITHHELD);
        assert!(secrets.quote("x", Limit::Bytes(CLOSE_REASON_BYTES)).len() <= CLOSE_REASON_BYTES);
        let message = bridge_error(
            &BridgeError::Upstream {
                status: Some(500),
                message: format!("{UNEXPECTED_ANSWER}sk_live_abc"),
            },
            None,
            &secrets,
        )
        .to_string();
        assert!(!message.contains("sk_live_abc"), "{message}");
    }
}
