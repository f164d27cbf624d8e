//! The cipher port: encryption at rest of secrets (the Chatwoot API token).

use std::fmt;

use ryzeapi_domain::InstanceId;

/// A sealed secret as stored: self-describing text carrying the format and
/// key version, the nonce and the ciphertext. Opaque to everyone but the cipher.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// Wraps a stored value.
    pub fn new(stored: impl Into<String>) -> Self {
        Self(stored.into())
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The stored value names a key version this server does not hold.
    #[error("sealed with unknown key version {0}")]
    UnknownKey(u32),
    /// The value is not in a format the cipher writes.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: wrong key, altered bytes, or a value moved from another row.
    #[error("sealed value failed authentication")]
    Rejected,
    /// The primitive itself failed (e.g. no randomness).
    #[error("cipher failure: {0}")]
    Failure(String),
}

/// Authenticated encryption of small secrets, bound to a context (the row).
pub trait SecretCipher: Send + Sync {
    /// Encrypts `plaintext` under the active key with a fresh nonce, binding
    /// it to `context` (associated data).
    ///
    /// # Errors
    /// [`CipherError::Failure`] when the primitive fails.
    fn seal(&self, plaintext: &str, context: &str) -> Result<SealedSecret, CipherError>;

    /// Decrypts a value sealed by [`SecretCipher::seal`] with the same
    /// `context`, with whichever configured key version it names.
    ///
    /// # Errors
    /// [`CipherError::UnknownKey`], [`CipherError::Malformed`],
    /// [`CipherError::Rejected`] (tampered, wrong key, other row).
    fn open(&self, sealed: &SealedSecret, context: &str) -> Result<String, CipherError>;
}

/// The associated data that binds an integration's API token to its row.
pub fn api_token_context(instance: &InstanceId) -> String {
    format!(
        "chatwoot_integrations/{}/chatwoot_api_token",
        instance.as_str()
    )
}
