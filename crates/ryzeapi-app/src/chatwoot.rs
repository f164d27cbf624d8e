//! The Chatwoot module's use cases, run on blocking threads: activate (set
//! and inline creation), the live status view, and teardown.
//!
//! Whatever the bridge says is quoted with the secrets it must not reveal
//! ([`Secrets`]): the Chatwoot API token (given with the request, or opened
//! from the row where the bridge speaks about a stored integration) and the
//! service token.

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::text::Limit;
use ryzeapi_domain::{
    ApiToken, ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, InboxName, Instance,
    Integration, IntegrationFlags, IntegrationStatus,
};
use ryzeapi_ports::{
    api_token_context, ActivateRequest, BridgeError, SealedSecret, SecretCipher, StoredIntegration,
};
use serde::Deserialize;

use crate::error::{bridge_error, ActivationContext, ApiError, Secrets, DETAIL_CHARS};
use crate::state::{AppState, Module};

/// The body of `POST /api/chatwoot/set/:instance`.
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
    /// Validates the body for `instance`.
    ///
    /// # Errors
    /// 400 `invalid body: <field> <reason>`.
    pub fn validate(self, instance: &str) -> Result<SetInput, ApiError> {
        let base_url = ChatwootBaseUrl::parse(self.chatwoot_base_url.as_deref().unwrap_or(""))
            .map_err(ApiError::invalid_body)?;
        let account_id = ChatwootAccountId::parse(
            self.chatwoot_account_id
                .ok_or_else(|| ApiError::invalid_body("chatwootAccountId is required"))?,
        )
        .map_err(ApiError::invalid_body)?;
        let api_token = ApiToken::parse(self.chatwoot_api_token.as_deref().unwrap_or(""))
            .map_err(ApiError::invalid_body)?;
        let inbox_name = match self.inbox_name.as_deref() {
            None => InboxName::default_for(instance),
            Some(name) => InboxName::parse(name).map_err(ApiError::invalid_body)?,
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

/// The secrets a text of the bridge about the stored integration of `instance`
/// must not reveal: its Chatwoot API token, opened from `sealed`, and `others`.
/// When the token does not open, [`Secrets::unreadable`] (the texts are withheld).
pub fn stored_secrets(
    cipher: &dyn SecretCipher,
    instance: &ryzeapi_domain::InstanceId,
    sealed: &SealedSecret,
    others: &[&str],
) -> Secrets {
    match cipher.open(sealed, &api_token_context(instance)) {
        Ok(token) => {
            let mut all = vec![token.as_str()];
            all.extend_from_slice(others);
            Secrets::new(&all)
        }
        Err(e) => {
            log::error!(
                "the stored Chatwoot API token of instance {} does not open ({e}): texts from the bridge about it are withheld",
                instance.as_str()
            );
            Secrets::unreadable()
        }
    }
}

/// Activates (or repairs) the integration of `instance`. On a bridge failure
/// the row records `error` with the message, and the classified error is returned.
///
/// # Errors
/// The mapped bridge error; 500 for storage or cipher failures.
pub fn activate(
    state: &AppState,
    module: &Module,
    instance: &Instance,
    input: SetInput,
) -> Result<Integration, ApiError> {
    let now = state.clock.now();
    let sealed = state
        .cipher
        .seal(input.api_token.expose(), &api_token_context(&instance.id))
        .map_err(ApiError::internal)?;
    let existing = state
        .repo
        .integration(&instance.id)
        .map_err(ApiError::internal)?
        .map(|stored| stored.integration);
    let request = ActivateRequest {
        instance: instance.name.to_string(),
        ryzeapi_url: module.ryzeapi_url.clone(),
        settings: input.settings.clone(),
        api_token: input.api_token.clone(),
    };
    let outcome = module.bridge.activate(&request);
    let secrets = Secrets::new(&[input.api_token.expose(), module.bridge_token.expose()]);
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
            let api_error = bridge_error(&err, Some(&ctx), &secrets);
            log::warn!(
                "chatwoot activation of instance '{}' failed: {}",
                instance.name,
                api_error
            );
            let reason = api_error.to_string();
            let integration = match existing {
                Some(mut current) => {
                    current.reconfigure(input.settings.clone(), now);
                    current.fail(&reason, now).map_err(ApiError::internal)?;
                    current
                }
                None => {
                    Integration::failed(instance.id.clone(), input.settings.clone(), &reason, now)
                        .map_err(ApiError::internal)?
                }
            };
            (integration, Err(api_error))
        }
    };
    state
        .repo
        .save_integration(&integration, &sealed)
        .map_err(ApiError::internal)?;
    // Every integration has an active stream; a new one (or one that never
    // had a stream) gets it now, and a bridge connected to an older stream
    // starts over. Concurrent activations open it once.
    if state
        .events
        .open_stream(&instance.id, now)
        .map_err(ApiError::internal)?
    {
        state.hubs.bridge.reset(instance.id.as_str());
    }
    result
}

