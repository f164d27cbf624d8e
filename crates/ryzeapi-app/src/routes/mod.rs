//! The HTTP routes, one handler per file.

pub mod chatwoot;
pub mod health;
pub mod instance;
pub mod ws_chatwoot;

use actix_web::{web, HttpResponse};
use serde_json::json;

/// Registers every route. `/ws/chatwoot/{instance}` exists only while the module is on.
pub fn configure(cfg: &mut web::ServiceConfig, module_on: bool) {
    cfg.route("/health", web::get().to(health::health))
        .route(
            "/api/instance/new",
            web::post().to(instance::create::create),
        )
        .route("/api/instance/list", web::get().to(instance::list::list))
        .route(
            "/api/instance/delete/{instance}",
            web::delete().to(instance::delete::delete),
        )
        .route(
            "/api/chatwoot/set/{instance}",
            web::post().to(chatwoot::set::set),
        )
        .route(
            "/api/chatwoot/list/{instance}",
            web::get().to(chatwoot::list::list),
        )
        .route(
            "/api/chatwoot/delete/{instance}",
            web::delete().to(chatwoot::delete::delete),
        );
    if module_on {
        cfg.route(
            "/ws/chatwoot/{instance}",
            web::get().to(ws_chatwoot::connect),
        );
    }
}

/// The answer to an unknown route.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(json!({"success": false, "error": {"message": "Route not found"}}))
}
