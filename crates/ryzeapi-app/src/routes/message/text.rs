//! `POST /api/message/text/:instance`: send a text through the WhatsApp engine.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::messages::{self, SendText};
use serde_json::json;

use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::{blocking, AppState};

/// 200 `Message sent successfully` with the WhatsApp message id.
///
/// # Errors
/// 401/403/404/429, 400 body or not connected, 503 busy, 500.
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: SendText = read_json(payload, state.max_body_bytes).await?;
    let send = body.validate()?;
    let (ports, target) = (state.ports.clone(), instance.clone());
    blocking(move || Ok(messages::ensure_connected(&ports, &target)?)).await?;
    if !send.delay.is_zero() {
        actix_web::rt::time::sleep(send.delay).await;
    }
    let ports = state.ports.clone();
    let sent = blocking(move || Ok(messages::send(&ports, &instance, &send)?)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Message sent successfully",
        "status": "sent",
        "data": {"messageId": sent.message_id},
    })))
}
