//! The public hub: fan-out of events to `/ws/:instance` clients.
//!
//! The subscriber lists sit behind one mutex, held only to walk them; the
//! pump publishes from its own thread. Each client has its own queue, which
//! takes a burst whole: the hub appends a frame under the queue's own short
//! lock and never waits for a client. A client is judged by how far behind
//! it is, not by the size of one burst: it is dropped (its queue emptied and
//! closed, the reason recorded) when the oldest frame waiting for it was
//! queued longer ago than the allowed lag, or when the frames waiting for it
//! would exceed the queue's byte bound. The event still reaches every other
//! client.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use ryzeapi_domain::WebsocketConfig;
use tokio::sync::Notify;

use super::stats::HubStats;

/// Why the hub closed a client's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Still subscribed.
    None,
    /// The client fell too far behind: it does not read fast enough.
    Slow,
    /// The instance's WebSocket was disabled.
    Disabled,
    /// The instance was deleted.
    Deleted,
}

/// How far a client may fall behind before it is dropped as too slow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// The most bytes of frames waiting for one client (`PUBLIC_WS_QUEUE_BYTES`).
    /// A single frame larger than this is still taken by an empty queue.
    pub max_bytes: usize,
    /// The longest the oldest frame waiting for a client may have waited
    /// (`PUBLIC_WS_MAX_LAG_SECS`).
    pub max_lag: Duration,
}

impl Default for QueueLimits {
    /// The defaults of the settings: 16 MiB, 30 s.
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_lag: Duration::from_secs(30),
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

/// What a client's queue holds, behind its own lock.
#[derive(Default)]
struct QueueState {
    /// Frames waiting to be written, each with the instant it was queued.
    frames: VecDeque<(Instant, ByteString)>,
    /// Their length in bytes.
    bytes: usize,
    /// Set by the hub when it closes the queue.
    closed: Option<DropReason>,
    /// Set when the client's end is gone (its session ended).
    gone: bool,
}

/// A client's queue, shared by the hub (which appends) and the client's
/// session (which takes frames).
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    /// Woken on every frame appended and when the queue is closed.
    changed: Notify,
}

/// Why a frame was not queued.
enum Refused {
    /// The client is behind by more than the limits allow.
    Behind {
        frames: usize,
        bytes: usize,
        lag: Duration,
    },
    /// The client's end is gone.
    Gone,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        lock(&self.state)
    }

    /// Appends a frame queued at `now`, unless the client is too far behind.
    fn push(&self, frame: ByteString, now: Instant, limits: QueueLimits) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.gone || state.closed.is_some() {
            return Err(Refused::Gone);
        }
        if let Some((oldest, _)) = state.frames.front() {
            let lag = now.saturating_duration_since(*oldest);
            if lag > limits.max_lag || state.bytes.saturating_add(frame.len()) > limits.max_bytes {
                return Err(Refused::Behind {
                    frames: state.frames.len(),
                    bytes: state.bytes,
                    lag,
                });
            }
        }
        state.bytes += frame.len();
        state.frames.push_back((now, frame));
        drop(state);
        self.changed.notify_one();
        Ok(())
    }

    /// Closes the queue for `reason`. A slow client's frames are let go at
    /// once (nothing more is written to it); otherwise what was queued is
    /// still written before the socket closes.
    fn close(&self, reason: DropReason) {
        let mut state = self.lock();
        if state.closed.is_none() {
            state.closed = Some(reason);
        }
        if reason == DropReason::Slow {
            state.frames.clear();
            state.bytes = 0;
        }
        drop(state);
        self.changed.notify_one();
    }

    /// The next frame, or why the queue was closed once it is empty.
    fn take(&self) -> Result<Option<ByteString>, DropReason> {
        let mut state = self.lock();
        match state.frames.pop_front() {
            Some((_, frame)) => {
                state.bytes -= frame.len();
                Ok(Some(frame))
            }
            None => state.closed.map_or(Ok(None), Err),
        }
    }

    fn dropped_slow(&self) -> bool {
        self.lock().closed == Some(DropReason::Slow)
    }
}

