//! The WebSocket handshake of both sockets (`/ws/:instance`,
//! `/ws/chatwoot/:instance`), checked strictly before upgrading.
//!
//! actix-ws accepts any `Upgrade` header that merely contains the letters
//! `websocket` (`notwebsocket`, `websocketx`). Here `Upgrade` must name the
//! token `websocket` (case-insensitive) and no other protocol — the HTTP
//! layer streams a socket's frames only for exactly that value — and
//! `Connection` must carry the token `upgrade` (and not `close`). Every
//! refusal is answered in the app's error envelope.

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::error::ApiError;

/// 400 when `Upgrade` does not name `websocket`.
pub const UPGRADE_REQUIRED: &str =
    "WebSocket handshake required: the Upgrade header must be 'websocket'";
/// 400 when `Upgrade` names other protocols besides `websocket`.
pub const ONLY_WEBSOCKET: &str =
    "WebSocket handshake required: the Upgrade header must name only 'websocket'";
/// 400 when `Connection` does not carry `upgrade`.
pub const CONNECTION_UPGRADE_REQUIRED: &str =
    "WebSocket handshake required: the Connection header must include 'upgrade'";

/// The comma-separated tokens of every `name` header, trimmed, empty ones left out.
fn tokens<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

/// Checks the `Upgrade` and `Connection` headers of a handshake.
///
/// # Errors
/// 400 with [`UPGRADE_REQUIRED`], [`ONLY_WEBSOCKET`] or
/// [`CONNECTION_UPGRADE_REQUIRED`].
pub fn check(headers: &HeaderMap) -> Result<(), ApiError> {
    let upgrade = tokens(headers, &header::UPGRADE);
    if !upgrade.iter().any(|t| t.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::BadRequest(UPGRADE_REQUIRED.to_owned()));
    }
    let exactly_websocket = headers
        .get_all(header::UPGRADE)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.trim().eq_ignore_ascii_case("websocket"));
    if !exactly_websocket || upgrade.iter().any(|t| !t.eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::BadRequest(ONLY_WEBSOCKET.to_owned()));
    }
    let connection = tokens(headers, &header::CONNECTION);
    if !connection.iter().any(|t| t.eq_ignore_ascii_case("upgrade"))
        || connection.iter().any(|t| t.eq_ignore_ascii_case("close"))
    {
        return Err(ApiError::BadRequest(CONNECTION_UPGRADE_REQUIRED.to_owned()));
    }
    Ok(())
}

/// Checks the handshake ([`check`]), then upgrades. The remaining checks
/// of the handshake (version 13, a valid key) are answered in the error
/// envelope too, with actix's status (400, or 426 for another version).
///
/// # Errors
/// The refusal, as an answer.
pub fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(HttpResponse, actix_ws::Session, actix_ws::MessageStream), actix_web::Error> {
    check(req.headers())?;
    actix_ws::handle(req, body).map_err(|e| {
        let refusal = e.error_response();
        let status = refusal.status();
        let mut res = HttpResponse::build(status).json(json!({
            "success": false,
            "error": {"message": format!("WebSocket handshake refused: {e}")}
        }));
        if status == StatusCode::UPGRADE_REQUIRED {
            for name in [header::UPGRADE, header::SEC_WEBSOCKET_VERSION] {
                if let Some(v) = refusal.headers().get(&name) {
                    res.headers_mut().insert(name, v.clone());
                }
            }
        }
        actix_web::error::InternalError::from_response(e, res).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut req = TestRequest::default();
        for (k, v) in pairs {
            req = req.append_header((*k, *v));
        }
        req.to_http_request().headers().clone()
    }

    fn message(pairs: &[(&str, &str)]) -> Option<String> {
        check(&headers(pairs)).err().map(|e| e.to_string())
    }

    #[test]
    fn the_upgrade_token_is_required() {
        let ok = |u: &str, c: &str| message(&[("Upgrade", u), ("Connection", c)]);
        assert_eq!(ok("websocket", "Upgrade"), None);
        assert_eq!(ok("WebSocket", "keep-alive, Upgrade"), None);
        assert_eq!(ok(" websocket ", "upgrade"), None);
        for bad in ["notwebsocket", "websocketx", "web socket", "", "h2c"] {
            assert_eq!(
                ok(bad, "upgrade").as_deref(),
                Some(UPGRADE_REQUIRED),
                "{bad}"
            );
        }
        for listed in ["h2c, websocket", "websocket, websocket/13", "websocket,"] {
            assert_eq!(
                ok(listed, "upgrade").as_deref(),
                Some(ONLY_WEBSOCKET),
                "{listed}"
            );
        }
        for bad in ["keep-alive", "upgraded", "notupgrade", "close, upgrade", ""] {
            assert_eq!(
                ok("websocket", bad).as_deref(),
                Some(CONNECTION_UPGRADE_REQUIRED),
                "{bad}"
            );
        }
        assert_eq!(
            message(&[("Connection", "upgrade")]).as_deref(),
            Some(UPGRADE_REQUIRED)
        );
        assert_eq!(
            message(&[("Upgrade", "websocket")]).as_deref(),
            Some(CONNECTION_UPGRADE_REQUIRED)
        );
        // the token may be on a second Connection line
        assert_eq!(
            message(&[
                ("Upgrade", "websocket"),
                ("Connection", "keep-alive"),
                ("Connection", "Upgrade")
            ]),
            None
        );
    }
}
