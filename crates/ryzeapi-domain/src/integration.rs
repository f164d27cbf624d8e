//! The Chatwoot integration of one instance and its state machine.
//!
//! ```text
//!              activate ok                 pause
//!   (none) ───────────────► active ◄──────────────► paused
//!     │                      ▲  │        resume        │
//!     │ activate failed      │  │ fail(reason)         │ fail(reason)
//!     ▼                      │  ▼                      ▼
//!   error ◄──────────────────┴─ error ◄────────────────┘
//!          re-activate ok / bridge reports recovery
//! ```
//! Every transition is a method returning `Result`: entering `error` needs a
//! reason, `active`/`paused` need the bridge's integration id, and `pause` /
//! `resume` are refused while in `error` (a re-set repairs it).

use std::fmt;

use crate::instance::InstanceId;
use crate::time::Timestamp;
use crate::values::{ChatwootAccountId, ChatwootBaseUrl, InboxName, ValidationError};

/// The integration's status as the API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationStatus {
    /// Inbox provisioned, events flowing.
    Active,
    /// Provisioned but not forwarding.
    Paused,
    /// Something failed; `last_error` says what.
    Error,
}

impl IntegrationStatus {
    /// The status as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Error => "error",
        }
    }

    /// Reads a status from its spelling.
    ///
    /// # Errors
    /// [`ValidationError`] on `status` for anything but `active`, `paused`, `error`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "error" => Ok(Self::Error),
            _ => Err(ValidationError::new(
                "status",
                format!("must be active, paused or error, not '{raw}'"),
            )),
        }
    }
}

impl fmt::Display for IntegrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four behaviour flags of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntegrationFlags {
    /// Prefix agent replies with the agent's name.
    pub sign_messages: bool,
    /// Do not route group chats to Chatwoot.
    pub ignore_groups: bool,
    /// New conversations start `pending`, not `open`.
    pub start_as_pending: bool,
    /// A new message on a resolved conversation reopens it.
    pub reopen_resolved: bool,
}

/// What the user configured, apart from the API token (kept apart because it is a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatwootSettings {
    /// The Chatwoot installation.
    pub base_url: ChatwootBaseUrl,
    /// The Chatwoot account.
    pub account_id: ChatwootAccountId,
    /// The inbox name asked for.
    pub inbox_name: InboxName,
    /// Behaviour flags.
    pub flags: IntegrationFlags,
}

/// What the bridge answered to an activation or a status request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteState {
    /// The bridge's integration id.
    pub bridge_integration_id: String,
    /// Status on the bridge.
    pub status: IntegrationStatus,
    /// Inbox id in Chatwoot, 0 while not known.
    pub inbox_id: i64,
    /// Inbox name in Chatwoot (may be empty while not known).
    pub inbox_name: String,
    /// Last error on the bridge, empty when healthy.
    pub last_error: String,
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Entering `error` needs a message saying why.
    #[error("an integration can only enter 'error' with a reason")]
    MissingReason,
    /// `active` and `paused` exist only once the bridge has given an id.
    #[error("an integration can only be '{0}' with a bridge integration id")]
    MissingBridgeId(IntegrationStatus),
    /// The move is not allowed from the current status.
    #[error("cannot move an integration from '{from}' to '{to}'")]
    Invalid {
        /// Current status.
        from: IntegrationStatus,
        /// Requested status.
        to: IntegrationStatus,
    },
}