struct Subscriber {
    id: u64,
    events: Vec<String>,
    media_base64: bool,
    queue: Arc<Queue>,
}

/// A client's end: its queue and why it was closed.
pub struct Subscription {
    /// The hub's id of this client.
    pub id: u64,
    queue: Arc<Queue>,
}

impl Subscription {
    /// The next frame to write, waiting for one; once the hub has closed
    /// the queue and nothing is left in it, why it was closed.
    ///
    /// # Errors
    /// The reason the hub closed the queue (never [`DropReason::None`]).
    pub async fn next(&self) -> Result<ByteString, DropReason> {
        loop {
            // A frame appended between `take` and the wait leaves a permit
            // in `changed`, so the wait ends at once: nothing is missed.
            if let Some(frame) = self.queue.take()? {
                return Ok(frame);
            }
            self.queue.changed.notified().await;
        }
    }

    /// A frame, if one is queued now (never waits).
    pub fn try_next(&self) -> Option<ByteString> {
        self.queue.take().ok().flatten()
    }

    /// Resolves when the hub drops this client as too slow, so that a write
    /// to a client that stopped reading need not run to its time limit.
    pub async fn dropped_slow(&self) {
        while !self.queue.dropped_slow() {
            self.queue.changed.notified().await;
        }
    }

    /// Why the queue was closed ([`DropReason::None`] while it is open).
    pub fn reason(&self) -> DropReason {
        self.queue.lock().closed.unwrap_or(DropReason::None)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // The hub forgets this client at its next publish even if nobody
        // unsubscribed it, and what was queued is let go now.
        let mut state = self.queue.lock();
        state.gone = true;
        state.frames.clear();
        state.bytes = 0;
    }
}

