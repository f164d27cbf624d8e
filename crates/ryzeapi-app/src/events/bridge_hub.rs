//! The bridge hub: per-instance event streams and the one bridge connection
//! each instance may have.
//!
//! A stream keeps the newest logged events the bridge has not acknowledged
//! in memory (a bounded tail) and a watch of the highest sequence number.
//! The pump appends and moves the watch without ever waiting; the connection
//! reads at its own pace, from the tail or, when it is further behind, from
//! the durable log. So a slow bridge
//! holds back nobody, and nothing is lost: the log is the queue.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytestring::ByteString;
use tokio::sync::{oneshot, watch};

use super::stats::HubStats;
use ryzeapi_protocol::close;

/// A logged event, ready to send.
#[derive(Debug, Clone)]
pub struct EventFrame {
    /// Its sequence number.
    pub seq: u64,
    /// The whole `event` frame (cheap to clone).
    pub text: ByteString,
}

/// One instance's stream.
pub struct InstanceStream {
    tail: Mutex<Tail>,
    latest: watch::Sender<u64>,
    tail_len: usize,
}

/// The newest frames, bounded by count and by bytes.
#[derive(Default)]
struct Tail {
    frames: VecDeque<EventFrame>,
    bytes: usize,
}

/// Bytes of frames kept in memory per instance (large media events push
/// older ones out sooner; those are read from the log).
const TAIL_BYTES: usize = 16 * 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InstanceStream {
    fn new(tail_len: usize) -> Self {
        Self {
            tail: Mutex::new(Tail::default()),
            latest: watch::channel(0).0,
            tail_len,
        }
    }

    /// Watches the highest sequence number logged.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Raises the known highest sequence number (never lowers it).
    pub fn raise_latest(&self, seq: u64) {
        self.latest.send_if_modified(|v| {
            if seq > *v {
                *v = seq;
                true
            } else {
                false
            }
        });
    }

    fn push(&self, frames: Vec<EventFrame>) {
        let Some(top) = frames.last().map(|f| f.seq) else {
            return;
        };
        {
            let mut tail = lock(&self.tail);
            for frame in frames {
                tail.bytes += frame.text.len();
                tail.frames.push_back(frame);
            }
            while tail.frames.len() > self.tail_len || tail.bytes > TAIL_BYTES {
                match tail.frames.pop_front() {
                    Some(old) => tail.bytes -= old.text.len(),
                    None => break,
                }
            }
        }
        self.raise_latest(top);
    }

    /// Forgets the frames up to `seq`: the bridge acknowledged them, and a
    /// bridge that resumes from further back reads them from the log. So a
    /// bridge that keeps up leaves only its unacknowledged events in memory.
    pub fn forget_through(&self, seq: u64) {
        let mut tail = lock(&self.tail);
        while tail.frames.front().is_some_and(|f| f.seq <= seq) {
            if let Some(old) = tail.frames.pop_front() {
                tail.bytes -= old.text.len();
            }
        }
    }

    /// Up to `max` frames after `after` from memory, or `None` when memory no
    /// longer reaches back that far (read the log instead).
    pub fn after(&self, after: u64, max: usize) -> Option<Vec<EventFrame>> {
        let tail = lock(&self.tail);
        let first = tail.frames.front()?.seq;
        if first > after.saturating_add(1) {
            return None;
        }
        let skip = usize::try_from(after + 1 - first).unwrap_or(usize::MAX);
        Some(tail.frames.iter().skip(skip).take(max).cloned().collect())
    }
}

/// Why a bridge connection is being closed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseOrder {
    /// Close code.
    pub code: u16,
    /// Close reason.
    pub reason: &'static str,
}

struct Connection {
    id: u64,
    close: oneshot::Sender<CloseOrder>,
}

struct Inner {
    streams: Mutex<HashMap<String, Arc<InstanceStream>>>,
    /// Acknowledged positions not yet written to the log, by instance id.
    acks: Mutex<HashMap<String, u64>>,
    in_flight: Mutex<HashSet<(String, String)>>,
    connections: Mutex<HashMap<String, Connection>>,
    next_id: AtomicU64,
    tail_len: usize,
    stats: Arc<HubStats>,
}

