//! [`MemoryEngine`]: an in-process WhatsApp engine for development and tests.
//!
//! It records what is sent and lets a caller inject incoming messages,
//! receipts and state changes, which it hands to the attached sink exactly
//! like a real engine would. It talks to no network. The server exposes its
//! injection calls only when explicitly enabled on a loopback address.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use ring::rand::{SecureRandom, SystemRandom};
use ryzeapi_domain::{
    ConnectionState, EventData, EventId, EventName, InstanceName, Timestamp, WhatsAppAddress,
};
use ryzeapi_ports::{
    Clock, DeliverError, EngineError, EngineEvent, EventSink, OutgoingMedia, OutgoingText,
    SentMessage, WhatsAppEngine,
};
use serde::Serialize;
use serde_json::{json, Value};

/// One thing the engine was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A text was sent.
    Text {
        /// Instance.
        instance: String,
        /// Message id given.
        message_id: String,
        /// What was sent.
        message: OutgoingText,
    },
    /// A media message was sent.
    Media {
        /// Instance.
        instance: String,
        /// Message id given.
        message_id: String,
        /// What was sent.
        message: OutgoingMedia,
    },
    /// Messages were marked read.
    Read {
        /// Instance.
        instance: String,
        /// Chat.
        chat: String,
        /// Messages.
        message_ids: Vec<String>,
    },
}

/// An incoming text to inject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomingText {
    /// Sender: digits or a JID.
    pub from: String,
    /// Sender's display name.
    pub push_name: Option<String>,
    /// Group JID when the message was sent in a group.
    pub group: Option<String>,
    /// The text.
    pub text: String,
    /// Media, as (type, url, mimetype, base64 content).
    pub media: Option<(String, String, String, Option<String>)>,
}

/// What the engine keeps of what it was asked to do: the newest this many
/// entries (older ones are forgotten), like every other buffer of the server.
pub const MAX_RECORDED: usize = 10_000;

/// The in-process engine.
pub struct MemoryEngine {
    clock: Arc<dyn Clock>,
    /// Random per engine; message ids are this prefix and a counter.
    id_prefix: String,
    counter: std::sync::atomic::AtomicU64,
    connected: Mutex<HashSet<String>>,
    recorded: Mutex<VecDeque<Recorded>>,
    sink: RwLock<Option<Arc<dyn EventSink>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `<digits>@s.whatsapp.net` for a phone number, the JID itself otherwise.
pub fn to_jid(who: &str) -> String {
    if who.contains('@') {
        who.to_owned()
    } else {
        format!(
            "{}@s.whatsapp.net",
            who.chars().filter(char::is_ascii_digit).collect::<String>()
        )
    }
}

/// One side of a chat in an event: a JID, its LID (empty when unknown) and a name.
#[derive(Serialize)]
struct Party<'a> {
    jid: &'a str,
    lid: &'a str,
    name: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
}

#[derive(Serialize)]
struct TextContent<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct MediaFields<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    url: &'a str,
    mimetype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    base64: Option<&'a str>,
}

/// A message as `message.exchange` carries it, in either direction.
#[derive(Serialize)]
struct Message<'a> {
    id: &'a str,
    direction: &'a str,
    timestamp: &'a str,
    chat: Party<'a>,
    sender: Party<'a>,
    content: TextContent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media: Option<MediaFields<'a>>,
}

impl Message<'_> {
    /// `{"id", "message"}`, the event's `data`, as JSON text. Serialized
    /// straight from borrowed fields: this runs once per message.
    fn to_data(&self) -> String {
        #[derive(Serialize)]
        struct MessageExchange<'a> {
            id: &'a str,
            message: &'a Message<'a>,
        }
        // Serializing borrowed strings and plain structs cannot fail.
        serde_json::to_string(&MessageExchange {
            id: self.id,
            message: self,
        })
        .unwrap_or_default()
    }
}

/// The `data` of the `message.exchange` event the engine emits for an
/// incoming message `id` received at `timestamp` (RFC 3339), as JSON text.
pub fn incoming_message_data(id: &str, timestamp: &str, incoming: &IncomingText) -> String {
    let sender = to_jid(&incoming.from);
    let name = incoming.push_name.as_deref().unwrap_or_default();
    let group = incoming.group.as_deref().map(to_jid);
    let chat = match &group {
        Some(jid) => Party {
            jid,
            lid: "",
            name: "",
            kind: Some("group"),
        },
        None => Party {
            jid: &sender,
            lid: "",
            name,
            kind: Some("private"),
        },
    };
    Message {
        id,
        direction: "incoming",
        timestamp,
        chat,
        sender: Party {
            jid: &sender,
            lid: "",
            name,
            kind: None,
        },
        content: TextContent {
            text: &incoming.text,
        },
        media: incoming
            .media
            .as_ref()
            .map(|(kind, url, mimetype, base64)| MediaFields {
                kind,
                url,
                mimetype,
                base64: base64.as_deref(),
            }),
    }
    .to_data()
}