/// Handle to the public hub (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct PublicHub {
    /// Subscribers by instance id; an instance without clients has no entry.
    instances: Arc<Mutex<HashMap<String, Vec<Subscriber>>>>,
    next_id: Arc<AtomicU64>,
    limits: QueueLimits,
    stats: Arc<HubStats>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PublicHub {
    /// A hub whose clients may fall behind within `limits`.
    pub fn new(stats: Arc<HubStats>, limits: QueueLimits) -> Self {
        Self {
            instances: Arc::new(Mutex::new(HashMap::new())),
            next_id: Arc::new(AtomicU64::new(1)),
            limits,
            stats,
        }
    }

    /// Registers a client of `instance_id` with the instance's settings.
    pub fn subscribe(&self, instance_id: &str, config: &WebsocketConfig) -> Subscription {
        let queue = Arc::new(Queue::default());
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.instances)
            .entry(instance_id.to_owned())
            .or_default()
            .push(Subscriber {
                id,
                events: config.events.clone(),
                media_base64: config.media_base64,
                queue: queue.clone(),
            });
        Subscription { id, queue }
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
    /// frame is appended to each client's queue, and a client too far
    /// behind is dropped — the others still get the event.
    pub fn publish(&self, events: Vec<(String, PublishEvent)>) {
        self.publish_at(events, Instant::now());
    }

    /// [`PublicHub::publish`], the frames counted as queued at `now`.
    fn publish_at(&self, events: Vec<(String, PublishEvent)>, now: Instant) {
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
                match sub.queue.push(frame, now, self.limits) {
                    Ok(()) => true,
                    Err(Refused::Behind { frames, bytes, lag }) => {
                        HubStats::incr(&self.stats.public_dropped_slow);
                        log::warn!(
                            "public socket client {} of instance {instance} dropped: not reading fast enough \
                             ({frames} events, {bytes} bytes waiting, the oldest for {} ms)",
                            sub.id,
                            lag.as_millis()
                        );
                        sub.queue.close(DropReason::Slow);
                        false
                    }
                    Err(Refused::Gone) => false,
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
                sub.queue.close(DropReason::Disabled);
            }
        }
    }

    /// Drops every client of a deleted instance.
    pub fn close_instance(&self, instance_id: &str) {
        let removed = lock(&self.instances).remove(instance_id);
        for sub in removed.unwrap_or_default() {
            sub.queue.close(DropReason::Deleted);
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

    fn drain(sub: &Subscription) -> Vec<String> {
        let mut got = Vec::new();
        while let Some(frame) = sub.try_next() {
            got.push(frame.to_string());
        }
        got
    }

    fn hub(stats: &Arc<HubStats>, max_bytes: usize, max_lag_ms: u64) -> PublicHub {
        PublicHub::new(
            stats.clone(),
            QueueLimits {
                max_bytes,
                max_lag: Duration::from_millis(max_lag_ms),
            },
        )
    }

    #[test]
    fn filters_and_media_are_per_client() {
        let hub = PublicHub::new(Arc::new(HubStats::default()), QueueLimits::default());
        let all = hub.subscribe("i1", &config(&[], true));
        let statuses = hub.subscribe("i1", &config(&["message.status"], false));
        let other = hub.subscribe("i2", &config(&[], false));
        hub.publish(vec![
            event("message.exchange", 1, true),
            event("message.status", 2, false),
        ]);
        assert_eq!(
            drain(&all),
            ["message.exchange 1 full", "message.status 2 full"]
        );
        assert_eq!(drain(&statuses), ["message.status 2 full"]);
        assert!(
            drain(&other).is_empty(),
            "another instance's clients get nothing"
        );

        let stripped = hub.subscribe("i1", &config(&[], false));
        hub.publish(vec![event("message.exchange", 3, true)]);
        assert_eq!(drain(&stripped), ["message.exchange 3 stripped"]);
    }

    #[test]
    fn a_burst_is_taken_whole() {
        let stats = Arc::new(HubStats::default());
        let hub = PublicHub::new(stats.clone(), QueueLimits::default());
        let client = hub.subscribe("i1", &config(&[], false));
        hub.publish(
            (0..10_000)
                .map(|n| event("message.exchange", n, false))
                .collect(),
        );
        let got = drain(&client);
        assert_eq!(got.len(), 10_000);
        assert!(got
            .iter()
            .enumerate()
            .all(|(n, f)| *f == format!("message.exchange {n} full")));
        assert_eq!(client.reason(), DropReason::None);
        assert_eq!(stats.public_dropped_slow.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_client_behind_for_too_long_is_dropped_alone() {
        let stats = Arc::new(HubStats::default());
        let hub = hub(&stats, 1 << 20, 1000);
        let slow = hub.subscribe("i1", &config(&[], false));
        let fast = hub.subscribe("i1", &config(&[], false));
        let start = Instant::now();
        // The fast client reads everything; the slow one reads nothing.
        // Both are within the lag at 0.5 s and 1 s.
        for (n, ms) in [(1, 0), (2, 500), (3, 1000)] {
            hub.publish_at(
                vec![event("message.exchange", n, false)],
                start + Duration::from_millis(ms),
            );
            assert_eq!(drain(&fast).len(), 1);
        }
        assert_eq!(slow.reason(), DropReason::None);
        // At 1.5 s the slow client's oldest frame has waited longer than
        // 1 s; the fast client has been reading for as long and stays.
        hub.publish_at(
            vec![event("message.exchange", 4, false)],
            start + Duration::from_millis(1500),
        );
        assert_eq!(slow.reason(), DropReason::Slow);
        assert!(
            slow.try_next().is_none(),
            "a slow client's frames are let go at once"
        );
        assert_eq!(drain(&fast), ["message.exchange 4 full"]);
        assert_eq!(stats.public_dropped_slow.load(Ordering::Relaxed), 1);
        assert!(hub.is_watched("i1"));
    }

    #[test]
    fn a_client_with_too_many_bytes_waiting_is_dropped() {
        let stats = Arc::new(HubStats::default());
        // "message.exchange N full" is 23 bytes: four fit in 100, five do not.
        let hub = hub(&stats, 100, 60_000);
        let reader = hub.subscribe("i1", &config(&[], false));
        let slow = hub.subscribe("i1", &config(&[], false));
        for n in 1..=4 {
            hub.publish(vec![event("message.exchange", n, false)]);
        }
        assert_eq!(slow.reason(), DropReason::None);
        assert_eq!(drain(&reader).len(), 4, "what is read frees room");
        hub.publish(vec![event("message.exchange", 5, false)]);
        assert_eq!(slow.reason(), DropReason::Slow);
        assert_eq!(reader.reason(), DropReason::None);
        assert_eq!(stats.public_dropped_slow.load(Ordering::Relaxed), 1);

        // One frame larger than the bound still reaches a client that has
        // nothing waiting.
        let big = hub.subscribe("i1", &config(&[], false));
        let large = ByteString::from("x".repeat(500));
        hub.publish(vec![(
            "i1".to_owned(),
            PublishEvent {
                name: "message.exchange".into(),
                full: large.clone(),
                without_media: None,
            },
        )]);
        assert_eq!(big.try_next(), Some(large));
        assert_eq!(big.reason(), DropReason::None);
    }

    #[test]
    fn disabling_deleting_and_leaving_close_the_queues() {
        let hub = PublicHub::new(Arc::new(HubStats::default()), QueueLimits::default());
        let a = hub.subscribe("i1", &config(&[], false));
        let b = hub.subscribe("i2", &config(&[], false));
        let c = hub.subscribe("i3", &config(&[], false));
        assert!(hub.is_watched("i1") && hub.is_watched("i2") && hub.is_watched("i3"));

        hub.reconfigure("i1", &config(&["message.status"], false));
        hub.publish(vec![event("message.exchange", 1, false)]);
        assert!(drain(&a).is_empty(), "the new filter applies");
        assert_eq!(a.reason(), DropReason::None);
        hub.publish(vec![event("message.status", 2, false)]);
        hub.reconfigure(
            "i1",
            &WebsocketConfig {
                enabled: false,
                ..WebsocketConfig::default()
            },
        );
        assert_eq!(a.reason(), DropReason::Disabled);
        assert_eq!(
            drain(&a),
            ["message.status 2 full"],
            "what was queued is still written"
        );
        assert!(!hub.is_watched("i1"));

        hub.close_instance("i2");
        assert_eq!(b.reason(), DropReason::Deleted);
        assert!(!hub.is_watched("i2"));

        hub.unsubscribe("i3", c.id);
        assert!(!hub.is_watched("i3"), "the last client left");

        // A client whose end is gone is forgotten at the next publish.
        let d = hub.subscribe("i4", &config(&[], false));
        drop(d);
        hub.publish(vec![(
            "i4".to_owned(),
            event("message.exchange", 3, false).1,
        )]);
        assert!(!hub.is_watched("i4"));
    }

    #[test]
    fn a_waiting_session_is_woken_by_frames_and_by_its_drop() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let stats = Arc::new(HubStats::default());
        let hub = hub(&stats, 30, 60_000);
        let sub = hub.subscribe("i1", &config(&[], false));
        let publisher = hub.clone();
        runtime.block_on(async {
            let from_another_thread = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                publisher.publish(vec![event("message.exchange", 1, false)]);
            });
            let frame = tokio::time::timeout(Duration::from_secs(5), sub.next())
                .await
                .expect("woken by the frame");
            assert_eq!(frame.unwrap(), "message.exchange 1 full");
            from_another_thread.join().unwrap();

            // Two frames do not fit in 30 bytes: the second drops the
            // client, and a write in progress learns of it.
            hub.publish(vec![event("message.exchange", 2, false)]);
            let dropping = hub.clone();
            let later = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                dropping.publish(vec![event("message.exchange", 3, false)]);
            });
            tokio::time::timeout(Duration::from_secs(5), sub.dropped_slow())
                .await
                .expect("woken by the drop");
            later.join().unwrap();
            assert_eq!(sub.next().await, Err(DropReason::Slow));
        });
    }
}
