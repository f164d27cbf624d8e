//! The HTTP routes, one handler per file.

pub mod chatwoot;
pub mod dev;
pub mod events;
pub mod health;
pub mod instance;
pub mod message;
pub mod ws_chatwoot;
pub mod ws_public;

use actix_web::{web, HttpResponse};
use serde_json::json;

/// Registers every route. `/ws/chatwoot/{instance}` exists only while the
/// module is on; `/dev/engine/*` only when the development routes are enabled.
pub fn configure(cfg: &mut web::ServiceConfig, module_on: bool, dev_routes: bool) {
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
    cfg.route(
        "/api/events/websocket/{instance}",
        web::post().to(events::websocket_set::set),
    )
    .route(
        "/api/events/getWebsocket/{instance}",
        web::get().to(events::websocket_get::get),
    )
    .route(
        "/api/message/text/{instance}",
        web::post().to(message::text::send),
    )
    .route("/ws/{instance}", web::get().to(ws_public::connect));
    if dev_routes {
        cfg.route(
            "/dev/engine/{instance}/state",
            web::post().to(dev::engine::state),
        )
        .route(
            "/dev/engine/{instance}/messages",
            web::post().to(dev::engine::messages),
        )
        .route(
            "/dev/engine/{instance}/receipt",
            web::post().to(dev::engine::receipt),
        )
        .route(
            "/dev/engine/{instance}/sent",
            web::get().to(dev::engine::sent),
        );
    }
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
