//! The event envelope every channel carries ([`ryzeapi_protocol::Envelope`]:
//! `{"event": name, "data": {...}, "instanceData": {"instance": name, "baseUrl": url}}`),
//! built from an engine's event, and its variant without inlined media
//! content for public clients that did not ask for base64.

use ryzeapi_protocol::Envelope;
use serde_json::Value;

/// The envelope as JSON text, and a variant without inlined media content
/// (`data.message.media.base64`) when the event carried any. `data` is the
/// engine's JSON; it is embedded as it is (blank data as `null`).
pub fn build(name: &str, data: &str, instance: &str, base_url: &str) -> (String, Option<String>) {
    let full = Envelope::encode_around(name, data, instance, base_url);
    // Only events carrying inline media need a second, stripped variant.
    let stripped = if data.contains("\"base64\"") {
        let mut value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        value
            .pointer_mut("/message/media")
            .and_then(Value::as_object_mut)
            .and_then(|media| media.remove("base64"))
            .map(|_| Envelope::encode_around(name, &value.to_string(), instance, base_url))
    } else {
        None
    };
    (full, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn envelope_shape_and_media_stripping() {
        let (full, stripped) = build(
            "message.status",
            r#"{"id":"x","status":"read"}"#,
            "a",
            "http://h",
        );
        let v = value(&full);
        assert_eq!(v["event"], "message.status");
        assert_eq!(v["data"]["status"], "read");
        assert_eq!(
            v["instanceData"],
            json!({"instance": "a", "baseUrl": "http://h"})
        );
        assert!(stripped.is_none());

        let (full, stripped) = build(
            "message.exchange",
            r#"{"message":{"media":{"type":"image","base64":"AAAA"}}}"#,
            "a",
            "http://h",
        );
        assert!(full.contains("AAAA"));
        let stripped = stripped.unwrap_or_default();
        assert!(!stripped.contains("AAAA"));
        assert!(stripped.contains("image"));
        assert_eq!(
            value(&stripped)["data"]["message"]["media"],
            json!({"type": "image"})
        );
    }

    #[test]
    fn the_engine_data_is_embedded_as_it_came() {
        let data = "{\"b\":1,  \"a\":\"\\u00e9\"}";
        let (full, _) = build("x", data, "a\"b", "http://h");
        assert!(full.contains(data), "{full}");
        assert_eq!(value(&full)["instanceData"]["instance"], "a\"b");
        let (full, _) = build("x", "  ", "a", "http://h");
        assert_eq!(value(&full)["data"], Value::Null);
    }
}
