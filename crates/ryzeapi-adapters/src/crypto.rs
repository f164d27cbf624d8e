//! Cryptography on ring: AES-256-GCM sealing with key versions, random tokens
//! and ids, SHA-256 token digests; and the system clock.
//!
//! A sealed value is text: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`.
//! The associated data is `ryzeapi/v1/<key id>/<context>`, so a value only
//! opens under the key version it names and in the row it was written for.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ryzeapi_domain::Timestamp;
use ryzeapi_ports::{CipherError, Clock, SealedSecret, SecretCipher, TokenDigest, TokenService};

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;
const FORMAT: &str = "v1";

/// Why a configured key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not base64, or not 32 bytes once decoded.
    #[error("{name} must be the base64 encoding of exactly 32 random bytes (e.g. `openssl rand -base64 32`): {reason}")]
    Invalid {
        /// The setting's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The old-keys list is not `id:base64,id:base64`.
    #[error("ENCRYPTION_OLD_KEYS must be a comma-separated list of <key id>:<base64 key>: {0}")]
    OldKeys(String),
    /// The same key id was given twice.
    #[error("key id {0} is configured twice")]
    DuplicateId(u32),
    /// The key file could not be read or written.
    #[error("key file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// Decodes a base64 (standard or URL-safe, padded or not) 32-byte key.
///
/// # Errors
/// [`KeyError::Invalid`] naming `name`.
pub fn decode_key(name: &str, text: &str) -> Result<[u8; KEY_LEN], KeyError> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .map_err(|e| KeyError::Invalid {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Invalid {
        name: name.to_owned(),
        reason: format!("decoded to {} bytes", bytes.len()),
    })
}

/// Parses `id:base64,id:base64` (decrypt-only keys of earlier versions).
///
/// # Errors
/// [`KeyError::OldKeys`] or [`KeyError::Invalid`].
pub fn parse_old_keys(text: &str) -> Result<Vec<(u32, [u8; KEY_LEN])>, KeyError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| KeyError::OldKeys("an entry has no ':'".into()))?;
            let id: u32 = id
                .trim()
                .parse()
                .map_err(|_| KeyError::OldKeys(format!("'{}' is not a key id", id.trim())))?;
            Ok((id, decode_key(&format!("ENCRYPTION_OLD_KEYS[{id}]"), key)?))
        })
        .collect()
}

/// Reads the key stored in `path`, or creates the file with a fresh random
/// key, readable by its owner only. For the embedded default only.
///
/// # Errors
/// [`KeyError::File`] when the file cannot be read or created, [`KeyError::Invalid`]
/// when it holds something else than a key.
pub fn load_or_create_key_file(path: &Path) -> Result<[u8; KEY_LEN], KeyError> {
    let file_err = |reason: String| KeyError::File {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => decode_key(&format!("the key file {}", path.display()), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| file_err(e.to_string()))?;
                }
            }
            let mut key = [0u8; KEY_LEN];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| file_err("no system randomness".into()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(|e| file_err(e.to_string()))?;
            writeln!(file, "{}", STANDARD.encode(key)).map_err(|e| file_err(e.to_string()))?;
            file.sync_all().map_err(|e| file_err(e.to_string()))?;
            Ok(key)
        }
        Err(e) => Err(file_err(e.to_string())),
    }
}

/// AES-256-GCM with an active key (used to seal) and older keys (open only).
pub struct AesGcmCipher {
    active_id: u32,
    keys: BTreeMap<u32, LessSafeKey>,
    rng: SystemRandom,
}

impl fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcmCipher")
            .field("active_id", &self.active_id)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn less_safe_key(bytes: &[u8; KEY_LEN]) -> Result<LessSafeKey, CipherError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CipherError::Failure("key rejected by AES-256-GCM".into()))
}

impl AesGcmCipher {
    /// A cipher sealing with `active` (its id and key) and opening with it or any of `older`.
    ///
    /// # Errors
    /// [`KeyError::DuplicateId`] when an id repeats.
    pub fn new(
        active: (u32, [u8; KEY_LEN]),
        older: &[(u32, [u8; KEY_LEN])],
    ) -> Result<Self, KeyError> {
        let mut keys = BTreeMap::new();
        for (id, key) in std::iter::once(&active).chain(older) {
            let key = less_safe_key(key).map_err(|e| KeyError::Invalid {
                name: format!("key {id}"),
                reason: e.to_string(),
            })?;
            if keys.insert(*id, key).is_some() {
                return Err(KeyError::DuplicateId(*id));
            }
        }
        Ok(Self {
            active_id: active.0,
            keys,
            rng: SystemRandom::new(),
        })
    }

    /// The key version new values are sealed with.
    pub fn active_key_id(&self) -> u32 {
        self.active_id
    }
}

