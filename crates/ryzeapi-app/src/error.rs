//! The one place where failures become HTTP answers: [`ApiError`], its
//! `ResponseError`, and the mapping of bridge failures (see `docs/chatwoot-errors.md`).
//!
//! Every error body is `{"success": false, "error": {"message": "..."}}`.
//! 500 bodies are generic; the cause goes to the log.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
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
            Self::ModuleOff => StatusCode::SERVICE_UNAVAILABLE,
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

/// What the error messages of an activation refer to.
#[derive(Debug, Clone)]
pub struct ActivationContext<'a> {
    /// The Chatwoot base URL the user gave.
    pub base_url: &'a ChatwootBaseUrl,
    /// The Chatwoot account id the user gave.
    pub account_id: ChatwootAccountId,
    /// The secret that must never appear in a message.
    pub api_token: &'a str,
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// Maps a bridge failure to the status and message of `docs/chatwoot-errors.md`.
pub fn bridge_error(err: &BridgeError, ctx: Option<&ActivationContext<'_>>) -> ApiError {
    let (status, message) = match err {
        BridgeError::Chatwoot {
            failure, detail, ..
        } => {
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
            format!("integration gateway unreachable — verify BRIDGE_URL and that the bridge is running. Detail: {cause}"),
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
        BridgeError::Upstream { status, message } => (
            StatusCode::BAD_GATEWAY,
            match status {
                Some(code) => format!("integration gateway error (HTTP {code}) — Detail: {message}"),
                None => format!("integration gateway error — Detail: {message}"),
            },
        ),
    };
    let message = match ctx {
        Some(c) if !c.api_token.is_empty() => message.replace(c.api_token, "[redacted]"),
        _ => message,
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
            api_token: "sk_live_abc",
        };
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
            let api = bridge_error(&err, Some(&ctx));
            assert_eq!(api.status_code().as_u16(), code, "{err:?}");
            let text = api.to_string();
            assert!(text.starts_with(prefix), "{text}");
            assert!(!text.contains("sk_live_abc"), "{text}");
        }
    }
}
