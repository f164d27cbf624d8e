//! The event flow: the pump that takes the engine's events, logs them and
//! offers them; the public hub (`/ws/:instance`); the bridge hub
//! (`/ws/chatwoot/:instance`), speaking `ryzeapi_protocol`. The two hubs share nothing:
//! a slow peer on one never delays the other.

pub mod bridge_hub;
pub mod bridge_session;
pub mod envelope;
pub mod public_hub;
pub mod public_session;
pub mod pump;
pub mod stats;

use std::sync::Arc;

pub use bridge_hub::BridgeHub;
pub use public_hub::PublicHub;
pub use stats::HubStats;

/// Both hubs and their counters.
#[derive(Clone)]
pub struct Hubs {
    /// `/ws/:instance` clients.
    pub public: PublicHub,
    /// `/ws/chatwoot/:instance` bridge connections and the per-instance streams.
    pub bridge: BridgeHub,
    /// Counters an operator reads in `/health`.
    pub stats: Arc<HubStats>,
    /// Instances by name, as the event pump last read them; a deletion
    /// forgets its name at once.
    pub directory: Arc<ryzeapi_core::events::InstanceDirectory>,
}

/// Socket timing and limits.
#[derive(Debug, Clone, Copy)]
pub struct SocketLimits {
    /// Ping interval.
    pub heartbeat: std::time::Duration,
    /// Silence after which a peer is dropped.
    pub heartbeat_timeout: std::time::Duration,
    /// Longest a single write may take.
    pub send_timeout: std::time::Duration,
    /// Unacknowledged events the bridge may hold.
    pub window: u64,
    /// Largest frame from the bridge.
    pub bridge_max_frame: usize,
}
