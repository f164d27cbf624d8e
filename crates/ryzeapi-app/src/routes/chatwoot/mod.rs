//! `/api/chatwoot/*`: the Chatwoot module's management routes.
//!
//! Each checks, in order: the module is on (503), the token (401/429), the
//! instance (403/404), then the body.

pub mod delete;
pub mod list;
pub mod set;

/// 404 wording of the module routes for an unknown instance.
pub const INSTANCE_NOT_FOUND: &str = "instance not found";
