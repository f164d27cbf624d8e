//! `GET /api/chatwoot/list/:instance`: the local row refreshed from the
//! bridge (use case: `ryzeapi_core::chatwoot::live_view`).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_core::chatwoot::live_view;

use super::INSTANCE_NOT_FOUND;
use crate::auth::request_instance;
use crate::error::ApiError;
use crate::state::{blocking, AppState};
use crate::views;

/// 200 with the integration (never its API token).
///
/// # Errors
/// 503 module off, 401/403/404/429, 500.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let module = state.module()?.clone();
    let instance = request_instance(&req, &state, &path, INSTANCE_NOT_FOUND).await?;
    let ports = state.ports.clone();
    let view_instance = instance.clone();
    let view = blocking(move || Ok(live_view(&ports, &module, &instance)?)).await?;
    let mut body = views::integration(&view_instance, &view.integration);
    body["live"] = view.live.into();
    body["stream"] = views::stream(
        view.stream.as_ref(),
        state.hubs.bridge.is_connected(view_instance.id.as_str()),
    );
    Ok(HttpResponse::Ok().json(body))
}
