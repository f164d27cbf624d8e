//! Sending on WhatsApp: `POST /api/message/text/:instance`.

use std::time::Duration;

use ryzeapi_domain::{ConnectionState, Instance, WhatsAppAddress};
use ryzeapi_ports::{EngineError, OutgoingText, SentMessage};
use serde::Deserialize;

use crate::context::Ports;

/// Longest accepted `delay`, milliseconds.
pub const MAX_DELAY_MS: u64 = 30_000;
/// Longest accepted text, bytes.
pub const MAX_TEXT: usize = 65_536;

/// The body of `POST /api/message/text/:instance`, as parsed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendText {
    /// Required: a phone number with country code or a JID.
    pub number: Option<String>,
    /// Required, not blank.
    pub message: Option<String>,
    /// The WhatsApp id of the message replied to.
    pub reply_to: Option<String>,
    /// Milliseconds to wait before sending (presence), at most [`MAX_DELAY_MS`].
    pub delay: Option<u64>,
}

/// A send that follows the rules.
#[derive(Debug, Clone)]
pub struct ValidSend {
    /// The message.
    pub text: OutgoingText,
    /// How long to wait first.
    pub delay: Duration,
}

/// Why a send did not happen; nothing was sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MessageError {
    /// The request breaks a rule (`<field> <reason>`).
    #[error("{0}")]
    Invalid(String),
    /// The instance has no WhatsApp connection.
    #[error("Instance is not connected to WhatsApp")]
    NotConnected,
    /// The server could not take the send's outgoing event in time.
    #[error("{0}")]
    Busy(String),
    /// The engine failed.
    #[error("{0}")]
    Engine(String),
}

impl From<EngineError> for MessageError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NotConnected => Self::NotConnected,
            EngineError::Invalid(reason) => Self::Invalid(reason),
            EngineError::Busy(reason) => Self::Busy(reason),
            EngineError::Failed(reason) => Self::Engine(reason),
        }
    }
}

impl SendText {
    /// Applies the rules.
    ///
    /// # Errors
    /// [`MessageError::Invalid`].
    pub fn validate(self) -> Result<ValidSend, MessageError> {
        let invalid = |e: &dyn std::fmt::Display| MessageError::Invalid(e.to_string());
        let number = self
            .number
            .ok_or_else(|| MessageError::Invalid("number is required".into()))?;
        let to = WhatsAppAddress::parse_field("number", &number).map_err(|e| invalid(&e))?;
        let text = self
            .message
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| MessageError::Invalid("message is required".into()))?;
        if text.len() > MAX_TEXT {
            return Err(MessageError::Invalid(format!(
                "message must be at most {MAX_TEXT} bytes"
            )));
        }
        let delay = self.delay.unwrap_or(0);
        if delay > MAX_DELAY_MS {
            return Err(MessageError::Invalid(format!(
                "delay must be at most {MAX_DELAY_MS} ms"
            )));
        }
        Ok(ValidSend {
            text: OutgoingText {
                to: to.as_str().to_owned(),
                text,
                reply_to: self.reply_to.filter(|r| !r.is_empty()),
            },
            delay: Duration::from_millis(delay),
        })
    }
}

/// Whether the instance can send now.
///
/// # Errors
/// [`MessageError::NotConnected`].
pub fn ensure_connected(ports: &Ports, instance: &Instance) -> Result<(), MessageError> {
    if ports.engine.state(&instance.name) == ConnectionState::Connected {
        Ok(())
    } else {
        Err(MessageError::NotConnected)
    }
}

/// Sends the text through the engine.
///
/// # Errors
/// Any [`MessageError`] but `Invalid` for the body's rules.
pub fn send(
    ports: &Ports,
    instance: &Instance,
    send: &ValidSend,
) -> Result<SentMessage, MessageError> {
    Ok(ports.engine.send_text(&instance.name, &send.text)?)
}
