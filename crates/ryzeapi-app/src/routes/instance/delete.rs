//! `DELETE /api/instance/delete/:instance` (TokenAccount only): removes the
//! instance and everything attached, tearing the integration down on the
//! bridge first (best effort).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::NOT_FOUND;
use crate::auth::{authenticate, instance_for};
use crate::chatwoot::teardown_on_bridge;
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
    let shared = state.get_ref().clone();
    blocking(move || {
        let integration = shared.repo.integration(&instance.id).map_err(|e| {
            log::error!("deleting instance '{}': {e}", instance.name);
            ApiError::InternalWithMessage("Failed to delete instance: storage unavailable".into())
        })?;
        match (integration, shared.module.as_ref()) {
            (Some(stored), Some(module)) => teardown_on_bridge(&shared, module, &instance, &stored),
            (Some(_), None) => log::warn!(
                "instance '{}' is deleted while the chatwoot module is off: its inbox stays in Chatwoot",
                instance.name
            ),
            _ => {}
        }
        match shared.repo.delete_instance(&instance.id) {
            Ok(true) => {
                shared.hubs.deletions.note();
                shared.hubs.bridge.remove(instance.id.as_str());
                shared.hubs.public.close_instance(instance.id.as_str());
                shared.engine.forget(&instance.name);
                Ok(())
            }
            Ok(false) => Err(ApiError::NotFound(NOT_FOUND)),
            Err(e) => {
                log::error!("deleting instance '{}': {e}", instance.name);
                Err(ApiError::InternalWithMessage(
                    "Failed to delete instance: storage unavailable".into(),
                ))
            }
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Instance deleted",
        "instance": {"status": "deleted"},
    })))
}
