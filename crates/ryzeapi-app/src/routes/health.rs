//! `GET /health`: 200 once the database answers, 503 otherwise.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::{blocking, AppState};

/// Reports readiness, the database and whether the Chatwoot module is on.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let repo = state.repo.clone();
    let database = blocking(move || repo.ping().map_err(crate::error::ApiError::internal)).await;
    let module = if state.module.is_some() {
        "enabled"
    } else {
        "disabled"
    };
    match database {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ok",
            "database": "ok",
            "chatwootModule": module,
            "version": env!("CARGO_PKG_VERSION"),
            "events": state.hubs.stats.snapshot(),
        })),
        Err(e) => {
            log::error!("health check: database unavailable: {e:?}");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "database": "unavailable",
                "chatwootModule": module,
                "version": env!("CARGO_PKG_VERSION"),
            }))
        }
    }
}