/// Handle to the bridge hub (cheap to clone, usable from any thread).
#[derive(Clone)]
pub struct BridgeHub {
    inner: Arc<Inner>,
}

/// A bridge connection's registration.
pub struct Attachment {
    /// Connection id.
    pub id: u64,
    /// Fires when the server closes this connection (replaced, stream removed).
    pub closed: oneshot::Receiver<CloseOrder>,
    /// The instance's stream.
    pub stream: Arc<InstanceStream>,
}

impl BridgeHub {
    /// A hub keeping the newest `tail_len` events per instance in memory.
    pub fn new(stats: Arc<HubStats>, tail_len: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                streams: Mutex::new(HashMap::new()),
                acks: Mutex::new(HashMap::new()),
                in_flight: Mutex::new(HashSet::new()),
                connections: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                tail_len: tail_len.max(1),
                stats,
            }),
        }
    }

    /// The stream of an instance (created on first use).
    pub fn stream(&self, instance_id: &str) -> Arc<InstanceStream> {
        lock(&self.inner.streams)
            .entry(instance_id.to_owned())
            .or_insert_with(|| Arc::new(InstanceStream::new(self.inner.tail_len)))
            .clone()
    }

    /// Newly logged events of an instance, in order.
    pub fn offer(&self, instance_id: &str, frames: Vec<EventFrame>) {
        self.stream(instance_id).push(frames);
    }

    fn close_connection(&self, instance_id: &str, order: CloseOrder) {
        if let Some(conn) = lock(&self.inner.connections).remove(instance_id) {
            let _ = conn.close.send(order);
        }
    }

    /// The stream restarted (a new integration): memory is cleared and a
    /// connected bridge is closed so it starts over.
    pub fn reset(&self, instance_id: &str) {
        lock(&self.inner.streams).remove(instance_id);
        self.close_connection(
            instance_id,
            CloseOrder {
                code: close::STREAM_CLOSED,
                reason: "stream restarted",
            },
        );
    }

    /// The stream is gone (integration or instance removed).
    pub fn remove(&self, instance_id: &str) {
        lock(&self.inner.streams).remove(instance_id);
        self.close_connection(
            instance_id,
            CloseOrder {
                code: close::STREAM_CLOSED,
                reason: "integration removed",
            },
        );
    }

    /// Registers a bridge connection; an earlier one for the instance is closed
    /// (the newest connection wins).
    pub fn attach(&self, instance_id: &str) -> Attachment {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let previous = lock(&self.inner.connections)
            .insert(instance_id.to_owned(), Connection { id, close: tx });
        if let Some(previous) = previous {
            HubStats::incr(&self.inner.stats.bridge_replaced);
            let _ = previous.close.send(CloseOrder {
                code: close::REPLACED,
                reason: "replaced by a newer connection",
            });
        }
        Attachment {
            id,
            closed: rx,
            stream: self.stream(instance_id),
        }
    }

    /// Unregisters a connection (only if it is still the registered one).
    pub fn detach(&self, instance_id: &str, id: u64) {
        let mut connections = lock(&self.inner.connections);
        if connections.get(instance_id).is_some_and(|c| c.id == id) {
            connections.remove(instance_id);
        }
    }

    /// Reserves an idempotency key while its command runs, across every
    /// connection of the instance; `None` when it is already running.
    pub fn reserve_command(&self, instance_id: &str, key: &str) -> Option<CommandReservation> {
        let entry = (instance_id.to_owned(), key.to_owned());
        lock(&self.inner.in_flight)
            .insert(entry.clone())
            .then(|| CommandReservation {
                hub: self.clone(),
                entry,
            })
    }

    /// Notes a bridge's acknowledged position, for the pump to store
    /// with its own writes (so that acknowledgements never compete with
    /// event appends for the database's write lock). Keeps the highest.
    pub fn record_ack(&self, instance_id: &str, seq: u64) {
        let mut acks = lock(&self.inner.acks);
        let entry = acks.entry(instance_id.to_owned()).or_insert(seq);
        *entry = (*entry).max(seq);
    }

    /// The acknowledged positions noted since the last call.
    pub fn take_acks(&self) -> HashMap<String, u64> {
        std::mem::take(&mut *lock(&self.inner.acks))
    }

    /// Whether a bridge is connected for the instance.
    pub fn is_connected(&self, instance_id: &str) -> bool {
        lock(&self.inner.connections).contains_key(instance_id)
    }
}

