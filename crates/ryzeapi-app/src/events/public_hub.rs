//! The public hub: fan-out of events to `/ws/:instance` clients.
//!
//! One task owns the subscriber lists; everyone else talks to it through a
//! command channel. Each client has its own bounded queue; the hub offers a
//! frame with `try_send` and never waits for a client. A client whose queue
//! is full is dropped (its queue closed, the reason recorded) — the event
//! still reaches every other client.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use bytestring::ByteString;
use ryzeapi_domain::WebsocketConfig;
use tokio::sync::mpsc;

use super::stats::HubStats;

/// Why the hub closed a client's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DropReason {
    /// Still subscribed.
    None = 0,
    /// The queue was full: the client does not read fast enough.
    Slow = 1,
    /// The instance's WebSocket was disabled.
    Disabled = 2,
    /// The instance was deleted.
    Deleted = 3,
}

impl DropReason {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Slow,
            2 => Self::Disabled,
            3 => Self::Deleted,
            _ => Self::None,
        }
    }
}

/// One published event.
#[derive(Debug, Clone)]
pub struct PublishEvent {
    /// The event name (for filters).
    pub name: String,
    /// The envelope.
    pub full: ByteString,
    /// The envelope without inlined media, when it had some.
    pub without_media: Option<ByteString>,
}

struct Subscriber {
    id: u64,
    events: Vec<String>,
    media_base64: bool,
    tx: mpsc::Sender<ByteString>,
    reason: Arc<AtomicU8>,
}

impl Subscriber {
    fn close(self, reason: DropReason) {
        self.reason.store(reason as u8, Ordering::Relaxed);
        // dropping `tx` closes the client's queue
    }
}

enum Cmd {
    Register(String, Subscriber),
    Unregister(String, u64),
    Publish(String, PublishEvent),
    Reconfigure(String, WebsocketConfig),
    CloseInstance(String),
}

/// A client's end: its queue and why it was closed.
pub struct Subscription {
    /// The hub's id of this client.
    pub id: u64,
    /// Frames to write.
    pub frames: mpsc::Receiver<ByteString>,
    reason: Arc<AtomicU8>,
}

impl Subscription {
    /// Why the queue was closed (meaningful once `frames` yields `None`).
    pub fn reason(&self) -> DropReason {
        DropReason::from_u8(self.reason.load(Ordering::Relaxed))
    }
}

/// Handle to the public hub (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct PublicHub {
    tx: mpsc::UnboundedSender<Cmd>,
    next_id: Arc<AtomicU64>,
    capacity: usize,
    /// Instances with at least one client, so publishers can skip the rest.
    watched: Arc<RwLock<HashSet<String>>>,
}

impl PublicHub {
    /// Starts the hub's task on the current runtime.
    pub fn start(stats: Arc<HubStats>, capacity: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let watched = Arc::new(RwLock::new(HashSet::new()));
        actix_web::rt::spawn(run(rx, stats, watched.clone()));
        Self {
            tx,
            next_id: Arc::new(AtomicU64::new(1)),
            capacity,
            watched,
        }
    }

    fn send(&self, cmd: Cmd) {
        // The hub lives as long as the server; a send after shutdown is moot.
        let _ = self.tx.send(cmd);
    }

    /// Registers a client of `instance_id` with the instance's settings.
    pub fn subscribe(&self, instance_id: &str, config: &WebsocketConfig) -> Subscription {
        let (tx, rx) = mpsc::channel(self.capacity);
        let reason = Arc::new(AtomicU8::new(0));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.watched
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(instance_id.to_owned());
        self.send(Cmd::Register(
            instance_id.to_owned(),
            Subscriber {
                id,
                events: config.events.clone(),
                media_base64: config.media_base64,
                tx,
                reason: reason.clone(),
            },
        ));
        Subscription {
            id,
            frames: rx,
            reason,
        }
    }

    /// Removes a client.
    pub fn unsubscribe(&self, instance_id: &str, id: u64) {
        self.send(Cmd::Unregister(instance_id.to_owned(), id));
    }

    /// Whether the instance has clients (events of others need not be built).
    pub fn is_watched(&self, instance_id: &str) -> bool {
        self.watched
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(instance_id)
    }

    /// Offers an event to the instance's clients.
    pub fn publish(&self, instance_id: &str, event: PublishEvent) {
        self.send(Cmd::Publish(instance_id.to_owned(), event));
    }

    /// Applies new settings: filters change, or every client goes when disabled.
    pub fn reconfigure(&self, instance_id: &str, config: &WebsocketConfig) {
        self.send(Cmd::Reconfigure(instance_id.to_owned(), config.clone()));
    }

    /// Drops every client of a deleted instance.
    pub fn close_instance(&self, instance_id: &str) {
        self.send(Cmd::CloseInstance(instance_id.to_owned()));
    }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    stats: Arc<HubStats>,
    watched: Arc<RwLock<HashSet<String>>>,
) {
    let mut instances: HashMap<String, Vec<Subscriber>> = HashMap::new();
    while let Some(cmd) = rx.recv().await {
        let touched = match &cmd {
            Cmd::Register(i, _)
            | Cmd::Unregister(i, _)
            | Cmd::Publish(i, _)
            | Cmd::Reconfigure(i, _)
            | Cmd::CloseInstance(i) => i.clone(),
        };
        match cmd {
            Cmd::Register(instance, sub) => instances.entry(instance).or_default().push(sub),
            Cmd::Unregister(instance, id) => {
                if let Some(subs) = instances.get_mut(&instance) {
                    subs.retain(|s| s.id != id);
                    if subs.is_empty() {
                        instances.remove(&instance);
                    }
                }
            }
            Cmd::Publish(instance, event) => {
                let Some(subs) = instances.get_mut(&instance) else {
                    continue;
                };
                let mut kept = Vec::with_capacity(subs.len());
                for sub in subs.drain(..) {
                    if !sub.events.is_empty() && !sub.events.contains(&event.name) {
                        kept.push(sub);
                        continue;
                    }
                    let frame = match (&event.without_media, sub.media_base64) {
                        (Some(stripped), false) => stripped.clone(),
                        _ => event.full.clone(),
                    };
                    match sub.tx.try_send(frame) {
                        Ok(()) => kept.push(sub),
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            HubStats::incr(&stats.public_dropped_slow);
                            log::warn!("public socket client {} of instance {instance} dropped: not reading fast enough", sub.id);
                            sub.close(DropReason::Slow);
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {}
                    }
                }
                *subs = kept;
            }
            Cmd::Reconfigure(instance, config) => {
                if let Some(subs) = instances.get_mut(&instance) {
                    if config.enabled {
                        for sub in subs.iter_mut() {
                            sub.events.clone_from(&config.events);
                            sub.media_base64 = config.media_base64;
                        }
                    } else {
                        for sub in subs.drain(..) {
                            sub.close(DropReason::Disabled);
                        }
                    }
                }
            }
            Cmd::CloseInstance(instance) => {
                for sub in instances.remove(&instance).unwrap_or_default() {
                    sub.close(DropReason::Deleted);
                }
            }
        }
        if instances.get(&touched).is_none_or(Vec::is_empty) {
            instances.remove(&touched);
            watched
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&touched);
        }
    }
}
