//! The bridge port: the server's HTTP calls to the integration gateway.

use std::time::Duration;

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::{ApiToken, ChatwootSettings};

/// How [`BridgeError::Upstream`] starts the message of an answer that is not
/// an error object: the label, then the body as it came (whoever quotes it
/// redacts, then cuts it).
pub const UNEXPECTED_ANSWER: &str = "unexpected answer: ";

/// What an activation carries to the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivateRequest {
    /// The instance's name (the bridge dials `/ws/chatwoot/<instance>`).
    pub instance: String,
    /// The base URL the bridge uses to reach this server.
    pub ryzeapi_url: String,
    /// The user's settings.
    pub settings: ChatwootSettings,
    /// The Chatwoot API token (redacted in `Debug`).
    pub api_token: ApiToken,
}

/// How Chatwoot answered the bridge, as the bridge classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatwootFailure {
    /// Chatwoot said 401: the API token is wrong.
    Unauthorized,
    /// Chatwoot said 403: the token lacks rights on the account.
    Forbidden,
    /// Chatwoot said 404: wrong base URL or account id.
    NotFound,
    /// Chatwoot said 422: the request (e.g. inbox name) was invalid.
    Invalid,
    /// The bridge could not reach Chatwoot.
    Unreachable,
    /// Chatwoot did not answer the bridge in time.
    Timeout,
    /// Any other Chatwoot failure (5xx, unexpected answer).
    Other,
}

/// Why a bridge call failed. Each variant maps to one documented API answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// The bridge reached Chatwoot, which refused or failed.
    #[error("chatwoot failure {failure:?} (status {status:?}): {detail}")]
    Chatwoot {
        /// The classification.
        failure: ChatwootFailure,
        /// Chatwoot's HTTP status, when it answered.
        status: Option<u16>,
        /// Chatwoot's raw text.
        detail: String,
    },
    /// The bridge does not know this integration (404 on status or delete).
    #[error("integration not found on the bridge")]
    NotFound,
    /// The bridge could not be connected to (refused, DNS, TLS).
    #[error("bridge unreachable: {0}")]
    Unreachable(String),
    /// The bridge did not answer within the budget.
    #[error("bridge timed out after {0:?}")]
    Timeout(Duration),
    /// The bridge refused the server's `BRIDGE_TOKEN` (401/403).
    #[error("bridge refused the service token (HTTP {0})")]
    Rejected(u16),
    /// The bridge failed or answered something unusable (5xx, other 4xx, garbage).
    #[error("bridge error (HTTP {status:?}): {message}")]
    Upstream {
        /// The bridge's HTTP status, when there was one.
        status: Option<u16>,
        /// What went wrong, from the bridge's error body or our reading of it.
        message: String,
    },
}

/// The server's client of the bridge's HTTP API (see `docs/bridge-api.md`).
/// Implementations enforce a connect timeout and an overall budget per call.
pub trait BridgeClient: Send + Sync {
    /// Creates or repairs the integration of one instance. Idempotent per instance.
    ///
    /// # Errors
    /// Any [`BridgeError`] but `NotFound`.
    fn activate(&self, request: &ActivateRequest) -> Result<RemoteState, BridgeError>;

    /// Live status of an integration.
    ///
    /// # Errors
    /// Any [`BridgeError`]; `NotFound` when the bridge forgot it.
    fn status(&self, bridge_integration_id: &str) -> Result<RemoteState, BridgeError>;

    /// Tears an integration down (socket closed, inbox deleted).
    ///
    /// # Errors
    /// Any [`BridgeError`]; `NotFound` when already gone.
    fn delete(&self, bridge_integration_id: &str) -> Result<(), BridgeError>;
}