impl MemoryEngine {
    /// A new engine telling time with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let rng = SystemRandom::new();
        let mut bytes = [0u8; 4];
        if rng.fill(&mut bytes).is_err() {
            log::error!("memory engine: the system random generator failed");
        }
        Self {
            clock,
            id_prefix: bytes.iter().map(|b| format!("{b:02X}")).collect(),
            counter: std::sync::atomic::AtomicU64::new(1),
            connected: Mutex::new(HashSet::new()),
            recorded: Mutex::new(VecDeque::new()),
            sink: RwLock::new(None),
        }
    }

    /// `3EB0` + 8 random hex digits (per engine) + a 12-digit counter:
    /// shaped like WhatsApp ids, unique within the engine's life.
    fn message_id(&self) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("3EB0{}{n:012X}", self.id_prefix)
    }

    fn emit(
        &self,
        instance: &InstanceName,
        event_id: String,
        name: &str,
        data: &Value,
        state: Option<ConnectionState>,
    ) -> Result<(), DeliverError> {
        self.emit_data(instance, &event_id, name, data.to_string(), state)
    }

    fn emit_data(
        &self,
        instance: &InstanceName,
        event_id: &str,
        name: &str,
        data: String,
        state: Option<ConnectionState>,
    ) -> Result<(), DeliverError> {
        let sink = self
            .sink
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match sink {
            // Whatever a caller injected is made safe here, as a real
            // engine's remote input is.
            Some(sink) => sink.deliver(EngineEvent {
                instance: instance.clone(),
                event_id: EventId::from_engine(event_id),
                name: EventName::from_engine(name),
                data: EventData::from_engine(data),
                at: self.clock.now(),
                state,
            }),
            None => Ok(()),
        }
    }

    fn record(&self, entry: Recorded) {
        let mut recorded = lock(&self.recorded);
        if recorded.len() >= MAX_RECORDED {
            recorded.pop_front();
        }
        recorded.push_back(entry);
    }

    fn set_state(
        &self,
        instance: &InstanceName,
        state: ConnectionState,
    ) -> Result<(), DeliverError> {
        let id = format!("state-{}", self.message_id());
        // The state changes only once the server has taken the event.
        self.emit(
            instance,
            id,
            "instance.state",
            &json!({"state": state.as_str()}),
            Some(state),
        )?;
        let mut connected = lock(&self.connected);
        if state == ConnectionState::Connected {
            connected.insert(instance.as_str().to_owned());
        } else {
            connected.remove(instance.as_str());
        }
        Ok(())
    }

    /// Marks the instance connected and emits `instance.state`.
    ///
    /// # Errors
    /// The event was not taken (the server's intake is full or stopped).
    pub fn connect(&self, instance: &InstanceName) -> Result<(), DeliverError> {
        self.set_state(instance, ConnectionState::Connected)
    }

    /// Marks the instance disconnected and emits `instance.state`.
    ///
    /// # Errors
    /// As [`MemoryEngine::connect`].
    pub fn disconnect(&self, instance: &InstanceName) -> Result<(), DeliverError> {
        self.set_state(instance, ConnectionState::Disconnected)
    }

    /// Injects an incoming message; returns its WhatsApp id.
    ///
    /// # Errors
    /// As [`MemoryEngine::connect`].
    pub fn inject_text(
        &self,
        instance: &InstanceName,
        incoming: &IncomingText,
    ) -> Result<String, DeliverError> {
        let id = self.message_id();
        let data = incoming_message_data(&id, &Timestamp::to_rfc3339(self.clock.now()), incoming);
        self.emit_data(instance, &id, "message.exchange", data, None)?;
        Ok(id)
    }

    /// Injects a receipt (`delivered`, `read`, `played`) for a message.
    ///
    /// # Errors
    /// As [`MemoryEngine::connect`].
    pub fn inject_receipt(
        &self,
        instance: &InstanceName,
        message_id: &str,
        status: &str,
        chat: &str,
    ) -> Result<(), DeliverError> {
        let id = format!("{message_id}-{status}");
        self.emit(
            instance,
            id,
            "message.status",
            &json!({"id": message_id, "status": status, "chat": {"jid": to_jid(chat)}, "timestamp": Timestamp::to_rfc3339(self.clock.now())}),
            None,
        )
    }

    /// What was sent or marked read: the newest [`MAX_RECORDED`] entries, oldest first.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.recorded).iter().cloned().collect()
    }

    fn outgoing_event(
        &self,
        instance: &InstanceName,
        id: &str,
        to: &str,
        text: &str,
        media: Option<MediaFields<'_>>,
    ) -> Result<(), EngineError> {
        let data = Message {
            id,
            direction: "outgoing",
            timestamp: &Timestamp::to_rfc3339(self.clock.now()),
            chat: Party {
                jid: to,
                lid: "",
                name: "",
                kind: Some(if to.ends_with("@g.us") {
                    "group"
                } else {
                    "private"
                }),
            },
            sender: Party {
                jid: "",
                lid: "",
                name: "",
                kind: None,
            },
            content: TextContent { text },
            media,
        }
        .to_data();
        self.emit_data(instance, id, "message.exchange", data, None)
            .map_err(|e| EngineError::Busy(e.to_string()))
    }

    fn ensure_connected(&self, instance: &InstanceName) -> Result<(), EngineError> {
        if lock(&self.connected).contains(instance.as_str()) {
            Ok(())
        } else {
            Err(EngineError::NotConnected)
        }
    }
}

