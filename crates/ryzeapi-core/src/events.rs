//! What the event pump decides for each event of the engine: which instance
//! it belongs to (through a directory of instances looked up by name, with
//! explicit invalidation), and the state change it records.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ryzeapi_domain::{ConnectionState, Instance, InstanceName};
use ryzeapi_ports::{RepoError, Repository};

/// How long a lookup is trusted for message events. State changes always
/// read the instance afresh.
pub const INSTANCE_TTL: Duration = Duration::from_secs(1);

/// Instances kept at most; the directory starts over beyond that.
const MAX_KNOWN: usize = 10_000;

/// Where an event goes.
#[derive(Debug, Clone)]
pub enum Route {
    /// To this instance.
    To(Arc<Instance>),
    /// Nowhere: no instance has that name (the event is dropped).
    Unknown,
    /// Not known now: the instance could not be read and was never seen.
    /// The event waits; events of other instances go on.
    Later(RepoError),
}

/// Instances by name, as the pump last read them. A deletion forgets the
/// name at once ([`InstanceDirectory::forget`]), so an event never reaches
/// a deleted instance, nor a new instance under the same name through the
/// old one's entry.
#[derive(Debug)]
pub struct InstanceDirectory {
    known: Mutex<HashMap<InstanceName, (Instant, Arc<Instance>)>>,
    ttl: Duration,
}

impl Default for InstanceDirectory {
    fn default() -> Self {
        Self::new(INSTANCE_TTL)
    }
}

impl InstanceDirectory {
    /// A directory trusting a lookup for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            known: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Forgets `name` (its instance was deleted).
    pub fn forget(&self, name: &InstanceName) {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }

    /// Where an event for `name` goes. A recent lookup is reused unless
    /// `fresh`; when the repository fails, the instance as last seen is used
    /// if there is one (with the failure), otherwise the event waits
    /// ([`Route::Later`]) — a failure is never taken for "unknown".
    pub fn route(
        &self,
        repo: &dyn Repository,
        name: &InstanceName,
        fresh: bool,
    ) -> (Route, Option<RepoError>) {
        if !fresh {
            let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, instance)) = known.get(name) {
                if at.elapsed() < self.ttl {
                    return (Route::To(instance.clone()), None);
                }
            }
        }
        match repo.instance_by_name(name) {
            Ok(Some(instance)) => {
                let instance = Arc::new(instance);
                let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
                if known.len() >= MAX_KNOWN {
                    known.clear();
                }
                known.insert(name.clone(), (Instant::now(), instance.clone()));
                (Route::To(instance), None)
            }
            Ok(None) => {
                self.forget(name);
                (Route::Unknown, None)
            }
            Err(e) => {
                let known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
                match known.get(name) {
                    Some((_, instance)) => (Route::To(instance.clone()), Some(e)),
                    None => (Route::Later(e.clone()), Some(e)),
                }
            }
        }
    }
}

/// Records the state an `instance.state` event reports (`state`) on its
/// instance (what `GET /api/instance/list` shows); nothing for other events.
///
/// # Errors
/// The repository's.
pub fn record_state(
    repo: &dyn Repository,
    instance: &Instance,
    state: Option<ConnectionState>,
) -> Result<(), RepoError> {
    match state {
        Some(state) => repo.set_state(&instance.id, state).map(|_| ()),
        None => Ok(()),
    }
}
