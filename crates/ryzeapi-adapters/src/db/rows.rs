//! Row types and their conversion to and from domain values.

use diesel::prelude::*;
use ryzeapi_domain::{
    Account, AccountId, ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, ConnectionState,
    InboxName, Instance, InstanceId, InstanceName, Integration, IntegrationFlags,
    IntegrationStatus, Timestamp, WebsocketConfig,
};
use ryzeapi_ports::{RepoError, SealedSecret, StoredIntegration, TokenDigest};

use super::schema::{accounts, chatwoot_integrations, instances};

fn corrupt(what: &str, e: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{what}: {e}"))
}

fn flag(v: bool) -> i32 {
    i32::from(v)
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub(super) struct AccountRow {
    pub id: String,
    pub name: String,
    pub max_instances: i64,
    pub token_digest: String,
    pub created_at: i64,
}

impl AccountRow {
    pub fn new(account: &Account, token: &TokenDigest) -> Self {
        Self {
            id: account.id.as_str().to_owned(),
            name: account.name.clone(),
            max_instances: i64::from(account.max_instances),
            token_digest: token.as_hex().to_owned(),
            created_at: account.created_at.as_millis(),
        }
    }

    pub fn into_domain(self) -> Result<Account, RepoError> {
        Ok(Account {
            id: AccountId::new(self.id),
            name: self.name,
            max_instances: u32::try_from(self.max_instances)
                .map_err(|e| corrupt("accounts.max_instances", e))?,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = instances)]
pub(super) struct InstanceRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub token_digest: String,
    pub state: String,
    pub websocket_enabled: i32,
    pub websocket_events: String,
    pub websocket_media_base64: i32,
    pub created_at: i64,
}

impl InstanceRow {
    pub fn new(instance: &Instance, token: &TokenDigest) -> Self {
        Self {
            id: instance.id.as_str().to_owned(),
            account_id: instance.account_id.as_str().to_owned(),
            name: instance.name.as_str().to_owned(),
            token_digest: token.as_hex().to_owned(),
            state: instance.state.as_str().to_owned(),
            websocket_enabled: flag(instance.websocket.enabled),
            websocket_events: join_events(&instance.websocket),
            websocket_media_base64: flag(instance.websocket.media_base64),
            created_at: instance.created_at.as_millis(),
        }
    }

    pub fn into_domain(self) -> Result<Instance, RepoError> {
        let events: Vec<String> = self
            .websocket_events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Instance {
            id: InstanceId::new(self.id),
            account_id: AccountId::new(self.account_id),
            name: InstanceName::parse(&self.name).map_err(|e| corrupt("instances.name", e))?,
            state: ConnectionState::parse(&self.state)
                .map_err(|e| corrupt("instances.state", e))?,
            websocket: WebsocketConfig::parse(
                self.websocket_enabled != 0,
                &events,
                self.websocket_media_base64 != 0,
            )
            .map_err(|e| corrupt("instances.websocket_events", e))?,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

/// Event names hold no commas, so a comma-joined column is enough.
pub(super) fn join_events(config: &WebsocketConfig) -> String {
    config.events.join(",")
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = chatwoot_integrations)]
pub(super) struct IntegrationRow {
    pub instance_id: String,
    pub bridge_integration_id: String,
    pub chatwoot_base_url: String,
    pub chatwoot_account_id: i64,
    pub chatwoot_api_token_enc: String,
    pub chatwoot_inbox_id: i64,
    pub chatwoot_inbox_name: String,
    pub requested_inbox_name: String,
    pub status: String,
    pub last_error: String,
    pub sign_messages: i32,
    pub ignore_groups: i32,
    pub start_as_pending: i32,
    pub reopen_resolved: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

impl IntegrationRow {
    pub fn new(i: &Integration, token: &SealedSecret) -> Self {
        let s = &i.settings;
        Self {
            instance_id: i.instance_id.as_str().to_owned(),
            bridge_integration_id: i.bridge_integration_id.clone(),
            chatwoot_base_url: s.base_url.as_str().to_owned(),
            chatwoot_account_id: s.account_id.get(),
            chatwoot_api_token_enc: token.as_str().to_owned(),
            chatwoot_inbox_id: i.inbox_id,
            chatwoot_inbox_name: i.inbox_name.clone(),
            requested_inbox_name: s.inbox_name.as_str().to_owned(),
            status: i.status().as_str().to_owned(),
            last_error: i.last_error().to_owned(),
            sign_messages: flag(s.flags.sign_messages),
            ignore_groups: flag(s.flags.ignore_groups),
            start_as_pending: flag(s.flags.start_as_pending),
            reopen_resolved: flag(s.flags.reopen_resolved),
            created_at: i.created_at.as_millis(),
            updated_at: i.updated_at.as_millis(),
        }
    }

    pub fn into_domain(self) -> Result<StoredIntegration, RepoError> {
        let settings = ChatwootSettings {
            base_url: ChatwootBaseUrl::parse(&self.chatwoot_base_url)
                .map_err(|e| corrupt("chatwoot_base_url", e))?,
            account_id: ChatwootAccountId::parse(self.chatwoot_account_id)
                .map_err(|e| corrupt("chatwoot_account_id", e))?,
            inbox_name: InboxName::parse(&self.requested_inbox_name)
                .map_err(|e| corrupt("requested_inbox_name", e))?,
            flags: IntegrationFlags {
                sign_messages: self.sign_messages != 0,
                ignore_groups: self.ignore_groups != 0,
                start_as_pending: self.start_as_pending != 0,
                reopen_resolved: self.reopen_resolved != 0,
            },
        };
        let status = IntegrationStatus::parse(&self.status).map_err(|e| corrupt("status", e))?;
        let integration = Integration::restore(
            InstanceId::new(self.instance_id),
            self.bridge_integration_id,
            settings,
            self.chatwoot_inbox_id,
            self.chatwoot_inbox_name,
            status,
            self.last_error,
            Timestamp::from_millis(self.created_at),
            Timestamp::from_millis(self.updated_at),
        )
        .map_err(|e| corrupt("chatwoot_integrations", e))?;
        Ok(StoredIntegration {
            integration,
            api_token: SealedSecret::new(self.chatwoot_api_token_enc),
        })
    }
}
