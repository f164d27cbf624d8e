//! Adapters of the server's ports.
//!
//! - [`db`]: the repository on diesel — Postgres for production, SQLite as the
//!   embedded default — with migrations embedded for each backend;
//! - [`bridge_http`]: the bridge client over HTTP (ureq), with connect and
//!   overall timeouts on every call;
//! - [`engine_memory`]: the in-process WhatsApp engine for development and tests;
//! - [`crypto`]: AES-256-GCM sealing of secrets with key versions (ring),
//!   token generation and digests, the system clock.
//!
//! Driver errors are translated into port errors here; nothing of diesel,
//! ureq or ring leaves this crate.

pub mod bridge_http;
pub mod crypto;
pub mod db;
pub mod engine_memory;

#[cfg(feature = "testing")]
pub mod testing;

pub use bridge_http::{BridgeTimeouts, HttpBridgeClient};
pub use crypto::{AesGcmCipher, KeyError, RingTokens, SystemClock};
pub use db::{Checkpoint, Database, DatabaseKind};
pub use engine_memory::MemoryEngine;