/// The Chatwoot integration of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// The instance it belongs to (one integration per instance).
    pub instance_id: InstanceId,
    /// The bridge's id; empty while the bridge never accepted an activation.
    pub bridge_integration_id: String,
    /// The user's settings.
    pub settings: ChatwootSettings,
    /// Inbox id in Chatwoot; 0 while not known.
    pub inbox_id: i64,
    /// Inbox name as created in Chatwoot (the asked-for name until the bridge says otherwise).
    pub inbox_name: String,
    status: IntegrationStatus,
    last_error: String,
    /// When the row was first created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Integration {
    /// A new integration the bridge accepted.
    ///
    /// # Errors
    /// [`TransitionError::MissingBridgeId`] when the bridge gave no id;
    /// [`TransitionError::MissingReason`] when it reported `error` without a message.
    pub fn activated(
        instance_id: InstanceId,
        settings: ChatwootSettings,
        remote: &RemoteState,
        now: Timestamp,
    ) -> Result<Self, TransitionError> {
        let mut integration = Self::blank(instance_id, settings, now);
        integration.apply_activation(remote, now)?;
        Ok(integration)
    }

    /// A new integration whose activation failed: status `error` with `reason`.
    ///
    /// # Errors
    /// [`TransitionError::MissingReason`] when `reason` is blank.
    pub fn failed(
        instance_id: InstanceId,
        settings: ChatwootSettings,
        reason: &str,
        now: Timestamp,
    ) -> Result<Self, TransitionError> {
        let mut integration = Self::blank(instance_id, settings, now);
        integration.fail(reason, now)?;
        Ok(integration)
    }

    /// Rebuilds an integration read back from storage. Storage is trusted to
    /// hold only states this machine produced; inconsistent rows are refused.
    ///
    /// # Errors
    /// [`TransitionError`] when the stored combination could not have been produced.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        instance_id: InstanceId,
        bridge_integration_id: String,
        settings: ChatwootSettings,
        inbox_id: i64,
        inbox_name: String,
        status: IntegrationStatus,
        last_error: String,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> Result<Self, TransitionError> {
        if status == IntegrationStatus::Error && last_error.trim().is_empty() {
            return Err(TransitionError::MissingReason);
        }
        if status != IntegrationStatus::Error && bridge_integration_id.is_empty() {
            return Err(TransitionError::MissingBridgeId(status));
        }
        Ok(Self {
            instance_id,
            bridge_integration_id,
            settings,
            inbox_id,
            inbox_name,
            status,
            last_error,
            created_at,
            updated_at,
        })
    }

    fn blank(instance_id: InstanceId, settings: ChatwootSettings, now: Timestamp) -> Self {
        let inbox_name = settings.inbox_name.as_str().to_owned();
        Self {
            instance_id,
            bridge_integration_id: String::new(),
            settings,
            inbox_id: 0,
            inbox_name,
            status: IntegrationStatus::Error,
            last_error: String::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Current status.
    pub fn status(&self) -> IntegrationStatus {
        self.status
    }

    /// Last error message; empty when healthy.
    pub fn last_error(&self) -> &str {
        &self.last_error
    }

    /// Replaces the settings (a re-set), keeping identity and creation time.
    pub fn reconfigure(&mut self, settings: ChatwootSettings, now: Timestamp) {
        if self.inbox_id == 0 {
            settings
                .inbox_name
                .as_str()
                .clone_into(&mut self.inbox_name);
        }
        self.settings = settings;
        self.updated_at = now;
    }

    /// The bridge accepted an activation (first or repeated): adopt its id,
    /// status and inbox. Allowed from any status.
    ///
    /// # Errors
    /// [`TransitionError::MissingBridgeId`] when the bridge gave no id;
    /// [`TransitionError::MissingReason`] when it reported `error` without a message.
    pub fn apply_activation(
        &mut self,
        remote: &RemoteState,
        now: Timestamp,
    ) -> Result<(), TransitionError> {
        if remote.bridge_integration_id.trim().is_empty() {
            return Err(TransitionError::MissingBridgeId(remote.status));
        }
        if remote.status == IntegrationStatus::Error && remote.last_error.trim().is_empty() {
            return Err(TransitionError::MissingReason);
        }
        remote
            .bridge_integration_id
            .clone_into(&mut self.bridge_integration_id);
        self.status = remote.status;
        remote.last_error.clone_into(&mut self.last_error);
        if remote.inbox_id > 0 {
            self.inbox_id = remote.inbox_id;
        }
        if !remote.inbox_name.is_empty() {
            remote.inbox_name.clone_into(&mut self.inbox_name);
        }
        self.updated_at = now;
        Ok(())
    }

    /// Something failed: enter `error` with `reason`. Allowed from any status.
    ///
    /// # Errors
    /// [`TransitionError::MissingReason`] when `reason` is blank.
    pub fn fail(&mut self, reason: &str, now: Timestamp) -> Result<(), TransitionError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(TransitionError::MissingReason);
        }
        self.status = IntegrationStatus::Error;
        reason.clone_into(&mut self.last_error);
        self.updated_at = now;
        Ok(())
    }

    /// `active` → `paused` (idempotent on `paused`).
    ///
    /// # Errors
    /// [`TransitionError::Invalid`] from `error`.
    pub fn pause(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        self.move_between_healthy(IntegrationStatus::Paused, now)
    }

    /// `paused` → `active` (idempotent on `active`).
    ///
    /// # Errors
    /// [`TransitionError::Invalid`] from `error`.
    pub fn resume(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        self.move_between_healthy(IntegrationStatus::Active, now)
    }

    fn move_between_healthy(
        &mut self,
        to: IntegrationStatus,
        now: Timestamp,
    ) -> Result<(), TransitionError> {
        if self.status == IntegrationStatus::Error {
            return Err(TransitionError::Invalid {
                from: self.status,
                to,
            });
        }
        self.status = to;
        self.last_error.clear();
        self.updated_at = now;
        Ok(())
    }

    /// The bridge reported its live view (status request or socket report):
    /// status and last error are taken as reported; the inbox id is only
    /// back-filled while still unknown locally. Returns whether anything changed.
    ///
    /// # Errors
    /// [`TransitionError::MissingReason`] for `error` without a message;
    /// [`TransitionError::MissingBridgeId`] for `active`/`paused` on an
    /// integration the bridge never accepted.
    pub fn apply_report(
        &mut self,
        status: IntegrationStatus,
        last_error: &str,
        inbox_id: i64,
        now: Timestamp,
    ) -> Result<bool, TransitionError> {
        if status == IntegrationStatus::Error && last_error.trim().is_empty() {
            return Err(TransitionError::MissingReason);
        }
        if status != IntegrationStatus::Error && self.bridge_integration_id.is_empty() {
            return Err(TransitionError::MissingBridgeId(status));
        }
        let backfill = self.inbox_id == 0 && inbox_id > 0;
        let changed = backfill || self.status != status || self.last_error != last_error.trim();
        if changed {
            self.status = status;
            last_error.trim().clone_into(&mut self.last_error);
            if backfill {
                self.inbox_id = inbox_id;
            }
            self.updated_at = now;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ChatwootSettings {
        ChatwootSettings {
            base_url: ChatwootBaseUrl::parse("https://chat.example.com").unwrap(),
            account_id: ChatwootAccountId::parse(5).unwrap(),
            inbox_name: InboxName::parse("WhatsApp - Orion").unwrap(),
            flags: IntegrationFlags::default(),
        }
    }

    fn remote(status: IntegrationStatus) -> RemoteState {
        RemoteState {
            bridge_integration_id: "int_1".into(),
            status,
            inbox_id: 12,
            inbox_name: "WhatsApp - Orion".into(),
            last_error: String::new(),
        }
    }

    const T0: Timestamp = Timestamp::from_millis(1_000);
    const T1: Timestamp = Timestamp::from_millis(2_000);

    #[test]
    fn activation_adopts_the_bridge_view() {
        let i = Integration::activated(
            InstanceId::new("i1"),
            settings(),
            &remote(IntegrationStatus::Active),
            T0,
        )
        .unwrap();
        assert_eq!(i.status(), IntegrationStatus::Active);
        assert_eq!(i.bridge_integration_id, "int_1");
        assert_eq!(i.inbox_id, 12);
        assert_eq!(i.last_error(), "");
        assert_eq!(i.created_at, T0);
    }

    #[test]
    fn activation_needs_a_bridge_id() {
        let mut r = remote(IntegrationStatus::Active);
        r.bridge_integration_id = " ".into();
        let err = Integration::activated(InstanceId::new("i1"), settings(), &r, T0).unwrap_err();
        assert_eq!(
            err,
            TransitionError::MissingBridgeId(IntegrationStatus::Active)
        );
    }

    #[test]
    fn failed_needs_a_reason_and_records_it() {
        assert_eq!(
            Integration::failed(InstanceId::new("i1"), settings(), "  ", T0).unwrap_err(),
            TransitionError::MissingReason
        );
        let i =
            Integration::failed(InstanceId::new("i1"), settings(), "bridge offline", T0).unwrap();
        assert_eq!(i.status(), IntegrationStatus::Error);
        assert_eq!(i.last_error(), "bridge offline");
        assert_eq!(i.bridge_integration_id, "");
        assert_eq!(i.inbox_name, "WhatsApp - Orion");
    }

    #[test]
    fn pause_and_resume_between_healthy_states() {
        let mut i = Integration::activated(
            InstanceId::new("i1"),
            settings(),
            &remote(IntegrationStatus::Active),
            T0,
        )
        .unwrap();
        i.pause(T1).unwrap();
        assert_eq!(i.status(), IntegrationStatus::Paused);
        assert_eq!(i.updated_at, T1);
        i.pause(T1).unwrap();
        i.resume(T1).unwrap();
        assert_eq!(i.status(), IntegrationStatus::Active);
        i.resume(T1).unwrap();
        assert_eq!(i.status(), IntegrationStatus::Active);
    }

    #[test]
    fn error_is_left_only_by_activation_or_a_bridge_report() {
        let mut i = Integration::activated(
            InstanceId::new("i1"),
            settings(),
            &remote(IntegrationStatus::Active),
            T0,
        )
        .unwrap();
        i.fail("token revoked", T1).unwrap();
        assert_eq!(
            i.pause(T1).unwrap_err(),
            TransitionError::Invalid {
                from: IntegrationStatus::Error,
                to: IntegrationStatus::Paused
            }
        );
        assert!(i.resume(T1).is_err());
        assert_eq!(i.status(), IntegrationStatus::Error);
        i.apply_activation(&remote(IntegrationStatus::Active), T1)
            .unwrap();
        assert_eq!(i.status(), IntegrationStatus::Active);
        assert_eq!(i.last_error(), "");
    }

    #[test]
    fn a_failed_row_is_repaired_by_a_later_activation() {
        let mut i = Integration::failed(InstanceId::new("i1"), settings(), "401", T0).unwrap();
        assert_eq!(
            i.apply_report(IntegrationStatus::Active, "", 3, T1)
                .unwrap_err(),
            TransitionError::MissingBridgeId(IntegrationStatus::Active)
        );
        i.apply_activation(&remote(IntegrationStatus::Active), T1)
            .unwrap();
        assert_eq!(i.status(), IntegrationStatus::Active);
        assert_eq!(i.created_at, T0);
    }

    #[test]
    fn reports_overwrite_status_and_only_backfill_the_inbox() {
        let mut r = remote(IntegrationStatus::Active);
        r.inbox_id = 0;
        let mut i = Integration::activated(InstanceId::new("i1"), settings(), &r, T0).unwrap();
        assert_eq!(i.inbox_id, 0);
        assert!(i
            .apply_report(IntegrationStatus::Active, "", 44, T1)
            .unwrap());
        assert_eq!(i.inbox_id, 44);
        // a known inbox id is never replaced by a report
        assert!(!i
            .apply_report(IntegrationStatus::Active, "", 45, T1)
            .unwrap());
        assert_eq!(i.inbox_id, 44);
        assert!(i
            .apply_report(IntegrationStatus::Error, "inbox deleted", 0, T1)
            .unwrap());
        assert_eq!(i.status(), IntegrationStatus::Error);
        assert_eq!(i.last_error(), "inbox deleted");
        assert_eq!(
            i.apply_report(IntegrationStatus::Error, "", 0, T1)
                .unwrap_err(),
            TransitionError::MissingReason
        );
        assert!(i
            .apply_report(IntegrationStatus::Paused, "", 0, T1)
            .unwrap());
        assert_eq!(i.status(), IntegrationStatus::Paused);
        assert_eq!(i.last_error(), "");
    }

    #[test]
    fn reconfigure_keeps_identity() {
        let mut i = Integration::activated(
            InstanceId::new("i1"),
            settings(),
            &remote(IntegrationStatus::Active),
            T0,
        )
        .unwrap();
        let mut s = settings();
        s.flags.sign_messages = true;
        s.inbox_name = InboxName::parse("Other").unwrap();
        i.reconfigure(s, T1);
        assert!(i.settings.flags.sign_messages);
        assert_eq!(
            i.inbox_name, "WhatsApp - Orion",
            "a known inbox keeps its name"
        );
        assert_eq!(i.bridge_integration_id, "int_1");
        assert_eq!(i.created_at, T0);
    }

    #[test]
    fn restore_refuses_impossible_rows() {
        let ok = Integration::restore(
            InstanceId::new("i"),
            "b".into(),
            settings(),
            1,
            "n".into(),
            IntegrationStatus::Paused,
            String::new(),
            T0,
            T1,
        );
        assert!(ok.is_ok());
        let bad = Integration::restore(
            InstanceId::new("i"),
            String::new(),
            settings(),
            0,
            "n".into(),
            IntegrationStatus::Active,
            String::new(),
            T0,
            T1,
        );
        assert!(bad.is_err());
        let bad = Integration::restore(
            InstanceId::new("i"),
            "b".into(),
            settings(),
            0,
            "n".into(),
            IntegrationStatus::Error,
            String::new(),
            T0,
            T1,
        );
        assert_eq!(bad.unwrap_err(), TransitionError::MissingReason);
    }

    #[test]
    fn status_spellings() {
        for s in [
            IntegrationStatus::Active,
            IntegrationStatus::Paused,
            IntegrationStatus::Error,
        ] {
            assert_eq!(IntegrationStatus::parse(s.as_str()).unwrap(), s);
        }
        assert!(IntegrationStatus::parse("Active").is_err());
    }
}
