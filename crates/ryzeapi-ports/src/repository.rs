//! The repository ports: accounts, instances and integrations.

use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, Integration,
    WebsocketConfig,
};

use crate::cipher::SealedSecret;
use crate::tokens::TokenDigest;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateField {
    /// An instance with that name exists.
    InstanceName,
    /// That token is already in use.
    Token,
    /// Another row with the same identity.
    Id,
}

/// Why a repository call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was broken; nothing was written.
    #[error("duplicate {0:?}")]
    Duplicate(DuplicateField),
    /// The account's instance quota is used up; nothing was written.
    #[error("instance quota exceeded")]
    QuotaExceeded,
    /// A row the write depends on does not exist (e.g. the owning account or instance).
    #[error("referenced row not found")]
    MissingParent,
    /// A stored row could not be turned back into domain values.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// An integration as stored, with its sealed API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntegration {
    /// The integration.
    pub integration: Integration,
    /// The Chatwoot API token, sealed by the cipher.
    pub api_token: SealedSecret,
}

/// Accounts and their tokens.
pub trait AccountRepository: Send + Sync {
    /// Stores a new account with the digest of its token.
    ///
    /// # Errors
    /// [`RepoError::Duplicate`] for a taken id or token; [`RepoError::Unavailable`].
    fn create_account(&self, account: &Account, token: &TokenDigest) -> Result<(), RepoError>;

    /// The account whose token has this digest.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn account_by_token(&self, token: &TokenDigest) -> Result<Option<Account>, RepoError>;
}

/// Instances and their tokens.
pub trait InstanceRepository: Send + Sync {
    /// Stores a new instance if its account has fewer than `max_instances`
    /// instances, atomically (two concurrent creations cannot both take the last slot).
    ///
    /// # Errors
    /// [`RepoError::QuotaExceeded`], [`RepoError::Duplicate`] (name or token),
    /// [`RepoError::MissingParent`] (no such account), [`RepoError::Unavailable`].
    fn create_instance(
        &self,
        instance: &Instance,
        token: &TokenDigest,
        max_instances: u32,
    ) -> Result<(), RepoError>;

    /// The instance whose token has this digest.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn instance_by_token(&self, token: &TokenDigest) -> Result<Option<Instance>, RepoError>;

    /// The instance with this name (names are unique server-wide).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn instance_by_name(&self, name: &InstanceName) -> Result<Option<Instance>, RepoError>;

    /// All instances of an account, oldest first.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn instances_of(&self, account: &AccountId) -> Result<Vec<Instance>, RepoError>;

    /// Replaces the instance's WebSocket settings; `false` when it does not exist.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn set_websocket(&self, id: &InstanceId, config: &WebsocketConfig) -> Result<bool, RepoError>;

    /// Records the instance's connection state; `false` when it does not exist.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn set_state(&self, id: &InstanceId, state: ConnectionState) -> Result<bool, RepoError>;

    /// Sets every instance's connection state at once (at startup, the
    /// engine's view replaces what was stored); returns how many rows changed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn set_all_states(&self, state: ConnectionState) -> Result<u64, RepoError>;

    /// Deletes the instance and everything attached to it (its integration
    /// included); `false` when it did not exist.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn delete_instance(&self, id: &InstanceId) -> Result<bool, RepoError>;
}

/// Chatwoot integrations, one per instance.
pub trait IntegrationRepository: Send + Sync {
    /// Inserts or replaces the integration of `integration.instance_id`,
    /// settings and sealed token included. Never creates a second row.
    ///
    /// # Errors
    /// [`RepoError::MissingParent`] when the instance does not exist;
    /// [`RepoError::Unavailable`].
    fn save_integration(
        &self,
        integration: &Integration,
        api_token: &SealedSecret,
    ) -> Result<(), RepoError>;

    /// Records status, last error, bridge id and inbox of an existing
    /// integration, leaving settings and token alone; `false` when there is none.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn update_integration_state(&self, integration: &Integration) -> Result<bool, RepoError>;

    /// The integration of an instance.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`], [`RepoError::Corrupt`].
    fn integration(&self, instance: &InstanceId) -> Result<Option<StoredIntegration>, RepoError>;

    /// Deletes the integration of an instance; `false` when there was none.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn delete_integration(&self, instance: &InstanceId) -> Result<bool, RepoError>;
}

/// Everything the server stores, plus a health probe.
pub trait Repository: AccountRepository + InstanceRepository + IntegrationRepository {
    /// Checks that storage answers.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    fn ping(&self) -> Result<(), RepoError>;
}
