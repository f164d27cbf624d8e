//! What every handler shares: the ports (one bundle, [`Ports`]), the
//! module's switch, the socket hubs, the limits.

use std::sync::Arc;

use ryzeapi_adapters::MemoryEngine;
use ryzeapi_core::{ChatwootModule, Notifier, Ports};
use ryzeapi_domain::{Instance, InstanceId};

pub use crate::blocking::blocking;
use crate::error::ApiError;
use crate::events::{Hubs, SocketLimits};
use crate::rate_limit::RateLimiter;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Every port, in one bundle: what the use cases run on.
    pub ports: Ports,
    /// The Chatwoot module, `None` while off.
    pub module: Option<ChatwootModule>,
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
    pub fn module(&self) -> Result<&ChatwootModule, ApiError> {
        self.module.as_ref().ok_or(ApiError::ModuleOff)
    }

    /// The general per-token limit.
    pub fn rate_limit(&self) -> u32 {
        self.requests_per_minute
    }
}

/// The sockets' side of what the use cases change: streams restarted or
/// removed close the bridge's connection; a deleted instance closes its
/// public clients and is forgotten by whoever remembers it by name.
pub struct HubNotifier(pub Hubs);

impl Notifier for HubNotifier {
    fn stream_restarted(&self, instance: &InstanceId) {
        self.0.bridge.reset(instance.as_str());
    }

    fn stream_removed(&self, instance: &InstanceId) {
        self.0.bridge.remove(instance.as_str());
    }

    fn instance_deleted(&self, instance: &Instance) {
        self.0.directory.forget(&instance.name);
        self.0.bridge.remove(instance.id.as_str());
        self.0.public.close_instance(instance.id.as_str());
    }

    fn websocket_changed(&self, instance: &Instance) {
        self.0
            .public
            .reconfigure(instance.id.as_str(), &instance.websocket);
    }
}