fn aad(key_id: u32, context: &str) -> String {
    format!("ryzeapi/{FORMAT}/{key_id}/{context}")
}

/// AES-256-GCM seal with an explicit nonce; returns ciphertext ‖ tag.
/// Exposed for published test vectors; production code uses [`AesGcmCipher`].
///
/// # Errors
/// [`CipherError::Failure`] when the key or nonce is refused.
pub fn aes256gcm_seal(
    key: &[u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let key = less_safe_key(key)?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut in_out,
    )
    .map_err(|_| CipherError::Failure("seal failed".into()))?;
    Ok(in_out)
}

/// AES-256-GCM open of ciphertext ‖ tag with an explicit nonce.
///
/// # Errors
/// [`CipherError::Rejected`] when authentication fails.
pub fn aes256gcm_open(
    key: &[u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let key = less_safe_key(key)?;
    let mut in_out = sealed.to_vec();
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .map_err(|_| CipherError::Rejected)?;
    Ok(plain.to_vec())
}

impl SecretCipher for AesGcmCipher {
    fn seal(&self, plaintext: &str, context: &str) -> Result<SealedSecret, CipherError> {
        let key = self
            .keys
            .get(&self.active_id)
            .ok_or(CipherError::UnknownKey(self.active_id))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| CipherError::Failure("no system randomness".into()))?;
        let mut in_out = plaintext.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(self.active_id, context).as_bytes()),
            &mut in_out,
        )
        .map_err(|_| CipherError::Failure("seal failed".into()))?;
        let mut blob = Vec::with_capacity(NONCE_LEN + in_out.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&in_out);
        Ok(SealedSecret::new(format!(
            "{FORMAT}.{}.{}",
            self.active_id,
            URL_SAFE_NO_PAD.encode(blob)
        )))
    }

    fn open(&self, sealed: &SealedSecret, context: &str) -> Result<String, CipherError> {
        let mut parts = sealed.as_str().splitn(3, '.');
        let (Some(FORMAT), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CipherError::Malformed);
        };
        let id: u32 = id.parse().map_err(|_| CipherError::Malformed)?;
        let key = self.keys.get(&id).ok_or(CipherError::UnknownKey(id))?;
        let mut blob = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CipherError::Malformed)?;
        if blob.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(CipherError::Malformed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&blob[..NONCE_LEN]);
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(id, context).as_bytes()),
                &mut blob[NONCE_LEN..],
            )
            .map_err(|_| CipherError::Rejected)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CipherError::Malformed)
    }
}

/// Tokens, ids and digests on ring.
#[derive(Debug)]
pub struct RingTokens {
    rng: SystemRandom,
}

impl RingTokens {
    /// A generator on the system's random source.
    pub fn new() -> Self {
        Self {
            rng: SystemRandom::new(),
        }
    }

    fn random<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        if self.rng.fill(&mut bytes).is_err() {
            // Without randomness no token or id can be trusted; refuse to go on.
            #[allow(clippy::panic)]
            {
                panic!("the system random generator failed");
            }
        }
        bytes
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Default for RingTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenService for RingTokens {
    fn generate_token(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.random::<32>())
    }

    fn generate_id(&self) -> String {
        hex(&self.random::<16>())
    }

    fn digest(&self, token: &str) -> TokenDigest {
        TokenDigest::from_hex(hex(ring::digest::digest(
            &ring::digest::SHA256,
            token.as_bytes(),
        )
        .as_ref()))
    }
}

/// Constant-time equality of two secrets (lengths may differ).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let da = ring::digest::digest(&ring::digest::SHA256, a.as_bytes());
    let db = ring::digest::digest(&ring::digest::SHA256, b.as_bytes());
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        Timestamp::from_millis(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_hex() {
        let t = RingTokens::new();
        assert_eq!(
            t.digest("abc").as_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(t.generate_token(), t.generate_token());
        assert_eq!(t.generate_id().len(), 32);
        assert_eq!(t.generate_token().len(), 43);
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal("s3cret", "s3cret"));
        assert!(!secrets_equal("s3cret", "s3cret!"));
        assert!(!secrets_equal("", "x"));
    }

    #[test]
    fn keys_decode_or_explain() {
        let key = STANDARD.encode([7u8; 32]);
        assert_eq!(decode_key("ENCRYPTION_KEY", &key).unwrap(), [7u8; 32]);
        let err = decode_key("ENCRYPTION_KEY", "c2hvcnQ=")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ENCRYPTION_KEY") && err.contains("32"),
            "{err}"
        );
        assert!(decode_key("ENCRYPTION_KEY", "not base64 !!").is_err());
        let old = parse_old_keys(&format!("1:{key}, 2:{key}")).unwrap();
        assert_eq!(
            old.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(parse_old_keys("x:abc").is_err());
        assert!(parse_old_keys("abc").is_err());
    }
}