/// A recipient or chat must be a JID under the one address rule of the
/// domain (the server normalises phone numbers before they get here).
fn valid_jid(jid: &str) -> Result<(), EngineError> {
    match WhatsAppAddress::parse(jid) {
        Ok(address) if address.as_str() == jid => Ok(()),
        _ => Err(EngineError::Invalid(format!(
            "'{jid}' is not a WhatsApp JID"
        ))),
    }
}

impl WhatsAppEngine for MemoryEngine {
    fn attach(&self, sink: Arc<dyn EventSink>) {
        *self.sink.write().unwrap_or_else(PoisonError::into_inner) = Some(sink);
    }

    fn state(&self, instance: &InstanceName) -> ConnectionState {
        if lock(&self.connected).contains(instance.as_str()) {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }
    }

    fn send_text(
        &self,
        instance: &InstanceName,
        message: &OutgoingText,
    ) -> Result<SentMessage, EngineError> {
        self.ensure_connected(instance)?;
        valid_jid(&message.to)?;
        let id = self.message_id();
        // The send counts once its outgoing event is taken: nothing half done.
        self.outgoing_event(instance, &id, &message.to, &message.text, None)?;
        self.record(Recorded::Text {
            instance: instance.to_string(),
            message_id: id.clone(),
            message: message.clone(),
        });
        Ok(SentMessage { message_id: id })
    }

    fn send_media(
        &self,
        instance: &InstanceName,
        message: &OutgoingMedia,
    ) -> Result<SentMessage, EngineError> {
        self.ensure_connected(instance)?;
        valid_jid(&message.to)?;
        if !matches!(
            message.media_type.as_str(),
            "image" | "video" | "audio" | "document"
        ) {
            return Err(EngineError::Invalid(format!(
                "unknown media type '{}'",
                message.media_type
            )));
        }
        if !(message.url.starts_with("http://") || message.url.starts_with("https://")) {
            return Err(EngineError::Invalid("media url must be http(s)".into()));
        }
        let id = self.message_id();
        self.outgoing_event(
            instance,
            &id,
            &message.to,
            message.caption.as_deref().unwrap_or_default(),
            Some(MediaFields {
                kind: &message.media_type,
                url: &message.url,
                mimetype: message.mimetype.as_deref().unwrap_or_default(),
                base64: None,
            }),
        )?;
        self.record(Recorded::Media {
            instance: instance.to_string(),
            message_id: id.clone(),
            message: message.clone(),
        });
        Ok(SentMessage { message_id: id })
    }

    fn mark_read(
        &self,
        instance: &InstanceName,
        chat: &str,
        message_ids: &[String],
    ) -> Result<(), EngineError> {
        self.ensure_connected(instance)?;
        valid_jid(chat)?;
        self.record(Recorded::Read {
            instance: instance.to_string(),
            chat: chat.to_owned(),
            message_ids: message_ids.to_vec(),
        });
        Ok(())
    }

