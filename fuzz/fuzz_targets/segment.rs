//! Any text read back as a log segment: decoded or reported corrupt, never a
//! panic; what decodes packs back into the same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ryzeapi_adapters::db::segment;
use ryzeapi_domain::InstanceId;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let instance = InstanceId::new("i");
    let Ok(events) = segment::unpack(&instance, body) else {
        return;
    };
    let packed = segment::pack(
        events
            .iter()
            .map(|e| (i64::try_from(e.seq).unwrap_or(i64::MAX), &e.event)),
    );
    let mut again = Vec::new();
    for piece in &packed {
        again.extend(segment::unpack(&instance, &piece.body).expect("what was packed decodes"));
    }
    assert_eq!(again, events);
});
