//! Black-box tests of the server over real HTTP, with a real database and a
//! fake bridge that is a real HTTP server.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod access_log;
mod arbitrary_bodies;
mod auth;
mod bridge_texts;
mod chatwoot_delete;
mod chatwoot_list;
mod chatwoot_set;
mod event_intake;
mod health;
mod helpers;
mod instances;
mod internal_socket;
mod limits;
mod messages;
mod module_off;
mod raw;
mod secrets;
mod ws_bridge;
mod ws_fragments;
mod ws_public;
mod ws_upgrade;
