//! `POST /api/chatwoot/set/:instance`: activate or repair the integration
//! (use case: `ryzeapi_core::chatwoot::activate`).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::chatwoot::{activate, SetBody};
use serde_json::json;

use super::INSTANCE_NOT_FOUND;
use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::state::{blocking, AppState};

/// 201 with the bridge integration id, or the classified failure.
///
/// # Errors
/// 503 module off, 401/403/404/429, 400/413 body, bridge failures, 500.
pub async fn set(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let module = state.module()?.clone();
    let instance = request_instance(&req, &state, &path, INSTANCE_NOT_FOUND).await?;
    let body: SetBody = read_json(payload, state.max_body_bytes).await?;
    let input = body.validate(instance.name.as_str())?;
    let ports = state.ports.clone();
    let name = instance.name.to_string();
    let integration = blocking(move || Ok(activate(&ports, &module, &instance, input)?)).await?;
    Ok(HttpResponse::Created().json(json!({
        "instance": name,
        "status": integration.status().as_str(),
        "bridge_integration_id": integration.bridge_integration_id,
        "message": "chatwoot integration activated",
    })))
}
