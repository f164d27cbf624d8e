//! The bridge session's decisions, whatever carries them (the socket
//! `ryzeapi.bridge.v1`): a status report applied to the integration, a
//! command (as the wire contract types it) run once per idempotency key, an
//! acknowledgement recorded.

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::text::Limit;
use ryzeapi_domain::{Instance, InstanceId, IntegrationStatus, WhatsAppAddress};
use ryzeapi_ports::{Clock, EngineError, EventLog, OutgoingMedia, OutgoingText, RepoError};

use ryzeapi_protocol::{Command, MarkReadArgs, SendMediaArgs, SendTextArgs};

use crate::context::Ports;
use crate::secrets::{Secrets, DETAIL_CHARS};

/// A `status` report of the bridge about the instance's integration.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The bridge's id of the integration (adopted when the server has none).
    pub integration_id: String,
    /// `active`, `paused` or `error`.
    pub status: String,
    /// Why, for `error` (quoted with the secrets before it is stored).
    pub last_error: String,
    /// The Chatwoot inbox id, when the bridge knows it.
    pub inbox_id: i64,
}

/// Why a status report was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The report breaks a rule or the state machine refused it (in words
    /// for the bridge).
    #[error("{0}")]
    Refused(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] RepoError),
}

/// Applies a status report; returns the status recorded.
///
/// # Errors
/// [`StatusError::Refused`] (unknown status, no integration, a report the
/// state machine refuses), `Storage`.
pub fn apply_status_report(
    ports: &Ports,
    instance: &Instance,
    report: StatusReport,
) -> Result<IntegrationStatus, StatusError> {
    let status = IntegrationStatus::parse(&report.status)
        .map_err(|_| StatusError::Refused("status must be active, paused or error".into()))?;
    let Some(stored) = ports.repo.integration(&instance.id)? else {
        return Err(StatusError::Refused(
            crate::chatwoot::NO_INTEGRATION.to_owned(),
        ));
    };
    let last_error = if report.last_error.trim().is_empty() {
        String::new()
    } else {
        Secrets::of_stored(ports.cipher.as_ref(), &instance.id, &stored.api_token, &[])
            .quote(&report.last_error, Limit::Chars(DETAIL_CHARS))
    };
    let now = ports.clock.now();
    let mut integration = stored.integration;
    // An activation the server gave up on (timeout) may have succeeded on
    // the bridge: its id is adopted from the bridge's report.
    let changed =
        if integration.bridge_integration_id.is_empty() && !report.integration_id.is_empty() {
            integration
                .apply_activation(
                    &RemoteState {
                        bridge_integration_id: report.integration_id,
                        status,
                        inbox_id: report.inbox_id,
                        inbox_name: String::new(),
                        last_error,
                    },
                    now,
                )
                .map(|()| true)
        } else {
            integration.apply_report(status, &last_error, report.inbox_id, now)
        }
        .map_err(|e| StatusError::Refused(e.to_string()))?;
    if changed {
        ports.repo.update_integration_state(&integration)?;
    }
    Ok(status)
}

/// What became of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Done: the WhatsApp message id (empty for a read mark); `duplicate`
    /// when the key had been run before and nothing was sent again.
    Done {
        /// The message id.
        message_id: String,
        /// The key had a stored result.
        duplicate: bool,
    },
    /// Not done, and why (in words for the bridge).
    Failed {
        /// The reason.
        reason: String,
    },
}

fn address(field: &'static str, text: &str) -> Result<WhatsAppAddress, CommandOutcome> {
    WhatsAppAddress::parse_field(field, text).map_err(|e| CommandOutcome::Failed {
        reason: EngineError::Invalid(e.to_string()).to_string(),
    })
}

/// Runs a command through the engine, once per idempotency key: a key with
/// a stored result answers that result and sends nothing. The caller holds
/// the key for the time of the call (no two runs of one key at once).
pub fn execute_command(
    ports: &Ports,
    instance: &Instance,
    key: &str,
    command: &Command,
) -> CommandOutcome {
    match ports.log.command_result(&instance.id, key) {
        Ok(Some(previous)) => {
            return CommandOutcome::Done {
                message_id: previous,
                duplicate: true,
            }
        }
        Ok(None) => {}
        Err(e) => {
            return CommandOutcome::Failed {
                reason: format!("command log unavailable: {e}"),
            }
        }
    }
    let sent = match run(ports, instance, command) {
        Ok(sent) => sent,
        Err(outcome) => return outcome,
    };
    match sent {
        Ok(message_id) => {
            if let Err(e) =
                ports
                    .log
                    .save_command_result(&instance.id, key, &message_id, ports.clock.now())
            {
                log::error!("bridge command {key}: storing its result: {e}");
            }
            CommandOutcome::Done {
                message_id,
                duplicate: false,
            }
        }
        Err(e) => CommandOutcome::Failed {
            reason: e.to_string(),
        },
    }
}

fn run(
    ports: &Ports,
    instance: &Instance,
    command: &Command,
) -> Result<Result<String, EngineError>, CommandOutcome> {
    let engine = &ports.engine;
    Ok(match command {
        Command::SendText(SendTextArgs { to, text, reply_to }) => engine
            .send_text(
                &instance.name,
                &OutgoingText {
                    to: address("to", to)?.as_str().to_owned(),
                    text: text.clone(),
                    reply_to: reply_to.clone(),
                },
            )
            .map(|m| m.message_id),
        Command::SendMedia(SendMediaArgs {
            to,
            url,
            media_type,
            caption,
            mimetype,
            file_name,
        }) => engine
            .send_media(
                &instance.name,
                &OutgoingMedia {
                    to: address("to", to)?.as_str().to_owned(),
                    url: url.clone(),
                    media_type: media_type.clone(),
                    caption: caption.clone(),
                    mimetype: mimetype.clone(),
                    file_name: file_name.clone(),
                },
            )
            .map(|m| m.message_id),
        Command::MarkRead(MarkReadArgs { chat, message_ids }) => engine
            .mark_read(&instance.name, address("chat", chat)?.as_str(), message_ids)
            .map(|()| String::new()),
    })
}

/// Records that the bridge processed the instance's events up to `seq`
/// (cumulative; never back, never past the last). The one path by which an
/// acknowledgement is stored, whether the pump stores the positions it was
/// handed or a connection that ends stores its last one.
///
/// # Errors
/// The log's.
pub fn record_ack(
    log: &dyn EventLog,
    clock: &dyn Clock,
    instance: &InstanceId,
    seq: u64,
) -> Result<bool, RepoError> {
    log.ack(instance, seq, clock.now())
}
