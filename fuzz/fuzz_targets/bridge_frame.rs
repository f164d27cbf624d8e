//! Any text a bridge may send as a frame: parsed into a protocol frame or
//! refused with a close code and a reason, never a panic; what parses is
//! written back into a frame that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ryzeapi_protocol::BridgeFrame;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match BridgeFrame::parse(text) {
            Ok(frame) => assert_eq!(BridgeFrame::parse(&frame.encode()), Ok(frame)),
            Err(refused) => {
                let code = refused.close_code();
                assert!((1000..5000).contains(&code), "{code}");
            }
        }
    }
});
