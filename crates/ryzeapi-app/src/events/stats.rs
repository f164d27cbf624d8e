//! Counters of the event flow, shown by `/health`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

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
    /// Events the log refused that were set aside since the start.
    pub events_set_aside: AtomicU64,
    /// Events the engine could not hand over because the intake stayed full.
    pub intake_refused: AtomicU64,
    /// What the pump is retrying now, if anything.
    failure: Mutex<Option<String>>,
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

    /// Notes that the pump is retrying a storage call, and why.
    pub fn note_failure(&self, what: &str) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(what.to_owned());
    }

    /// Notes that the pump's storage calls succeed again.
    pub fn clear_failure(&self) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if failure.is_some() {
            *failure = None;
        }
    }

    /// What the pump is retrying now, if anything.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
            "eventsSetAside": get(&self.events_set_aside),
            "intakeRefused": get(&self.intake_refused),
        })
    }
}
