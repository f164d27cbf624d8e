//! The ryzeapi server: actix-web routes of the instance and Chatwoot
//! module APIs, settings, startup and the command line. Wires the adapters
//! into the ports; handlers reach the ports only through `web::block`.

pub mod accounts;
pub mod auth;
pub mod body;
pub mod chatwoot;
pub mod cli;
pub mod error;
pub mod events;
pub mod rate_limit;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod views;

pub use settings::{Secret, Settings};
pub use startup::Application;
