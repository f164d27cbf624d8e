//! `POST /api/instance/new`: create an instance, with optional inline
//! Chatwoot and WebSocket blocks (use case: `ryzeapi_core::instances::create`).
//! A failing block never prevents the instance from being created; its
//! object in the answer says what failed.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::instances::{self, Block, ChatwootOutcome, NewInstance};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::authenticate;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::{blocking, AppState};
use crate::views;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Core {
    name: Option<String>,
    token: Option<String>,
}

/// The keys of `body` starting with `prefix`, read as the block `T`.
fn block<T: DeserializeOwned>(body: &Map<String, Value>, prefix: &str) -> Block<T> {
    let picked: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if picked.is_empty() {
        return Block::Absent;
    }
    match serde_json::from_value(Value::Object(picked)) {
        Ok(block) => Block::Given(block),
        Err(e) => Block::Unreadable(e.to_string()),
    }
}

fn block_error(message: impl std::fmt::Display) -> Value {
    json!({"status": "error", "error": message.to_string()})
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
    let request = NewInstance {
        name: core.name,
        token: core.token,
        websocket: block(&body, "websocket"),
        chatwoot: block(&body, "chatwoot"),
    };
    let ports = state.ports.clone();
    let module = state.module.clone();
    let created = blocking(move || {
        Ok(instances::create(
            &ports,
            module.as_ref(),
            &account,
            request,
        )?)
    })
    .await?;

    let instance = &created.instance;
    let mut answer = json!({
        "success": true,
        "message": "Instance created",
        "instance": {
            "name": instance.name.as_str(),
            "token": created.token,
            "state": instance.state.as_str(),
            "createdAt": instance.created_at.to_rfc3339(),
            "websocket": views::websocket(instance),
        },
    });
    match &created.chatwoot {
        None => {}
        Some(ChatwootOutcome::Disabled) => answer["chatwoot"] = json!({"status": "disabled"}),
        Some(ChatwootOutcome::Failed(message)) => answer["chatwoot"] = block_error(message),
        Some(ChatwootOutcome::Activated(integration)) => {
            answer["chatwoot"] = json!({
                "status": integration.status().as_str(),
                "bridge_integration_id": integration.bridge_integration_id,
                "chatwoot_inbox_id": integration.inbox_id,
                "chatwoot_inbox_name": integration.inbox_name,
            });
        }
    }
    if let Some(message) = &created.websocket_error {
        answer["websocket"] = block_error(message);
    }
    Ok(HttpResponse::Created().json(answer))
}
