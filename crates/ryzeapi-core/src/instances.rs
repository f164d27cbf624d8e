//! The instances' use cases: create (with its inline WebSocket and Chatwoot
//! blocks), list, delete.

use ryzeapi_domain::{
    Account, ConnectionState, Instance, InstanceId, InstanceName, Integration, WebsocketConfig,
};
use ryzeapi_ports::{DuplicateField, RepoError};
use serde::Deserialize;

use crate::chatwoot::{self, ChatwootError, SetBody};
use crate::context::{ChatwootModule, Ports};

/// Shortest TokenInstance a caller may choose.
pub const MIN_CUSTOM_TOKEN: usize = 16;
/// Longest TokenInstance a caller may choose.
pub const MAX_CUSTOM_TOKEN: usize = 256;
/// What an inline Chatwoot block reports while the module is off.
pub const MODULE_OFF: &str = "integration gateway not configured (set BRIDGE_URL and BRIDGE_TOKEN)";

/// Who is calling: a TokenAccount's account or a TokenInstance's instance.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A TokenAccount.
    Account(Account),
    /// A TokenInstance.
    Instance(Instance),
}

impl Caller {
    /// The account, for the routes only a TokenAccount may call.
    ///
    /// # Errors
    /// [`InstanceError::AccountTokenRequired`] for a TokenInstance.
    pub fn account(&self) -> Result<&Account, InstanceError> {
        match self {
            Self::Account(a) => Ok(a),
            Self::Instance(_) => Err(InstanceError::AccountTokenRequired),
        }
    }
}

/// Why an instance use case failed.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The request breaks a rule; nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// The route is for TokenAccounts only.
    #[error("This route requires an account token")]
    AccountTokenRequired,
    /// A TokenInstance named another instance.
    #[error("Instance token does not match this instance")]
    TokenMismatch,
    /// No such instance (or not the caller's).
    #[error("Instance not found")]
    NotFound,
    /// The name is taken (server-wide).
    #[error("Instance name already in use")]
    NameTaken,
    /// The chosen token is taken.
    #[error("Token already in use")]
    TokenTaken,
    /// The account's quota is used up.
    #[error("Account instance quota exceeded")]
    QuotaExceeded,
    /// Deleting failed in storage; nothing or part was removed.
    #[error("Failed to delete instance: storage unavailable")]
    DeleteFailed(#[source] RepoError),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

/// An inline block of the creation body, as the transport read it.
#[derive(Debug)]
pub enum Block<T> {
    /// No key of the block was given.
    Absent,
    /// Its keys were given but could not be read (the reader's words).
    Unreadable(String),
    /// Read.
    Given(T),
}

/// The WebSocket block of `POST /api/instance/new`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebsocketBlock {
    /// Default false.
    pub websocket_enabled: Option<bool>,
    /// Default all.
    pub websocket_events: Option<Vec<String>>,
    /// Default false.
    pub websocket_media_base64: Option<bool>,
}

/// The Chatwoot block of `POST /api/instance/new`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatwootBlock {
    /// Only `true` activates.
    pub chatwoot_enabled: Option<bool>,
    /// As `chatwootBaseUrl` of the set body.
    pub chatwoot_base_url: Option<String>,
    /// As `chatwootAccountId`.
    pub chatwoot_account_id: Option<i64>,
    /// As `chatwootApiToken`.
    pub chatwoot_api_token: Option<String>,
    /// As `inboxName`.
    pub chatwoot_inbox_name: Option<String>,
    /// As `signMessages`.
    pub chatwoot_sign_messages: Option<bool>,
    /// As `ignoreGroups`.
    pub chatwoot_ignore_groups: Option<bool>,
    /// As `startAsPending`.
    pub chatwoot_start_as_pending: Option<bool>,
    /// As `reopenResolved`.
    pub chatwoot_reopen_resolved: Option<bool>,
}

impl From<ChatwootBlock> for SetBody {
    fn from(b: ChatwootBlock) -> Self {
        Self {
            chatwoot_base_url: b.chatwoot_base_url,
            chatwoot_account_id: b.chatwoot_account_id,
            chatwoot_api_token: b.chatwoot_api_token,
            inbox_name: b.chatwoot_inbox_name,
            sign_messages: b.chatwoot_sign_messages,
            ignore_groups: b.chatwoot_ignore_groups,
            start_as_pending: b.chatwoot_start_as_pending,
            reopen_resolved: b.chatwoot_reopen_resolved,
        }
    }
}