/// An idempotency key held while its command runs; released on drop.
pub struct CommandReservation {
    hub: BridgeHub,
    entry: (String, String),
}

impl Drop for CommandReservation {
    fn drop(&mut self) {
        lock(&self.hub.inner.in_flight).remove(&self.entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> EventFrame {
        EventFrame {
            seq,
            text: ByteString::from(format!("{seq}")),
        }
    }

    #[test]
    fn the_tail_is_bounded_and_says_when_it_cannot_reach_back() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 3);
        hub.offer("i", (1..=5).map(frame).collect());
        let stream = hub.stream("i");
        assert_eq!(*stream.subscribe().borrow(), 5);
        assert!(stream.after(0, 10).is_none(), "1 and 2 fell out of memory");
        assert!(stream.after(1, 10).is_none());
        let got: Vec<u64> = stream
            .after(2, 10)
            .unwrap_or_default()
            .iter()
            .map(|f| f.seq)
            .collect();
        assert_eq!(got, vec![3, 4, 5]);
        let got: Vec<u64> = stream
            .after(3, 1)
            .unwrap_or_default()
            .iter()
            .map(|f| f.seq)
            .collect();
        assert_eq!(got, vec![4]);
        assert_eq!(stream.after(5, 10).map(|v| v.len()), Some(0));
    }

    #[test]
    fn noted_acknowledgements_keep_the_highest_and_are_taken_once() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 3);
        hub.record_ack("i", 5);
        hub.record_ack("i", 3);
        hub.record_ack("j", 1);
        let taken = hub.take_acks();
        assert_eq!(taken.get("i"), Some(&5), "an older position never wins");
        assert_eq!(taken.get("j"), Some(&1));
        assert!(hub.take_acks().is_empty(), "each is handed over once");
    }

    #[test]
    fn acknowledged_frames_leave_memory() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 100);
        hub.offer("i", (1..=5).map(frame).collect());
        let stream = hub.stream("i");
        stream.forget_through(3);
        assert!(
            stream.after(2, 10).is_none(),
            "3 went: read it from the log"
        );
        let kept: Vec<u64> = stream
            .after(3, 10)
            .unwrap_or_default()
            .iter()
            .map(|f| f.seq)
            .collect();
        assert_eq!(kept, vec![4, 5]);
        stream.forget_through(9);
        hub.offer("i", vec![frame(6)]);
        assert_eq!(stream.after(5, 10).map(|v| v.len()), Some(1));
    }

    #[test]
    fn the_newest_connection_wins() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 3);
        let mut first = hub.attach("i");
        let second = hub.attach("i");
        let order = first.closed.try_recv().ok();
        assert_eq!(order.map(|o| o.code), Some(close::REPLACED));
        hub.detach("i", first.id);
        assert!(
            hub.is_connected("i"),
            "detaching the old one leaves the new one"
        );
        hub.detach("i", second.id);
        assert!(!hub.is_connected("i"));
    }

    #[test]
    fn a_running_command_key_cannot_be_reserved_twice() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 3);
        let held = hub.reserve_command("i", "k");
        assert!(held.is_some());
        assert!(hub.reserve_command("i", "k").is_none());
        assert!(
            hub.reserve_command("j", "k").is_some(),
            "keys are per instance"
        );
        drop(held);
        assert!(hub.reserve_command("i", "k").is_some(), "released on drop");
    }

    #[test]
    fn the_tail_is_also_bounded_by_bytes() {
        let hub = BridgeHub::new(Arc::new(HubStats::default()), 1_000_000);
        let big = "x".repeat(1024 * 1024);
        hub.offer(
            "i",
            (1..=20)
                .map(|seq| EventFrame {
                    seq,
                    text: ByteString::from(big.clone()),
                })
                .collect(),
        );
        let stream = hub.stream("i");
        assert!(stream.after(0, 100).is_none(), "the oldest megabytes went");
        let kept = stream.after(4, 100).unwrap_or_default();
        assert_eq!(kept.last().map(|f| f.seq), Some(20));
        assert!(kept.len() <= 16);
    }
}
