//! Tokens and identifiers: generation and the digest used to store and find tokens.

use std::fmt;

/// The digest of a token (lower-case hex of SHA-256). This is all that is
/// stored; a database dump yields no usable token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    /// Wraps a digest computed by a [`TokenService`] or read back from storage.
    pub fn from_hex(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    /// The digest as hex.
    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is not a secret, but a short prefix is all a log ever needs.
        write!(f, "TokenDigest({}…)", self.0.get(..8).unwrap_or(&self.0))
    }
}

/// Generates tokens and ids, and digests tokens. Infallible: a failing system
/// random generator is a fatal condition the implementation may abort on.
pub trait TokenService: Send + Sync {
    /// A new random token (at least 128 bits of entropy), URL-safe text.
    fn generate_token(&self) -> String;
    /// A new random identifier for a row, URL-safe text.
    fn generate_id(&self) -> String;
    /// The digest of `token`, used for storage and lookup.
    fn digest(&self, token: &str) -> TokenDigest;
}
