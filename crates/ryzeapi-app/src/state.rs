//! What every handler shares: the ports, the module's switch, the limits.

use std::sync::Arc;

use ryzeapi_adapters::MemoryEngine;
use ryzeapi_ports::{
    BridgeClient, Clock, EventLog, Repository, SecretCipher, TokenService, WhatsAppEngine,
};

use crate::error::ApiError;
use crate::events::bridge_session::BridgeContext;
use crate::events::{Hubs, SocketLimits};
use crate::rate_limit::RateLimiter;
use crate::settings::Secret;

/// The Chatwoot module while it is on.
#[derive(Clone)]
pub struct Module {
    /// The bridge client.
    pub bridge: Arc<dyn BridgeClient>,
    /// The service token the bridge presents on the internal socket.
    pub bridge_token: Secret,
    /// The URL the bridge uses to reach this server.
    pub ryzeapi_url: String,
}

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Storage.
    pub repo: Arc<dyn Repository>,
    /// Encryption at rest.
    pub cipher: Arc<dyn SecretCipher>,
    /// Tokens and ids.
    pub tokens: Arc<dyn TokenService>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The Chatwoot module, `None` while off.
    pub module: Option<Module>,
    /// Public base URL (event envelopes carry it).
    pub base_url: String,
    /// Body size limit.
    pub max_body_bytes: usize,
    /// Request rate limits.
    pub rate: Arc<RateLimiter>,
    /// Requests per minute per token (0: unlimited).
    pub requests_per_minute: u32,
    /// Instance creations per minute per account token (0: unlimited).
    pub creations_per_minute: u32,
    /// The durable event log.
    pub events: Arc<dyn EventLog>,
    /// WhatsApp.
    pub engine: Arc<dyn WhatsAppEngine>,
    /// The in-process engine, when its injection routes are enabled.
    pub dev_engine: Option<Arc<MemoryEngine>>,
    /// Both socket hubs.
    pub hubs: Hubs,
    /// Socket timing and limits.
    pub socket: SocketLimits,
}

impl AppState {
    /// The module, or the 503 every module route answers while it is off.
    ///
    /// # Errors
    /// [`ApiError::ModuleOff`].
    pub fn module(&self) -> Result<&Module, ApiError> {
        self.module.as_ref().ok_or(ApiError::ModuleOff)
    }

    /// What a bridge connection works with.
    pub fn bridge_context(&self) -> BridgeContext {
        BridgeContext {
            repo: self.repo.clone(),
            cipher: self.cipher.clone(),
            log: self.events.clone(),
            engine: self.engine.clone(),
            hub: self.hubs.bridge.clone(),
            stats: self.hubs.stats.clone(),
            limits: self.socket,
            clock: self.clock.clone(),
        }
    }

    /// The general per-token limit.
    pub fn rate_limit(&self) -> u32 {
        self.requests_per_minute
    }
}

/// Runs blocking port calls off the async workers.
///
/// # Errors
/// The closure's own error, or a 500 when the blocking pool is gone.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f).await.map_err(ApiError::internal)?
}
