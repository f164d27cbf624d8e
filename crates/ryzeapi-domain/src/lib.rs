//! The domain of the Chatwoot integration: validated values (Chatwoot base URL,
//! account id, API token, inbox and instance names), accounts, instances and the
//! integration's life as an explicit state machine, and the one way foreign text
//! is quoted ([`text::quote`]: secrets redacted before anything is cut).
//!
//! This crate does no I/O and depends on no framework: everything here can be
//! tested with plain values, and every other crate speaks in these types.

pub mod account;
pub mod address;
pub mod event;
pub mod instance;
pub mod integration;
pub mod text;
pub mod time;
pub mod values;

pub use account::{Account, AccountId};
pub use address::{AddressKind, WhatsAppAddress};
pub use event::{EventData, EventId, EventName};
pub use instance::{ConnectionState, Instance, InstanceId, InstanceName, WebsocketConfig};
pub use integration::{
    ChatwootSettings, Integration, IntegrationFlags, IntegrationStatus, RemoteState,
    TransitionError,
};
pub use time::Timestamp;
pub use values::{
    ApiToken, ChatwootAccountId, ChatwootBaseUrl, InboxName, ValidationError, EVENT_NAMES,
};
