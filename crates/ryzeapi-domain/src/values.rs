//! Validated value types: each is built only through `parse`, so holding one
//! means the rule was checked.

use std::fmt;

/// Why a value was refused. The message names the field as the API calls it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct ValidationError {
    /// The field as named in the public API (`chatwootBaseUrl`, `name`, ...).
    pub field: &'static str,
    /// What is wrong with it, in words a user can act on.
    pub reason: String,
}

impl ValidationError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The event names an instance can emit (see the API reference, "Events").
pub const EVENT_NAMES: &[&str] = &[
    "message.exchange",
    "message.status",
    "call.update",
    "group.flow",
    "instance.state",
    "label.update",
];

const MAX_URL_LEN: usize = 2048;

/// The base URL of a Chatwoot installation: absolute `http` or `https`, with a
/// host, no query, no fragment, no credentials, trailing `/` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatwootBaseUrl(String);

impl ChatwootBaseUrl {
    /// Validates and normalises a base URL.
    ///
    /// # Errors
    /// [`ValidationError`] on `chatwootBaseUrl` when the text is empty, too long,
    /// not `http(s)://host[:port][/path]`, or carries a query, a fragment,
    /// credentials, white space or control characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "chatwootBaseUrl";
        let text = raw.trim();
        if text.is_empty() {
            return Err(ValidationError::new(FIELD, "is required"));
        }
        if text.len() > MAX_URL_LEN {
            return Err(ValidationError::new(
                FIELD,
                format!("must be at most {MAX_URL_LEN} characters"),
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                FIELD,
                "must not contain white space or control characters",
            ));
        }
        let lower = text.to_ascii_lowercase();
        let rest = if lower.starts_with("https://") {
            &text[8..]
        } else if lower.starts_with("http://") {
            &text[7..]
        } else {
            return Err(ValidationError::new(
                FIELD,
                "must be an absolute http:// or https:// URL",
            ));
        };
        if text.contains('?') || text.contains('#') {
            return Err(ValidationError::new(
                FIELD,
                "must not contain a query or a fragment",
            ));
        }
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ValidationError::new(FIELD, "must not contain credentials"));
        }
        let (host, port) = split_host_port(authority);
        if !valid_host(host) {
            return Err(ValidationError::new(FIELD, "must name a valid host"));
        }
        if let Some(port) = port {
            match port.parse::<u16>() {
                Ok(p) if p > 0 => {}
                _ => return Err(ValidationError::new(FIELD, "has an invalid port")),
            }
        }
        let scheme_len = text.len() - rest.len();
        let normalised = format!("{}{}", &lower[..scheme_len], rest.trim_end_matches('/'));
        Ok(Self(normalised))
    }

    /// The normalised URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChatwootBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(stripped) = authority.strip_prefix('[') {
        // IPv6 literal: [::1]:3000
        return match stripped.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => ("", None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

fn valid_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    if host.contains(':') {
        // IPv6 literal content
        return host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    }
    host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// The numeric id of a Chatwoot account: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChatwootAccountId(i64);

impl ChatwootAccountId {
    /// Validates an account id.
    ///
    /// # Errors
    /// [`ValidationError`] on `chatwootAccountId` when the id is zero or negative.
    pub fn parse(raw: i64) -> Result<Self, ValidationError> {
        if raw > 0 {
            Ok(Self(raw))
        } else {
            Err(ValidationError::new(
                "chatwootAccountId",
                "must be a positive integer",
            ))
        }
    }

    /// The id as a number.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ChatwootAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

const MAX_TOKEN_LEN: usize = 512;

/// A Chatwoot access token (agent or administrator). A secret: its `Debug`
/// and `Display` never show it; only [`ApiToken::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Validates a token: non-empty after trimming, at most 512 characters,
    /// no white space or control characters inside.
    ///
    /// # Errors
    /// [`ValidationError`] on `chatwootApiToken`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "chatwootApiToken";
        let text = raw.trim();
        if text.is_empty() {
            return Err(ValidationError::new(FIELD, "is required"));
        }
        if text.len() > MAX_TOKEN_LEN {
            return Err(ValidationError::new(
                FIELD,
                format!("must be at most {MAX_TOKEN_LEN} characters"),
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                FIELD,
                "must not contain white space or control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The token itself, for the cipher and the bridge call only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

const MAX_INBOX_NAME: usize = 255;

/// The name of the Chatwoot inbox the bridge creates: 1 to 255 characters
/// after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxName(String);

impl InboxName {
    /// Validates an inbox name.
    ///
    /// # Errors
    /// [`ValidationError`] on `inboxName` when empty, too long or holding
    /// control characters.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "inboxName";
        let text = raw.trim();
        if text.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if text.chars().count() > MAX_INBOX_NAME {
            return Err(ValidationError::new(
                FIELD,
                format!("must be at most {MAX_INBOX_NAME} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(ValidationError::new(
                FIELD,
                "must not contain control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The default inbox name for an instance: `WhatsApp - <instance>`.
    pub fn default_for(instance: &str) -> Self {
        let mut name = format!("WhatsApp - {instance}");
        if name.chars().count() > MAX_INBOX_NAME {
            name = name.chars().take(MAX_INBOX_NAME).collect();
        }
        Self(name)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_accepts_http_and_https_and_strips_trailing_slashes() {
        let url = ChatwootBaseUrl::parse("https://chat.example.com/").unwrap();
        assert_eq!(url.as_str(), "https://chat.example.com");
        let url = ChatwootBaseUrl::parse("  HTTP://chat.example.com:3000/app//  ").unwrap();
        assert_eq!(url.as_str(), "http://chat.example.com:3000/app");
        let url = ChatwootBaseUrl::parse("http://[::1]:3000").unwrap();
        assert_eq!(url.as_str(), "http://[::1]:3000");
        let url = ChatwootBaseUrl::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(url.to_string(), "http://127.0.0.1:3000");
    }

    #[test]
    fn base_url_refuses_what_is_not_an_absolute_http_url() {
        for bad in [
            "",
            "   ",
            "chat.example.com",
            "ftp://chat.example.com",
            "https://",
            "https:///path",
            "https://chat example.com",
            "https://chat.example.com?x=1",
            "https://chat.example.com/#frag",
            "https://user:pw@chat.example.com",
            "https://chat.example.com:0",
            "https://chat.example.com:99999",
            "https://chat.example.com:abc",
            "https://-bad-.example.com",
            "https://a..b",
            "javascript:alert(1)",
        ] {
            let err = ChatwootBaseUrl::parse(bad).unwrap_err();
            assert_eq!(err.field, "chatwootBaseUrl", "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(ChatwootBaseUrl::parse(&long).is_err());
    }

    #[test]
    fn account_id_must_be_positive() {
        assert_eq!(ChatwootAccountId::parse(5).unwrap().get(), 5);
        assert!(ChatwootAccountId::parse(0).is_err());
        assert!(ChatwootAccountId::parse(-3).is_err());
        assert_eq!(
            ChatwootAccountId::parse(0).unwrap_err().to_string(),
            "chatwootAccountId must be a positive integer"
        );
    }

    #[test]
    fn api_token_is_validated_and_never_printed() {
        let token = ApiToken::parse("  sk_live_abc123 ").unwrap();
        assert_eq!(token.expose(), "sk_live_abc123");
        assert!(!format!("{token:?}").contains("sk_live"));
        assert!(ApiToken::parse("").is_err());
        assert!(ApiToken::parse("two words").is_err());
        assert!(ApiToken::parse(&"x".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn inbox_name_rules_and_default() {
        assert_eq!(InboxName::parse(" Sales ").unwrap().as_str(), "Sales");
        assert!(InboxName::parse(" ").is_err());
        assert!(InboxName::parse("a\u{0}b").is_err());
        assert!(InboxName::parse(&"é".repeat(256)).is_err());
        assert!(InboxName::parse(&"é".repeat(255)).is_ok());
        assert_eq!(
            InboxName::default_for("suporte").as_str(),
            "WhatsApp - suporte"
        );
    }
}
