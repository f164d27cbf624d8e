//! The pump: takes the engine's events, writes them to the durable log (for
//! instances with an integration) and only then offers them to the bridge;
//! public clients get them too.
//!
//! It runs on a thread of its own and works in batches (one log transaction
//! per batch): it builds a batch, writes it, offers it to the bridge, and
//! only then serves public clients, so their fan-out never delays the
//! durable path. One thread from the engine's queue to the bridge hub means
//! one hand-over less per event than a separate writer thread; building the
//! next batch during a commit, which a second thread allowed, bought no rate
//! that could be measured on two cores. Each event's envelope is built
//! before it enters the queue, on the engine's own thread; the pump writes
//! the `event` frame around the envelope as it is.
//!
//! The engine hands events over through a bounded queue: when the
//! server is behind, the engine waits a bounded time and is then told the
//! intake is full ([`DeliverError::Full`]) — nothing is dropped silently. A
//! failed log write is retried until it succeeds; a batch that the database
//! keeps refusing while it answers is split, and the one event it refuses is
//! set aside, so that it never holds up the others.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::mpsc::{
    sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ryzeapi_core::bridge;
use ryzeapi_core::events::{self, InstanceDirectory, Route};
use ryzeapi_domain::{ConnectionState, EventId, EventName, InstanceId, InstanceName, Timestamp};
use ryzeapi_ports::{Clock, DeliverError, EngineEvent, EventLog, EventSink, NewEvent, Repository};
use ryzeapi_protocol::Event;

use super::bridge_hub::{BridgeHub, EventFrame};
use super::envelope;
use super::public_hub::{PublicHub, PublishEvent};
use super::stats::HubStats;

/// The most events one transaction takes when the log is SQLite, whose
/// commits are cheap (no flush to disk in its write-ahead mode): smaller
/// batches reach the bridge sooner and keep every stage busy.
pub const SQLITE_BATCH: usize = 512;

/// The most events one transaction takes when the log is Postgres, whose
/// every commit waits for a flush to disk: larger groups share that wait.
pub const POSTGRES_BATCH: usize = 4096;

/// Events waiting for their instance to be read (the database did not
/// answer for an instance the pump had never seen) at most; beyond this the
/// pump takes nothing new until they move, and the intake fills.
const MAX_WAITING: usize = 16_384;

/// The wait between attempts at a storage call that keeps failing: 50 ms,
/// doubling up to 5 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(Duration::from_millis(50))
    }

    /// Sleeps for the current wait, then doubles it.
    fn wait(&mut self) {
        std::thread::sleep(self.next());
    }

    /// The current wait; the next one is twice as long.
    fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        now
    }
}

/// How long [`PumpSink::deliver`] waits for room in a full intake before it
/// answers [`DeliverError::Full`]: a request that emits an event is answered
/// (503) within about this long, never held without bound.
pub const INTAKE_WAIT: Duration = Duration::from_secs(2);

/// An event as the pump takes it from its intake: the engine's event with
/// its envelope already built, on the engine's thread. The pump is one
/// thread for every instance; what the engines' threads can do side by side
/// is not left to it.
struct Intake {
    instance: InstanceName,
    event_id: EventId,
    name: EventName,
    at: Timestamp,
    state: Option<ConnectionState>,
    /// The envelope, encoded.
    full: String,
    /// The envelope without inlined media content, when it had some.
    without_media: Option<String>,
}

impl Intake {
    fn new(event: EngineEvent, base_url: &str) -> Self {
        let EngineEvent {
            instance,
            event_id,
            name,
            data,
            at,
            state,
        } = event;
        let (full, without_media) =
            envelope::build(name.as_str(), data.as_str(), instance.as_str(), base_url);
        Self {
            instance,
            event_id,
            name,
            at,
            state,
            full,
            without_media,
        }
    }
}

