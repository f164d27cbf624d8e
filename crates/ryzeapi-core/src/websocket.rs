//! The public socket's settings of an instance:
//! `POST /api/events/websocket/:instance`.

use ryzeapi_domain::{Instance, WebsocketConfig};
use ryzeapi_ports::RepoError;
use serde::Deserialize;

use crate::context::Ports;

/// The body, as parsed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebsocketBody {
    /// Required.
    pub enabled: Option<bool>,
    /// The events to receive; empty or absent: all.
    pub events: Option<Vec<String>>,
    /// Whether media content is inlined as base64.
    pub media_base64: Option<bool>,
}

/// Why the settings were not saved.
#[derive(Debug, thiserror::Error)]
pub enum WebsocketError {
    /// The body breaks a rule (`<field> <reason>`); nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// The instance was deleted meanwhile.
    #[error("Instance not found")]
    NotFound,
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

impl WebsocketBody {
    /// Applies the rules.
    ///
    /// # Errors
    /// [`WebsocketError::Invalid`].
    pub fn validate(self) -> Result<WebsocketConfig, WebsocketError> {
        let enabled = self
            .enabled
            .ok_or_else(|| WebsocketError::Invalid("enabled is required".into()))?;
        WebsocketConfig::parse(
            enabled,
            &self.events.unwrap_or_default(),
            self.media_base64.unwrap_or(false),
        )
        .map_err(|e| WebsocketError::Invalid(e.to_string()))
    }
}

/// Stores the settings; returns the instance with them. Connected public
/// clients follow them (told through the notifier).
///
/// # Errors
/// [`WebsocketError::NotFound`], `Storage`.
pub fn configure(
    ports: &Ports,
    instance: &Instance,
    config: WebsocketConfig,
) -> Result<Instance, WebsocketError> {
    if !ports.repo.set_websocket(&instance.id, &config)? {
        return Err(WebsocketError::NotFound);
    }
    let mut instance = instance.clone();
    instance.websocket = config;
    ports.notify.websocket_changed(&instance);
    Ok(instance)
}
