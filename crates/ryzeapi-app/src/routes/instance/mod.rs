//! `/api/instance/*`: create, list and delete instances.

pub mod create;
pub mod delete;
pub mod list;

/// 404 wording of the instance routes.
pub const NOT_FOUND: &str = "Instance not found";
