//! Who is calling, and which instance a route's `:instance` names for them.
//!
//! Policy: a TokenAccount asking for an instance it does not own gets the
//! route's 404 (it cannot learn whether the name exists elsewhere); a
//! TokenInstance naming another instance gets
//! `Instance token does not match this instance`.

use ryzeapi_domain::{Instance, InstanceName};
use ryzeapi_ports::{RepoError, TokenDigest};

use crate::context::Ports;
use crate::instances::Caller;

/// Why a caller was not let through.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The token matches nothing.
    #[error("Invalid token")]
    InvalidToken,
    /// A TokenInstance named another instance.
    #[error("Instance token does not match this instance")]
    TokenMismatch,
    /// No such instance for this caller (the route's wording).
    #[error("{0}")]
    NotFound(&'static str),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

/// The account or the instance whose token has this digest (tokens are
/// looked up by digest only; the transport digests the token once, for this
/// and for its rate limit).
///
/// # Errors
/// [`AccessError::InvalidToken`], `Storage`.
pub fn identify(ports: &Ports, digest: &TokenDigest) -> Result<Caller, AccessError> {
    if let Some(account) = ports.repo.account_by_token(digest)? {
        return Ok(Caller::Account(account));
    }
    ports
        .repo
        .instance_by_token(digest)?
        .map(Caller::Instance)
        .ok_or(AccessError::InvalidToken)
}

/// The instance `name` as `caller` may see it; `not_found` is the route's
/// wording for an instance it cannot see.
///
/// # Errors
/// [`AccessError::NotFound`], `TokenMismatch`, `Storage`.
pub fn instance_for(
    ports: &Ports,
    caller: &Caller,
    name: &str,
    not_found: &'static str,
) -> Result<Instance, AccessError> {
    let Ok(name) = InstanceName::parse(name) else {
        // No instance can have that name; say so the way the route says it.
        return Err(match caller {
            Caller::Account(_) => AccessError::NotFound(not_found),
            Caller::Instance(_) => AccessError::TokenMismatch,
        });
    };
    match caller {
        Caller::Instance(instance) if instance.name == name => Ok(instance.clone()),
        Caller::Instance(_) => Err(AccessError::TokenMismatch),
        Caller::Account(account) => match ports.repo.instance_by_name(&name)? {
            Some(i) if i.account_id == account.id => Ok(i),
            _ => Err(AccessError::NotFound(not_found)),
        },
    }
}

/// The instance a bridge connection is for: it must exist and have a
/// Chatwoot integration (the bridge's token is checked by the transport).
///
/// # Errors
/// [`AccessError::NotFound`] (`instance not found`, or
/// `no chatwoot integration for this instance`), `Storage`.
pub fn bridge_instance(ports: &Ports, name: &str) -> Result<Instance, AccessError> {
    const UNKNOWN: &str = "instance not found";
    let name = InstanceName::parse(name).map_err(|_| AccessError::NotFound(UNKNOWN))?;
    let instance = ports
        .repo
        .instance_by_name(&name)?
        .ok_or(AccessError::NotFound(UNKNOWN))?;
    ports
        .repo
        .integration(&instance.id)?
        .ok_or(AccessError::NotFound(crate::chatwoot::NO_INTEGRATION))?;
    Ok(instance)
}
