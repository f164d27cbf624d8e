//! An in-memory repository with the same observable behaviour as the SQL adapters.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, Integration,
    Timestamp, WebsocketConfig,
};

use crate::events::{EventLog, LoggedEvent, NewEvent, StreamPosition};

use crate::cipher::SealedSecret;
use crate::repository::{
    AccountRepository, DuplicateField, InstanceRepository, IntegrationRepository, RepoError,
    Repository, StoredIntegration,
};
use crate::tokens::TokenDigest;

#[derive(Default)]
struct State {
    accounts: Vec<(Account, TokenDigest)>,
    instances: Vec<(Instance, TokenDigest)>,
    integrations: Vec<StoredIntegration>,
    /// instance id → (last seq, acked seq, active)
    streams: BTreeMap<String, (u64, u64, bool)>,
    events: Vec<LoggedEvent>,
    commands: BTreeMap<(String, String), (String, Timestamp)>,
    set_aside: Vec<(NewEvent, String)>,
    /// Appends of an event whose id or payload holds this text fail.
    refused: Option<String>,
}

/// A repository held in memory, behind one lock.
#[derive(Default)]
pub struct InMemoryRepository {
    state: Mutex<State>,
    lookups_fail: AtomicBool,
    appends_fail: AtomicBool,
}

impl InMemoryRepository {
    /// An empty repository.
    pub fn new() -> Self {
        Self::default()
    }

    /// While `fail` is set, looking an instance up by name fails with
    /// `Unavailable`, as it does when the database is down.
    pub fn fail_lookups(&self, fail: bool) {
        self.lookups_fail.store(fail, Ordering::SeqCst);
    }

    /// While `fail` is set, appending to the event log (and setting an event
    /// aside, and `ping`) fails with `Unavailable`, as it does when the
    /// database is down.
    pub fn fail_appends(&self, fail: bool) {
        self.appends_fail.store(fail, Ordering::SeqCst);
    }

    /// While set, an append of a batch holding an event whose id or payload
    /// contains `marker` fails (every time, as a database refuses a value it
    /// cannot store); other batches and everything else work.
    pub fn refuse_events_containing(&self, marker: Option<&str>) {
        self.state().refused = marker.map(str::to_owned);
    }

    /// The events set aside, with their reasons.
    pub fn set_aside_events(&self) -> Vec<(NewEvent, String)> {
        self.state().set_aside.clone()
    }

    /// Every event logged for an instance, in order (retained or not yet pruned).
    pub fn logged(&self, instance: &InstanceId) -> Vec<LoggedEvent> {
        let mut found: Vec<LoggedEvent> = self
            .state()
            .events
            .iter()
            .filter(|e| &e.event.instance_id == instance)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.seq);
        found
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AccountRepository for InMemoryRepository {
    fn create_account(&self, account: &Account, token: &TokenDigest) -> Result<(), RepoError> {
        let mut s = self.state();
        if s.accounts.iter().any(|(a, _)| a.id == account.id) {
            return Err(RepoError::Duplicate(DuplicateField::Id));
        }
        if s.accounts.iter().any(|(_, t)| t == token) {
            return Err(RepoError::Duplicate(DuplicateField::Token));
        }
        s.accounts.push((account.clone(), token.clone()));
        Ok(())
    }

    fn account_by_token(&self, token: &TokenDigest) -> Result<Option<Account>, RepoError> {
        Ok(self
            .state()
            .accounts
            .iter()
            .find(|(_, t)| t == token)
            .map(|(a, _)| a.clone()))
    }
}

impl InstanceRepository for InMemoryRepository {
    fn create_instance(
        &self,
        instance: &Instance,
        token: &TokenDigest,
        max_instances: u32,
    ) -> Result<(), RepoError> {
        let mut s = self.state();
        if !s.accounts.iter().any(|(a, _)| a.id == instance.account_id) {
            return Err(RepoError::MissingParent);
        }
        let owned = s
            .instances
            .iter()
            .filter(|(i, _)| i.account_id == instance.account_id)
            .count();
        if owned >= usize::try_from(max_instances).unwrap_or(usize::MAX) {
            return Err(RepoError::QuotaExceeded);
        }
        if s.instances.iter().any(|(i, _)| i.id == instance.id) {
            return Err(RepoError::Duplicate(DuplicateField::Id));
        }
        if s.instances.iter().any(|(i, _)| i.name == instance.name) {
            return Err(RepoError::Duplicate(DuplicateField::InstanceName));
        }
        if s.instances.iter().any(|(_, t)| t == token) {
            return Err(RepoError::Duplicate(DuplicateField::Token));
        }
        s.instances.push((instance.clone(), token.clone()));
        Ok(())
    }

    fn instance_by_token(&self, token: &TokenDigest) -> Result<Option<Instance>, RepoError> {
        Ok(self
            .state()
            .instances
            .iter()
            .find(|(_, t)| t == token)
            .map(|(i, _)| i.clone()))
    }

