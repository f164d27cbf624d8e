//! The event envelope, the same on every channel:
//! `{"event": name, "data": {...}, "instanceData": {"instance": name, "baseUrl": url}}`.

use serde_json::Value;

/// The envelope as JSON text, and a variant without inlined media content
/// when the event carried any (for clients that did not ask for base64).
/// `data` must be a JSON value (the engine's); it is embedded as it is.
pub fn build(name: &str, data: &str, instance: &str, base_url: &str) -> (String, Option<String>) {
    let data = if data.trim().is_empty() { "null" } else { data };
    let envelope = |data: &str| {
        format!(
            r#"{{"event":{},"data":{data},"instanceData":{{"instance":{},"baseUrl":{}}}}}"#,
            Value::from(name),
            Value::from(instance),
            Value::from(base_url)
        )
    };
    let full = envelope(data);
    // Only events carrying inline media need a second, stripped variant.
    let stripped = if data.contains("\"base64\"") {
        let mut value: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        value
            .pointer_mut("/message/media")
            .and_then(Value::as_object_mut)
            .and_then(|media| media.remove("base64"))
            .map(|_| envelope(&value.to_string()))
    } else {
        None
    };
    (full, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_shape_and_media_stripping() {
        let (full, stripped) = build(
            "message.status",
            r#"{"id":"x","status":"read"}"#,
            "a",
            "http://h",
        );
        let v: Value = serde_json::from_str(&full).unwrap_or_default();
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
    }
}
