//! [`DieselRepository`]: the repository ports over diesel, for both backends.

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, Integration,
    WebsocketConfig,
};
use ryzeapi_ports::{
    AccountRepository, DuplicateField, InstanceRepository, IntegrationRepository, RepoError,
    Repository, SealedSecret, StoredIntegration, TokenDigest,
};

use super::rows::{join_events, AccountRow, InstanceRow, IntegrationRow};
use super::schema::{accounts, chatwoot_integrations, instances};
use super::AnyConnection;

pub(super) type Conn = PooledConnection<ConnectionManager<AnyConnection>>;

/// The repository on a pooled diesel connection (Postgres or SQLite).
#[derive(Clone)]
pub struct DieselRepository {
    pool: Pool<ConnectionManager<AnyConnection>>,
}

/// Errors inside a transaction: either the database's or a refusal of ours.
pub(super) enum TxError {
    /// The database failed.
    Db(DieselError),
    /// A refusal of ours.
    Repo(RepoError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

pub(super) fn map_tx(e: TxError) -> RepoError {
    match e {
        TxError::Db(e) => map_db(e),
        TxError::Repo(e) => e,
    }
}

/// Translates a diesel error into the port's terms.
pub(super) fn map_db(e: DieselError) -> RepoError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let text = format!(
                "{} {}",
                info.constraint_name().unwrap_or_default(),
                info.message()
            );
            RepoError::Duplicate(if text.contains("token") {
                DuplicateField::Token
            } else if text.contains("_name_") || text.contains(".name") {
                DuplicateField::InstanceName
            } else {
                DuplicateField::Id
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            RepoError::MissingParent
        }
        DieselError::DeserializationError(e) => RepoError::Corrupt(e.to_string()),
        other => RepoError::Unavailable(other.to_string()),
    }
}

impl DieselRepository {
    pub(super) fn new(pool: Pool<ConnectionManager<AnyConnection>>) -> Self {
        Self { pool }
    }

    pub(super) fn conn(&self) -> Result<Conn, RepoError> {
        self.pool
            .get()
            .map_err(|e| RepoError::Unavailable(format!("no database connection: {e}")))
    }
}

impl AccountRepository for DieselRepository {
    fn create_account(&self, account: &Account, token: &TokenDigest) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        diesel::insert_into(accounts::table)
            .values(AccountRow::new(account, token))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(())
    }

    fn account_by_token(&self, token: &TokenDigest) -> Result<Option<Account>, RepoError> {
        let mut conn = self.conn()?;
        accounts::table
            .filter(accounts::token_digest.eq(token.as_hex()))
            .select(AccountRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(map_db)?
            .map(AccountRow::into_domain)
            .transpose()
    }
}

impl InstanceRepository for DieselRepository {
    fn create_instance(
        &self,
        instance: &Instance,
        token: &TokenDigest,
        max_instances: u32,
    ) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        let row = InstanceRow::new(instance, token);
        let account_id = instance.account_id.as_str();
        conn.transaction::<(), TxError, _>(|conn| {
            // A no-op write on the account row serialises concurrent creations
            // for one account: a row lock on Postgres, the write lock on SQLite.
            let touched = diesel::update(accounts::table.find(account_id))
                .set(accounts::max_instances.eq(accounts::max_instances))
                .execute(conn)?;
            if touched == 0 {
                return Err(TxError::Repo(RepoError::MissingParent));
            }
            let owned: i64 = instances::table
                .filter(instances::account_id.eq(account_id))
                .count()
                .get_result(conn)?;
            if owned >= i64::from(max_instances) {
                return Err(TxError::Repo(RepoError::QuotaExceeded));
            }
            diesel::insert_into(instances::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })
        .map_err(map_tx)
    }

    fn instance_by_token(&self, token: &TokenDigest) -> Result<Option<Instance>, RepoError> {
        let mut conn = self.conn()?;
        instances::table
            .filter(instances::token_digest.eq(token.as_hex()))
            .select(InstanceRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(map_db)?
            .map(InstanceRow::into_domain)
            .transpose()
    }

    fn instance_by_name(&self, name: &InstanceName) -> Result<Option<Instance>, RepoError> {
        let mut conn = self.conn()?;
        instances::table
            .filter(instances::name.eq(name.as_str()))
            .select(InstanceRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(map_db)?
            .map(InstanceRow::into_domain)
            .transpose()
    }

    fn instances_of(&self, account: &AccountId) -> Result<Vec<Instance>, RepoError> {
        let mut conn = self.conn()?;
        instances::table
            .filter(instances::account_id.eq(account.as_str()))
            .order((instances::created_at.asc(), instances::name.asc()))
            .select(InstanceRow::as_select())
            .load(&mut conn)
            .map_err(map_db)?
            .into_iter()
            .map(InstanceRow::into_domain)
            .collect()
    }

    fn set_websocket(&self, id: &InstanceId, config: &WebsocketConfig) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let n = diesel::update(instances::table.find(id.as_str()))
            .set((
                instances::websocket_enabled.eq(i32::from(config.enabled)),
                instances::websocket_events.eq(join_events(config)),
                instances::websocket_media_base64.eq(i32::from(config.media_base64)),
            ))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(n > 0)
    }

    fn set_state(&self, id: &InstanceId, state: ConnectionState) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let n = diesel::update(instances::table.find(id.as_str()))
            .set(instances::state.eq(state.as_str()))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(n > 0)
    }

