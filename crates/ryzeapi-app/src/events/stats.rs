//! Counters of the event flow, shown by `/health`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

/// Monotonic counters and gauges (relaxed atomics).
#[derive(Debug, Default)]
pub struct HubStats {
    /// Events received from the engine.
    pub events_received: AtomicU64,
    /// Events written to the durable log.
    pub events_logged: AtomicU64,
    /// Event frames written to bridge sockets.
    pub events_sent_to_bridge: AtomicU64,
    /// Public clients connected now.
    pub public_connections: AtomicU64,
    /// Public clients dropped because they did not keep up.
    pub public_dropped_slow: AtomicU64,
    /// Bridge connections now.
    pub bridge_connections: AtomicU64,
    /// Bridge connections replaced by a newer one.
    pub bridge_replaced: AtomicU64,
    /// Commands received from bridges.
    pub bridge_commands: AtomicU64,
    /// Log writes that failed and were retried.
    pub log_retries: AtomicU64,
}

impl HubStats {
    /// Adds one.
    pub fn incr(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one off a gauge.
    pub fn decr(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// The counters as JSON.
    pub fn snapshot(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "eventsReceived": get(&self.events_received),
            "eventsLogged": get(&self.events_logged),
            "eventsSentToBridge": get(&self.events_sent_to_bridge),
            "publicConnections": get(&self.public_connections),
            "publicDroppedSlow": get(&self.public_dropped_slow),
            "bridgeConnections": get(&self.bridge_connections),
            "bridgeReplaced": get(&self.bridge_replaced),
            "bridgeCommands": get(&self.bridge_commands),
            "logRetries": get(&self.log_retries),
        })
    }
}
