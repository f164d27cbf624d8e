//! [`HttpBridgeClient`]: the bridge's HTTP API (`docs/bridge-api.md`) on ureq,
//! with the paths and bodies of [`ryzeapi_protocol::http`].
//!
//! Every call has a connect timeout and an overall budget of its own, sends
//! `Authorization: Bearer <BRIDGE_TOKEN>`, follows no redirect, reads at most
//! 1 MiB of answer, and classifies every outcome into a [`BridgeError`]:
//! cannot connect → `Unreachable`; budget spent → `Timeout`; 5xx, garbage or
//! an unexpected status → `Upstream`; the bridge's classified Chatwoot
//! failures → `Chatwoot`; 404 on status/delete → `NotFound`.
//!
//! The bridge's own texts (an error's `message` and `detail`, the body of an
//! answer that is not an error object, `last_error`) are passed on whole,
//! never cut here: only the caller knows every secret they might repeat, and
//! a text must be redacted before it is cut (`ryzeapi_domain::text::quote`),
//! or a secret straddling the cut would survive in part.

use std::fmt;
use std::time::Duration;

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::IntegrationStatus;
use ryzeapi_ports::{ActivateRequest, BridgeClient, BridgeError, ChatwootFailure};
use ryzeapi_protocol::http::{self, ErrorBody, ErrorKind, Integration, MAX_ANSWER_BYTES};
use ureq::http::Response;
use ureq::Body;

pub use ryzeapi_ports::bridge::UNEXPECTED_ANSWER;

/// Connect timeout and per-call budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeTimeouts {
    /// Establishing the connection (DNS, TCP, TLS).
    pub connect: Duration,
    /// The whole activate call.
    pub activate: Duration,
    /// The whole status call.
    pub status: Duration,
    /// The whole delete call.
    pub delete: Duration,
}

impl Default for BridgeTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            activate: Duration::from_secs(60),
            status: Duration::from_secs(10),
            delete: Duration::from_secs(30),
        }
    }
}

/// The bridge client over HTTP.
pub struct HttpBridgeClient {
    agent: ureq::Agent,
    base_url: String,
    authorization: String,
    timeouts: BridgeTimeouts,
}

impl fmt::Debug for HttpBridgeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpBridgeClient")
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl HttpBridgeClient {
    /// A client for the bridge at `base_url` authenticating with `token`.
    pub fn new(base_url: &str, token: &str, timeouts: BridgeTimeouts) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(timeouts.connect))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ryzeapi/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
            base_url: base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Bearer {token}"),
            timeouts,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a body-less request within `budget`; the 2xx status and body,
    /// or the classified failure (a 404 meaning "integration unknown").
    fn call(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        budget: Duration,
    ) -> Result<(u16, String), BridgeError> {
        let mut response = request
            .header("Authorization", &self.authorization)
            .config()
            .timeout_global(Some(budget))
            .build()
            .call()
            .map_err(|e| transport_error(e, budget))?;
        let status = response_status(&response);
        let body = read_body(&mut response, budget)?;
        if (200..300).contains(&status) {
            Ok((status, body))
        } else {
            Err(classify_failure(status, &body, true))
        }
    }
}

fn transport_error(e: ureq::Error, budget: Duration) -> BridgeError {
    use std::io::ErrorKind;
    use ureq::Error as E;
    use ureq::Timeout as T;
    match e {
        E::Timeout(T::Connect | T::Resolve) => {
            BridgeError::Unreachable("connection timed out".into())
        }
        E::Timeout(_) => BridgeError::Timeout(budget),
        E::HostNotFound => BridgeError::Unreachable("host not found".into()),
        E::ConnectionFailed => BridgeError::Unreachable("connection failed".into()),
        E::Io(io) if io.kind() == ErrorKind::TimedOut => BridgeError::Timeout(budget),
        E::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::NotConnected
                    | ErrorKind::AddrNotAvailable
            ) =>
        {
            BridgeError::Unreachable(io.to_string())
        }
        E::Tls(_) | E::Rustls(_) | E::TlsRequired => {
            BridgeError::Unreachable(format!("TLS failure: {e}"))
        }
        other => BridgeError::Upstream {
            status: None,
            message: other.to_string(),
        },
    }
}

fn read_body(response: &mut Response<Body>, budget: Duration) -> Result<String, BridgeError> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_string()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => BridgeError::Upstream {
                status: Some(response_status(response)),
                message: format!("answer larger than {MAX_ANSWER_BYTES} bytes"),
            },
            other => transport_error(other, budget),
        })
}

fn response_status(response: &Response<Body>) -> u16 {
    response.status().as_u16()
}

