//! The public hub: fan-out of events to `/ws/:instance` clients.
//!
//! The subscriber lists sit behind one mutex, held only to walk them; the
//! pump publishes from its own thread. Each client has its own bounded queue;
//! the hub offers a frame with `try_send` and never waits for a client. A client whose queue
//! is full is dropped (its queue closed, the reason recorded) — the event
//! still reaches every other client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    fn close(&self, reason: DropReason) {
        // Recorded before the subscriber (and with it `tx`, which closes the
        // client's queue) is dropped by the caller.
        self.reason.store(reason as u8, Ordering::Relaxed);
    }
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
    /// Subscribers by instance id; an instance without clients has no entry.
    instances: Arc<Mutex<HashMap<String, Vec<Subscriber>>>>,
    next_id: Arc<AtomicU64>,
    capacity: usize,
    stats: Arc<HubStats>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PublicHub {
    /// A hub whose clients each have a queue of `capacity` frames.
    pub fn new(stats: Arc<HubStats>, capacity: usize) -> Self {
        Self {
            instances: Arc::new(Mutex::new(HashMap::new())),
            next_id: Arc::new(AtomicU64::new(1)),
            capacity: capacity.max(1),
            stats,
        }
    }

    /// Registers a client of `instance_id` with the instance's settings.
    pub fn subscribe(&self, instance_id: &str, config: &WebsocketConfig) -> Subscription {
        let (tx, rx) = mpsc::channel(self.capacity);
        let reason = Arc::new(AtomicU8::new(0));
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.instances)
            .entry(instance_id.to_owned())
            .or_default()
            .push(Subscriber {
                id,
                events: config.events.clone(),
                media_base64: config.media_base64,
                tx,
                reason: reason.clone(),
            });
        Subscription {
            id,
            frames: rx,
            reason,
        }
    }

    /// Removes a client.
    pub fn unsubscribe(&self, instance_id: &str, id: u64) {
        let mut instances = lock(&self.instances);
        if let Some(subs) = instances.get_mut(instance_id) {
            subs.retain(|s| s.id != id);
            if subs.is_empty() {
                instances.remove(instance_id);
            }
        }
    }

    /// Whether the instance has clients (events of others need not be built).
    pub fn is_watched(&self, instance_id: &str) -> bool {
        lock(&self.instances).contains_key(instance_id)
    }

    /// Offers events to their instances' clients, in order. Never waits: a
    /// frame goes into each client's queue with `try_send`, and a client
    /// whose queue is full is dropped — the others still get the event.
    pub fn publish(&self, events: Vec<(String, PublishEvent)>) {
        if events.is_empty() {
            return;
        }
        let mut instances = lock(&self.instances);
        for (instance, event) in events {
            let Some(subs) = instances.get_mut(&instance) else {
                continue;
            };
            subs.retain(|sub| {
                if !sub.events.is_empty() && !sub.events.contains(&event.name) {
                    return true;
                }
                let frame = match (&event.without_media, sub.media_base64) {
                    (Some(stripped), false) => stripped.clone(),
                    _ => event.full.clone(),
                };
                match sub.tx.try_send(frame) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        HubStats::incr(&self.stats.public_dropped_slow);
                        log::warn!(
                            "public socket client {} of instance {instance} dropped: not reading fast enough",
                            sub.id
                        );
                        sub.close(DropReason::Slow);
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
            if subs.is_empty() {
                instances.remove(&instance);
            }
        }
    }

    /// Applies new settings: filters change, or every client goes when disabled.
    pub fn reconfigure(&self, instance_id: &str, config: &WebsocketConfig) {
        let mut instances = lock(&self.instances);
        if config.enabled {
            for sub in instances.get_mut(instance_id).into_iter().flatten() {
                sub.events.clone_from(&config.events);
                sub.media_base64 = config.media_base64;
            }
        } else {
            for sub in instances.remove(instance_id).unwrap_or_default() {
                sub.close(DropReason::Disabled);
            }
        }
    }

    /// Drops every client of a deleted instance.
    pub fn close_instance(&self, instance_id: &str) {
        let removed = lock(&self.instances).remove(instance_id);
        for sub in removed.unwrap_or_default() {
            sub.close(DropReason::Deleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(events: &[&str], media_base64: bool) -> WebsocketConfig {
        WebsocketConfig {
            enabled: true,
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            media_base64,
        }
    }

    fn event(name: &str, n: u32, media: bool) -> (String, PublishEvent) {
        (
            "i1".to_owned(),
            PublishEvent {
                name: name.to_owned(),
                full: ByteString::from(format!("{name} {n} full")),
                without_media: media.then(|| ByteString::from(format!("{name} {n} stripped"))),
            },
        )
    }

    fn drain(sub: &mut Subscription) -> Vec<String> {
        let mut got = Vec::new();
        while let Ok(frame) = sub.frames.try_recv() {
            got.push(frame.to_string());
        }
        got
    }

    #[test]
    fn filters_and_media_are_per_client() {
        let hub = PublicHub::new(Arc::new(HubStats::default()), 8);
        let mut all = hub.subscribe("i1", &config(&[], true));
        let mut statuses = hub.subscribe("i1", &config(&["message.status"], false));
        let mut other = hub.subscribe("i2", &config(&[], false));
        hub.publish(vec![
            event("message.exchange", 1, true),
            event("message.status", 2, false),
        ]);
        assert_eq!(
            drain(&mut all),
            ["message.exchange 1 full", "message.status 2 full"]
        );
        assert_eq!(drain(&mut statuses), ["message.status 2 full"]);
        assert!(
            drain(&mut other).is_empty(),
            "another instance's clients get nothing"
        );

        let mut stripped = hub.subscribe("i1", &config(&[], false));
        hub.publish(vec![event("message.exchange", 3, true)]);
        assert_eq!(drain(&mut stripped), ["message.exchange 3 stripped"]);
    }

    #[test]
    fn a_full_queue_drops_that_client_only() {
        let stats = Arc::new(HubStats::default());
        let hub = PublicHub::new(stats.clone(), 2);
        let mut slow = hub.subscribe("i1", &config(&[], false));
        let mut fast = hub.subscribe("i1", &config(&[], false));
        for n in 1..=3 {
            hub.publish(vec![event("message.exchange", n, false)]);
            drain(&mut fast);
        }
        assert_eq!(slow.reason(), DropReason::Slow);
        assert_eq!(
            drain(&mut slow).len(),
            2,
            "what was queued can still be written"
        );
        assert!(slow.frames.try_recv().is_err(), "then the queue is closed");
        assert_eq!(stats.public_dropped_slow.load(Ordering::Relaxed), 1);
        hub.publish(vec![event("message.exchange", 4, false)]);
        assert_eq!(drain(&mut fast), ["message.exchange 4 full"]);
        assert!(hub.is_watched("i1"));
    }

    #[test]
    fn disabling_deleting_and_leaving_close_the_queues() {
        let hub = PublicHub::new(Arc::new(HubStats::default()), 8);
        let mut a = hub.subscribe("i1", &config(&[], false));
        let b = hub.subscribe("i2", &config(&[], false));
        let c = hub.subscribe("i3", &config(&[], false));
        assert!(hub.is_watched("i1") && hub.is_watched("i2") && hub.is_watched("i3"));

        hub.reconfigure("i1", &config(&["message.status"], false));
        hub.publish(vec![event("message.exchange", 1, false)]);
        assert!(drain(&mut a).is_empty(), "the new filter applies");
        assert_eq!(a.reason(), DropReason::None);
        hub.reconfigure(
            "i1",
            &WebsocketConfig {
                enabled: false,
                ..WebsocketConfig::default()
            },
        );
        assert_eq!(a.reason(), DropReason::Disabled);
        assert!(!hub.is_watched("i1"));

        hub.close_instance("i2");
        assert_eq!(b.reason(), DropReason::Deleted);
        assert!(!hub.is_watched("i2"));

        hub.unsubscribe("i3", c.id);
        assert!(!hub.is_watched("i3"), "the last client left");
    }
}
