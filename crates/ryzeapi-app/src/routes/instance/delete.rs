//! `DELETE /api/instance/delete/:instance` (TokenAccount only): removes the
//! instance and everything attached, tearing the integration down on the
//! bridge first (use case: `ryzeapi_core::instances::delete`).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::instances;
use serde_json::json;

use super::NOT_FOUND;
use crate::auth::{authenticate, instance_for};
use crate::error::ApiError;
use crate::state::{blocking, AppState};

/// 200 `Instance deleted`.
///
/// # Errors
/// 401/429, 403 TokenInstance, 404 `Instance not found`, 500 `Failed to delete instance: …`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, "requests", state.rate_limit()).await?;
    caller.account()?;
    let instance = instance_for(&state, &caller, &path, NOT_FOUND).await?;
    let ports = state.ports.clone();
    let module = state.module.clone();
    blocking(move || Ok(instances::delete(&ports, module.as_ref(), &instance)?)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Instance deleted",
        "instance": {"status": "deleted"},
    })))
}
