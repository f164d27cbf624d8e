//! `POST /api/events/websocket/:instance`: enable, filter or disable the public socket.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::websocket::{self, WebsocketBody};
use serde_json::json;

use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::{blocking, AppState};
use crate::views;

/// 200 `WebSocket configuration saved` (use case: `ryzeapi_core::websocket::configure`).
///
/// # Errors
/// 401/403/404/429, 400/413 body, 500.
pub async fn set(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: WebsocketBody = read_json(payload, state.max_body_bytes).await?;
    let config = body.validate()?;
    let ports = state.ports.clone();
    let instance = blocking(move || Ok(websocket::configure(&ports, &instance, config)?)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "WebSocket configuration saved",
        "data": views::websocket(&instance),
    })))
}
