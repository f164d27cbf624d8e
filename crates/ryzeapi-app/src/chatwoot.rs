//! The Chatwoot module's use cases live in `ryzeapi_core::chatwoot`; this
//! module names them for the app's transports.

pub use ryzeapi_core::chatwoot::{
    activate, deactivate, describe, live_view, teardown_on_bridge, ActivationContext,
    BridgeFailure, BridgeFailureKind, ChatwootError, LiveView, SetBody, SetInput,
};

use ryzeapi_core::Secrets;
use ryzeapi_domain::InstanceId;
use ryzeapi_ports::{SealedSecret, SecretCipher};

/// The secrets a text of the bridge about the stored integration of
/// `instance` must not reveal (see [`Secrets::of_stored`]).
pub fn stored_secrets(
    cipher: &dyn SecretCipher,
    instance: &InstanceId,
    sealed: &SealedSecret,
    others: &[&str],
) -> Secrets {
    Secrets::of_stored(cipher, instance, sealed, others)
}
