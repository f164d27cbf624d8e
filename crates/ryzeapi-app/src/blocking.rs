//! Running the ports' blocking calls off the async workers.

use crate::error::ApiError;

/// Runs blocking port calls on the blocking pool (`web::block`), never on
/// an async worker.
///
/// # Errors
/// The closure's own error, or a 500 when the blocking pool is gone.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f).await.map_err(ApiError::internal)?
}