/// What `POST /api/instance/new` asks for.
#[derive(Debug)]
pub struct NewInstance {
    /// The name, as given.
    pub name: Option<String>,
    /// A TokenInstance of the caller's choosing.
    pub token: Option<String>,
    /// The WebSocket block.
    pub websocket: Block<WebsocketBlock>,
    /// The Chatwoot block.
    pub chatwoot: Block<ChatwootBlock>,
}

/// What became of the inline Chatwoot block.
#[derive(Debug)]
pub enum ChatwootOutcome {
    /// `chatwootEnabled` was not `true`.
    Disabled,
    /// Activated (the integration's status says how the bridge reported it).
    Activated(Integration),
    /// Not activated; the message says why (what an answer would have said).
    Failed(String),
}

/// A created instance, its TokenInstance and what became of its blocks.
#[derive(Debug)]
pub struct Created {
    /// The instance as stored.
    pub instance: Instance,
    /// Its TokenInstance (shown once).
    pub token: String,
    /// Why the WebSocket block was not applied, when it was not.
    pub websocket_error: Option<String>,
    /// The Chatwoot block's outcome, when it was given.
    pub chatwoot: Option<ChatwootOutcome>,
}

fn invalid(detail: impl std::fmt::Display) -> String {
    format!("invalid body: {detail}")
}

fn custom_token(token: Option<String>) -> Result<Option<String>, InstanceError> {
    let Some(token) = token else { return Ok(None) };
    let ok_chars = token.chars().all(|c| c.is_ascii_graphic());
    if !ok_chars || !(MIN_CUSTOM_TOKEN..=MAX_CUSTOM_TOKEN).contains(&token.len()) {
        return Err(InstanceError::Invalid(invalid(format!(
            "token must be {MIN_CUSTOM_TOKEN} to {MAX_CUSTOM_TOKEN} visible ASCII characters without spaces"
        ))));
    }
    Ok(Some(token))
}

/// Creates an instance of `account`. A failing block never prevents the
/// instance from being created: its outcome says what failed.
///
/// # Errors
/// [`InstanceError::Invalid`] (name, token), `NameTaken`, `TokenTaken`,
/// `QuotaExceeded`, `Storage`; nothing is written then.
pub fn create(
    ports: &Ports,
    module: Option<&ChatwootModule>,
    account: &Account,
    request: NewInstance,
) -> Result<Created, InstanceError> {
    let name = InstanceName::parse(request.name.as_deref().unwrap_or(""))
        .map_err(|e| InstanceError::Invalid(invalid(e)))?;
    let custom = custom_token(request.token)?;

    // The WebSocket block: stored with the instance when valid.
    let mut websocket_error = None;
    let mut websocket = WebsocketConfig::default();
    match request.websocket {
        Block::Absent => {}
        Block::Unreadable(e) => websocket_error = Some(invalid(e)),
        Block::Given(b) => match WebsocketConfig::parse(
            b.websocket_enabled.unwrap_or(false),
            &b.websocket_events.unwrap_or_default(),
            b.websocket_media_base64.unwrap_or(false),
        ) {
            Ok(config) => websocket = config,
            Err(e) => websocket_error = Some(invalid(e)),
        },
    }

    let token = custom.unwrap_or_else(|| ports.tokens.generate_token());
    let instance = Instance {
        id: InstanceId::new(ports.tokens.generate_id()),
        account_id: account.id.clone(),
        name,
        state: ConnectionState::Disconnected,
        websocket,
        created_at: ports.clock.now(),
    };
    let digest = ports.tokens.digest(&token);
    if ports.repo.account_by_token(&digest)?.is_some() {
        return Err(InstanceError::TokenTaken);
    }
    ports
        .repo
        .create_instance(&instance, &digest, account.max_instances)
        .map_err(|e| match e {
            RepoError::QuotaExceeded => InstanceError::QuotaExceeded,
            RepoError::Duplicate(DuplicateField::InstanceName) => InstanceError::NameTaken,
            RepoError::Duplicate(DuplicateField::Token) => InstanceError::TokenTaken,
            other => InstanceError::Storage(other),
        })?;

    let chatwoot = match request.chatwoot {
        Block::Absent => None,
        Block::Unreadable(e) => Some(ChatwootOutcome::Failed(invalid(e))),
        Block::Given(block) => Some(inline_chatwoot(ports, module, &instance, block)),
    };
    Ok(Created {
        instance,
        token,
        websocket_error,
        chatwoot,
    })
}

