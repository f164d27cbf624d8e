//! The clock port.

use ryzeapi_domain::Timestamp;

/// Tells the time. Injected so tests can fix it.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}
