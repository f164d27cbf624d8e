//! `/api/message/*`: sending on WhatsApp.

pub mod text;
