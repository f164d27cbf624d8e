//! AES-256-GCM sealing: round trip, tampering, wrong key, wrong row,
//! rotation, and Wycheproof's published AES-GCM vectors through our wrapper.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ryzeapi_adapters::crypto::{aes256gcm_open, aes256gcm_seal, load_or_create_key_file};
use ryzeapi_adapters::AesGcmCipher;
use ryzeapi_domain::InstanceId;
use ryzeapi_ports::{api_token_context, CipherError, SealedSecret, SecretCipher};

const KEY_1: [u8; 32] = [0x11; 32];
const KEY_2: [u8; 32] = [0x22; 32];

fn cipher(active: u32, key: [u8; 32]) -> AesGcmCipher {
    AesGcmCipher::new((active, key), &[]).expect("cipher")
}

fn ctx(id: &str) -> String {
    api_token_context(&InstanceId::new(id))
}

#[test]
fn round_trip_with_a_fresh_nonce_each_time() {
    let c = cipher(1, KEY_1);
    let a = c.seal("sk_live_abc123", &ctx("i1")).expect("seal");
    let b = c.seal("sk_live_abc123", &ctx("i1")).expect("seal");
    assert_ne!(a, b, "two seals of the same text must differ");
    assert!(a.as_str().starts_with("v1.1."));
    assert!(!a.as_str().contains("sk_live"));
    assert_eq!(c.open(&a, &ctx("i1")).expect("open"), "sk_live_abc123");
    assert_eq!(c.open(&b, &ctx("i1")).expect("open"), "sk_live_abc123");
}

#[test]
fn every_single_byte_flip_is_rejected() {
    let c = cipher(1, KEY_1);
    let sealed = c.seal("sk_live_abc123", &ctx("i1")).expect("seal");
    let text = sealed.as_str();
    // every byte of the binary part: nonce, ciphertext and tag
    let (head, body) = text.rsplit_once('.').expect("format");
    let blob = URL_SAFE_NO_PAD.decode(body).expect("base64");
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = blob.clone();
            bad[i] ^= bit;
            let forged = SealedSecret::new(format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bad)));
            assert_eq!(
                c.open(&forged, &ctx("i1")),
                Err(CipherError::Rejected),
                "flip of bit {bit:#x} in byte {i} was accepted"
            );
        }
    }
    // every byte of the stored text, header included
    for i in 0..text.len() {
        let mut bytes = text.as_bytes().to_vec();
        bytes[i] ^= 0x01;
        let forged = SealedSecret::new(String::from_utf8_lossy(&bytes).into_owned());
        assert!(
            c.open(&forged, &ctx("i1")).is_err(),
            "flip at text byte {i} accepted"
        );
    }
    // truncation
    let cut = SealedSecret::new(text[..text.len() - 2].to_owned());
    assert!(c.open(&cut, &ctx("i1")).is_err());
}

#[test]
fn a_wrong_key_is_rejected() {
    let sealed = cipher(1, KEY_1).seal("secret", &ctx("i1")).expect("seal");
    assert_eq!(
        cipher(1, KEY_2).open(&sealed, &ctx("i1")),
        Err(CipherError::Rejected)
    );
}

#[test]
fn a_value_moved_to_another_row_is_rejected() {
    let c = cipher(1, KEY_1);
    let sealed = c.seal("secret", &ctx("i1")).expect("seal");
    assert_eq!(c.open(&sealed, &ctx("i2")), Err(CipherError::Rejected));
}

#[test]
fn old_rows_still_open_after_rotation() {
    let before = cipher(1, KEY_1);
    let old = before.seal("old secret", &ctx("i1")).expect("seal");

    let rotated = AesGcmCipher::new((2, KEY_2), &[(1, KEY_1)]).expect("rotated");
    assert_eq!(
        rotated.open(&old, &ctx("i1")).expect("open old"),
        "old secret"
    );
    let new = rotated.seal("new secret", &ctx("i1")).expect("seal");
    assert!(new.as_str().starts_with("v1.2."));
    assert_eq!(
        rotated.open(&new, &ctx("i1")).expect("open new"),
        "new secret"
    );

    // once the old key is retired, old rows say which key they need
    let retired = cipher(2, KEY_2);
    assert_eq!(
        retired.open(&old, &ctx("i1")),
        Err(CipherError::UnknownKey(1))
    );
    // a value cannot be relabelled to another key version
    let relabelled = SealedSecret::new(old.as_str().replacen("v1.1.", "v1.2.", 1));
    assert_eq!(
        rotated.open(&relabelled, &ctx("i1")),
        Err(CipherError::Rejected)
    );
}

#[test]
fn duplicate_key_ids_are_refused() {
    assert!(AesGcmCipher::new((1, KEY_1), &[(1, KEY_2)]).is_err());
}

#[test]
fn malformed_values_are_named_as_such() {
    let c = cipher(1, KEY_1);
    for bad in [
        "",
        "plain text",
        "v2.1.AAAA",
        "v1.x.AAAA",
        "v1.1.!!!!",
        "v1.1.AAAA",
    ] {
        assert_eq!(
            c.open(&SealedSecret::new(bad), &ctx("i1")),
            Err(CipherError::Malformed),
            "{bad}"
        );
    }
}

#[test]
fn wycheproof_aes_gcm_vectors() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm)
        .expect("wycheproof AES-GCM set");
    let mut checked = 0;
    for group in &set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for tc in &group.tests {
            let key: [u8; 32] = tc.key.as_slice().try_into().expect("256-bit key");
            let nonce: [u8; 12] = tc.nonce.as_slice().try_into().expect("96-bit nonce");
            let mut expected = tc.ct.to_vec();
            expected.extend_from_slice(&tc.tag);
            let opened = aes256gcm_open(&key, nonce, &tc.aad, &expected);
            match tc.result {
                wycheproof::TestResult::Invalid => {
                    assert!(opened.is_err(), "vector {} opened", tc.tc_id);
                }
                _ => {
                    let sealed = aes256gcm_seal(&key, nonce, &tc.aad, &tc.pt).expect("seal");
                    assert_eq!(sealed, expected, "vector {} sealed differently", tc.tc_id);
                    assert_eq!(opened.expect("open"), tc.pt.to_vec(), "vector {}", tc.tc_id);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} vectors applied");
}

#[test]
fn the_key_file_is_created_once_and_private() {
    let dir = std::env::temp_dir().join(format!("ryzeapi-key-{}", std::process::id()));
    let path = dir.join("nested").join("encryption.key");
    let _ = std::fs::remove_dir_all(&dir);
    let first = load_or_create_key_file(&path).expect("create");
    let second = load_or_create_key_file(&path).expect("read");
    assert_eq!(first, second);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "garbage").expect("overwrite");
    assert!(load_or_create_key_file(&path).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
