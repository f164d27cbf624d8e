//! `GET /ws/chatwoot/:instance`: the bridge's socket. Registered only while
//! the module is on; authenticated only by `BRIDGE_TOKEN` as a Bearer token.
//!
//! The event stream on it is not served yet: after authentication the
//! server sends a `hello` frame and closes with 1013 (try again later).

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_adapters::crypto::secrets_equal;
use ryzeapi_domain::InstanceName;
use serde_json::json;

use crate::error::ApiError;
use crate::routes::chatwoot::INSTANCE_NOT_FOUND;
use crate::state::{blocking, AppState};

/// The protocol name sent in the `hello` frame.
pub const PROTOCOL: &str = "ryzeapi.bridge.v1";

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
    let token = bearer(&req).ok_or(ApiError::MissingToken)?;
    if !secrets_equal(token, module.bridge_token.expose()) {
        return Err(ApiError::InvalidToken.into());
    }
    let name = InstanceName::parse(&path).map_err(|_| ApiError::NotFound(INSTANCE_NOT_FOUND))?;
    let repo = state.repo.clone();
    let instance = blocking(move || {
        let instance = repo
            .instance_by_name(&name)
            .map_err(ApiError::internal)?
            .ok_or(ApiError::NotFound(INSTANCE_NOT_FOUND))?;
        repo.integration(&instance.id)
            .map_err(ApiError::internal)?
            .ok_or(ApiError::NotFound(
                "no chatwoot integration for this instance",
            ))?;
        Ok(instance)
    })
    .await?;
    let (response, mut session, _stream) = actix_ws::handle(&req, body)?;
    let hello = json!({
        "type": "hello",
        "protocol": PROTOCOL,
        "instance": instance.name.as_str(),
    })
    .to_string();
    actix_web::rt::spawn(async move {
        let _ = session.text(hello).await;
        let _ = session
            .close(Some(actix_ws::CloseReason {
                code: actix_ws::CloseCode::Again,
                description: Some("event stream not available yet".into()),
            }))
            .await;
    });
    Ok(response)
}
