//! What a WhatsApp engine hands over, made safe at the boundary: the event's
//! id, its name and its `data` text.
//!
//! A WhatsApp client is remote input: any string it supplies may carry a NUL,
//! control characters or a hundred kilobytes. These types take any string
//! and make it one that every store and every consumer accepts (no NUL, no
//! control character where none belongs, a bounded id), so that no single
//! event can make the durable log refuse a write.

use std::fmt;

/// The longest event id kept as it is, in bytes. A longer id is cut and
/// given a digest of the whole, so that two long ids stay apart.
pub const MAX_EVENT_ID_BYTES: usize = 512;

/// The longest event name, in bytes.
pub const MAX_EVENT_NAME_BYTES: usize = 64;

/// An event's id (the bridge removes duplicates by it): printable Unicode of
/// at most [`MAX_EVENT_ID_BYTES`] bytes.
///
/// [`EventId::from_engine`] escapes every control character (NUL, C0, DEL,
/// C1) and `%` itself as `%XX` per UTF-8 byte, so the mapping is one to one
/// for ids of ordinary length; ids that are still longer than the limit are
/// cut on a character boundary and end with `~` and 16 hex digits of a
/// 64-bit FNV-1a digest of the original id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    /// The id for whatever the engine supplied.
    pub fn from_engine(raw: &str) -> Self {
        let needs_escape = raw.chars().any(|c| c == '%' || c.is_control());
        let escaped = if needs_escape {
            let mut out = String::with_capacity(raw.len() + 8);
            for c in raw.chars() {
                if c == '%' || c.is_control() {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("%{b:02X}"));
                    }
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            raw.to_owned()
        };
        if escaped.len() <= MAX_EVENT_ID_BYTES {
            return Self(escaped);
        }
        // 1 byte for `~`, 16 for the digest.
        let keep = floor_char_boundary(&escaped, MAX_EVENT_ID_BYTES - 17);
        Self(format!(
            "{}~{:016x}",
            &escaped[..keep],
            fnv1a(raw.as_bytes())
        ))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event's name (`message.exchange`, `instance.state`, ...): 1 to
/// [`MAX_EVENT_NAME_BYTES`] bytes of lower-case ASCII letters, digits, `.`,
/// `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventName(String);

impl EventName {
    /// The name for whatever the engine supplied: any other character becomes
    /// `_` (upper-case letters are lowered), the name is cut to the limit, and
    /// an empty name becomes `unknown`.
    pub fn from_engine(raw: &str) -> Self {
        let mut name: String = raw
            .chars()
            .map(|c| {
                let c = c.to_ascii_lowercase();
                if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(MAX_EVENT_NAME_BYTES)
            .collect();
        if name.is_empty() {
            "unknown".clone_into(&mut name);
        }
        Self(name)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event's `data`: JSON text as the engine serialized it, with no raw
/// control character other than tab, line feed and carriage return.
///
/// JSON allows raw control characters nowhere (inside strings they must be
/// escaped; between tokens only whitespace is allowed), so a serializer's
/// output passes through unchanged and unchecked beyond one scan of its
/// bytes. Any other byte below 0x20 is written as the JSON escape
/// `\u00XX`, which is what a correct serializer would have written inside a
/// string. The text never holds a NUL, which Postgres refuses in text.
#[derive(Clone, PartialEq, Eq)]
pub struct EventData(String);

impl EventData {
    /// The data for whatever the engine supplied.
    pub fn from_engine(raw: String) -> Self {
        if !raw.bytes().any(forbidden) {
            return Self(raw);
        }
        let mut out = String::with_capacity(raw.len() + 16);
        for c in raw.chars() {
            if c.is_ascii() && forbidden(c as u8) {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push(c);
            }
        }
        Self(out)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Message contents stay out of debug output.
        write!(f, "EventData({} bytes)", self.0.len())
    }
}

/// A byte that may not appear raw in event data.
fn forbidden(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// The largest index `<= at` on a character boundary of `s`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut i = at.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_kept_as_they_are() {
        for id in ["3EB0A1B2C3D4E5F607182930", "msg-1-read", "olá 😀 مرحبا"] {
            assert_eq!(EventId::from_engine(id).as_str(), id);
        }
    }

    #[test]
    fn control_characters_and_percent_are_escaped_one_to_one() {
        assert_eq!(EventId::from_engine("a\u{0}b").as_str(), "a%00b");
        assert_eq!(EventId::from_engine("a%00b").as_str(), "a%2500b");
        assert_eq!(
            EventId::from_engine("\u{7f}\u{85}\n").as_str(),
            "%7F%C2%85%0A"
        );
        assert_ne!(
            EventId::from_engine("a\u{0}b"),
            EventId::from_engine("a%00b")
        );
    }

    #[test]
    fn long_ids_are_cut_with_a_digest_of_the_whole() {
        let a = "x".repeat(100_000);
        let b = format!("{}y", "x".repeat(99_999));
        let (ia, ib) = (EventId::from_engine(&a), EventId::from_engine(&b));
        assert!(ia.as_str().len() <= MAX_EVENT_ID_BYTES);
        assert!(ib.as_str().len() <= MAX_EVENT_ID_BYTES);
        assert_ne!(ia, ib);
        assert_eq!(ia, EventId::from_engine(&a), "the same id every time");
        // Cut on a character boundary, never inside one.
        let wide = "€".repeat(1000);
        let id = EventId::from_engine(&wide);
        assert!(id.as_str().len() <= MAX_EVENT_ID_BYTES);
        assert!(id.as_str().starts_with('€'));
        assert_eq!(EventId::from_engine(&"x".repeat(512)).as_str().len(), 512);
    }

    #[test]
    fn names_keep_to_their_alphabet() {
        assert_eq!(
            EventName::from_engine("message.exchange").as_str(),
            "message.exchange"
        );
        assert_eq!(
            EventName::from_engine("Message Status\u{0}").as_str(),
            "message_status_"
        );
        assert_eq!(EventName::from_engine("").as_str(), "unknown");
        assert_eq!(EventName::from_engine(&"a".repeat(200)).as_str().len(), 64);
    }

    #[test]
    fn data_from_a_serializer_passes_unchanged() {
        let raw = "{\"text\":\"tab\\tnul\\u0000\",\n\t\"n\": 1}\r\n".to_owned();
        assert_eq!(EventData::from_engine(raw.clone()).as_str(), raw);
    }

    #[test]
    fn raw_control_bytes_in_data_become_json_escapes() {
        let data = EventData::from_engine("{\"t\":\"a\u{0}b\u{1b}c\u{7f}\"}".into());
        assert_eq!(data.as_str(), "{\"t\":\"a\\u0000b\\u001bc\u{7f}\"}");
        assert!(!data.as_str().contains('\u{0}'));
    }
}
