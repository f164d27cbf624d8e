//! The Chatwoot module's use cases: activate (set, and inline at instance
//! creation), the live view of an integration, deactivate, and the teardown
//! on the bridge that deleting an instance does.
//!
//! Whatever the bridge says is quoted with the secrets it must not reveal
//! ([`Secrets`]): the Chatwoot API token (given with the request, or opened
//! from the row where the bridge speaks about a stored integration) and the
//! service token. A failure of the bridge becomes a [`BridgeFailure`]: what
//! kind of failure it is and, in words a person acts on, what to fix
//! (`docs/chatwoot-errors.md`); that message is what an answer shows and what
//! the integration stores as `last_error`.

use std::time::Duration;

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::text::Limit;
use ryzeapi_domain::{
    ApiToken, ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, InboxName, Instance,
    Integration, IntegrationFlags, IntegrationStatus, Timestamp,
};
use ryzeapi_ports::{
    api_token_context, ActivateRequest, BridgeError, ChatwootFailure, CipherError, RepoError,
    StoredIntegration, StreamPosition,
};
use serde::Deserialize;

use crate::context::{ChatwootModule, Ports};
use crate::secrets::{Secrets, DETAIL_CHARS};

/// 404 of the module's read routes when the instance has no integration.
pub const NO_INTEGRATION: &str = "no chatwoot integration for this instance";
/// 404 of the module's delete route when the instance has no integration.
pub const NO_INTEGRATION_TO_DELETE: &str = "no chatwoot integration to delete";

/// The body of `POST /api/chatwoot/set/:instance` (and, renamed, the inline
/// block of `POST /api/instance/new`), as parsed: every field optional, the
/// rules applied by [`SetBody::validate`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetBody {
    /// Required.
    pub chatwoot_base_url: Option<String>,
    /// Required.
    pub chatwoot_account_id: Option<i64>,
    /// Required; a secret.
    pub chatwoot_api_token: Option<String>,
    /// Default `WhatsApp - <instance>`.
    pub inbox_name: Option<String>,
    /// Default false.
    pub sign_messages: Option<bool>,
    /// Default false.
    pub ignore_groups: Option<bool>,
    /// Default false.
    pub start_as_pending: Option<bool>,
    /// Default false.
    pub reopen_resolved: Option<bool>,
}

/// A validated activation request.
#[derive(Debug, Clone)]
pub struct SetInput {
    /// The settings.
    pub settings: ChatwootSettings,
    /// The Chatwoot token.
    pub api_token: ApiToken,
}

impl SetBody {
    /// Validates the body for the instance named `instance`.
    ///
    /// # Errors
    /// [`ChatwootError::Invalid`] with `<field> <reason>`.
    pub fn validate(self, instance: &str) -> Result<SetInput, ChatwootError> {
        let invalid = |e: ryzeapi_domain::ValidationError| ChatwootError::Invalid(e.to_string());
        let base_url = ChatwootBaseUrl::parse(self.chatwoot_base_url.as_deref().unwrap_or(""))
            .map_err(invalid)?;
        let account_id = ChatwootAccountId::parse(
            self.chatwoot_account_id
                .ok_or_else(|| ChatwootError::Invalid("chatwootAccountId is required".into()))?,
        )
        .map_err(invalid)?;
        let api_token =
            ApiToken::parse(self.chatwoot_api_token.as_deref().unwrap_or("")).map_err(invalid)?;
        let inbox_name = match self.inbox_name.as_deref() {
            None => InboxName::default_for(instance),
            Some(name) => InboxName::parse(name).map_err(invalid)?,
        };
        Ok(SetInput {
            settings: ChatwootSettings {
                base_url,
                account_id,
                inbox_name,
                flags: IntegrationFlags {
                    sign_messages: self.sign_messages.unwrap_or(false),
                    ignore_groups: self.ignore_groups.unwrap_or(false),
                    start_as_pending: self.start_as_pending.unwrap_or(false),
                    reopen_resolved: self.reopen_resolved.unwrap_or(false),
                },
            },
            api_token,
        })
    }
}

