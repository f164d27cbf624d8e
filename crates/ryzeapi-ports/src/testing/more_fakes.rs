//! Fakes of the cipher, the token service and the WhatsApp engine, so that a
//! use case can be tested on the ports alone.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ryzeapi_domain::{ConnectionState, InstanceName};

use crate::cipher::{CipherError, SealedSecret, SecretCipher};
use crate::engine::{
    EngineError, EventSink, OutgoingMedia, OutgoingText, SentMessage, WhatsAppEngine,
};
use crate::tokens::{TokenDigest, TokenService};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// A cipher that hides the plaintext (XOR and hex, not secure) and binds it
/// to its context, as the real one does: opened with another context, it
/// refuses.
#[derive(Debug, Default)]
pub struct FakeCipher;

impl SecretCipher for FakeCipher {
    fn seal(&self, plaintext: &str, context: &str) -> Result<SealedSecret, CipherError> {
        let masked: Vec<u8> = plaintext.bytes().map(|b| b ^ 0x5a).collect();
        Ok(SealedSecret::new(format!(
            "fake:{}:{}",
            hex(context.as_bytes()),
            hex(&masked)
        )))
    }

    fn open(&self, sealed: &SealedSecret, context: &str) -> Result<String, CipherError> {
        let mut parts = sealed.as_str().splitn(3, ':');
        let (Some("fake"), Some(bound), Some(masked)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CipherError::Malformed);
        };
        if bound != hex(context.as_bytes()) {
            return Err(CipherError::Rejected);
        }
        let bytes = unhex(masked).ok_or(CipherError::Malformed)?;
        String::from_utf8(bytes.iter().map(|b| b ^ 0x5a).collect())
            .map_err(|_| CipherError::Malformed)
    }
}

/// Tokens and ids from a counter (`token-1`, `id-2`, …); the digest is the
/// token's hex.
#[derive(Debug, Default)]
pub struct CountingTokens(AtomicU64);

impl TokenService for CountingTokens {
    fn generate_token(&self) -> String {
        format!("token-{:016}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn generate_id(&self) -> String {
        format!("id-{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn digest(&self, token: &str) -> TokenDigest {
        TokenDigest::from_hex(hex(token.as_bytes()))
    }
}

/// What [`RecordingEngine`] was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCall {
    /// A text.
    Text(String, OutgoingText),
    /// Media.
    Media(String, OutgoingMedia),
    /// A read mark: instance, chat, ids.
    Read(String, String, Vec<String>),
    /// The instance was forgotten.
    Forget(String),
}

/// An engine that records what it is asked, with instances connected by
/// [`RecordingEngine::connect`], and a scripted failure for the next send.
#[derive(Default)]
pub struct RecordingEngine {
    connected: Mutex<HashSet<String>>,
    calls: Mutex<Vec<EngineCall>>,
    fail_next: Mutex<Option<EngineError>>,
    counter: AtomicU64,
}

impl RecordingEngine {
    /// Marks `instance` connected.
    pub fn connect(&self, instance: &str) {
        self.connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(instance.to_owned());
    }

    /// The next send fails with `error`.
    pub fn fail_next(&self, error: EngineError) {
        *self
            .fail_next
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    /// Everything asked so far.
    pub fn calls(&self) -> Vec<EngineCall> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn send(&self, instance: &InstanceName, call: EngineCall) -> Result<SentMessage, EngineError> {
        if !self
            .connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(instance.as_str())
        {
            return Err(EngineError::NotConnected);
        }
        if let Some(e) = self
            .fail_next
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(e);
        }
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
        Ok(SentMessage {
            message_id: format!("MSG{}", self.counter.fetch_add(1, Ordering::SeqCst) + 1),
        })
    }
}

impl WhatsAppEngine for RecordingEngine {
    fn attach(&self, _sink: Arc<dyn EventSink>) {}

    fn state(&self, instance: &InstanceName) -> ConnectionState {
        if self
            .connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(instance.as_str())
        {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }
    }

    fn send_text(
        &self,
        instance: &InstanceName,
        message: &OutgoingText,
    ) -> Result<SentMessage, EngineError> {
        self.send(
            instance,
            EngineCall::Text(instance.to_string(), message.clone()),
        )
    }

    fn send_media(
        &self,
        instance: &InstanceName,
        message: &OutgoingMedia,
    ) -> Result<SentMessage, EngineError> {
        self.send(
            instance,
            EngineCall::Media(instance.to_string(), message.clone()),
        )
    }

    fn mark_read(
        &self,
        instance: &InstanceName,
        chat: &str,
        message_ids: &[String],
    ) -> Result<(), EngineError> {
        self.send(
            instance,
            EngineCall::Read(instance.to_string(), chat.to_owned(), message_ids.to_vec()),
        )
        .map(|_| ())
    }

    fn forget(&self, instance: &InstanceName) {
        self.connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(instance.as_str());
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(EngineCall::Forget(instance.to_string()));
    }
}
