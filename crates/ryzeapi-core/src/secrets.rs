//! The secrets a text from the bridge must never reveal, and how such a
//! text is quoted in answers, log lines and stored fields.

use std::fmt;

use ryzeapi_domain::text::{quote, Limit};
use ryzeapi_domain::InstanceId;
use ryzeapi_ports::bridge::UNEXPECTED_ANSWER;
use ryzeapi_ports::{api_token_context, SealedSecret, SecretCipher};

/// The most characters of a text of the bridge's (a detail, a cause, a
/// status's `last_error`) that a message or a stored field quotes.
pub const DETAIL_CHARS: usize = 500;

/// The most characters of the body of an unexpected answer (one that is not an
/// error object) that a message quotes, after `unexpected answer: `.
pub const EXCERPT_CHARS: usize = 200;

/// The most bytes of a WebSocket close reason (the protocol allows 123).
pub const CLOSE_REASON_BYTES: usize = 120;

/// What replaces a text from the bridge when the secrets it must not reveal
/// could not be read (the stored Chatwoot API token did not open).
pub const WITHHELD: &str =
    "[withheld: the stored Chatwoot API token could not be read to redact this text]";

/// The secrets a text from the bridge must not reveal: the integration's
/// Chatwoot API token and the service token, as given and as they read inside
/// a JSON string.
#[derive(Clone, Default)]
pub struct Secrets {
    /// `None` when they could not be read: then every text is withheld.
    known: Option<Vec<String>>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.known {
            Some(known) => write!(f, "Secrets({} forms)", known.len()),
            None => f.write_str("Secrets(unreadable)"),
        }
    }
}

impl Secrets {
    /// These secrets (empty ones are ignored).
    pub fn new(secrets: &[&str]) -> Self {
        let mut known = Vec::new();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            known.push((*secret).to_owned());
            let escaped = serde_json::to_string(secret).unwrap_or_default();
            let escaped = escaped
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .unwrap_or_default();
            if !escaped.is_empty() && escaped != *secret {
                known.push(escaped.to_owned());
            }
        }
        Self { known: Some(known) }
    }

    /// Secrets that could not be read: every non-blank text is [`WITHHELD`].
    pub fn unreadable() -> Self {
        Self { known: None }
    }

    /// The secrets a text of the bridge about the stored integration of
    /// `instance` must not reveal: its Chatwoot API token, opened from
    /// `sealed`, and `others`. When the token does not open,
    /// [`Secrets::unreadable`] (the texts are withheld).
    pub fn of_stored(
        cipher: &dyn SecretCipher,
        instance: &InstanceId,
        sealed: &SealedSecret,
        others: &[&str],
    ) -> Self {
        match cipher.open(sealed, &api_token_context(instance)) {
            Ok(token) => {
                let mut all = vec![token.as_str()];
                all.extend_from_slice(others);
                Self::new(&all)
            }
            Err(e) => {
                log::error!(
                    "the stored Chatwoot API token of instance {} does not open ({e}): texts from the bridge about it are withheld",
                    instance.as_str()
                );
                Self::unreadable()
            }
        }
    }

    /// `text` safe to quote within `limit` (see [`quote`]); a blank text stays
    /// empty.
    pub fn quote(&self, text: &str, limit: Limit) -> String {
        match &self.known {
            Some(known) => {
                let secrets: Vec<&str> = known.iter().map(String::as_str).collect();
                quote(text, &secrets, limit)
            }
            None if text.chars().all(|c| c.is_whitespace() || c.is_control()) => String::new(),
            None => quote(WITHHELD, &[], limit),
        }
    }

    /// A bridge error's text: the body of an unexpected answer is cut to
    /// [`EXCERPT_CHARS`] after its `unexpected answer: ` label, any other text
    /// to [`DETAIL_CHARS`].
    pub fn quote_detail(&self, text: &str) -> String {
        match text.strip_prefix(UNEXPECTED_ANSWER) {
            Some(body) => format!(
                "{UNEXPECTED_ANSWER}{}",
                self.quote(body, Limit::Chars(EXCERPT_CHARS))
            ),
            None => self.quote(text, Limit::Chars(DETAIL_CHARS)),
        }
    }
}