/// The engine's side of the pump.
pub struct PumpSink {
    tx: SyncSender<Intake>,
    wait: Duration,
    stats: Arc<HubStats>,
    base_url: Arc<str>,
}

impl EventSink for PumpSink {
    fn deliver(&self, event: EngineEvent) -> Result<(), DeliverError> {
        let mut event = Intake::new(event, &self.base_url);
        let deadline = Instant::now() + self.wait;
        let mut pause = Duration::from_micros(100);
        loop {
            match self.tx.try_send(event) {
                Ok(()) => {
                    HubStats::incr(&self.stats.events_received);
                    return Ok(());
                }
                Err(TrySendError::Disconnected(_)) => {
                    log::warn!("event pump stopped; an event arrived during shutdown");
                    return Err(DeliverError::Stopped);
                }
                Err(TrySendError::Full(back)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        HubStats::incr(&self.stats.intake_refused);
                        return Err(DeliverError::Full);
                    }
                    event = back;
                    std::thread::sleep(pause.min(left));
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
            }
        }
    }
}

/// Identical failures of a batch's write before it is split (or, for a
/// single event, before it is set aside), while the database answers.
const REFUSALS: u32 = 3;

/// What the pump works with.
#[derive(Clone)]
pub struct Pump {
    /// Instance lookups and state updates.
    pub repo: Arc<dyn Repository>,
    /// The durable log.
    pub log: Arc<dyn EventLog>,
    /// Public clients.
    pub public: PublicHub,
    /// Bridge streams.
    pub bridge: BridgeHub,
    /// Counters.
    pub stats: Arc<HubStats>,
    /// `instanceData.baseUrl` of every envelope.
    pub base_url: String,
    /// Time of the acknowledgements it stores.
    pub clock: Arc<dyn Clock>,
    /// The most events per batch (and so per log transaction).
    pub batch: usize,
    /// Instances by name, as last read (a deletion forgets its name at once).
    pub directory: Arc<InstanceDirectory>,
}

/// How often the pump stores the bridges' acknowledged positions.
pub const ACK_FLUSH: Duration = Duration::from_millis(250);

