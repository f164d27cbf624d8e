//! `/dev/engine/*`: drive the in-process WhatsApp engine (development and
//! tests only). Registered only with `DEV_ENGINE_ROUTES=true`, which the
//! server accepts only on a loopback address.

pub mod engine;