fn adopt(
    existing: Option<Integration>,
    instance: &Instance,
    input: &SetInput,
    remote: &RemoteState,
    secrets: &Secrets,
    now: ryzeapi_domain::Timestamp,
) -> Result<Integration, ApiError> {
    let bad_answer = |e: ryzeapi_domain::TransitionError| {
        bridge_error(
            &BridgeError::Upstream {
                status: None,
                message: e.to_string(),
            },
            None,
            secrets,
        )
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
pub struct LiveView {
    /// The integration, refreshed when possible.
    pub integration: Integration,
    /// Whether the bridge answered.
    pub live: bool,
    /// Where the event stream stands.
    pub stream: Option<ryzeapi_ports::StreamPosition>,
}

/// Reads the integration of `instance` and refreshes it from the bridge (best effort).
///
/// # Errors
/// 404 `no chatwoot integration for this instance`; 500 storage.
pub fn live_view(
    state: &AppState,
    module: &Module,
    instance: &Instance,
) -> Result<LiveView, ApiError> {
    let StoredIntegration {
        mut integration,
        api_token,
    } = state
        .repo
        .integration(&instance.id)
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound(
            "no chatwoot integration for this instance",
        ))?;
    if integration.bridge_integration_id.is_empty() {
        // Never accepted by the bridge: there is nothing live to ask about.
        let stream = state
            .events
            .position(&instance.id)
            .map_err(ApiError::internal)?;
        return Ok(LiveView {
            integration,
            live: false,
            stream,
        });
    }
    let now = state.clock.now();
    let secrets = || {
        stored_secrets(
            state.cipher.as_ref(),
            &instance.id,
            &api_token,
            &[module.bridge_token.expose()],
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
                integration.fail(&reason, now).map_err(ApiError::internal)?;
            }
            (changed, true)
        }
        Err(e) => {
            log::warn!(
                "instance '{}': live status unavailable, answering from local data: {}",
                instance.name,
                bridge_error(&e, None, &secrets())
            );
            (false, false)
        }
    };
    if changed {
        state
            .repo
            .update_integration_state(&integration)
            .map_err(ApiError::internal)?;
    }
    let stream = state
        .events
        .position(&instance.id)
        .map_err(ApiError::internal)?;
    Ok(LiveView {
        integration,
        live,
        stream,
    })
}

/// Asks the bridge to tear an integration down. A 404 counts as done; any
/// other failure is logged as a warning and the caller carries on.
pub fn teardown_on_bridge(
    state: &AppState,
    module: &Module,
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
            let secrets = stored_secrets(
                state.cipher.as_ref(),
                &instance.id,
                &stored.api_token,
                &[module.bridge_token.expose()],
            );
            log::warn!(
                "instance '{}': bridge teardown of integration {} failed, removing it locally anyway: {}",
                instance.name,
                integration.bridge_integration_id,
                bridge_error(&e, None, &secrets)
            );
        }
    }
}

/// Deactivates the integration of `instance`: bridge teardown (best effort), then the row.
///
/// # Errors
/// 404 `no chatwoot integration to delete`; 500 storage.
pub fn deactivate(state: &AppState, module: &Module, instance: &Instance) -> Result<(), ApiError> {
    let stored = state
        .repo
        .integration(&instance.id)
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound("no chatwoot integration to delete"))?;
    teardown_on_bridge(state, module, instance, &stored);
    state
        .events
        .close_stream(&instance.id)
        .map_err(ApiError::internal)?;
    state
        .repo
        .delete_integration(&instance.id)
        .map_err(ApiError::internal)?;
    state.hubs.bridge.remove(instance.id.as_str());
    Ok(())
}
