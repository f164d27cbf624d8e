//! Quoting foreign text — another service's answers, a peer's frames — in
//! messages, log lines and stored fields.
//!
//! [`quote`] does three things in a fixed order: it replaces every secret,
//! then every control character, and only then cuts the text to its limit.
//! Cutting last means a cut can never leave a piece of a secret behind: a
//! secret that straddles the limit is replaced whole before the limit is
//! applied.

/// What replaces a secret in quoted text.
pub const REDACTED: &str = "[redacted]";

/// How much of a text [`quote`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many characters.
    Chars(usize),
    /// At most this many bytes of UTF-8 (e.g. a WebSocket close reason).
    Bytes(usize),
}

/// `text` made safe to quote: every occurrence of every non-empty secret
/// replaced by [`REDACTED`] (the longest secrets first), every control
/// character by a space, the surrounding white space trimmed, and then cut to
/// `limit` on a character boundary.
pub fn quote(text: &str, secrets: &[&str], limit: Limit) -> String {
    let mut ordered: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut redacted = text.to_owned();
    for secret in ordered {
        if redacted.contains(secret) {
            redacted = redacted.replace(secret, REDACTED);
        }
    }
    let line: String = redacted
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    let end = match limit {
        Limit::Chars(max) => line.char_indices().nth(max).map_or(line.len(), |(i, _)| i),
        Limit::Bytes(max) if max >= line.len() => line.len(),
        Limit::Bytes(max) => (0..=max)
            .rev()
            .find(|&i| line.is_char_boundary(i))
            .unwrap_or(0),
    };
    line[..end].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Zq8xWv3TkPmR7nLc";

    /// Whether any 6 consecutive characters of `secret` occur in `text`.
    fn leaks(text: &str, secret: &str) -> bool {
        let chars: Vec<char> = secret.chars().collect();
        chars
            .windows(6)
            .any(|w| text.contains(&w.iter().collect::<String>()))
    }

    #[test]
    fn a_secret_straddling_the_limit_is_redacted_whole() {
        for offset in 0..40 {
            let text = format!("{}{TOKEN}{}", ".".repeat(offset), "-".repeat(40));
            let quoted = quote(&text, &[TOKEN], Limit::Chars(30));
            assert!(!leaks(&quoted, TOKEN), "offset {offset}: {quoted}");
            assert!(quoted.chars().count() <= 30, "{quoted}");
            let quoted = quote(&text, &[TOKEN], Limit::Bytes(30));
            assert!(!leaks(&quoted, TOKEN), "offset {offset}: {quoted}");
            assert!(quoted.len() <= 30, "{quoted}");
        }
    }

    #[test]
    fn every_secret_is_redacted_and_the_longest_first() {
        let quoted = quote(
            "a abcdef b abcdefgh c",
            &["abcdef", "", "abcdefgh"],
            Limit::Chars(100),
        );
        assert_eq!(quoted, "a [redacted] b [redacted] c");
    }

    #[test]
    fn control_characters_become_spaces_and_the_text_is_trimmed() {
        assert_eq!(
            quote("\n line\r\none\ttwo\0 \n", &[], Limit::Chars(100)),
            "line  one two"
        );
        assert_eq!(quote("\u{1}\u{2}", &[], Limit::Chars(100)), "");
    }

    #[test]
    fn cuts_fall_on_character_boundaries() {
        let text = "é".repeat(10);
        assert_eq!(quote(&text, &[], Limit::Chars(3)), "ééé");
        assert_eq!(quote(&text, &[], Limit::Bytes(5)), "éé");
        assert_eq!(quote(&text, &[], Limit::Bytes(0)), "");
        assert_eq!(quote("short", &[], Limit::Bytes(120)), "short");
        assert_eq!(quote("short", &[], Limit::Chars(5)), "short");
    }
}
