//! What `GET /health` reads from storage.

use ryzeapi_ports::RepoError;

use crate::context::Ports;

/// What storage says about the server's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageHealth {
    /// Events the log refused that are set aside now.
    pub set_aside: u64,
}

/// Asks the database to answer, and how many events are set aside.
///
/// # Errors
/// The database does not answer.
pub fn storage(ports: &Ports) -> Result<StorageHealth, RepoError> {
    ports.repo.ping()?;
    Ok(StorageHealth {
        set_aside: ports.log.set_aside_count()?,
    })
}
