//! The ryzeapi server: actix-web routes of the instance and Chatwoot
//! module APIs, settings, startup and the command line. Wires the adapters
//! into the ports; handlers reach the ports only through `web::block`.

pub mod access_log;
pub mod accounts;
pub mod auth;
pub mod blocking;
pub mod body;
pub mod cli;
pub mod client_ip;
pub mod error;
pub mod events;
pub mod limits;
pub mod logging;
pub mod rate_limit;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod state;
pub mod views;
pub mod ws_handshake;

pub use settings::{Secret, Settings};
pub use startup::Application;