/// What a non-2xx answer means. `not_found_is_gone`: a plain 404 means the
/// integration is unknown (status, delete) rather than a broken bridge.
fn classify_failure(status: u16, body: &str, not_found_is_gone: bool) -> BridgeError {
    let parsed = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .map(|e| e.error);
    if let Some(err) = &parsed {
        let failure = match err.kind {
            ErrorKind::ChatwootUnauthorized => Some(ChatwootFailure::Unauthorized),
            ErrorKind::ChatwootForbidden => Some(ChatwootFailure::Forbidden),
            ErrorKind::ChatwootNotFound => Some(ChatwootFailure::NotFound),
            ErrorKind::ChatwootInvalid => Some(ChatwootFailure::Invalid),
            ErrorKind::ChatwootUnreachable => Some(ChatwootFailure::Unreachable),
            ErrorKind::ChatwootTimeout => Some(ChatwootFailure::Timeout),
            ErrorKind::ChatwootError => Some(ChatwootFailure::Other),
            ErrorKind::Other(_) => None,
        };
        if let Some(failure) = failure {
            let detail = if err.detail.is_empty() {
                err.message.clone()
            } else {
                err.detail.clone()
            };
            return BridgeError::Chatwoot {
                failure,
                status: err.chatwoot_status,
                detail,
            };
        }
    }
    match status {
        404 if not_found_is_gone => BridgeError::NotFound,
        401 | 403 => BridgeError::Rejected(status),
        _ => BridgeError::Upstream {
            status: Some(status),
            message: match parsed {
                Some(err) if !err.message.is_empty() => err.message,
                _ => summarise(body),
            },
        },
    }
}

/// The message for an answer that is not an error object: the whole body
/// after [`UNEXPECTED_ANSWER`] (whoever quotes it redacts, then cuts it), or
/// `empty answer`.
fn summarise(body: &str) -> String {
    if body.chars().all(|c| c.is_whitespace() || c.is_control()) {
        "empty answer".into()
    } else {
        format!("{UNEXPECTED_ANSWER}{}", body.trim())
    }
}

fn parse_integration(status: u16, body: &str) -> Result<RemoteState, BridgeError> {
    let wire: Integration = serde_json::from_str(body).map_err(|e| BridgeError::Upstream {
        status: Some(status),
        message: format!("unreadable answer: {e}"),
    })?;
    let parsed_status =
        IntegrationStatus::parse(&wire.status).map_err(|e| BridgeError::Upstream {
            status: Some(status),
            message: format!("unreadable answer: {e}"),
        })?;
    if wire.id.trim().is_empty() {
        return Err(BridgeError::Upstream {
            status: Some(status),
            message: "unreadable answer: empty integration id".into(),
        });
    }
    let mut last_error = wire.last_error.unwrap_or_default();
    if parsed_status == IntegrationStatus::Error
        && last_error
            .chars()
            .all(|c| c.is_whitespace() || c.is_control())
    {
        "the bridge reported an error without a message".clone_into(&mut last_error);
    }
    Ok(RemoteState {
        bridge_integration_id: wire.id,
        status: parsed_status,
        inbox_id: wire.inbox_id.unwrap_or(0).max(0),
        inbox_name: wire.inbox_name.unwrap_or_default(),
        last_error,
    })
}

impl BridgeClient for HttpBridgeClient {
    fn activate(&self, request: &ActivateRequest) -> Result<RemoteState, BridgeError> {
        let s = &request.settings;
        let wire = http::ActivateRequest {
            instance: request.instance.clone(),
            ryzeapi_url: request.ryzeapi_url.clone(),
            ws_path: http::ws_path(&request.instance),
            chatwoot_base_url: s.base_url.as_str().to_owned(),
            chatwoot_account_id: s.account_id.get(),
            chatwoot_api_token: request.api_token.expose().to_owned(),
            inbox_name: s.inbox_name.as_str().to_owned(),
            sign_messages: s.flags.sign_messages,
            ignore_groups: s.flags.ignore_groups,
            start_as_pending: s.flags.start_as_pending,
            reopen_resolved: s.flags.reopen_resolved,
        };
        let budget = self.timeouts.activate;
        let mut response = self
            .agent
            .post(&self.url(http::ACTIVATE_PATH))
            .header("Authorization", &self.authorization)
            .config()
            .timeout_global(Some(budget))
            .build()
            .send_json(&wire)
            .map_err(|e| transport_error(e, budget))?;
        let status = response_status(&response);
        let body = read_body(&mut response, budget)?;
        if (200..300).contains(&status) {
            parse_integration(status, &body)
        } else {
            Err(classify_failure(status, &body, false))
        }
    }

    fn status(&self, id: &str) -> Result<RemoteState, BridgeError> {
        let request = self.agent.get(&self.url(&http::integration_path(id)));
        let (status, body) = self.call(request, self.timeouts.status)?;
        parse_integration(status, &body)
    }

    fn delete(&self, id: &str) -> Result<(), BridgeError> {
        let request = self.agent.delete(&self.url(&http::integration_path(id)));
        self.call(request, self.timeouts.delete).map(|_| ())
    }
}
