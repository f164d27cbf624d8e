//! The one place where failures become HTTP answers: [`ApiError`], its
//! `ResponseError`, and the mapping of bridge failures (see `docs/chatwoot-errors.md`).
//!
//! Every error body is `{"success": false, "error": {"message": "..."}}`.
//! 500 bodies are generic; the cause goes to the log.
//!
//! Every text that comes from the bridge is quoted through [`Secrets::quote`]
//! (secrets redacted, then one line, then cut), whether it ends up in an
//! answer, a log line, a stored field or a close frame.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ryzeapi_core::access::AccessError;
use ryzeapi_core::chatwoot::{BridgeFailure, BridgeFailureKind, ChatwootError};
use ryzeapi_core::instances::InstanceError;
use ryzeapi_core::messages::MessageError;
use ryzeapi_core::websocket::WebsocketError;
use ryzeapi_ports::DeliverError;
use serde_json::json;

pub use ryzeapi_core::chatwoot::{describe, ActivationContext};
pub use ryzeapi_core::secrets::{
    Secrets, CLOSE_REASON_BYTES, DETAIL_CHARS, EXCERPT_CHARS, WITHHELD,
};

/// The 503 message of the Chatwoot module while it is off.
pub const MODULE_OFF: &str = ryzeapi_core::instances::MODULE_OFF;
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
    /// A bridge failure, classified (400/401/403/502/504 by its kind).
    #[error("{0}")]
    Bridge(BridgeFailure),
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
            Self::Bridge(failure) => bridge_status(failure.kind),
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

/// The status of each kind of bridge failure (`docs/chatwoot-errors.md`).
pub fn bridge_status(kind: BridgeFailureKind) -> StatusCode {
    use BridgeFailureKind as K;
    match kind {
        K::ChatwootNotFound | K::ChatwootInvalid => StatusCode::BAD_REQUEST,
        K::ChatwootUnauthorized => StatusCode::UNAUTHORIZED,
        K::ChatwootForbidden => StatusCode::FORBIDDEN,
        K::ChatwootTimeout | K::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        K::ChatwootUnreachable
        | K::ChatwootOther
        | K::GatewayUnreachable
        | K::GatewayRejected
        | K::GatewayNotFound
        | K::GatewayError => StatusCode::BAD_GATEWAY,
    }
}

impl From<ChatwootError> for ApiError {
    fn from(e: ChatwootError) -> Self {
        match e {
            ChatwootError::Invalid(detail) => Self::invalid_body(detail),
            ChatwootError::NoIntegration(wording) => Self::NotFound(wording),
            ChatwootError::Bridge(failure) => Self::Bridge(failure),
            other @ (ChatwootError::Storage(_)
            | ChatwootError::Cipher(_)
            | ChatwootError::State(_)) => Self::internal(other),
        }
    }
}

impl From<InstanceError> for ApiError {
    fn from(e: InstanceError) -> Self {
        match e {
            InstanceError::Invalid(message) => Self::BadRequest(message),
            InstanceError::AccountTokenRequired => Self::Forbidden(ACCOUNT_TOKEN_REQUIRED),
            InstanceError::TokenMismatch => Self::Forbidden(TOKEN_INSTANCE_MISMATCH),
            InstanceError::NotFound => Self::NotFound(crate::routes::instance::NOT_FOUND),
            InstanceError::NameTaken => Self::Conflict("Instance name already in use"),
            InstanceError::TokenTaken => Self::Conflict("Token already in use"),
            InstanceError::QuotaExceeded => Self::Forbidden(QUOTA_EXCEEDED),
            InstanceError::DeleteFailed(cause) => {
                log::error!("deleting an instance: {cause}");
                Self::InternalWithMessage(InstanceError::DeleteFailed(cause).to_string())
            }
            InstanceError::Storage(cause) => Self::internal(cause),
        }
    }
}

impl From<MessageError> for ApiError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::Invalid(detail) => Self::invalid_body(detail),
            MessageError::NotConnected => Self::BadRequest(MessageError::NotConnected.to_string()),
            MessageError::Busy(_) => Self::EventsBusy,
            MessageError::Engine(reason) => Self::internal(anyhow::anyhow!(reason)),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::InvalidToken => Self::InvalidToken,
            AccessError::TokenMismatch => Self::Forbidden(TOKEN_INSTANCE_MISMATCH),
            AccessError::NotFound(wording) => Self::NotFound(wording),
            AccessError::Storage(cause) => Self::internal(cause),
        }
    }
}

impl From<WebsocketError> for ApiError {
    fn from(e: WebsocketError) -> Self {
        match e {
            WebsocketError::Invalid(detail) => Self::invalid_body(detail),
            WebsocketError::NotFound => Self::NotFound(crate::routes::instance::NOT_FOUND),
            WebsocketError::Storage(cause) => Self::internal(cause),
        }
    }
}

impl From<ryzeapi_ports::RepoError> for ApiError {
    fn from(e: ryzeapi_ports::RepoError) -> Self {
        Self::internal(e)
    }
}

impl From<DeliverError> for ApiError {
    fn from(e: DeliverError) -> Self {
        match e {
            DeliverError::Full => Self::EventsBusy,
            DeliverError::Stopped => Self::internal(anyhow::anyhow!("the event pump has stopped")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use actix_web::body::MessageBody as _;
    use ryzeapi_domain::text::Limit;
    use ryzeapi_domain::{ChatwootAccountId, ChatwootBaseUrl};
    use ryzeapi_ports::bridge::UNEXPECTED_ANSWER;
    use ryzeapi_ports::{BridgeError, ChatwootFailure};

    fn bridge_error(
        err: &BridgeError,
        ctx: Option<&ActivationContext<'_>>,
        secrets: &Secrets,
    ) -> ApiError {
        ApiError::Bridge(describe(err, ctx, secrets))
    }

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
                ApiError::Bridge(BridgeFailure {
                    kind: BridgeFailureKind::GatewayTimeout,
                    message: "x".into(),
                }),
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
