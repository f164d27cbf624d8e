//! Small fakes: a settable clock and a scripted in-memory bridge client.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::Timestamp;

use crate::bridge::{ActivateRequest, BridgeClient, BridgeError};
use crate::clock::Clock;

/// A clock that says what it is told.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock standing at `millis`.
    pub fn at(millis: i64) -> Self {
        Self(AtomicI64::new(millis))
    }

    /// Moves the clock forward.
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// One recorded bridge call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeCall {
    /// `activate` with its request.
    Activate(ActivateRequest),
    /// `status` of an id.
    Status(String),
    /// `delete` of an id.
    Delete(String),
}

/// A bridge client answering from scripts, recording every call.
#[derive(Debug, Default)]
pub struct ScriptedBridge {
    activate: Mutex<VecDeque<Result<RemoteState, BridgeError>>>,
    status: Mutex<VecDeque<Result<RemoteState, BridgeError>>>,
    delete: Mutex<VecDeque<Result<(), BridgeError>>>,
    calls: Mutex<Vec<BridgeCall>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ScriptedBridge {
    /// Queues the answer of the next `activate`.
    pub fn on_activate(&self, answer: Result<RemoteState, BridgeError>) {
        lock(&self.activate).push_back(answer);
    }

    /// Queues the answer of the next `status`.
    pub fn on_status(&self, answer: Result<RemoteState, BridgeError>) {
        lock(&self.status).push_back(answer);
    }

    /// Queues the answer of the next `delete`.
    pub fn on_delete(&self, answer: Result<(), BridgeError>) {
        lock(&self.delete).push_back(answer);
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<BridgeCall> {
        lock(&self.calls).clone()
    }

    fn unscripted<T>() -> Result<T, BridgeError> {
        Err(BridgeError::Unreachable("no scripted answer".into()))
    }
}

impl BridgeClient for ScriptedBridge {
    fn activate(&self, request: &ActivateRequest) -> Result<RemoteState, BridgeError> {
        lock(&self.calls).push(BridgeCall::Activate(request.clone()));
        lock(&self.activate)
            .pop_front()
            .unwrap_or_else(Self::unscripted)
    }

    fn status(&self, id: &str) -> Result<RemoteState, BridgeError> {
        lock(&self.calls).push(BridgeCall::Status(id.to_owned()));
        lock(&self.status)
            .pop_front()
            .unwrap_or_else(Self::unscripted)
    }

    fn delete(&self, id: &str) -> Result<(), BridgeError> {
        lock(&self.calls).push(BridgeCall::Delete(id.to_owned()));
        lock(&self.delete)
            .pop_front()
            .unwrap_or_else(Self::unscripted)
    }
}
