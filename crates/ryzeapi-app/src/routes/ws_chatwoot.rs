//! `GET /ws/chatwoot/:instance`: the bridge's socket (protocol
//! `ryzeapi.bridge.v1`, `docs/bridge-protocol.md`). Registered only while the
//! module is on; authenticated only by `BRIDGE_TOKEN` as a Bearer token.

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_adapters::crypto::secrets_equal;
use ryzeapi_core::access;

use crate::error::ApiError;
use crate::events::bridge_session;
use crate::state::{blocking, AppState};

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Upgrades the bridge's connection after checking its token and the instance.
///
/// # Errors
/// 401 without the bridge token, 404 unknown instance or no integration.
pub async fn connect(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let module = state.module()?.clone();
    let token = bearer(&req).ok_or(ApiError::BridgeTokenRequired)?;
    if !secrets_equal(token, module.service_token.expose()) {
        return Err(ApiError::InvalidToken.into());
    }
    let (ports, name) = (state.ports.clone(), path.into_inner());
    let instance = blocking(move || Ok(access::bridge_instance(&ports, &name)?)).await?;
    let (response, session, stream) = crate::ws_handshake::upgrade(&req, body)?;
    let ctx = bridge_session::BridgeContext {
        ports: state.ports.clone(),
        hub: state.hubs.bridge.clone(),
        stats: state.hubs.stats.clone(),
        limits: state.socket,
    };
    actix_web::rt::spawn(bridge_session::run(ctx, instance, session, stream));
    Ok(response)
}
