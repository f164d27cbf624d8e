//! The pump: takes the engine's events, writes them to the durable log (for
//! instances with an integration) and only then offers them to the bridge;
//! public clients get them too.
//!
//! It runs on two threads of its own (building; writing and offering) and
//! works in batches (one log transaction per batch). The building thread
//! hands each batch to the writing thread first and serves public clients
//! after, so their fan-out never delays the durable path. The engine hands
//! events over through a bounded queue: when the server is behind, the
//! engine waits — nothing is dropped. A failed log write is retried until it
//! succeeds.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ryzeapi_domain::{Instance, InstanceId, InstanceName};
use ryzeapi_ports::{Clock, EngineEvent, EventLog, EventSink, NewEvent, Repository};

use super::bridge_hub::{BridgeHub, EventFrame};
use super::public_hub::{PublicHub, PublishEvent};
use super::stats::HubStats;
use super::{envelope, protocol};

const BATCH: usize = 512;

/// The engine's side of the pump.
pub struct PumpSink {
    tx: SyncSender<EngineEvent>,
}

impl EventSink for PumpSink {
    fn deliver(&self, event: EngineEvent) {
        // Blocks while the queue is full; fails only once the pump is gone (shutdown).
        if self.tx.send(event).is_err() {
            log::warn!("event pump stopped; an event arrived during shutdown");
        }
    }
}

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
}

/// How often the log writer stores the bridges' acknowledged positions.
pub const ACK_FLUSH: Duration = Duration::from_millis(250);

impl Pump {
    /// Starts the pump thread; returns the sink to attach to the engine.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(self, queue: usize) -> std::io::Result<PumpSink> {
        let (tx, rx) = sync_channel(queue);
        // Two stages: one thread builds envelopes and serves public clients,
        // the other writes batches to the log and offers them to the bridge,
        // so building the next batch overlaps the commit of the previous one.
        // One writer keeps the order.
        let (to_writer, from_builder) = sync_channel::<Vec<NewEvent>>(8);
        let writer = self.clone();
        std::thread::Builder::new()
            .name("event-log".into())
            .spawn(move || {
                // The only writer of events and acknowledgements, so the two
                // never wait for each other's transactions.
                let mut acks_stored = Instant::now();
                loop {
                    match from_builder.recv_timeout(ACK_FLUSH) {
                        Ok(mut batch) => {
                            // Whatever piled up during the previous commit
                            // goes into one transaction (group commit).
                            while let Ok(more) = from_builder.try_recv() {
                                batch.extend(more);
                            }
                            writer.store_and_offer(&batch);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => {
                            writer.store_acks();
                            return;
                        }
                    }
                    if acks_stored.elapsed() >= ACK_FLUSH {
                        writer.store_acks();
                        acks_stored = Instant::now();
                    }
                }
            })?;
        std::thread::Builder::new()
            .name("event-pump".into())
            .spawn(move || self.run(&rx, &to_writer))?;
        Ok(PumpSink { tx })
    }

    fn run(&self, rx: &Receiver<EngineEvent>, writer: &SyncSender<Vec<NewEvent>>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let (to_log, to_publish) = self.prepare(batch);
            if !to_log.is_empty() && writer.send(to_log).is_err() {
                log::error!("event pump: the log writer stopped");
                return;
            }
            // Public clients after the durable path: their fan-out never
            // delays the hand-over to the log writer.
            self.public.publish(to_publish);
        }
    }

    /// The instance named `name`; a storage failure is retried (never taken
    /// for "unknown"), so no event is dropped because of it.
    fn lookup(
        &self,
        cache: &mut HashMap<InstanceName, Option<Arc<Instance>>>,
        name: &InstanceName,
    ) -> Option<Arc<Instance>> {
        if let Some(found) = cache.get(name) {
            return found.clone();
        }
        let mut wait = Duration::from_millis(50);
        let found = loop {
            match self.repo.instance_by_name(name) {
                Ok(found) => break found.map(Arc::new),
                Err(e) => {
                    HubStats::incr(&self.stats.log_retries);
                    log::error!(
                        "event pump: looking up instance '{name}' failed, retrying in {wait:?}: {e}"
                    );
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        };
        cache.insert(name.clone(), found.clone());
        found
    }

    /// Envelopes and state updates; returns what to log and what to publish
    /// to public clients (only for instances that have some).
    fn prepare(&self, batch: Vec<EngineEvent>) -> (Vec<NewEvent>, Vec<(String, PublishEvent)>) {
        let received = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        self.stats
            .events_received
            .fetch_add(received, std::sync::atomic::Ordering::Relaxed);
        let mut instances = HashMap::new();
        let mut to_log = Vec::with_capacity(batch.len());
        let mut to_publish = Vec::new();
        for event in batch {
            let Some(instance) = self.lookup(&mut instances, &event.instance) else {
                log::debug!(
                    "event pump: event for unknown instance '{}' ignored",
                    event.instance
                );
                continue;
            };
            if let Some(state) = event.state {
                if let Err(e) = self.repo.set_state(&instance.id, state) {
                    log::error!(
                        "event pump: recording the state of '{}': {e}",
                        instance.name
                    );
                }
            }
            let (full, without_media) = envelope::build(
                &event.name,
                &event.data,
                instance.name.as_str(),
                &self.base_url,
            );
            if self.public.is_watched(instance.id.as_str()) {
                to_publish.push((
                    instance.id.as_str().to_owned(),
                    PublishEvent {
                        name: event.name.clone(),
                        full: full.as_str().into(),
                        without_media: without_media.map(Into::into),
                    },
                ));
            }
            to_log.push(NewEvent {
                instance_id: instance.id.clone(),
                event_id: event.event_id,
                name: event.name,
                payload: full,
                created_at: event.at,
            });
        }
        (to_log, to_publish)
    }

    /// Writes a batch to the log (retrying until it is stored), then offers
    /// the logged events to the bridge hub.
    fn store_and_offer(&self, to_log: &[NewEvent]) {
        let seqs = self.append_until_stored(to_log);
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
                    text: protocol::event(seq, &event.event_id, &event.payload).into(),
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
        let now = self.clock.now();
        for (instance, seq) in self.bridge.take_acks() {
            if let Err(e) = self.log.ack(&InstanceId::new(instance.clone()), seq, now) {
                log::error!("event log: storing acknowledgement {seq} of instance {instance}: {e}");
                self.bridge.record_ack(&instance, seq);
            }
        }
    }

    fn append_until_stored(&self, events: &[NewEvent]) -> Vec<Option<u64>> {
        let mut wait = Duration::from_millis(50);
        loop {
            match self.log.append(events) {
                Ok(logged) => return logged,
                Err(e) => {
                    HubStats::incr(&self.stats.log_retries);
                    log::error!(
                        "event pump: writing {} event(s) to the log failed, retrying in {wait:?}: {e}",
                        events.len()
                    );
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}