    fn set_all_states(&self, state: ConnectionState) -> Result<u64, RepoError> {
        let mut conn = self.conn()?;
        let n = diesel::update(instances::table.filter(instances::state.ne(state.as_str())))
            .set(instances::state.eq(state.as_str()))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    fn delete_instance(&self, id: &InstanceId) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        conn.transaction::<bool, DieselError, _>(|conn| {
            // Explicit, so the outcome never depends on the backend's cascade settings.
            diesel::delete(chatwoot_integrations::table.find(id.as_str())).execute(conn)?;
            let n = diesel::delete(instances::table.find(id.as_str())).execute(conn)?;
            Ok(n > 0)
        })
        .map_err(map_db)
    }
}

impl IntegrationRepository for DieselRepository {
    fn save_integration(
        &self,
        integration: &Integration,
        api_token: &SealedSecret,
    ) -> Result<(), RepoError> {
        let row = IntegrationRow::new(integration, api_token);
        let mut conn = self.conn()?;
        let attempt = |conn: &mut Conn| {
            conn.transaction::<(), DieselError, _>(|conn| {
                let updated = diesel::update(chatwoot_integrations::table.find(&row.instance_id))
                    .set((
                        chatwoot_integrations::bridge_integration_id.eq(&row.bridge_integration_id),
                        chatwoot_integrations::chatwoot_base_url.eq(&row.chatwoot_base_url),
                        chatwoot_integrations::chatwoot_account_id.eq(row.chatwoot_account_id),
                        chatwoot_integrations::chatwoot_api_token_enc
                            .eq(&row.chatwoot_api_token_enc),
                        chatwoot_integrations::chatwoot_inbox_id.eq(row.chatwoot_inbox_id),
                        chatwoot_integrations::chatwoot_inbox_name.eq(&row.chatwoot_inbox_name),
                        chatwoot_integrations::requested_inbox_name.eq(&row.requested_inbox_name),
                        chatwoot_integrations::status.eq(&row.status),
                        chatwoot_integrations::last_error.eq(&row.last_error),
                        chatwoot_integrations::sign_messages.eq(row.sign_messages),
                        chatwoot_integrations::ignore_groups.eq(row.ignore_groups),
                        chatwoot_integrations::start_as_pending.eq(row.start_as_pending),
                        chatwoot_integrations::reopen_resolved.eq(row.reopen_resolved),
                        chatwoot_integrations::updated_at.eq(row.updated_at),
                    ))
                    .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into(chatwoot_integrations::table)
                        .values(&row)
                        .execute(conn)?;
                }
                Ok(())
            })
        };
        match attempt(&mut conn) {
            // Two first saves raced and the other inserted: ours becomes an update.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                attempt(&mut conn).map_err(map_db)
            }
            other => other.map_err(map_db),
        }
    }

    fn update_integration_state(&self, integration: &Integration) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let n = diesel::update(chatwoot_integrations::table.find(integration.instance_id.as_str()))
            .set((
                chatwoot_integrations::bridge_integration_id.eq(&integration.bridge_integration_id),
                chatwoot_integrations::status.eq(integration.status().as_str()),
                chatwoot_integrations::last_error.eq(integration.last_error()),
                chatwoot_integrations::chatwoot_inbox_id.eq(integration.inbox_id),
                chatwoot_integrations::chatwoot_inbox_name.eq(&integration.inbox_name),
                chatwoot_integrations::updated_at.eq(integration.updated_at.as_millis()),
            ))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(n > 0)
    }

    fn integration(&self, instance: &InstanceId) -> Result<Option<StoredIntegration>, RepoError> {
        let mut conn = self.conn()?;
        chatwoot_integrations::table
            .find(instance.as_str())
            .select(IntegrationRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(map_db)?
            .map(IntegrationRow::into_domain)
            .transpose()
    }

    fn delete_integration(&self, instance: &InstanceId) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let n = diesel::delete(chatwoot_integrations::table.find(instance.as_str()))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(n > 0)
    }
}

impl Repository for DieselRepository {
    fn ping(&self) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        accounts::table
            .count()
            .get_result::<i64>(&mut conn)
            .map(|_| ())
            .map_err(map_db)
    }
}