/// What kind of failure a bridge call ended in; each has one documented
/// answer (`docs/chatwoot-errors.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeFailureKind {
    /// Chatwoot said the account or endpoint does not exist.
    ChatwootNotFound,
    /// Chatwoot refused the request as invalid.
    ChatwootInvalid,
    /// Chatwoot refused the API token.
    ChatwootUnauthorized,
    /// The token lacks rights on the account.
    ChatwootForbidden,
    /// The bridge could not reach Chatwoot.
    ChatwootUnreachable,
    /// Chatwoot did not answer the bridge in time.
    ChatwootTimeout,
    /// Chatwoot failed otherwise.
    ChatwootOther,
    /// The bridge could not be reached.
    GatewayUnreachable,
    /// The bridge did not answer in time.
    GatewayTimeout,
    /// The bridge refused the service token.
    GatewayRejected,
    /// The bridge does not know the integration.
    GatewayNotFound,
    /// The bridge failed or answered something unusable.
    GatewayError,
}

/// A bridge failure, classified, with the message that says what to fix
/// (every text of the bridge's in it quoted with the secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BridgeFailure {
    /// The kind.
    pub kind: BridgeFailureKind,
    /// The message.
    pub message: String,
}

/// What the messages of an activation's failure refer to.
#[derive(Debug, Clone, Copy)]
pub struct ActivationContext<'a> {
    /// The Chatwoot base URL the user gave.
    pub base_url: &'a ChatwootBaseUrl,
    /// The Chatwoot account id the user gave.
    pub account_id: ChatwootAccountId,
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

/// Classifies a bridge failure and words it (`docs/chatwoot-errors.md`);
/// every text of the bridge's in it is quoted with `secrets`.
pub fn describe(
    err: &BridgeError,
    ctx: Option<&ActivationContext<'_>>,
    secrets: &Secrets,
) -> BridgeFailure {
    use BridgeFailureKind as K;
    let (kind, message) = match err {
        BridgeError::Chatwoot {
            failure, detail, ..
        } => {
            let detail = secrets.quote_detail(detail);
            let url = ctx.map_or_else(String::new, |c| c.base_url.to_string());
            let account = ctx.map_or_else(String::new, |c| c.account_id.to_string());
            match failure {
                ChatwootFailure::NotFound => (
                    K::ChatwootNotFound,
                    format!("Chatwoot account or endpoint not found — verify chatwootBaseUrl ({url}) and chatwootAccountId ({account}). Detail: {detail}"),
                ),
                ChatwootFailure::Invalid => (
                    K::ChatwootInvalid,
                    format!("Chatwoot rejected the request as invalid — verify inboxName and the integration settings. Detail: {detail}"),
                ),
                ChatwootFailure::Unauthorized => (
                    K::ChatwootUnauthorized,
                    format!("Chatwoot rejected the API token — verify chatwootApiToken. Detail: {detail}"),
                ),
                ChatwootFailure::Forbidden => (
                    K::ChatwootForbidden,
                    format!("Chatwoot denied the request — verify the API token has admin scope on account {account}. Detail: {detail}"),
                ),
                ChatwootFailure::Unreachable => (
                    K::ChatwootUnreachable,
                    format!("Chatwoot host unreachable from the integration gateway — verify chatwootBaseUrl ({url}) is reachable from the bridge. Detail: {detail}"),
                ),
                ChatwootFailure::Timeout => (
                    K::ChatwootTimeout,
                    format!("Chatwoot did not answer the integration gateway in time — verify chatwootBaseUrl ({url}) and retry. Detail: {detail}"),
                ),
                ChatwootFailure::Other => (
                    K::ChatwootOther,
                    format!("Chatwoot failed while the integration gateway provisioned the inbox — retry later. Detail: {detail}"),
                ),
            }
        }
        BridgeError::Unreachable(cause) => (
            K::GatewayUnreachable,
            format!("integration gateway unreachable — verify BRIDGE_URL and that the bridge is running. Detail: {}", secrets.quote_detail(cause)),
        ),
        BridgeError::Timeout(budget) => (
            K::GatewayTimeout,
            format!("integration gateway timed out after {}s — retry; if it persists, check the bridge", secs(*budget)),
        ),
        BridgeError::Rejected(code) => (
            K::GatewayRejected,
            format!("integration gateway rejected the service token (HTTP {code}) — BRIDGE_TOKEN must be the same on the server and the bridge"),
        ),
        BridgeError::NotFound => (
            K::GatewayNotFound,
            "integration gateway error (HTTP 404) — Detail: the bridge does not know this integration".to_owned(),
        ),
        BridgeError::Upstream { status, message } => {
            let message = secrets.quote_detail(message);
            (
                K::GatewayError,
                match status {
                    Some(code) => format!("integration gateway error (HTTP {code}) — Detail: {message}"),
                    None => format!("integration gateway error — Detail: {message}"),
                },
            )
        }
    };
    BridgeFailure { kind, message }
}

