//! In-memory fakes of the ports and the contract suites every adapter must
//! pass. Compiled only with the `testing` feature (dev-dependencies).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod contract;
pub mod fakes;
pub mod memory;
pub mod more_fakes;

pub use fakes::{FixedClock, ScriptedBridge};
pub use memory::InMemoryRepository;
pub use more_fakes::{CountingTokens, EngineCall, FakeCipher, RecordingEngine};
