//! Any bytes as a request body, read as the routes read them (any object,
//! and the Chatwoot settings body with its validation): accepted, or refused
//! with a 4xx and a message, never a panic.
#![no_main]

use actix_web::ResponseError as _;
use libfuzzer_sys::fuzz_target;
use ryzeapi_app::body::parse_json;
use ryzeapi_core::chatwoot::SetBody;

fuzz_target!(|data: &[u8]| {
    let refused = |e: ryzeapi_app::error::ApiError| {
        let status = e.status_code().as_u16();
        assert!((400..500).contains(&status), "{status}: {e}");
        assert!(!e.to_string().is_empty());
    };
    if let Err(e) = parse_json::<serde_json::Map<String, serde_json::Value>>(data) {
        refused(e);
    }
    match parse_json::<SetBody>(data) {
        Ok(body) => {
            if let Err(e) = body.validate("a") {
                refused(e.into());
            }
        }
        Err(e) => refused(e),
    }
});
