//! What the use cases work with: one bundle of the port handles, the
//! Chatwoot module's switch, and what they tell the transports.

use std::fmt;
use std::sync::Arc;

use ryzeapi_domain::{Instance, InstanceId};
use ryzeapi_ports::{
    BridgeClient, Clock, EventLog, Repository, SecretCipher, TokenService, WhatsAppEngine,
};

/// What the use cases tell the transports about, so that sockets and caches
/// follow the stored state. Implemented by the app over its socket hubs.
pub trait Notifier: Send + Sync {
    /// The instance's event stream was opened anew: a connected bridge starts over.
    fn stream_restarted(&self, instance: &InstanceId);
    /// The instance's event stream was closed with its integration.
    fn stream_removed(&self, instance: &InstanceId);
    /// The instance was deleted: its sockets close and nothing remembers it.
    fn instance_deleted(&self, instance: &Instance);
    /// The instance's public socket settings changed: its clients follow them.
    fn websocket_changed(&self, instance: &Instance);
}

/// Tells nobody (tests, one-shot commands).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Notifier for Silent {
    fn stream_restarted(&self, _: &InstanceId) {}
    fn stream_removed(&self, _: &InstanceId) {}
    fn instance_deleted(&self, _: &Instance) {}
    fn websocket_changed(&self, _: &Instance) {}
}

/// Every port handle a use case may need, in one bundle (cheap to clone).
#[derive(Clone)]
pub struct Ports {
    /// Accounts, instances, integrations.
    pub repo: Arc<dyn Repository>,
    /// The durable event log and command results.
    pub log: Arc<dyn EventLog>,
    /// Encryption at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// Tokens, ids, digests.
    pub tokens: Arc<dyn TokenService>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// WhatsApp.
    pub engine: Arc<dyn WhatsAppEngine>,
    /// The transports' side of state changes.
    pub notify: Arc<dyn Notifier>,
}

/// The service token shared with the bridge. `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServiceToken(String);

impl ServiceToken {
    /// Wraps the token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token, for the places that need it (authentication, redaction).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceToken(<redacted>)")
    }
}

/// The Chatwoot module while it is on.
#[derive(Clone)]
pub struct ChatwootModule {
    /// The bridge's HTTP API.
    pub bridge: Arc<dyn BridgeClient>,
    /// The token the bridge presents on the internal socket (and must never quote).
    pub service_token: ServiceToken,
    /// The URL the bridge uses to reach this server.
    pub server_url: String,
}