/// Why a Chatwoot use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatwootError {
    /// The request breaks a rule (`<field> <reason>`); nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The instance has no integration (the route's wording).
    #[error("{0}")]
    NoIntegration(&'static str),
    /// The bridge failed; for an activation the integration was stored in
    /// `error` with this message.
    #[error(transparent)]
    Bridge(BridgeFailure),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
    /// The token could not be sealed.
    #[error("encryption: {0}")]
    Cipher(#[from] CipherError),
    /// A stored integration broke a rule of the state machine.
    #[error("integration state: {0}")]
    State(#[from] ryzeapi_domain::TransitionError),
}

/// Activates (or repairs) the integration of `instance`. On a bridge failure
/// the row records `error` with the failure's message, and the failure is
/// returned.
///
/// # Errors
/// [`ChatwootError::Bridge`]; `Storage`, `Cipher` or `State`.
pub fn activate(
    ports: &Ports,
    module: &ChatwootModule,
    instance: &Instance,
    input: SetInput,
) -> Result<Integration, ChatwootError> {
    let now = ports.clock.now();
    let sealed = ports
        .cipher
        .seal(input.api_token.expose(), &api_token_context(&instance.id))?;
    let existing = ports
        .repo
        .integration(&instance.id)?
        .map(|stored| stored.integration);
    let request = ActivateRequest {
        instance: instance.name.to_string(),
        ryzeapi_url: module.server_url.clone(),
        settings: input.settings.clone(),
        api_token: input.api_token.clone(),
    };
    let outcome = module.bridge.activate(&request);
    let secrets = Secrets::new(&[input.api_token.expose(), module.service_token.expose()]);
    let (integration, result) = match outcome {
        Ok(remote) => {
            let integration = adopt(existing, instance, &input, &remote, &secrets, now)?;
            (integration.clone(), Ok(integration))
        }
        Err(err) => {
            let ctx = ActivationContext {
                base_url: &input.settings.base_url,
                account_id: input.settings.account_id,
            };
            // One quoted message for the answer, the log line and `last_error`.
            let failure = describe(&err, Some(&ctx), &secrets);
            log::warn!(
                "chatwoot activation of instance '{}' failed: {}",
                instance.name,
                failure
            );
            let integration = match existing {
                Some(mut current) => {
                    current.reconfigure(input.settings.clone(), now);
                    current.fail(&failure.message, now)?;
                    current
                }
                None => Integration::failed(
                    instance.id.clone(),
                    input.settings.clone(),
                    &failure.message,
                    now,
                )?,
            };
            (integration, Err(ChatwootError::Bridge(failure)))
        }
    };
    ports.repo.save_integration(&integration, &sealed)?;
    // Every integration has an active stream; a new one (or one that never
    // had a stream) gets it now, and a bridge connected to an older stream
    // starts over. Concurrent activations open it once.
    if ports.log.open_stream(&instance.id, now)? {
        ports.notify.stream_restarted(&instance.id);
    }
    result
}

fn adopt(
    existing: Option<Integration>,
    instance: &Instance,
    input: &SetInput,
    remote: &RemoteState,
    secrets: &Secrets,
    now: Timestamp,
) -> Result<Integration, ChatwootError> {
    let bad_answer = |e: ryzeapi_domain::TransitionError| {
        ChatwootError::Bridge(describe(
            &BridgeError::Upstream {
                status: None,
                message: e.to_string(),
            },
            None,
            secrets,
        ))
    };
    let remote = RemoteState {
        last_error: secrets.quote(&remote.last_error, Limit::Chars(DETAIL_CHARS)),
        ..remote.clone()
    };
    match existing {
        Some(mut current) => {
            current.reconfigure(input.settings.clone(), now);
            current.apply_activation(&remote, now).map_err(bad_answer)?;
            Ok(current)
        }
        None => Integration::activated(instance.id.clone(), input.settings.clone(), &remote, now)
            .map_err(bad_answer),
    }
}

/// The integration with the bridge's live view applied when the bridge
/// answers; `live` tells whether it did.
#[derive(Debug, Clone)]
pub struct LiveView {
    /// The integration, refreshed when possible.
    pub integration: Integration,
    /// Whether the bridge answered.
    pub live: bool,
    /// Where the event stream stands.
    pub stream: Option<StreamPosition>,
}

/// Reads the integration of `instance` and refreshes it from the bridge
/// (best effort: when the bridge does not answer, the stored row is shown).
///
/// # Errors
/// [`ChatwootError::NoIntegration`]; `Storage`, `State`.
pub fn live_view(
    ports: &Ports,
    module: &ChatwootModule,
    instance: &Instance,
) -> Result<LiveView, ChatwootError> {
    let StoredIntegration {
        mut integration,
        api_token,
    } = ports
        .repo
        .integration(&instance.id)?
        .ok_or(ChatwootError::NoIntegration(NO_INTEGRATION))?;
    if integration.bridge_integration_id.is_empty() {
        // Never accepted by the bridge: there is nothing live to ask about.
        let stream = ports.log.position(&instance.id)?;
        return Ok(LiveView {
            integration,
            live: false,
            stream,
        });
    }
    let now = ports.clock.now();
    let secrets = || {
        Secrets::of_stored(
            ports.cipher.as_ref(),
            &instance.id,
            &api_token,
            &[module.service_token.expose()],
        )
    };
    let (changed, live) = match module.bridge.status(&integration.bridge_integration_id) {
        Ok(remote) => {
            let last_error = if remote.last_error.trim().is_empty() {
                String::new()
            } else {
                secrets().quote(&remote.last_error, Limit::Chars(DETAIL_CHARS))
            };
            match integration.apply_report(remote.status, &last_error, remote.inbox_id, now) {
                Ok(changed) => (changed, true),
                Err(e) => {
                    log::warn!(
                        "instance '{}': unusable live status from the bridge: {e}",
                        instance.name
                    );
                    (false, false)
                }
            }
        }
        Err(BridgeError::NotFound) => {
            let reason = format!(
                "the integration gateway no longer knows this integration — call POST /api/chatwoot/set/{} to provision it again",
                instance.name
            );
            let changed = integration.status() != IntegrationStatus::Error
                || integration.last_error() != reason;
            if changed {
                integration.fail(&reason, now)?;
            }
            (changed, true)
        }
        Err(e) => {
            log::warn!(
                "instance '{}': live status unavailable, answering from local data: {}",
                instance.name,
                describe(&e, None, &secrets())
            );
            (false, false)
        }
    };
    if changed {
        ports.repo.update_integration_state(&integration)?;
    }
    let stream = ports.log.position(&instance.id)?;
    Ok(LiveView {
        integration,
        live,
        stream,
    })
}

/// Asks the bridge to tear an integration down. A 404 counts as done; any
/// other failure is logged as a warning and the caller carries on.
pub fn teardown_on_bridge(
    ports: &Ports,
    module: &ChatwootModule,
    instance: &Instance,
    stored: &StoredIntegration,
) {
    let integration = &stored.integration;
    if integration.bridge_integration_id.is_empty() {
        return;
    }
    match module.bridge.delete(&integration.bridge_integration_id) {
        Ok(()) | Err(BridgeError::NotFound) => {}
        Err(e) => {
            let secrets = Secrets::of_stored(
                ports.cipher.as_ref(),
                &instance.id,
                &stored.api_token,
                &[module.service_token.expose()],
            );
            log::warn!(
                "instance '{}': bridge teardown of integration {} failed, removing it locally anyway: {}",
                instance.name,
                integration.bridge_integration_id,
                describe(&e, None, &secrets)
            );
        }
    }
}

/// Deactivates the integration of `instance`: bridge teardown (best effort),
/// then the stream and the row.
///
/// # Errors
/// [`ChatwootError::NoIntegration`]; `Storage`.
pub fn deactivate(
    ports: &Ports,
    module: &ChatwootModule,
    instance: &Instance,
) -> Result<(), ChatwootError> {
    let stored = ports
        .repo
        .integration(&instance.id)?
        .ok_or(ChatwootError::NoIntegration(NO_INTEGRATION_TO_DELETE))?;
    teardown_on_bridge(ports, module, instance, &stored);
    ports.log.close_stream(&instance.id)?;
    ports.repo.delete_integration(&instance.id)?;
    ports.notify.stream_removed(&instance.id);
    Ok(())
}
