//! Instances: one WhatsApp number each, addressed by a unique name.

use std::fmt;

use crate::account::AccountId;
use crate::time::Timestamp;
use crate::values::{ValidationError, EVENT_NAMES};

/// An instance's opaque identifier (stable across renames of nothing: names are fixed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId(String);

impl InstanceId {
    /// Wraps an identifier produced by the server's id generator or read back from storage.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

const MAX_NAME: usize = 64;

/// An instance name: 1 to 64 characters of `A-Z a-z 0-9 _ - .`, starting with
/// a letter or a digit. Names appear in URL paths, so nothing else is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceName(String);

impl InstanceName {
    /// Validates a name.
    ///
    /// # Errors
    /// [`ValidationError`] on `name` when empty, too long, or using other characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "name";
        let text = raw.trim();
        if text.is_empty() {
            return Err(ValidationError::new(FIELD, "is required"));
        }
        if text.len() > MAX_NAME {
            return Err(ValidationError::new(
                FIELD,
                format!("must be at most {MAX_NAME} characters"),
            ));
        }
        let mut chars = text.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !first_ok || !rest_ok {
            return Err(ValidationError::new(
                FIELD,
                "may hold only letters, digits, '_', '-' and '.', and must start with a letter or a digit",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The WhatsApp connection state of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Not connected (the state of a new instance).
    Disconnected,
    /// Connecting to WhatsApp.
    Connecting,
    /// Waiting for a QR code to be scanned.
    QrReady,
    /// Connected and able to send.
    Connected,
    /// The device was logged out and must pair again.
    LoggedOut,
}

impl ConnectionState {
    /// The state as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::QrReady => "qr_ready",
            Self::Connected => "connected",
            Self::LoggedOut => "logged_out",
        }
    }

    /// Reads a stored state.
    ///
    /// # Errors
    /// [`ValidationError`] on `state` for an unknown spelling.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Ok(match raw {
            "disconnected" => Self::Disconnected,
            "connecting" => Self::Connecting,
            "qr_ready" => Self::QrReady,
            "connected" => Self::Connected,
            "logged_out" => Self::LoggedOut,
            _ => {
                return Err(ValidationError::new(
                    "state",
                    format!("unknown state '{raw}'"),
                ))
            }
        })
    }
}

/// The public WebSocket settings of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebsocketConfig {
    /// Whether `GET /ws/:instance` accepts clients.
    pub enabled: bool,
    /// Events pushed to clients; empty means all.
    pub events: Vec<String>,
    /// Whether media is inlined as base64.
    pub media_base64: bool,
}

impl WebsocketConfig {
    /// Validates the settings: every event must be one of [`EVENT_NAMES`];
    /// duplicates are dropped, order kept.
    ///
    /// # Errors
    /// [`ValidationError`] on `events` naming an unknown event.
    pub fn parse(
        enabled: bool,
        events: &[String],
        media_base64: bool,
    ) -> Result<Self, ValidationError> {
        let mut kept: Vec<String> = Vec::with_capacity(events.len());
        for event in events {
            let event = event.trim();
            if !EVENT_NAMES.contains(&event) {
                return Err(ValidationError::new(
                    "events",
                    format!(
                        "contains unknown event '{event}' (known: {})",
                        EVENT_NAMES.join(", ")
                    ),
                ));
            }
            if !kept.iter().any(|e| e == event) {
                kept.push(event.to_owned());
            }
        }
        Ok(Self {
            enabled,
            events: kept,
            media_base64,
        })
    }
}

/// An instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Identifier.
    pub id: InstanceId,
    /// Owning account.
    pub account_id: AccountId,
    /// Unique name.
    pub name: InstanceName,
    /// WhatsApp connection state.
    pub state: ConnectionState,
    /// Public WebSocket settings.
    pub websocket: WebsocketConfig,
    /// When it was created.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        assert_eq!(
            InstanceName::parse(" suporte ").unwrap().as_str(),
            "suporte"
        );
        assert!(InstanceName::parse("Loja_1.a-b").is_ok());
        for bad in ["", "-x", ".x", "a b", "a/b", "é", "a?b"] {
            assert!(InstanceName::parse(bad).is_err(), "{bad}");
        }
        assert!(InstanceName::parse(&"a".repeat(64)).is_ok());
        assert!(InstanceName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn connection_states_round_trip() {
        for s in [
            ConnectionState::Disconnected,
            ConnectionState::Connecting,
            ConnectionState::QrReady,
            ConnectionState::Connected,
            ConnectionState::LoggedOut,
        ] {
            assert_eq!(ConnectionState::parse(s.as_str()).unwrap(), s);
        }
        assert!(ConnectionState::parse("online").is_err());
    }

    #[test]
    fn websocket_events_are_checked_and_deduplicated() {
        let cfg = WebsocketConfig::parse(
            true,
            &[
                "message.exchange".into(),
                "message.exchange".into(),
                "instance.state".into(),
            ],
            false,
        )
        .unwrap();
        assert_eq!(cfg.events, vec!["message.exchange", "instance.state"]);
        let err = WebsocketConfig::parse(true, &["nope".into()], false).unwrap_err();
        assert!(err.to_string().contains("unknown event 'nope'"));
    }
}
