//! The ports of the server: plain synchronous traits (`Send + Sync`) for
//! everything outside the domain — storage, the event log, the bridge, the
//! WhatsApp engine, the cipher, tokens and time — each with a closed error enum.
//!
//! Adapters implement them; the app calls them only from blocking threads
//! (`web::block`). No driver type (diesel, ureq, ring) appears here. In-memory
//! fakes and the shared contract suites live behind the `testing` feature.

pub mod bridge;
pub mod cipher;
pub mod clock;
pub mod engine;
pub mod events;
pub mod repository;
pub mod tokens;

#[cfg(feature = "testing")]
pub mod testing;

pub use bridge::{ActivateRequest, BridgeClient, BridgeError, ChatwootFailure};
pub use cipher::{api_token_context, CipherError, SealedSecret, SecretCipher};
pub use clock::Clock;
pub use engine::{
    DeliverError, EngineError, EngineEvent, EventSink, OutgoingMedia, OutgoingText, SentMessage,
    WhatsAppEngine,
};
pub use events::{EventLog, LoggedEvent, NewEvent, StreamPosition};
pub use repository::{
    AccountRepository, DuplicateField, InstanceRepository, IntegrationRepository, RepoError,
    Repository, StoredIntegration,
};
pub use tokens::{TokenDigest, TokenService};
