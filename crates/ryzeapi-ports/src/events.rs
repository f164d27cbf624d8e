//! The event log port: the durable, per-instance stream of events offered to
//! the bridge, its cursor, and the results of the bridge's commands.

use ryzeapi_domain::{InstanceId, Timestamp};

use crate::repository::RepoError;

/// An event to be logged (its sequence number is allocated by the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The instance it belongs to.
    pub instance_id: InstanceId,
    /// The event's own id (dedupe key for the bridge).
    pub event_id: String,
    /// The event name (`message.exchange`, ...).
    pub name: String,
    /// The envelope, as JSON text.
    pub payload: String,
    /// When it happened.
    pub created_at: Timestamp,
}

/// An event as logged, with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Strictly increasing per instance, from 1.
    pub seq: u64,
    /// The event.
    pub event: NewEvent,
}

/// Where an instance's stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPosition {
    /// Highest sequence number the bridge acknowledged.
    pub acked_seq: u64,
    /// Highest sequence number allocated.
    pub last_seq: u64,
    /// Lowest sequence number still retained (`last_seq + 1` when none is).
    pub oldest_seq: u64,
}

/// The durable event log. An instance has a stream while its integration exists.
pub trait EventLog: Send + Sync {
    /// Makes sure the instance has an active stream. Returns `true` when this
    /// call opened one (nothing retained; numbering continues after any
    /// earlier stream of the instance, whose last number becomes the new
    /// stream's acknowledged position), `false` when one was already active
    /// (left untouched). Sequence numbers are never reused for an instance.
    ///
    /// # Errors
    /// [`RepoError::MissingParent`] for an unknown instance; [`RepoError::Unavailable`].
    fn open_stream(&self, instance: &InstanceId, now: Timestamp) -> Result<bool, RepoError>;

    /// Closes the stream: its events and command results are removed; its
    /// numbering is kept for a later stream.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn close_stream(&self, instance: &InstanceId) -> Result<(), RepoError>;

    /// Appends events in order, allocating sequence numbers per instance, in
    /// one transaction. Returns the number given to each event, in the order
    /// given; `None` for events of instances without an active stream (not logged).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`]; nothing is written then.
    fn append(&self, events: &[NewEvent]) -> Result<Vec<Option<u64>>, RepoError>;

    /// Up to `limit` retained events with `seq > after`, in order.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn read_after(
        &self,
        instance: &InstanceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, RepoError>;

    /// The stream's position; `None` when the instance has no active stream.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn position(&self, instance: &InstanceId) -> Result<Option<StreamPosition>, RepoError>;

    /// Records that the bridge processed everything up to `seq` (cumulative;
    /// never moves back, never past `last_seq`). `false` without a stream.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn ack(&self, instance: &InstanceId, seq: u64, now: Timestamp) -> Result<bool, RepoError>;

    /// Deletes acknowledged events created before `acked_before`, and any
    /// event created before `any_before`; returns how many went.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn prune(&self, acked_before: Timestamp, any_before: Timestamp) -> Result<u64, RepoError>;

    /// Keeps an event that the log refused to store, so that it stops
    /// holding up the others: its id and payload are kept as bytes (which
    /// any backend stores whatever they hold), with the reason.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn set_aside(&self, event: &NewEvent, reason: &str, now: Timestamp) -> Result<(), RepoError>;

    /// How many events are set aside (kept until an operator removes them).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn set_aside_count(&self) -> Result<u64, RepoError>;

    /// The stored result of a command, by idempotency key.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn command_result(&self, instance: &InstanceId, key: &str)
        -> Result<Option<String>, RepoError>;

    /// Stores a command's result under its key; `false` when the key already had one
    /// (the first result is kept).
    ///
    /// # Errors
    /// [`RepoError::MissingParent`], [`RepoError::Unavailable`].
    fn save_command_result(
        &self,
        instance: &InstanceId,
        key: &str,
        result: &str,
        now: Timestamp,
    ) -> Result<bool, RepoError>;
}