fn inline_chatwoot(
    ports: &Ports,
    module: Option<&ChatwootModule>,
    instance: &Instance,
    block: ChatwootBlock,
) -> ChatwootOutcome {
    if block.chatwoot_enabled != Some(true) {
        return ChatwootOutcome::Disabled;
    }
    let Some(module) = module else {
        return ChatwootOutcome::Failed(MODULE_OFF.to_owned());
    };
    let input = match SetBody::from(block).validate(instance.name.as_str()) {
        Ok(input) => input,
        Err(e) => return ChatwootOutcome::Failed(invalid(e)),
    };
    match chatwoot::activate(ports, module, instance, input) {
        Ok(integration) => ChatwootOutcome::Activated(integration),
        Err(ChatwootError::Bridge(failure)) => ChatwootOutcome::Failed(failure.message),
        Err(e) => {
            log::error!("inline chatwoot activation of '{}': {e}", instance.name);
            ChatwootOutcome::Failed("internal error".to_owned())
        }
    }
}

/// The caller's instances, each with its integration: a TokenInstance sees
/// its own; a TokenAccount its account's, only those named in `names` when
/// any are.
///
/// # Errors
/// [`InstanceError::TokenMismatch`] (a TokenInstance naming another),
/// `NotFound` (a single name that is not the account's), `Storage`.
pub fn list(
    ports: &Ports,
    caller: &Caller,
    names: &[String],
) -> Result<Vec<(Instance, Option<Integration>)>, InstanceError> {
    let instances: Vec<Instance> = match caller {
        Caller::Instance(own) => {
            if names.iter().any(|n| n != own.name.as_str()) {
                return Err(InstanceError::TokenMismatch);
            }
            vec![own.clone()]
        }
        Caller::Account(account) => {
            let all = ports.repo.instances_of(&account.id)?;
            if names.is_empty() {
                all
            } else {
                let picked: Vec<Instance> = all
                    .into_iter()
                    .filter(|i| names.iter().any(|n| n == i.name.as_str()))
                    .collect();
                if names.len() == 1 && picked.is_empty() {
                    return Err(InstanceError::NotFound);
                }
                picked
            }
        }
    };
    instances
        .into_iter()
        .map(|i| {
            let chatwoot = ports.repo.integration(&i.id)?.map(|s| s.integration);
            Ok((i, chatwoot))
        })
        .collect()
}

/// Deletes `instance` and everything attached: the integration is torn down
/// on the bridge first (best effort), then the rows go, the transports are
/// told, and the engine forgets the instance.
///
/// # Errors
/// [`InstanceError::NotFound`] (deleted meanwhile), `DeleteFailed`.
pub fn delete(
    ports: &Ports,
    module: Option<&ChatwootModule>,
    instance: &Instance,
) -> Result<(), InstanceError> {
    let integration = ports
        .repo
        .integration(&instance.id)
        .map_err(InstanceError::DeleteFailed)?;
    match (integration, module) {
        (Some(stored), Some(module)) => {
            chatwoot::teardown_on_bridge(ports, module, instance, &stored);
        }
        (Some(_), None) => log::warn!(
            "instance '{}' is deleted while the chatwoot module is off: its inbox stays in Chatwoot",
            instance.name
        ),
        (None, _) => {}
    }
    match ports.repo.delete_instance(&instance.id) {
        Ok(true) => {
            ports.notify.instance_deleted(instance);
            ports.engine.forget(&instance.name);
            Ok(())
        }
        Ok(false) => Err(InstanceError::NotFound),
        Err(e) => Err(InstanceError::DeleteFailed(e)),
    }
}
