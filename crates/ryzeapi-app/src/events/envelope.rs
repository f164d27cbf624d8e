//! The event envelope, the same on every channel:
//! `{"event": name, "data": {...}, "instanceData": {"instance": name, "baseUrl": url}}`.

use serde_json::Value;

/// Appends `text` as a JSON string literal.
pub fn push_json_str(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&Value::from(text).to_string());
    }
}

/// The envelope as JSON text, and a variant without inlined media content
/// when the event carried any (for clients that did not ask for base64).
/// `data` must be a JSON value (the engine's); it is embedded as it is.
pub fn build(name: &str, data: &str, instance: &str, base_url: &str) -> (String, Option<String>) {
    let data = if data.trim().is_empty() { "null" } else { data };
    let envelope = |data: &str| {
        let mut out =
            String::with_capacity(data.len() + name.len() + instance.len() + base_url.len() + 64);
        out.push_str(r#"{"event":"#);
        push_json_str(&mut out, name);
        out.push_str(r#","data":"#);
        out.push_str(data);
        out.push_str(r#","instanceData":{"instance":"#);
        push_json_str(&mut out, instance);
        out.push_str(r#","baseUrl":"#);
        push_json_str(&mut out, base_url);
        out.push_str("}}");
        out
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

    #[test]
    fn strings_are_escaped_when_needed() {
        let mut out = String::new();
        push_json_str(&mut out, "plain");
        push_json_str(&mut out, "quo\"te\\ and\nline");
        assert_eq!(out, r#""plain""quo\"te\\ and\nline""#);
        let (full, _) = build("x", "{}", "a\"b", "http://h");
        let v: Value = serde_json::from_str(&full).unwrap_or_default();
        assert_eq!(v["instanceData"]["instance"], "a\"b");
    }
}