    fn instance_by_name(&self, name: &InstanceName) -> Result<Option<Instance>, RepoError> {
        if self.lookups_fail.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("lookups switched off".into()));
        }
        Ok(self
            .state()
            .instances
            .iter()
            .find(|(i, _)| &i.name == name)
            .map(|(i, _)| i.clone()))
    }

    fn instances_of(&self, account: &AccountId) -> Result<Vec<Instance>, RepoError> {
        let mut list: Vec<Instance> = self
            .state()
            .instances
            .iter()
            .filter(|(i, _)| &i.account_id == account)
            .map(|(i, _)| i.clone())
            .collect();
        list.sort_by(|a, b| (a.created_at, a.name.as_str()).cmp(&(b.created_at, b.name.as_str())));
        Ok(list)
    }

    fn set_websocket(&self, id: &InstanceId, config: &WebsocketConfig) -> Result<bool, RepoError> {
        let mut s = self.state();
        Ok(match s.instances.iter_mut().find(|(i, _)| &i.id == id) {
            Some((i, _)) => {
                i.websocket = config.clone();
                true
            }
            None => false,
        })
    }

    fn set_state(&self, id: &InstanceId, state: ConnectionState) -> Result<bool, RepoError> {
        let mut s = self.state();
        Ok(match s.instances.iter_mut().find(|(i, _)| &i.id == id) {
            Some((i, _)) => {
                i.state = state;
                true
            }
            None => false,
        })
    }

    fn set_all_states(&self, state: ConnectionState) -> Result<u64, RepoError> {
        let mut s = self.state();
        let mut changed = 0;
        for (i, _) in &mut s.instances {
            if i.state != state {
                i.state = state;
                changed += 1;
            }
        }
        Ok(changed)
    }

    fn delete_instance(&self, id: &InstanceId) -> Result<bool, RepoError> {
        let mut s = self.state();
        let before = s.instances.len();
        s.instances.retain(|(i, _)| &i.id != id);
        s.integrations.retain(|r| &r.integration.instance_id != id);
        s.streams.remove(id.as_str());
        s.events.retain(|e| &e.event.instance_id != id);
        s.commands.retain(|(i, _), _| i != id.as_str());
        s.set_aside.retain(|(e, _)| &e.instance_id != id);
        Ok(s.instances.len() != before)
    }
}

impl IntegrationRepository for InMemoryRepository {
    fn save_integration(
        &self,
        integration: &Integration,
        api_token: &SealedSecret,
    ) -> Result<(), RepoError> {
        let mut s = self.state();
        if !s
            .instances
            .iter()
            .any(|(i, _)| i.id == integration.instance_id)
        {
            return Err(RepoError::MissingParent);
        }
        let row = StoredIntegration {
            integration: integration.clone(),
            api_token: api_token.clone(),
        };
        match s
            .integrations
            .iter_mut()
            .find(|r| r.integration.instance_id == integration.instance_id)
        {
            Some(existing) => {
                // The first creation time is kept, as the SQL adapters do.
                let created_at = existing.integration.created_at;
                *existing = row;
                existing.integration.created_at = created_at;
            }
            None => s.integrations.push(row),
        }
        Ok(())
    }

    fn update_integration_state(&self, integration: &Integration) -> Result<bool, RepoError> {
        let mut s = self.state();
        let Some(existing) = s
            .integrations
            .iter_mut()
            .find(|r| r.integration.instance_id == integration.instance_id)
        else {
            return Ok(false);
        };
        let settings = existing.integration.settings.clone();
        let created_at = existing.integration.created_at;
        existing.integration = integration.clone();
        // only the state columns move; settings and creation time stay as stored
        existing.integration.settings = settings;
        existing.integration.created_at = created_at;
        Ok(true)
    }

    fn integration(&self, instance: &InstanceId) -> Result<Option<StoredIntegration>, RepoError> {
        Ok(self
            .state()
            .integrations
            .iter()
            .find(|r| &r.integration.instance_id == instance)
            .cloned())
    }

    fn delete_integration(&self, instance: &InstanceId) -> Result<bool, RepoError> {
        let mut s = self.state();
        let before = s.integrations.len();
        s.integrations
            .retain(|r| &r.integration.instance_id != instance);
        Ok(s.integrations.len() != before)
    }
}

impl Repository for InMemoryRepository {
    fn ping(&self) -> Result<(), RepoError> {
        if self.appends_fail.load(Ordering::SeqCst) || self.lookups_fail.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("database switched off".into()));
        }
        Ok(())
    }
}

impl EventLog for InMemoryRepository {
    fn open_stream(&self, instance: &InstanceId, _now: Timestamp) -> Result<bool, RepoError> {
        let mut s = self.state();
        if !s.instances.iter().any(|(i, _)| &i.id == instance) {
            return Err(RepoError::MissingParent);
        }
        match s.streams.get_mut(instance.as_str()) {
            Some((_, _, true)) => Ok(false),
            Some((last, acked, active)) => {
                *acked = *last;
                *active = true;
                Ok(true)
            }
            None => {
                s.streams.insert(instance.as_str().to_owned(), (0, 0, true));
                Ok(true)
            }
        }
    }

