//! Any text a bridge may send as a frame: parsed into a protocol frame or
//! refused with a close code and a reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ryzeapi_app::events::protocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(violation) = protocol::parse(text) {
            assert!((1000..5000).contains(&violation.code), "{}", violation.code);
        }
    }
});
