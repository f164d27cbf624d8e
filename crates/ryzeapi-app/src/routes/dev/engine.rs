//! Connect, disconnect, and inject incoming messages and receipts.

use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

use ryzeapi_adapters::engine_memory::IncomingText;
use ryzeapi_adapters::MemoryEngine;
use serde::Deserialize;
use serde_json::json;

use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::{blocking, AppState};

/// The in-process engine; these routes exist only when it is exposed.
fn dev_engine(state: &AppState) -> Result<Arc<MemoryEngine>, ApiError> {
    state
        .dev_engine
        .clone()
        .ok_or(ApiError::NotFound("Route not found"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    from: String,
    text: String,
    #[serde(default)]
    push_name: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    media_base64: Option<String>,
}

#[derive(Deserialize)]
struct Messages {
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Receipt {
    message_id: String,
    status: String,
    chat: String,
}

#[derive(Deserialize)]
struct Action {
    action: String,
}

/// `POST /dev/engine/{instance}/state` `{"action": "connect"|"disconnect"}`.
///
/// # Errors
/// 401/403/404, 400.
pub async fn state(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: Action = read_json(payload, state.max_body_bytes).await?;
    let engine = dev_engine(&state)?;
    let connect = match body.action.as_str() {
        "connect" => true,
        "disconnect" => false,
        _ => {
            return Err(ApiError::invalid_body(
                "action must be connect or disconnect",
            ))
        }
    };
    blocking(move || {
        if connect {
            engine.connect(&instance.name)
        } else {
            engine.disconnect(&instance.name)
        }?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `POST /dev/engine/{instance}/messages` `{"messages": [{"from", "text", ...}]}`.
///
/// # Errors
/// 401/403/404, 400.
pub async fn messages(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: Messages = read_json(payload, state.max_body_bytes).await?;
    let engine = dev_engine(&state)?;
    // Each message is taken by the pump before the next; the answer lists
    // them all, or fails at the first that was not taken (those before it
    // were).
    let ids = blocking(move || {
        body.messages
            .into_iter()
            .map(|m| {
                engine.inject_text(
                    &instance.name,
                    &IncomingText {
                        from: m.from,
                        push_name: m.push_name,
                        group: m.group,
                        text: m.text,
                        media: m.media_base64.map(|b| {
                            (
                                "image".to_owned(),
                                "https://media.example.com/x.jpg".to_owned(),
                                "image/jpeg".to_owned(),
                                Some(b),
                            )
                        }),
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiError::from)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": {"messageIds": ids}})))
}

/// `POST /dev/engine/{instance}/receipt` `{"messageId", "status", "chat"}`.
///
/// # Errors
/// 401/403/404, 400.
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: Receipt = read_json(payload, state.max_body_bytes).await?;
    let engine = dev_engine(&state)?;
    blocking(move || {
        engine.inject_receipt(&instance.name, &body.message_id, &body.status, &body.chat)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `GET /dev/engine/{instance}/sent`: what the engine sent for the instance.
///
/// # Errors
/// 401/403/404.
pub async fn sent(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use ryzeapi_adapters::engine_memory::Recorded;
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let engine = dev_engine(&state)?;
    let name = instance.name.to_string();
    let sent: Vec<serde_json::Value> = engine
        .recorded()
        .into_iter()
        .filter_map(|r| match r {
            Recorded::Text { instance, message_id, message } if instance == name => Some(json!({
                "kind": "text", "messageId": message_id, "to": message.to, "text": message.text, "replyTo": message.reply_to,
            })),
            Recorded::Media { instance, message_id, message } if instance == name => Some(json!({
                "kind": "media", "messageId": message_id, "to": message.to, "url": message.url, "mediaType": message.media_type,
            })),
            Recorded::Read { instance, chat, message_ids } if instance == name => Some(json!({
                "kind": "read", "chat": chat, "messageIds": message_ids,
            })),
            _ => None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": sent})))
}
