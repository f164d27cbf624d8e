//! Any string an engine hands over becomes an event id, name and data with
//! no NUL and no control character where none belongs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ryzeapi_domain::{EventData, EventId, EventName};

fuzz_target!(|raw: String| {
    let id = EventId::from_engine(&raw);
    assert!(!id.as_str().chars().any(char::is_control));
    assert!(id.as_str().len() <= ryzeapi_domain::event::MAX_EVENT_ID_BYTES);
    let name = EventName::from_engine(&raw);
    assert!(!name.as_str().is_empty() && name.as_str().len() <= 64);
    let data = EventData::from_engine(raw.clone());
    assert!(!data
        .as_str()
        .bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')));
    if serde_json::from_str::<serde_json::Value>(&raw).is_ok() {
        assert_eq!(data.as_str(), raw, "valid JSON passes unchanged");
    }
});
