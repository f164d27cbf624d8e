//! Who is calling: token extraction (header `token`, `Authorization: Bearer`,
//! `?token=`) and rate limiting here; the resolution to an account or an
//! instance and the ownership policy for `:instance` routes are the use
//! cases of `ryzeapi_core::access`.
//!
//! Policy: a TokenAccount asking for an instance it does not own gets the
//! route's 404 (it cannot learn whether the name exists elsewhere); a
//! TokenInstance naming another instance gets 403
//! `Instance token does not match this instance`.

use actix_web::{HttpMessage as _, HttpRequest};
use ryzeapi_core::access;
use ryzeapi_domain::Instance;

use crate::error::ApiError;
use crate::rate_limit::RateInfo;
use crate::state::{blocking, AppState};

pub use ryzeapi_core::instances::Caller;

/// The token of a request: header `token`, then `Authorization: Bearer`, then `?token=`.
pub fn token_of(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(t) = header("token") {
        return Some(t);
    }
    if let Some(auth) = header("authorization") {
        let mut parts = auth.splitn(2, ' ');
        if let (Some(scheme), Some(value)) = (parts.next(), parts.next()) {
            if scheme.eq_ignore_ascii_case("bearer") && !value.trim().is_empty() {
                return Some(value.trim().to_owned());
            }
        }
    }
    query_param(req.query_string(), "token")
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name && !v.is_empty()).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` and `+` in a query value.
pub fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
            {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Authenticates the request and counts it against the token's rate limit
/// (`limit` per minute; the caller picks the bucket).
///
/// # Errors
/// 401 missing/invalid, 429 over the limit, 500 storage.
pub async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    bucket: &'static str,
    limit: u32,
) -> Result<Caller, ApiError> {
    let token = token_of(req).ok_or(ApiError::MissingToken)?;
    let digest = state.ports.tokens.digest(&token);
    let (ports, lookup) = (state.ports.clone(), digest.clone());
    let caller = blocking(move || Ok(access::identify(&ports, &lookup)?)).await?;
    match state
        .rate
        .check(&format!("{bucket}:{}", digest.as_hex()), limit)
    {
        Ok(Some(info)) => {
            req.extensions_mut().insert(info);
        }
        Ok(None) => {}
        Err(info) => {
            req.extensions_mut().insert::<RateInfo>(info);
            return Err(ApiError::RateLimited);
        }
    }
    Ok(caller)
}

/// Authenticates the request (general rate limit) and resolves the
/// instance of the path: what every `:instance` route starts with.
///
/// # Errors
/// As [`authenticate`] and [`instance_for`].
pub async fn request_instance(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
    not_found: &'static str,
) -> Result<Instance, ApiError> {
    let caller = authenticate(req, state, "requests", state.rate_limit()).await?;
    instance_for(state, &caller, name, not_found).await
}

/// The instance `name` as seen by `caller`, with the route's 404 wording
/// (use case: `ryzeapi_core::access::instance_for`).
///
/// # Errors
/// 403/404 per the policy, 500 storage.
pub async fn instance_for(
    state: &AppState,
    caller: &Caller,
    name: &str,
    not_found: &'static str,
) -> Result<Instance, ApiError> {
    let (ports, caller, name) = (state.ports.clone(), caller.clone(), name.to_owned());
    blocking(move || Ok(access::instance_for(&ports, &caller, &name, not_found)?)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn token_sources_in_order_of_preference() {
        let req = TestRequest::default()
            .insert_header(("token", "from-header"))
            .insert_header(("Authorization", "Bearer from-bearer"))
            .uri("/x?token=from-query")
            .to_http_request();
        assert_eq!(token_of(&req).as_deref(), Some("from-header"));
        let req = TestRequest::default()
            .insert_header(("Authorization", "bearer  from-bearer "))
            .uri("/x?token=from-query")
            .to_http_request();
        assert_eq!(token_of(&req).as_deref(), Some("from-bearer"));
        let req = TestRequest::default()
            .uri("/x?a=1&token=from%2Dquery")
            .to_http_request();
        assert_eq!(token_of(&req).as_deref(), Some("from-query"));
        let req = TestRequest::default()
            .insert_header(("Authorization", "Basic abc"))
            .uri("/x?token=")
            .to_http_request();
        assert_eq!(token_of(&req), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
