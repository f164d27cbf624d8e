//! The event envelope, the same on every channel (the bridge's `event`
//! frames and the public socket `/ws/:instance`):
//! `{"event": name, "data": {...}, "instanceData": {"instance": name, "baseUrl": url}}`.
//!
//! `data` is the engine's JSON, carried as it was encoded:
//! [`Envelope::encode_around`] writes an envelope around it without parsing
//! it (the server's hot path), [`Envelope`] reads and writes it as
//! [`RawValue`].

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One event as every consumer receives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<'a> {
    /// The event's name (`message.exchange`, `instance.state`, …).
    pub event: Cow<'a, str>,
    /// The event's data, as JSON text.
    pub data: Cow<'a, RawValue>,
    /// Which instance and server it comes from.
    #[serde(rename = "instanceData")]
    pub instance_data: InstanceData<'a>,
}

/// `instanceData` of an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceData<'a> {
    /// The instance's name.
    pub instance: Cow<'a, str>,
    /// The server's `BASE_URL`.
    #[serde(rename = "baseUrl")]
    pub base_url: Cow<'a, str>,
}

impl<'a> Envelope<'a> {
    /// An envelope of borrowed parts.
    pub fn new(event: &'a str, data: &'a RawValue, instance: &'a str, base_url: &'a str) -> Self {
        Self {
            event: Cow::Borrowed(event),
            data: Cow::Borrowed(data),
            instance_data: InstanceData {
                instance: Cow::Borrowed(instance),
                base_url: Cow::Borrowed(base_url),
            },
        }
    }

    /// The envelope as JSON text, ready to be stored or carried in a frame
    /// without being parsed again.
    pub fn encode(&self) -> Box<RawValue> {
        serde_json::value::to_raw_value(self).unwrap_or_else(|_| RawValue::NULL.to_owned())
    }
}

impl Envelope<'_> {
    /// The envelope of `data` as JSON text, written like [`Envelope::encode`]
    /// writes it, but with `data` embedded as it is, not parsed: it must be
    /// JSON (an engine's serializer wrote it); blank text is written as
    /// `null`.
    ///
    /// Making a [`RawValue`] of text parses it whole, which costs more than
    /// writing the envelope; this is the server's way for every event. serde
    /// writes the envelope with `null` for `data`, and the text goes where
    /// that `null` is.
    pub fn encode_around(event: &str, data: &str, instance: &str, base_url: &str) -> String {
        /// What serde writes for `data`: the first `,"` of the envelope, since
        /// inside a JSON string every `"` follows a backslash.
        const PLACEHOLDER: &[u8] = b",\"data\":null";
        let data = if data.trim().is_empty() { "null" } else { data };
        let mut out =
            Vec::with_capacity(data.len() + event.len() + instance.len() + base_url.len() + 64);
        let envelope = Envelope::new(event, RawValue::NULL, instance, base_url);
        if serde_json::to_writer(&mut out, &envelope).is_err() {
            return crate::to_json(&envelope);
        }
        if let Some(at) = out
            .windows(PLACEHOLDER.len())
            .position(|w| w == PLACEHOLDER)
        {
            let null = at + PLACEHOLDER.len() - 4;
            out.splice(null..null + 4, data.bytes());
        }
        crate::into_text(out)
    }
}

/// Two envelopes are equal when their names, data texts and instance data are.
impl PartialEq for Envelope<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event
            && self.data.get() == other.data.get()
            && self.instance_data == other.instance_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn encoding_around_text_writes_what_serde_writes() {
        let tricky = [
            "message.exchange",
            "",
            r#"a","data":null,"x"#,
            "quo\"te\\ \u{1} é 😀",
            ",\"data\":null,",
        ];
        let datas = [
            r#"{"id":"x","status":"read"}"#,
            r#"{"a":",\"data\":null,","b":[1,2.5,null,true]}"#,
            "\"text\"",
            "null",
            "[]",
        ];
        for name in tricky {
            for instance in tricky {
                for data in datas {
                    let raw: &RawValue = serde_json::from_str(data).unwrap();
                    let typed = Envelope::new(name, raw, instance, "http://h").encode();
                    assert_eq!(
                        Envelope::encode_around(name, data, instance, "http://h"),
                        typed.get(),
                        "{name:?} {instance:?} {data}"
                    );
                }
            }
        }
        assert_eq!(
            Envelope::encode_around("x", "  ", "a", "h"),
            r#"{"event":"x","data":null,"instanceData":{"instance":"a","baseUrl":"h"}}"#
        );
    }

    #[test]
    fn shape_and_escaping() {
        let data: &RawValue = serde_json::from_str(r#"{"id":"x","status":"read"}"#).unwrap();
        let encoded = Envelope::new("message.status", data, "a\"b", "http://h").encode();
        assert_eq!(
            encoded.get(),
            r#"{"event":"message.status","data":{"id":"x","status":"read"},"instanceData":{"instance":"a\"b","baseUrl":"http://h"}}"#
        );
        let value: Value = serde_json::from_str(encoded.get()).unwrap();
        assert_eq!(
            value["instanceData"],
            json!({"instance": "a\"b", "baseUrl": "http://h"})
        );
        let back: Envelope<'_> = serde_json::from_str(encoded.get()).unwrap();
        assert_eq!(
            back,
            Envelope::new("message.status", data, "a\"b", "http://h")
        );
    }
}
