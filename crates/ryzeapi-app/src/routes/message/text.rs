//! `POST /api/message/text/:instance`: send a text through the WhatsApp engine.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use ryzeapi_domain::ConnectionState;
use ryzeapi_ports::{EngineError, OutgoingText};
use serde::Deserialize;
use serde_json::json;

use crate::auth::request_instance;
use crate::body::read_json;
use crate::error::ApiError;
use crate::routes::instance::NOT_FOUND;
use crate::state::{blocking, AppState};

/// Longest accepted `delay`, milliseconds.
const MAX_DELAY_MS: u64 = 30_000;
const MAX_TEXT: usize = 65_536;
/// 400 when the instance has no WhatsApp connection.
pub const NOT_CONNECTED: &str = "Instance is not connected to WhatsApp";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    number: Option<String>,
    message: Option<String>,
    reply_to: Option<String>,
    delay: Option<u64>,
}

/// A phone number (digits, with `+`, spaces, dashes or brackets) or a JID, as a JID.
///
/// # Errors
/// 400 `invalid body: number ...`.
pub fn recipient(number: &str) -> Result<String, ApiError> {
    let number = number.trim();
    let bad = || {
        ApiError::invalid_body(
            "number must be a phone number with country code or a WhatsApp JID (<digits>@s.whatsapp.net, <id>@g.us)",
        )
    };
    if let Some((user, server)) = number.split_once('@') {
        let user_ok = !user.is_empty() && user.chars().all(|c| c.is_ascii_digit() || c == '-');
        return if user_ok && matches!(server, "s.whatsapp.net" | "g.us" | "lid") {
            Ok(number.to_owned())
        } else {
            Err(bad())
        };
    }
    if !number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
    {
        return Err(bad());
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) {
        return Err(bad());
    }
    Ok(format!("{digits}@s.whatsapp.net"))
}

/// 200 `Message sent successfully` with the WhatsApp message id.
///
/// # Errors
/// 401/403/404/429, 400 body or not connected, 500.
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let instance = request_instance(&req, &state, &path, NOT_FOUND).await?;
    let body: Body = read_json(payload, state.max_body_bytes).await?;
    let to = recipient(
        body.number
            .as_deref()
            .ok_or_else(|| ApiError::invalid_body("number is required"))?,
    )?;
    let text = body
        .message
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_body("message is required"))?;
    if text.len() > MAX_TEXT {
        return Err(ApiError::invalid_body(format!(
            "message must be at most {MAX_TEXT} bytes"
        )));
    }
    let delay = body.delay.unwrap_or(0);
    if delay > MAX_DELAY_MS {
        return Err(ApiError::invalid_body(format!(
            "delay must be at most {MAX_DELAY_MS} ms"
        )));
    }
    let engine = state.engine.clone();
    let name = instance.name.clone();
    let connected = blocking(move || Ok(engine.state(&name) == ConnectionState::Connected)).await?;
    if !connected {
        return Err(ApiError::BadRequest(NOT_CONNECTED.into()));
    }
    if delay > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
    }
    let engine = state.engine.clone();
    let name = instance.name.clone();
    let message = OutgoingText {
        to,
        text,
        reply_to: body.reply_to.filter(|r| !r.is_empty()),
    };
    let sent = blocking(move || {
        engine.send_text(&name, &message).map_err(|e| match e {
            EngineError::NotConnected => ApiError::BadRequest(NOT_CONNECTED.into()),
            EngineError::Invalid(reason) => ApiError::invalid_body(reason),
            EngineError::Failed(reason) => ApiError::internal(anyhow::anyhow!(reason)),
            EngineError::Busy(_) => ApiError::EventsBusy,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Message sent successfully",
        "status": "sent",
        "data": {"messageId": sent.message_id},
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients() {
        assert_eq!(
            recipient("+55 (11) 99999-0000").ok().as_deref(),
            Some("5511999990000@s.whatsapp.net")
        );
        assert_eq!(
            recipient("120363-42@g.us").ok().as_deref(),
            Some("120363-42@g.us")
        );
        for bad in [
            "",
            "abc",
            "123",
            "5511999990000@evil.com",
            "@g.us",
            "1234567890123456",
        ] {
            assert!(recipient(bad).is_err(), "{bad}");
        }
    }
}