impl Pump {
    /// Starts the pump thread; returns the sink to attach to the engine.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(self, queue: usize) -> std::io::Result<PumpSink> {
        self.start_with_wait(queue, INTAKE_WAIT)
    }

    /// As [`Pump::start`], with the engine waiting at most `wait` for room.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start_with_wait(self, queue: usize, wait: Duration) -> std::io::Result<PumpSink> {
        let (tx, rx) = sync_channel(queue);
        let stats = self.stats.clone();
        let base_url = self.base_url.as_str().into();
        std::thread::Builder::new()
            .name("event-pump".into())
            .spawn(move || self.run(&rx))?;
        Ok(PumpSink {
            tx,
            wait,
            stats,
            base_url,
        })
    }

    /// The pump's loop: one thread builds each batch, writes it to the log,
    /// offers it to the bridge, then serves public clients, and stores the
    /// bridges' acknowledgements between batches. Being the only writer of
    /// events and acknowledgements, it never waits for another transaction;
    /// whatever piles up during a commit goes into the next one (group
    /// commit).
    fn run(&self, rx: &Receiver<Intake>) {
        let mut waiting: VecDeque<Intake> = VecDeque::new();
        let mut backoff = Backoff::new();
        let mut acks_stored = Instant::now();
        loop {
            let limit = self.batch.max(1);
            // Events that wait for their instance go first (each instance's
            // order is kept), then new ones, as many as a batch takes: the
            // waiting never crowd out the others.
            let mut batch: Vec<Intake> = waiting.drain(..).collect();
            let held = batch.len();
            let wait = if held == 0 {
                backoff = Backoff::new();
                ACK_FLUSH
            } else {
                backoff.next()
            };
            match rx.recv_timeout(wait) {
                Ok(first) => batch.push(first),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) if held == 0 => {
                    self.store_acks();
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {}
            }
            if held < MAX_WAITING {
                while batch.len() < held + limit {
                    match rx.try_recv() {
                        Ok(e) => batch.push(e),
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
            }
            if !batch.is_empty() {
                let (to_log, to_publish, lookup_failed) = self.prepare(batch, &mut waiting);
                // Public clients after the durable path: their fan-out
                // never delays an event on its way to the bridge.
                let mut to_publish = Some(to_publish);
                if !to_log.is_empty() {
                    self.store_and_offer(&to_log, || {
                        // The log is failing: public clients, who do not
                        // depend on it, get the batch now.
                        if let Some(events) = to_publish.take() {
                            self.public.publish(events);
                        }
                    });
                }
                if let Some(events) = to_publish {
                    self.public.publish(events);
                }
                // Stored, and nothing waits for its instance: nothing is
                // being retried any more.
                if !lookup_failed && waiting.is_empty() {
                    self.stats.clear_failure();
                }
            }
            if acks_stored.elapsed() >= ACK_FLUSH {
                self.store_acks();
                acks_stored = Instant::now();
            }
        }
    }

    /// Instance lookups and state updates; returns what to log, what to
    /// publish to public clients (only for instances that have some), and
    /// whether a lookup failed.
    ///
    /// Each event's instance comes from the directory (use case:
    /// `ryzeapi_core::events`). An event whose instance cannot be read now
    /// (and was never seen) goes to `waiting`, and so do the later events
    /// of that instance in the batch, in order; every other event goes on.
    fn prepare(
        &self,
        batch: Vec<Intake>,
        waiting: &mut VecDeque<Intake>,
    ) -> (Vec<NewEvent>, Vec<(String, PublishEvent)>, bool) {
        let mut to_log = Vec::with_capacity(batch.len());
        let mut to_publish = Vec::new();
        // Read once per batch: names no instance has, and names that wait.
        let mut unknown: HashSet<InstanceName> = HashSet::new();
        let mut later: HashSet<InstanceName> = HashSet::new();
        let mut failed = false;
        for event in batch {
            if later.contains(&event.instance) {
                waiting.push_back(event);
                continue;
            }
            if unknown.contains(&event.instance) {
                continue;
            }
            let (route, failure) =
                self.directory
                    .route(self.repo.as_ref(), &event.instance, event.state.is_some());
            if let Some(e) = failure {
                failed = true;
                HubStats::incr(&self.stats.log_retries);
                self.stats
                    .note_failure(&format!("looking up instance '{}': {e}", event.instance));
                log::warn!(
                    "event pump: looking up instance '{}' failed: {e}",
                    event.instance
                );
            }
            let instance = match route {
                Route::To(instance) => instance,
                Route::Unknown => {
                    log::debug!(
                        "event pump: event for unknown instance '{}' ignored",
                        event.instance
                    );
                    unknown.insert(event.instance.clone());
                    continue;
                }
                Route::Later(_) => {
                    later.insert(event.instance.clone());
                    waiting.push_back(event);
                    continue;
                }
            };
            if let Err(e) = events::record_state(self.repo.as_ref(), &instance, event.state) {
                log::error!(
                    "event pump: recording the state of '{}': {e}",
                    instance.name
                );
            }
            let Intake {
                event_id,
                name,
                at,
                full,
                without_media,
                ..
            } = event;
            if self.public.is_watched(instance.id.as_str()) {
                to_publish.push((
                    instance.id.as_str().to_owned(),
                    PublishEvent {
                        name: name.as_str().to_owned(),
                        full: full.as_str().into(),
                        without_media: without_media.map(Into::into),
                    },
                ));
            }
            to_log.push(NewEvent {
                instance_id: instance.id.clone(),
                event_id: event_id.into_string(),
                name: name.as_str().to_owned(),
                payload: full,
                created_at: at,
            });
        }
        (to_log, to_publish, failed)
    }

    /// Writes a batch to the log (retrying until it is stored), then offers
    /// the logged events to the bridge hub; `on_failure` runs after each
    /// failed attempt.
    fn store_and_offer(&self, to_log: &[NewEvent], mut on_failure: impl FnMut()) {
        let seqs = self.append_or_set_aside(to_log, false, &mut on_failure);
        let mut per_instance: HashMap<&str, Vec<EventFrame>> = HashMap::new();
        let mut logged = 0_u64;
        for (event, seq) in to_log.iter().zip(seqs) {
            let Some(seq) = seq else { continue };
            logged += 1;
            per_instance
                .entry(event.instance_id.as_str())
                .or_default()
                .push(EventFrame {
                    seq,
                    text: Event::encode_around(seq, &event.event_id, &event.payload).into(),
                });
        }
        self.stats
            .events_logged
            .fetch_add(logged, std::sync::atomic::Ordering::Relaxed);
        for (instance, frames) in per_instance {
            self.bridge.offer(instance, frames);
        }
    }

    /// Stores the acknowledged positions the bridge connections noted; a
    /// failed one is noted again for the next round.
    fn store_acks(&self) {
        for (instance, seq) in self.bridge.take_acks() {
            let id = InstanceId::new(instance.clone());
            if let Err(e) = bridge::record_ack(self.log.as_ref(), self.clock.as_ref(), &id, seq) {
                log::error!("event log: storing acknowledgement {seq} of instance {instance}: {e}");
                self.bridge.record_ack(&instance, seq);
            }
        }
    }

    /// Writes `events` to the log, retrying while it fails; returns each
    /// event's sequence number (`None`: not logged, or set aside).
    ///
    /// A write that fails [`REFUSALS`] times the same way while the database
    /// answers `ping` is refused for what it holds, not for an outage: the
    /// batch is split in two halves, written in order (a half of a split
    /// batch is split again at its first such failure), until the one event
    /// the database refuses is alone; that event is set aside (kept in
    /// `set_aside_events`, counted) and every other event goes on. While
    /// the database does not answer, the same batch is retried with backoff,
    /// whole. If even setting the event aside fails, its write is retried.
    fn append_or_set_aside(
        &self,
        events: &[NewEvent],
        split_part: bool,
        on_failure: &mut impl FnMut(),
    ) -> Vec<Option<u64>> {
        let need = match (events.len(), split_part) {
            (1, true) => 2,
            (_, false) => REFUSALS,
            (_, true) => 1,
        };
        let mut backoff = Backoff::new();
        let mut last_error = String::new();
        let mut same = 0;
        loop {
            let e = match self.log.append(events) {
                Ok(logged) => return logged,
                Err(e) => e.to_string(),
            };
            HubStats::incr(&self.stats.log_retries);
            self.stats
                .note_failure(&format!("writing events to the log: {e}"));
            on_failure();
            if e == last_error {
                same += 1;
            } else {
                same = 1;
                last_error.clone_from(&e);
            }
            if same >= need && self.repo.ping().is_ok() {
                if let [event] = events {
                    match self.log.set_aside(event, &e, self.clock.now()) {
                        Ok(()) => {
                            HubStats::incr(&self.stats.events_set_aside);
                            log::error!(
                                "event pump: the log refuses event '{}' of instance {} ({}, {} bytes); it is set aside in set_aside_events: {e}",
                                event.event_id.escape_debug(),
                                event.instance_id.as_str(),
                                event.name.escape_debug(),
                                event.payload.len()
                            );
                            return vec![None];
                        }
                        Err(aside) => log::error!(
                            "event pump: setting aside an event the log refuses failed, retrying: {aside}"
                        ),
                    }
                } else {
                    let (first, second) = events.split_at(events.len() / 2);
                    log::warn!(
                        "event pump: the log refuses a batch of {} event(s) the same way while the database answers; writing it in halves: {e}",
                        events.len()
                    );
                    let mut seqs = self.append_or_set_aside(first, true, on_failure);
                    seqs.extend(self.append_or_set_aside(second, true, on_failure));
                    return seqs;
                }
            }
            log::error!(
                "event pump: writing {} event(s) to the log failed, retrying in {:?}: {e}",
                events.len(),
                backoff.0
            );
            backoff.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use ryzeapi_domain::{
        Account, AccountId, ConnectionState, EventData, EventId, EventName, Instance, InstanceId,
        Timestamp, WebsocketConfig,
    };
    use ryzeapi_ports::testing::{FixedClock, InMemoryRepository};
    use ryzeapi_ports::{AccountRepository, InstanceRepository, TokenDigest};

    use super::*;
    use crate::events::public_hub::QueueLimits;

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(5), "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// An instance with a stream, an in-memory repository and log, and the
    /// pump's hubs.
    struct Setup {
        repo: Arc<InMemoryRepository>,
        instance: Instance,
        stats: Arc<HubStats>,
        public: PublicHub,
        bridge: BridgeHub,
    }

    fn setup() -> Setup {
        let repo = Arc::new(InMemoryRepository::new());
        let account = Account {
            id: AccountId::new("acc"),
            name: "acc".into(),
            max_instances: 5,
            created_at: Timestamp::from_millis(0),
        };
        repo.create_account(&account, &TokenDigest::from_hex("aa"))
            .unwrap();
        let websocket = WebsocketConfig::parse(true, &[], false).unwrap();
        let instance = Instance {
            id: InstanceId::new("inst"),
            account_id: account.id.clone(),
            name: InstanceName::parse("a").unwrap(),
            state: ConnectionState::Disconnected,
            websocket,
            created_at: Timestamp::from_millis(0),
        };
        repo.create_instance(&instance, &TokenDigest::from_hex("bb"), 5)
            .unwrap();
        repo.open_stream(&instance.id, Timestamp::from_millis(0))
            .unwrap();
        let stats = Arc::new(HubStats::default());
        Setup {
            repo,
            instance,
            public: PublicHub::new(stats.clone(), QueueLimits::default()),
            bridge: BridgeHub::new(stats.clone(), 64),
            stats,
        }
    }

    impl Setup {
        fn pump(&self, batch: usize) -> Pump {
            Pump {
                repo: self.repo.clone(),
                log: self.repo.clone(),
                public: self.public.clone(),
                bridge: self.bridge.clone(),
                stats: self.stats.clone(),
                base_url: "http://localhost".into(),
                clock: Arc::new(FixedClock::at(0)),
                batch,
                directory: Arc::new(InstanceDirectory::default()),
            }
        }

        fn message(&self, id: &str) -> EngineEvent {
            EngineEvent {
                instance: self.instance.name.clone(),
                event_id: EventId::from_engine(id),
                name: EventName::from_engine("message.exchange"),
                data: EventData::from_engine(format!(r#"{{"id":"{id}"}}"#)),
                at: Timestamp::from_millis(1),
                state: None,
            }
        }
    }

    #[test]
    fn public_clients_get_events_while_the_log_is_failing_and_the_bridge_after() {
        let set = setup();
        let (repo, instance, stats, bridge) = (&set.repo, &set.instance, &set.stats, &set.bridge);
        let client = set.public.subscribe("inst", &instance.websocket);
        repo.fail_appends(true);
        let sink = set.pump(SQLITE_BATCH).start(16).unwrap();
        sink.deliver(EngineEvent {
            instance: instance.name.clone(),
            event_id: EventId::from_engine("m1"),
            name: EventName::from_engine("message.exchange"),
            data: EventData::from_engine("{}".into()),
            at: Timestamp::from_millis(1),
            state: None,
        })
        .unwrap();

        wait_until("the public client never got the event", || {
            client.try_next().is_some()
        });
        assert!(
            stats.log_retries.load(Ordering::Relaxed) >= 1,
            "it came while the log was failing"
        );
        assert!(
            bridge
                .stream("inst")
                .after(0, 10)
                .is_none_or(|f| f.is_empty()),
            "nothing unlogged reaches the bridge"
        );

        repo.fail_appends(false);
        wait_until("the bridge never got the event", || {
            bridge
                .stream("inst")
                .after(0, 10)
                .is_some_and(|f| f.len() == 1 && f[0].seq == 1)
        });
        assert!(client.try_next().is_none(), "the public client got it once");

        // The whole database down: the instance cannot be read either. The
        // pump goes on with the instance as it last saw it, so the public
        // client still gets the next event while nothing can be stored.
        repo.fail_lookups(true);
        repo.fail_appends(true);
        let retries = stats.log_retries.load(Ordering::Relaxed);
        sink.deliver(EngineEvent {
            instance: instance.name.clone(),
            event_id: EventId::from_engine("state-1"),
            name: EventName::from_engine("instance.state"),
            data: EventData::from_engine(r#"{"state":"connected"}"#.into()),
            at: Timestamp::from_millis(2),
            // a state change always reads the instance afresh
            state: Some(ConnectionState::Connected),
        })
        .unwrap();
        wait_until("the public client never got the state change", || {
            client.try_next().is_some()
        });
        assert!(stats.log_retries.load(Ordering::Relaxed) > retries);
        assert!(
            bridge
                .stream("inst")
                .after(0, 10)
                .is_some_and(|f| f.len() == 1),
            "nothing unlogged reaches the bridge"
        );
        repo.fail_lookups(false);
        repo.fail_appends(false);
        wait_until("the bridge never got the state change", || {
            bridge
                .stream("inst")
                .after(0, 10)
                .is_some_and(|f| f.len() == 2 && f[1].seq == 2)
        });
    }

    #[test]
    fn an_event_the_log_refuses_is_set_aside_and_every_other_event_goes_on() {
        let set = setup();
        let client = set.public.subscribe("inst", &set.instance.websocket);
        set.repo.refuse_events_containing(Some("poison"));
        let pump = set.pump(SQLITE_BATCH);
        // The whole batch reaches the pump before it starts, so the refused
        // event sits in the middle of one batch.
        let (tx, rx) = sync_channel(64);
        for i in 0..40 {
            let id = if i == 17 {
                "poison-17".to_owned()
            } else {
                format!("m{i}")
            };
            tx.send(Intake::new(set.message(&id), "http://localhost"))
                .unwrap();
        }
        drop(tx);
        pump.run(&rx);

        let logged = set.repo.logged(&set.instance.id);
        let ids: Vec<&str> = logged.iter().map(|e| e.event.event_id.as_str()).collect();
        let expected: Vec<String> = (0..40)
            .filter(|i| *i != 17)
            .map(|i| format!("m{i}"))
            .collect();
        assert_eq!(ids, expected, "every other event is logged, in order");
        assert_eq!(
            logged.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=39).collect::<Vec<u64>>(),
            "no number is lost to the refused event"
        );
        let aside = set.repo.set_aside_events();
        assert_eq!(aside.len(), 1);
        assert_eq!(aside[0].0.event_id, "poison-17");
        assert!(
            aside[0].1.contains("refused"),
            "the reason is kept: {}",
            aside[0].1
        );
        assert_eq!(set.stats.events_set_aside.load(Ordering::Relaxed), 1);
        assert_eq!(
            set.stats.failure(),
            None,
            "nothing is being retried any more"
        );
        let offered = set.bridge.stream("inst").after(0, 100).unwrap_or_default();
        assert_eq!(
            offered.len(),
            39,
            "the bridge is offered every logged event"
        );
        let mut public = 0;
        while client.try_next().is_some() {
            public += 1;
        }
        assert_eq!(
            public, 40,
            "public clients got every event, the refused one too (they do not depend on the log)"
        );
    }

    #[test]
    fn an_outage_is_retried_whole_never_set_aside() {
        let set = setup();
        set.repo.fail_appends(true);
        let sink = set.pump(SQLITE_BATCH).start(16).unwrap();
        for i in 0..3 {
            sink.deliver(set.message(&format!("m{i}"))).unwrap();
        }
        wait_until("the failure is never reported", || {
            set.stats.log_retries.load(Ordering::Relaxed) >= 5
        });
        assert!(set
            .stats
            .failure()
            .is_some_and(|f| f.contains("switched off")));
        assert!(set.repo.set_aside_events().is_empty());
        set.repo.fail_appends(false);
        wait_until("the events are never logged", || {
            set.repo.logged(&set.instance.id).len() == 3
        });
        wait_until("the failure is never cleared", || {
            set.stats.failure().is_none()
        });
        assert!(set.repo.set_aside_events().is_empty());
    }

    #[test]
    fn a_full_intake_answers_within_its_bound() {
        let set = setup();
        // The database is down: the pump retries its first batch and
        // takes nothing more.
        set.repo.fail_appends(true);
        let wait = Duration::from_millis(200);
        let sink = set.pump(1).start_with_wait(2, wait).unwrap();
        let mut refused = None;
        for i in 0..10 {
            let started = Instant::now();
            if let Err(e) = sink.deliver(set.message(&format!("m{i}"))) {
                refused = Some((e, started.elapsed()));
                break;
            }
        }
        let (e, waited) = refused.expect("a full intake refuses");
        assert_eq!(e, DeliverError::Full);
        assert!(waited >= wait, "it waited for room first: {waited:?}");
        assert!(waited < wait * 10, "never without bound: {waited:?}");
        assert_eq!(set.stats.intake_refused.load(Ordering::Relaxed), 1);
        set.repo.fail_appends(false);
        wait_until("the events taken are never logged", || {
            set.repo.logged(&set.instance.id).len() >= 2
        });
    }

    #[test]
    fn an_instance_that_cannot_be_read_holds_up_only_its_own_events() {
        let set = setup();
        let other = Instance {
            id: InstanceId::new("other"),
            name: InstanceName::parse("b").unwrap(),
            ..set.instance.clone()
        };
        set.repo
            .create_instance(&other, &TokenDigest::from_hex("cc"), 5)
            .unwrap();
        set.repo
            .open_stream(&other.id, Timestamp::from_millis(0))
            .unwrap();
        let sink = set.pump(SQLITE_BATCH).start(64).unwrap();
        // `a` is seen once while the database answers.
        sink.deliver(set.message("a0")).unwrap();
        wait_until("a0 is never logged", || {
            set.repo.logged(&set.instance.id).len() == 1
        });
        // The database stops answering lookups: `b` was never seen.
        set.repo.fail_lookups(true);
        let to_b = |id: &str| EngineEvent {
            instance: other.name.clone(),
            ..set.message(id)
        };
        sink.deliver(to_b("b1")).unwrap();
        sink.deliver(set.message("a1")).unwrap();
        sink.deliver(to_b("b2")).unwrap();
        sink.deliver(set.message("a2")).unwrap();
        wait_until("a's events are held up by b's", || {
            set.repo.logged(&set.instance.id).len() == 3
        });
        assert!(set.repo.logged(&other.id).is_empty(), "b's events wait");
        assert!(set.stats.failure().is_some(), "and the pump says so");
        set.repo.fail_lookups(false);
        wait_until("b's events are never logged", || {
            set.repo.logged(&other.id).len() == 2
        });
        let ids: Vec<String> = set
            .repo
            .logged(&other.id)
            .into_iter()
            .map(|e| e.event.event_id)
            .collect();
        assert_eq!(ids, ["b1", "b2"], "in order");
        wait_until("the failure is never cleared", || {
            set.stats.failure().is_none()
        });
    }
}