    fn forget(&self, instance: &InstanceName) {
        lock(&self.connected).remove(instance.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SystemClock;

    #[derive(Default)]
    struct Collect(Mutex<Vec<EngineEvent>>);
    impl EventSink for Collect {
        fn deliver(&self, event: EngineEvent) -> Result<(), DeliverError> {
            lock(&self.0).push(event);
            Ok(())
        }
    }

    fn name(s: &str) -> InstanceName {
        InstanceName::parse(s).unwrap()
    }

    #[test]
    fn sends_need_a_connection_and_are_recorded_with_an_outgoing_event() {
        let engine = MemoryEngine::new(Arc::new(SystemClock));
        let sink = Arc::new(Collect::default());
        engine.attach(sink.clone());
        let text = OutgoingText {
            to: "5511999990000@s.whatsapp.net".into(),
            text: "oi".into(),
            reply_to: None,
        };
        assert_eq!(
            engine.send_text(&name("a"), &text),
            Err(EngineError::NotConnected)
        );
        engine.connect(&name("a")).unwrap();
        assert_eq!(engine.state(&name("a")), ConnectionState::Connected);
        let sent = engine.send_text(&name("a"), &text).unwrap();
        assert!(sent.message_id.starts_with("3EB0"));
        assert_eq!(engine.recorded().len(), 1);
        let events = lock(&sink.0).clone();
        assert_eq!(events[0].name.as_str(), "instance.state");
        assert_eq!(events[1].name.as_str(), "message.exchange");
        assert_eq!(events[1].event_id.as_str(), sent.message_id);
        let data: Value = serde_json::from_str(events[1].data.as_str()).unwrap();
        assert_eq!(data["message"]["direction"], "outgoing");
        let bad = OutgoingText {
            to: "nobody".into(),
            ..text
        };
        assert!(matches!(
            engine.send_text(&name("a"), &bad),
            Err(EngineError::Invalid(_))
        ));
    }

    #[test]
    fn injected_messages_follow_the_documented_shape() {
        let engine = MemoryEngine::new(Arc::new(SystemClock));
        let sink = Arc::new(Collect::default());
        engine.attach(sink.clone());
        let id = engine
            .inject_text(
                &name("a"),
                &IncomingText {
                    from: "+55 11 99999-0000".into(),
                    push_name: Some("Ana".into()),
                    text: "olá".into(),
                    ..IncomingText::default()
                },
            )
            .unwrap();
        let event = lock(&sink.0)[0].clone();
        assert_eq!(event.event_id.as_str(), id);
        let data: Value = serde_json::from_str(event.data.as_str()).unwrap();
        assert_eq!(
            data["message"]["chat"]["jid"],
            "5511999990000@s.whatsapp.net"
        );
        assert_eq!(data["message"]["chat"]["type"], "private");
        assert_eq!(data["message"]["sender"]["name"], "Ana");
        assert_eq!(data["message"]["content"]["text"], "olá");
        assert!(data["message"]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }

    /// Takes nothing: the server's intake is full.
    struct Full;
    impl EventSink for Full {
        fn deliver(&self, _: EngineEvent) -> Result<(), DeliverError> {
            Err(DeliverError::Full)
        }
    }

    #[test]
    fn nothing_is_half_done_when_the_server_takes_no_event() {
        let engine = MemoryEngine::new(Arc::new(SystemClock));
        let sink = Arc::new(Collect::default());
        engine.attach(sink.clone());
        engine.connect(&name("a")).unwrap();
        engine.attach(Arc::new(Full));
        assert_eq!(engine.disconnect(&name("a")), Err(DeliverError::Full));
        assert_eq!(
            engine.state(&name("a")),
            ConnectionState::Connected,
            "the state changes only with its event"
        );
        let text = OutgoingText {
            to: "5511999990000@s.whatsapp.net".into(),
            text: "oi".into(),
            reply_to: None,
        };
        assert!(matches!(
            engine.send_text(&name("a"), &text),
            Err(EngineError::Busy(_))
        ));
        assert!(
            engine.recorded().is_empty(),
            "a send without its event is not recorded"
        );
        assert_eq!(
            engine.inject_receipt(&name("a"), "m", "read", "5511"),
            Err(DeliverError::Full)
        );
    }

    #[test]
    fn what_was_sent_is_kept_up_to_a_bound() {
        let engine = MemoryEngine::new(Arc::new(SystemClock));
        engine.attach(Arc::new(Collect::default()));
        engine.connect(&name("a")).unwrap();
        for _ in 0..MAX_RECORDED + 5 {
            engine
                .mark_read(&name("a"), "5511999990000@s.whatsapp.net", &[])
                .unwrap();
        }
        let text = OutgoingText {
            to: "5511999990000@s.whatsapp.net".into(),
            text: "newest".into(),
            reply_to: None,
        };
        let sent = engine.send_text(&name("a"), &text).unwrap();
        let recorded = engine.recorded();
        assert_eq!(recorded.len(), MAX_RECORDED);
        assert!(
            matches!(recorded.last(), Some(Recorded::Text { message_id, .. }) if *message_id == sent.message_id),
            "the newest entry is kept, the oldest go"
        );
    }

    #[test]
    fn injected_strings_are_made_safe_at_the_boundary() {
        let engine = MemoryEngine::new(Arc::new(SystemClock));
        let sink = Arc::new(Collect::default());
        engine.attach(sink.clone());
        engine
            .inject_receipt(&name("a"), "a\u{0}b", "read", "5511999990000")
            .unwrap();
        let event = lock(&sink.0)[0].clone();
        assert_eq!(event.event_id.as_str(), "a%00b-read");
        assert!(!event.data.as_str().contains('\u{0}'));
        let data: Value = serde_json::from_str(event.data.as_str()).unwrap();
        assert_eq!(
            data["id"], "a\u{0}b",
            "the data keeps the id, escaped as JSON"
        );
    }
}
