//! `GET /ws/:instance`: the public event socket. TokenAccount or
//! TokenInstance (header or `?token=`); the instance's WebSocket must be enabled.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::request_instance;
use crate::error::ApiError;
use crate::events::public_session;
use crate::routes::instance::NOT_FOUND;
use crate::state::AppState;

/// Upgrades a client after the checks; 400 before the upgrade when disabled.
///
/// # Errors
/// 401/403/404/429, 400 when the WebSocket is not enabled.
pub async fn connect(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    if !instance.websocket.enabled {
        return Err(ApiError::BadRequest(format!(
            "WebSocket is not enabled for this instance. Configure it first using POST /api/events/websocket/{}",
            instance.name
        ))
        .into());
    }
    let (response, session, stream) = crate::ws_handshake::upgrade(&req, body)?;
    let hub = state.hubs.public.clone();
    let instance_id = instance.id.as_str().to_owned();
    let subscription = hub.subscribe(&instance_id, &instance.websocket);
    actix_web::rt::spawn(public_session::run(
        session,
        stream,
        hub,
        instance_id,
        subscription,
        state.socket,
        state.hubs.stats.clone(),
    ));
    Ok(response)
}
