//! The wire contract between the `ryzeapi` server and the bridge (the
//! integration gateway), in one place both services build on:
//!
//! - [`server`] and [`bridge`]: the frames of the WebSocket protocol
//!   `ryzeapi.bridge.v1` (`docs/bridge-protocol.md`), server → bridge and
//!   bridge → server, JSON objects tagged by their `type` field;
//! - [`close`] and [`limits`]: the close codes and the protocol's limits;
//! - [`envelope`]: the event envelope every channel carries,
//!   `{"event", "data", "instanceData": {"instance", "baseUrl"}}`;
//! - [`http`]: the bodies and paths of the bridge's HTTP API
//!   (`docs/bridge-api.md`).
//!
//! Encoding and decoding only: no I/O, no framework, no runtime. JSON that
//! is already encoded (an event's data, a stored envelope) is carried as
//! [`serde_json::value::RawValue`] when read, and written around as it is
//! ([`Envelope::encode_around`], [`Event::encode_around`]): the server
//! stores and sends it without parsing it again.

pub mod bridge;
pub mod close;
pub mod envelope;
pub mod http;
pub mod limits;
pub mod server;

pub use bridge::{
    Ack, BridgeFrame, Command, CommandFrame, MarkReadArgs, ParseError, Resume, SendMediaArgs,
    SendTextArgs, Status,
};
pub use envelope::{Envelope, InstanceData};
pub use server::{
    CommandResult, ErrorFrame, Event, Hello, Outcome, Resync, ResyncReason, ServerFrame,
    StatusRecorded,
};

/// The protocol's name; its major version is part of it.
pub const PROTOCOL: &str = "ryzeapi.bridge.v1";

/// JSON text of a value whose serialization cannot fail: every type of this
/// crate holds only strings, integers, booleans, lists of strings and JSON
/// that is already encoded. Should serde_json report an error all the same,
/// the text is `null`, which no peer takes for a frame.
fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| String::from("null"))
}

/// The text of JSON written into `bytes` (which serde_json writes as UTF-8,
/// around text taken from `&str`s).
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Deserializes a field that may be absent (with `#[serde(default)]`) but,
/// when present, must be a `T`: `null` is refused like any other wrong type.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
