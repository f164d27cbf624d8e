//! Creating accounts: the CLI's `account create` and the bootstrap token.

use ryzeapi_domain::{Account, AccountId};
use ryzeapi_ports::{AccountRepository, Clock, TokenService};

/// Creates an account with a new random token; returns it with the token,
/// which is shown once and never stored.
///
/// # Errors
/// A storage failure.
pub fn create_account(
    repo: &dyn AccountRepository,
    tokens: &dyn TokenService,
    clock: &dyn Clock,
    name: &str,
    max_instances: u32,
) -> anyhow::Result<(Account, String)> {
    let token = tokens.generate_token();
    let account = Account {
        id: AccountId::new(tokens.generate_id()),
        name: name.to_owned(),
        max_instances,
        created_at: clock.now(),
    };
    repo.create_account(&account, &tokens.digest(&token))?;
    Ok((account, token))
}

/// Makes sure an account with `token` exists; `true` when it was created now.
///
/// # Errors
/// A storage failure.
pub fn ensure_account(
    repo: &dyn AccountRepository,
    tokens: &dyn TokenService,
    clock: &dyn Clock,
    name: &str,
    max_instances: u32,
    token: &str,
) -> anyhow::Result<bool> {
    let digest = tokens.digest(token);
    if repo.account_by_token(&digest)?.is_some() {
        return Ok(false);
    }
    let account = Account {
        id: AccountId::new(tokens.generate_id()),
        name: name.to_owned(),
        max_instances,
        created_at: clock.now(),
    };
    repo.create_account(&account, &digest)?;
    Ok(true)
}
