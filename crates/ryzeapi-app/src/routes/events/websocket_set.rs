//! `POST /api/events/websocket/:instance`: enable, filter or disable the public socket.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_domain::WebsocketConfig;
use serde::Deserialize;
use serde_json::json;

use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::{blocking, AppState};
use crate::views;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    enabled: Option<bool>,
    events: Option<Vec<String>>,
    media_base64: Option<bool>,
}

/// 200 with the stored settings.
///
/// # Errors
/// 401/403/404/429, 400/413 body, 500.
pub async fn set(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: Body = read_json(payload, state.max_body_bytes).await?;
    let enabled = body
        .enabled
        .ok_or_else(|| ApiError::invalid_body("enabled is required"))?;
    let config = WebsocketConfig::parse(
        enabled,
        &body.events.unwrap_or_default(),
        body.media_base64.unwrap_or(false),
    )
    .map_err(ApiError::invalid_body)?;
    let repo = state.repo.clone();
    let id = instance.id.clone();
    let stored = config.clone();
    let found =
        blocking(move || repo.set_websocket(&id, &stored).map_err(ApiError::internal)).await?;
    if !found {
        return Err(ApiError::NotFound(NOT_FOUND));
    }
    state.hubs.public.reconfigure(instance.id.as_str(), &config);
    instance.websocket = config;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "WebSocket configuration saved",
        "data": views::websocket(&instance),
    })))
}