    fn close_stream(&self, instance: &InstanceId) -> Result<(), RepoError> {
        let mut s = self.state();
        s.events.retain(|e| &e.event.instance_id != instance);
        s.commands.retain(|(i, _), _| i != instance.as_str());
        if let Some((last, acked, active)) = s.streams.get_mut(instance.as_str()) {
            *acked = *last;
            *active = false;
        }
        Ok(())
    }

    fn append(&self, events: &[NewEvent]) -> Result<Vec<Option<u64>>, RepoError> {
        if self.appends_fail.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("appends switched off".into()));
        }
        let mut s = self.state();
        if let Some(marker) = &s.refused {
            if events.iter().any(|e| {
                e.event_id.contains(marker.as_str()) || e.payload.contains(marker.as_str())
            }) {
                return Err(RepoError::Unavailable(format!(
                    "the database refused a value holding '{marker}'"
                )));
            }
        }
        let mut seqs = Vec::with_capacity(events.len());
        for e in events {
            let Some((last, _, true)) = s.streams.get_mut(e.instance_id.as_str()) else {
                seqs.push(None);
                continue;
            };
            *last += 1;
            let seq = *last;
            s.events.push(LoggedEvent {
                seq,
                event: e.clone(),
            });
            seqs.push(Some(seq));
        }
        Ok(seqs)
    }

    fn read_after(
        &self,
        instance: &InstanceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, RepoError> {
        let s = self.state();
        let mut found: Vec<LoggedEvent> = s
            .events
            .iter()
            .filter(|e| &e.event.instance_id == instance && e.seq > after)
            .cloned()
            .collect();
        found.sort_by_key(|e| e.seq);
        found.truncate(limit);
        Ok(found)
    }

    fn position(&self, instance: &InstanceId) -> Result<Option<StreamPosition>, RepoError> {
        let s = self.state();
        Ok(s.streams
            .get(instance.as_str())
            .filter(|(_, _, active)| *active)
            .map(|&(last, acked, _)| {
                let oldest = s
                    .events
                    .iter()
                    .filter(|e| &e.event.instance_id == instance)
                    .map(|e| e.seq)
                    .min()
                    .unwrap_or(last + 1);
                StreamPosition {
                    acked_seq: acked,
                    last_seq: last,
                    oldest_seq: oldest,
                }
            }))
    }

    fn ack(&self, instance: &InstanceId, seq: u64, _now: Timestamp) -> Result<bool, RepoError> {
        let mut s = self.state();
        Ok(match s.streams.get_mut(instance.as_str()) {
            Some((last, acked, true)) => {
                *acked = seq.min(*last).max(*acked);
                true
            }
            _ => false,
        })
    }

    fn prune(&self, acked_before: Timestamp, any_before: Timestamp) -> Result<u64, RepoError> {
        let mut s = self.state();
        let streams = s.streams.clone();
        let before = s.events.len();
        s.events.retain(|e| {
            let acked = streams
                .get(e.event.instance_id.as_str())
                .map_or(0, |&(_, acked, _)| acked);
            let acked_and_old = e.seq <= acked && e.event.created_at < acked_before;
            !(acked_and_old || e.event.created_at < any_before)
        });
        s.commands.retain(|_, (_, at)| *at >= any_before);
        Ok(u64::try_from(before - s.events.len()).unwrap_or(u64::MAX))
    }

    fn set_aside(&self, event: &NewEvent, reason: &str, _now: Timestamp) -> Result<(), RepoError> {
        if self.appends_fail.load(Ordering::SeqCst) {
            return Err(RepoError::Unavailable("appends switched off".into()));
        }
        let mut s = self.state();
        if !s.instances.iter().any(|(i, _)| i.id == event.instance_id) {
            return Err(RepoError::MissingParent);
        }
        s.set_aside.push((event.clone(), reason.to_owned()));
        Ok(())
    }

    fn set_aside_count(&self) -> Result<u64, RepoError> {
        Ok(u64::try_from(self.state().set_aside.len()).unwrap_or(u64::MAX))
    }

    fn command_result(
        &self,
        instance: &InstanceId,
        key: &str,
    ) -> Result<Option<String>, RepoError> {
        Ok(self
            .state()
            .commands
            .get(&(instance.as_str().to_owned(), key.to_owned()))
            .map(|(r, _)| r.clone()))
    }

    fn save_command_result(
        &self,
        instance: &InstanceId,
        key: &str,
        result: &str,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        let mut s = self.state();
        if !s.instances.iter().any(|(i, _)| &i.id == instance) {
            return Err(RepoError::MissingParent);
        }
        let k = (instance.as_str().to_owned(), key.to_owned());
        if s.commands.contains_key(&k) {
            return Ok(false);
        }
        s.commands.insert(k, (result.to_owned(), now));
        Ok(true)
    }
}
