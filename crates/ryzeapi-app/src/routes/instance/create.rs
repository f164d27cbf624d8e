//! `POST /api/instance/new`: create an instance, with optional inline
//! Chatwoot and WebSocket blocks. A failing block never prevents the
//! instance from being created; its object in the answer says what failed.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_domain::{ConnectionState, Instance, InstanceId, InstanceName, WebsocketConfig};
use ryzeapi_ports::{DuplicateField, RepoError};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::authenticate;
use crate::body::read_json;
use crate::chatwoot::{activate, SetBody};
use crate::error::{ApiError, QUOTA_EXCEEDED};
use crate::state::{blocking, AppState};
use crate::views;

const MIN_CUSTOM_TOKEN: usize = 16;
const MAX_CUSTOM_TOKEN: usize = 256;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Core {
    name: Option<String>,
    token: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatwootBlock {
    chatwoot_enabled: Option<bool>,
    chatwoot_base_url: Option<String>,
    chatwoot_account_id: Option<i64>,
    chatwoot_api_token: Option<String>,
    chatwoot_inbox_name: Option<String>,
    chatwoot_sign_messages: Option<bool>,
    chatwoot_ignore_groups: Option<bool>,
    chatwoot_start_as_pending: Option<bool>,
    chatwoot_reopen_resolved: Option<bool>,
}

impl From<ChatwootBlock> for SetBody {
    fn from(b: ChatwootBlock) -> Self {
        Self {
            chatwoot_base_url: b.chatwoot_base_url,
            chatwoot_account_id: b.chatwoot_account_id,
            chatwoot_api_token: b.chatwoot_api_token,
            inbox_name: b.chatwoot_inbox_name,
            sign_messages: b.chatwoot_sign_messages,
            ignore_groups: b.chatwoot_ignore_groups,
            start_as_pending: b.chatwoot_start_as_pending,
            reopen_resolved: b.chatwoot_reopen_resolved,
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebsocketBlock {
    websocket_enabled: Option<bool>,
    websocket_events: Option<Vec<String>>,
    websocket_media_base64: Option<bool>,
}

/// The keys of `body` starting with `prefix`, as an object of their own.
fn block(body: &Map<String, Value>, prefix: &str) -> Option<Value> {
    let picked: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!picked.is_empty()).then_some(Value::Object(picked))
}

fn block_error(message: impl std::fmt::Display) -> Value {
    json!({"status": "error", "error": message.to_string()})
}

fn custom_token(token: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(token) = token else { return Ok(None) };
    let ok_chars = token.chars().all(|c| c.is_ascii_graphic());
    if !ok_chars || !(MIN_CUSTOM_TOKEN..=MAX_CUSTOM_TOKEN).contains(&token.len()) {
        return Err(ApiError::invalid_body(format!(
            "token must be {MIN_CUSTOM_TOKEN} to {MAX_CUSTOM_TOKEN} visible ASCII characters without spaces"
        )));
    }
    Ok(Some(token))
}

/// 201 with the instance, its TokenInstance, and the blocks' outcomes.
///
/// # Errors
/// 401/403 (TokenInstance, quota)/409/429, 400/413 body, 500.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, "requests", state.rate_limit()).await?;
    let account = caller.account()?.clone();
    if let Err(info) = state.rate.check(
        &format!("create:{}", account.id.as_str()),
        state.creations_per_minute,
    ) {
        actix_web::HttpMessage::extensions_mut(&req).insert(info);
        return Err(ApiError::RateLimited);
    }
    let body: Map<String, Value> = read_json(payload, state.max_body_bytes).await?;
    let core: Core =
        serde_json::from_value(Value::Object(body.clone())).map_err(ApiError::invalid_body)?;
    let name =
        InstanceName::parse(core.name.as_deref().unwrap_or("")).map_err(ApiError::invalid_body)?;
    let custom = custom_token(core.token)?;

    // The WebSocket block: stored with the instance when valid.
    let mut websocket_outcome = None;
    let mut websocket = WebsocketConfig::default();
    if let Some(value) = block(&body, "websocket") {
        match serde_json::from_value::<WebsocketBlock>(value)
            .map_err(ApiError::invalid_body)
            .and_then(|b| {
                WebsocketConfig::parse(
                    b.websocket_enabled.unwrap_or(false),
                    &b.websocket_events.unwrap_or_default(),
                    b.websocket_media_base64.unwrap_or(false),
                )
                .map_err(ApiError::invalid_body)
            }) {
            Ok(config) => websocket = config,
            Err(e) => websocket_outcome = Some(block_error(e)),
        }
    }

    let token = custom.unwrap_or_else(|| state.tokens.generate_token());
    let instance = Instance {
        id: InstanceId::new(state.tokens.generate_id()),
        account_id: account.id.clone(),
        name,
        state: ConnectionState::Disconnected,
        websocket,
        created_at: state.clock.now(),
    };
    let digest = state.tokens.digest(&token);
    let repo = state.repo.clone();
    let stored = instance.clone();
    let max = account.max_instances;
    blocking(move || {
        if repo
            .account_by_token(&digest)
            .map_err(ApiError::internal)?
            .is_some()
        {
            return Err(ApiError::Conflict("Token already in use"));
        }
        repo.create_instance(&stored, &digest, max)
            .map_err(|e| match e {
                RepoError::QuotaExceeded => ApiError::Forbidden(QUOTA_EXCEEDED),
                RepoError::Duplicate(DuplicateField::InstanceName) => {
                    ApiError::Conflict("Instance name already in use")
                }
                RepoError::Duplicate(DuplicateField::Token) => {
                    ApiError::Conflict("Token already in use")
                }
                other => ApiError::internal(other),
            })
    })
    .await?;

    let chatwoot = match block(&body, "chatwoot") {
        None => None,
        Some(value) => Some(inline_chatwoot(&state, &instance, value).await),
    };

    let mut answer = json!({
        "success": true,
        "message": "Instance created",
        "instance": {
            "name": instance.name.as_str(),
            "token": token,
            "state": instance.state.as_str(),
            "createdAt": instance.created_at.to_rfc3339(),
            "websocket": views::websocket(&instance),
        },
    });
    if let Some(chatwoot) = chatwoot {
        answer["chatwoot"] = chatwoot;
    }
    if let Some(ws) = websocket_outcome {
        answer["websocket"] = ws;
    }
    Ok(HttpResponse::Created().json(answer))
}

/// Runs the inline Chatwoot block; every failure becomes `{"status":"error"}`.
async fn inline_chatwoot(state: &web::Data<AppState>, instance: &Instance, value: Value) -> Value {
    let block: ChatwootBlock = match serde_json::from_value(value) {
        Ok(b) => b,
        Err(e) => return block_error(ApiError::invalid_body(e)),
    };
    if block.chatwoot_enabled != Some(true) {
        return json!({"status": "disabled"});
    }
    let module = match state.module() {
        Ok(m) => m.clone(),
        Err(e) => return block_error(e),
    };
    let input = match SetBody::from(block).validate(instance.name.as_str()) {
        Ok(input) => input,
        Err(e) => return block_error(e),
    };
    let shared = state.get_ref().clone();
    let target = instance.clone();
    match blocking(move || activate(&shared, &module, &target, input)).await {
        Ok(integration) => json!({
            "status": integration.status().as_str(),
            "bridge_integration_id": integration.bridge_integration_id,
            "chatwoot_inbox_id": integration.inbox_id,
            "chatwoot_inbox_name": integration.inbox_name,
        }),
        Err(e) => {
            if let ApiError::Internal(cause) = &e {
                log::error!(
                    "inline chatwoot activation of '{}': {cause:#}",
                    instance.name
                );
            }
            block_error(e)
        }
    }
}
