//! Reading JSON bodies with a size limit and clear 400/413 answers. By the
//! time a handler reads one, [`crate::limits::enforce`] has received it whole
//! (within `BODY_READ_TIMEOUT_SECS`), so reading never waits on the client.

use actix_web::web;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Reads the whole body (at most `limit` bytes), which must be a JSON
/// object, and parses it as `T`.
///
/// # Errors
/// 413 past the limit; 400 `invalid body: …` for an empty body, bad JSON or wrong types.
pub async fn read_json<T: DeserializeOwned>(
    payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = payload
        .to_bytes_limited(limit)
        .await
        .map_err(|_| ApiError::TooLarge(limit))?
        .map_err(|e| ApiError::invalid_body(format!("could not be read: {e}")))?;
    parse_json(&bytes)
}

/// Parses a whole body, which must be a JSON object, as `T`.
///
/// # Errors
/// 400 `invalid body: …` for an empty body, bad JSON or wrong types.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body("a JSON object is required"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(ApiError::invalid_body)?;
    if !value.is_object() {
        return Err(ApiError::invalid_body("expected a JSON object"));
    }
    serde_json::from_value(value).map_err(ApiError::invalid_body)
}
