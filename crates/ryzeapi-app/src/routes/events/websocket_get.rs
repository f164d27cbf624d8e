//! `GET /api/events/getWebsocket/:instance`: the public socket's settings.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::auth::request_instance;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::AppState;
use crate::views;

/// 200 with the settings.
///
/// # Errors
/// 401/403/404/429, 500.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "WebSocket configuration found",
        "data": views::websocket(&instance),
    })))
}
