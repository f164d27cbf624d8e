//! The server's use cases, synchronous over the ports: what happens when a
//! Chatwoot integration is activated, viewed or removed, when an instance is
//! created, listed or deleted, and when a message is sent.
//!
//! The transports (HTTP routes, socket sessions, the event pump) parse their
//! input, call a use case here and frame its answer; each use case returns a
//! closed error enum of its own, which the app maps to HTTP in one place.
//! Nothing here knows a framework, a driver or a runtime: the layering check
//! keeps actix, diesel, ureq, ring and tokio out of this crate.

pub mod access;
pub mod bridge;
pub mod chatwoot;
pub mod context;
pub mod events;
pub mod health;
pub mod instances;
pub mod messages;
pub mod secrets;
pub mod websocket;

pub use context::{ChatwootModule, Notifier, Ports, ServiceToken};
pub use secrets::Secrets;
