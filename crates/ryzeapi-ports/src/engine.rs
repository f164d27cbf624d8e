//! The WhatsApp engine port: sending on WhatsApp and the stream of what
//! happens there (messages, receipts, state changes).

use std::fmt;
use std::sync::Arc;

use ryzeapi_domain::{ConnectionState, EventData, EventId, EventName, InstanceName, Timestamp};

/// A text to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingText {
    /// Recipient JID (`<digits>@s.whatsapp.net` or `<id>@g.us`).
    pub to: String,
    /// The text.
    pub text: String,
    /// The WhatsApp id of the message this one replies to.
    pub reply_to: Option<String>,
}

/// A media message to send, fetched by the engine from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMedia {
    /// Recipient JID.
    pub to: String,
    /// Where the engine downloads the media from.
    pub url: String,
    /// `image`, `video`, `audio` or `document`.
    pub media_type: String,
    /// Optional caption.
    pub caption: Option<String>,
    /// Optional MIME type.
    pub mimetype: Option<String>,
    /// Optional file name (documents).
    pub file_name: Option<String>,
}

/// What the engine answered to a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The WhatsApp message id.
    pub message_id: String,
}

/// Why the engine could not do something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The instance is not connected to WhatsApp.
    #[error("Instance is not connected to WhatsApp")]
    NotConnected,
    /// The recipient or an argument is not acceptable.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The engine failed.
    #[error("engine failure: {0}")]
    Failed(String),
    /// The server is too busy to take what the engine reports; try again shortly.
    #[error("busy: {0}")]
    Busy(String),
}

/// Something that happened on WhatsApp for an instance.
#[derive(Clone, PartialEq, Eq)]
pub struct EngineEvent {
    /// The instance.
    pub instance: InstanceName,
    /// A unique id of this event (the message id for messages).
    pub event_id: EventId,
    /// The event name (`message.exchange`, `message.status`, `instance.state`, ...).
    pub name: EventName,
    /// The event's `data` object, as JSON text.
    pub data: EventData,
    /// When it happened.
    pub at: Timestamp,
    /// For `instance.state`, the new state.
    pub state: Option<ConnectionState>,
}

impl fmt::Debug for EngineEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Message contents stay out of debug output.
        f.debug_struct("EngineEvent")
            .field("instance", &self.instance)
            .field("event_id", &self.event_id)
            .field("name", &self.name)
            .field("data_bytes", &self.data.as_str().len())
            .finish_non_exhaustive()
    }
}

/// Why the server did not take an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// The server is behind: its intake stayed full for the whole bounded
    /// wait. The event was not taken; the engine keeps it and tries again
    /// (a real engine holds back WhatsApp's acknowledgement meanwhile).
    #[error("the server's event intake is full; try again shortly")]
    Full,
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Stopped,
}

/// Receives the engine's events.
pub trait EventSink: Send + Sync {
    /// Hands one event over. Waits a bounded time when the server is behind
    /// (back-pressure), never without bound.
    ///
    /// # Errors
    /// [`DeliverError::Full`] when the intake stayed full for the whole wait,
    /// [`DeliverError::Stopped`] during shutdown; the event was not taken.
    fn deliver(&self, event: EngineEvent) -> Result<(), DeliverError>;
}

/// A WhatsApp engine: one connection per instance.
pub trait WhatsAppEngine: Send + Sync {
    /// Where the engine sends its events.
    fn attach(&self, sink: Arc<dyn EventSink>);

    /// The instance's connection state.
    fn state(&self, instance: &InstanceName) -> ConnectionState;

    /// Sends a text.
    ///
    /// # Errors
    /// [`EngineError::NotConnected`], [`EngineError::Invalid`], [`EngineError::Failed`].
    fn send_text(
        &self,
        instance: &InstanceName,
        message: &OutgoingText,
    ) -> Result<SentMessage, EngineError>;

    /// Sends a media message.
    ///
    /// # Errors
    /// As [`WhatsAppEngine::send_text`].
    fn send_media(
        &self,
        instance: &InstanceName,
        message: &OutgoingMedia,
    ) -> Result<SentMessage, EngineError>;

    /// Marks messages of a chat as read.
    ///
    /// # Errors
    /// As [`WhatsAppEngine::send_text`].
    fn mark_read(
        &self,
        instance: &InstanceName,
        chat: &str,
        message_ids: &[String],
    ) -> Result<(), EngineError>;

    /// Forgets an instance (deleted).
    fn forget(&self, instance: &InstanceName);
}
