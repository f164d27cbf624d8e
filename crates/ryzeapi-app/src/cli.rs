//! The command line: `serve` (default), `migrate`, `account create`.

use anyhow::{bail, Context as _};
use ryzeapi_adapters::{RingTokens, SystemClock};

use crate::accounts::create_account;
use crate::settings::Settings;
use crate::startup::open_database;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Create an account and print its token.
    CreateAccount {
        /// Account name.
        name: String,
        /// Quota; the configured default when absent.
        max_instances: Option<u32>,
    },
    /// Print usage.
    Help,
    /// Print the version.
    Version,
}

/// Usage text.
pub const USAGE: &str = "\
ryzeapi — WhatsApp HTTP API server with the Chatwoot integration

USAGE:
    ryzeapi [serve]                                   run the server (the default)
    ryzeapi migrate                                   apply database migrations and exit
    ryzeapi account create --name NAME [--max-instances N]
                                                      create an account; its token is the last line printed
    ryzeapi --help | --version

Configuration comes from the environment (DATABASE_URL, LISTEN_ADDR, BRIDGE_URL, ...);
see docs/configuration.md.";

/// Parses the arguments after the program name.
///
/// # Errors
/// An unknown command or a malformed option.
pub fn parse(args: &[String]) -> anyhow::Result<Command> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["-h" | "--help" | "help"] => Ok(Command::Help),
        ["-V" | "--version" | "version"] => Ok(Command::Version),
        ["account", "create", rest @ ..] => {
            let mut name = None;
            let mut max_instances = None;
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let value = it.next().with_context(|| format!("{flag} needs a value"))?;
                match *flag {
                    "--name" => name = Some((*value).to_owned()),
                    "--max-instances" => {
                        max_instances = Some(value.parse().with_context(|| {
                            format!("--max-instances must be a whole number, not '{value}'")
                        })?);
                    }
                    other => bail!("unknown option '{other}'\n\n{USAGE}"),
                }
            }
            let name = name
                .filter(|n| !n.trim().is_empty())
                .context("--name is required")?;
            Ok(Command::CreateAccount {
                name: name.trim().to_owned(),
                max_instances,
            })
        }
        _ => bail!("unknown command '{}'\n\n{USAGE}", words.join(" ")),
    }
}

/// Runs a one-shot command (everything but `serve`).
///
/// # Errors
/// Any failure, with its cause.
pub fn run_once(command: &Command, settings: &Settings) -> anyhow::Result<()> {
    match command {
        Command::Help => println!("{USAGE}"),
        Command::Version => println!("ryzeapi {}", env!("CARGO_PKG_VERSION")),
        Command::Migrate => {
            open_database(settings)?;
            println!("database is up to date");
        }
        Command::CreateAccount {
            name,
            max_instances,
        } => {
            let db = open_database(settings)?;
            let repo = db.repository();
            let (account, token) = create_account(
                &repo,
                &RingTokens::new(),
                &SystemClock,
                name,
                max_instances.unwrap_or(settings.default_max_instances),
            )?;
            println!(
                "created account '{}' (id {}, up to {} instances)",
                account.name,
                account.id.as_str(),
                account.max_instances
            );
            println!("its token follows; it is shown only this once:");
            println!("{token}");
        }
        Command::Serve => bail!("serve is not a one-shot command"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_the_commands() {
        assert_eq!(parse(&args("")).ok(), Some(Command::Serve));
        assert_eq!(parse(&args("serve")).ok(), Some(Command::Serve));
        assert_eq!(parse(&args("migrate")).ok(), Some(Command::Migrate));
        assert_eq!(
            parse(&args("account create --name acme --max-instances 3")).ok(),
            Some(Command::CreateAccount {
                name: "acme".into(),
                max_instances: Some(3)
            })
        );
        assert!(parse(&args("account create")).is_err());
        assert!(parse(&args("account create --name")).is_err());
        assert!(parse(&args("account create --name a --max-instances x")).is_err());
        assert!(parse(&args("frobnicate")).is_err());
    }
}
