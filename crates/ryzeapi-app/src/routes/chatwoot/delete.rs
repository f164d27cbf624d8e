//! `DELETE /api/chatwoot/delete/:instance`: tear down on the bridge, then
//! locally (use case: `ryzeapi_core::chatwoot::deactivate`).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::chatwoot::deactivate;
use serde_json::json;

use super::INSTANCE_NOT_FOUND;
use crate::auth::request_instance;
use crate::error::ApiError;
use crate::state::{blocking, AppState};

/// 200 `chatwoot integration deactivated`.
///
/// # Errors
/// 503 module off, 401/403/404/429, 500.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = state.module()?.clone();
    let instance = request_instance(&req, &state, &path, INSTANCE_NOT_FOUND).await?;
    let ports = state.ports.clone();
    blocking(move || Ok(deactivate(&ports, &module, &instance)?)).await?;
    Ok(HttpResponse::Ok().json(json!({"message": "chatwoot integration deactivated"})))
}
