//! Fixed-window request limits per token, and the `X-RateLimit-*` headers.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage as _;

const WINDOW: Duration = Duration::from_secs(60);

/// The state of one bucket after a request, sent back as headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_secs: u64,
}

/// Counts requests per key in one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` against `limit` per minute. `Err` carries
    /// the headers' values when the request is over the limit. A limit of 0
    /// means no limit (and no headers).
    ///
    /// # Errors
    /// The bucket's state when it is exhausted.
    pub fn check(&self, key: &str, limit: u32) -> Result<Option<RateInfo>, RateInfo> {
        if limit == 0 {
            return Ok(None);
        }
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        let reset_secs = WINDOW
            .saturating_sub(now.duration_since(entry.0))
            .as_secs()
            .max(1);
        if entry.1 >= limit {
            return Err(RateInfo {
                limit,
                remaining: 0,
                reset_secs,
            });
        }
        entry.1 += 1;
        Ok(Some(RateInfo {
            limit,
            remaining: limit - entry.1,
            reset_secs,
        }))
    }
}

/// Middleware: copies the [`RateInfo`] a handler recorded into the response headers.
///
/// # Errors
/// Whatever the inner service fails with.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let info = res.request().extensions().get::<RateInfo>().copied();
    if let Some(info) = info {
        let h = res.headers_mut();
        for (name, value) in [
            ("x-ratelimit-limit", u64::from(info.limit)),
            ("x-ratelimit-remaining", u64::from(info.remaining)),
            ("x-ratelimit-reset", info.reset_secs),
        ] {
            h.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_refuses_past_the_limit() {
        let limiter = RateLimiter::new();
        let first = limiter.check("a", 2).unwrap_or_default();
        assert_eq!(first.map(|i| i.remaining), Some(1));
        assert_eq!(
            limiter
                .check("a", 2)
                .unwrap_or_default()
                .map(|i| i.remaining),
            Some(0)
        );
        let refused = limiter.check("a", 2).unwrap_err();
        assert_eq!(refused.remaining, 0);
        assert!(refused.reset_secs >= 1 && refused.reset_secs <= 60);
        assert!(limiter.check("b", 2).is_ok(), "other keys are unaffected");
        assert_eq!(limiter.check("a", 0), Ok(None), "0 turns it off");
    }
}
