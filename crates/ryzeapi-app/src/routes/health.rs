//! `GET /health`: 200 once the database answers (`ok`, or `degraded` with
//! the reasons while the event pump retries or events are set aside), 503
//! otherwise.

use actix_web::{web, HttpResponse};
use ryzeapi_core::health;
use serde_json::json;

use crate::state::{blocking, AppState};

/// Reports readiness, the database, the event flow and whether the Chatwoot
/// module is on.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let ports = state.ports.clone();
    let checked = blocking(move || Ok(health::storage(&ports)?)).await;
    let module = if state.module.is_some() {
        "enabled"
    } else {
        "disabled"
    };
    match checked {
        Ok(health::StorageHealth { set_aside }) => {
            let mut reasons = Vec::new();
            if let Some(failure) = state.hubs.stats.failure() {
                reasons.push(format!(
                    "the event pump is retrying (events wait in its queue): {failure}"
                ));
            }
            if set_aside > 0 {
                reasons.push(format!(
                    "{set_aside} event(s) the log refused are set aside in set_aside_events; see docs/operations.md"
                ));
            }
            let mut events = state.hubs.stats.snapshot();
            events["setAside"] = json!(set_aside);
            HttpResponse::Ok().json(json!({
                "status": if reasons.is_empty() { "ok" } else { "degraded" },
                "reasons": reasons,
                "database": "ok",
                "chatwootModule": module,
                "version": env!("CARGO_PKG_VERSION"),
                "events": events,
            }))
        }
        Err(e) => {
            log::error!("health check: database unavailable: {e:?}");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "reasons": ["the database does not answer"],
                "database": "unavailable",
                "chatwootModule": module,
                "version": env!("CARGO_PKG_VERSION"),
            }))
        }
    }
}
