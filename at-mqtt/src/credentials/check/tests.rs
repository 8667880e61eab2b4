use super::*;

use CredentialKind::{Ca, ClientCert, ClientKey};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}

const CERT_PEM: &[u8] = fixture!("client.crt.pem");
const CERT_DER: &[u8] = fixture!("client.crt.der");
const KEY_SEC1_PEM: &[u8] = fixture!("client.key.sec1.pem");
const KEY_SEC1_DER: &[u8] = fixture!("client.key.sec1.der");
const KEY_PKCS8_PEM: &[u8] = fixture!("client.key.pkcs8.pem");
const KEY_PKCS8_DER: &[u8] = fixture!("client.key.pkcs8.der");
const P384_CA_PEM: &[u8] = fixture!("p384.crt.pem");
const P384_CA_DER: &[u8] = fixture!("p384.crt.der");

/// Runs the check on a copy of `input`: the DER it leaves, or the refusal.
fn checked(kind: CredentialKind, input: &[u8]) -> Result<Vec<u8>, Refusal> {
    checked_with(kind, input, P384_CA)
}

/// As [`checked`], with P-384 CAs accepted or not as `p384_ca` says.
fn checked_with(kind: CredentialKind, input: &[u8], p384_ca: bool) -> Result<Vec<u8>, Refusal> {
    let mut data = input.to_vec();
    let len = check_with(kind, &mut data, p384_ca)?;
    Ok(data
        .get(..len)
        .expect("the length is within the data")
        .to_vec())
}

#[test]
fn a_certificate_in_pem_or_der_is_stored_as_its_der() {
    for kind in [Ca, ClientCert] {
        assert_eq!(checked(kind, CERT_DER).as_deref(), Ok(CERT_DER));
        assert_eq!(checked(kind, CERT_PEM).as_deref(), Ok(CERT_DER));
    }
}

#[test]
fn pem_with_crlf_lines_and_surrounding_whitespace_is_accepted() {
    let text = core::str::from_utf8(CERT_PEM).expect("PEM is text");
    let crlf = format!("\r\n  {}\r\n\r\n", text.replace('\n', "\r\n"));
    assert_eq!(checked(Ca, crlf.as_bytes()).as_deref(), Ok(CERT_DER));
}

#[test]
fn a_key_in_any_accepted_form_is_stored_as_sec1_der() {
    for input in [KEY_SEC1_PEM, KEY_SEC1_DER] {
        assert_eq!(checked(ClientKey, input).as_deref(), Ok(KEY_SEC1_DER));
    }
    for input in [KEY_PKCS8_PEM, KEY_PKCS8_DER] {
        let sec1 = checked(ClientKey, input).expect("a PKCS#8 P-256 key");
        let from_pkcs8 = SecretKey::from_sec1_der(&sec1).expect("SEC1 DER");
        let original = SecretKey::from_sec1_der(KEY_SEC1_DER).expect("SEC1 DER");
        assert_eq!(from_pkcs8.to_bytes(), original.to_bytes(), "the same key");
    }
    let with_parameters = checked(ClientKey, fixture!("client.key.with-params.pem"))
        .expect("an EC PARAMETERS block before the key is skipped");
    assert!(SecretKey::from_sec1_der(&with_parameters).is_ok());
}

#[test]
fn the_certificate_key_is_the_client_key_public_half() {
    let key = SecretKey::from_sec1_der(KEY_SEC1_DER).expect("SEC1 DER");
    assert_eq!(certificate_key(CERT_DER), Ok(key.public_key()));
}

#[test]
fn a_p384_ca_is_accepted_with_tls_p384_only() {
    assert_eq!(P384_CA, cfg!(feature = "tls-p384"));
    for input in [P384_CA_PEM, P384_CA_DER] {
        assert_eq!(checked_with(Ca, input, true).as_deref(), Ok(P384_CA_DER));
        assert_eq!(
            checked_with(Ca, input, false),
            Err(Refusal::Malformed),
            "refused as without the feature"
        );
        assert_eq!(
            checked_with(ClientCert, input, true),
            Err(Refusal::Malformed),
            "a client certificate stays P-256"
        );
    }
    assert_eq!(Refusal::Malformed.code(Ca), crate::error::CA_READ_FAILED);
    assert_eq!(certificate_key(P384_CA_DER), Err(Refusal::Malformed));
    // Let's Encrypt's ECDSA root as published (790 bytes of PEM: it fits an upload).
    let isrg_root_x2 = fixture!("isrg-root-x2.pem");
    assert!(isrg_root_x2.len() <= crate::budget::PAYLOAD_BYTES);
    let der = checked_with(Ca, isrg_root_x2, true).expect("ISRG Root X2");
    assert_eq!(der.len(), 543);
    assert_eq!(
        checked_with(Ca, isrg_root_x2, false),
        Err(Refusal::Malformed)
    );
}

#[test]
fn empty_uploads_are_a_length_error() {
    for kind in CredentialKind::ALL {
        assert_eq!(checked(kind, b""), Err(Refusal::Length));
    }
}

#[test]
fn wrong_types_curves_and_garbage_are_refused() {
    let refused: &[(CredentialKind, &[u8], &str)] = &[
        (Ca, KEY_SEC1_PEM, "a key as a certificate"),
        (ClientCert, KEY_PKCS8_DER, "a DER key as a certificate"),
        (ClientKey, CERT_PEM, "a certificate as a key"),
        (ClientKey, CERT_DER, "a DER certificate as a key"),
        (ClientCert, P384_CA_PEM, "a P-384 client certificate"),
        (ClientKey, fixture!("p384.key.pem"), "a P-384 key"),
        (Ca, fixture!("ed25519.crt.pem"), "an Ed25519 certificate"),
        (ClientKey, fixture!("secp256k1.key.pem"), "a secp256k1 key"),
        (
            ClientKey,
            fixture!("client.key.encrypted.pem"),
            "an encrypted key",
        ),
        (Ca, b"hello, world", "text"),
        (Ca, b"\x30\x03\x02\x01\x01", "a DER INTEGER in a SEQUENCE"),
        (Ca, b"\x30", "one byte"),
        (ClientKey, b"\x30\x82\xff\xff", "a length past the end"),
        (Ca, b"-----BEGIN CERTIFICATE-----\n", "no end line"),
        (
            Ca,
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            "an empty body",
        ),
        (
            Ca,
            b"-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n",
            "broken base64",
        ),
        (Ca, b"   \r\n ", "whitespace only"),
    ];
    for &(kind, input, what) in refused {
        assert_eq!(checked(kind, input), Err(Refusal::Malformed), "{what}");
    }
}

#[test]
fn truncated_and_extended_items_are_refused() {
    for (kind, item) in [
        (Ca, CERT_DER),
        (Ca, P384_CA_DER),
        (ClientKey, KEY_SEC1_DER),
        (ClientKey, KEY_PKCS8_DER),
    ] {
        for cut in [1, 2, item.len() / 2, item.len() - 1] {
            let truncated = item.get(..cut).expect("shorter");
            assert_eq!(
                checked(kind, truncated),
                Err(Refusal::Malformed),
                "{cut} bytes"
            );
        }
        let mut extended = item.to_vec();
        extended.push(0);
        assert_eq!(
            checked(kind, &extended),
            Err(Refusal::Malformed),
            "a byte more"
        );
    }
    let mut two = CERT_PEM.to_vec();
    two.extend_from_slice(CERT_PEM);
    assert_eq!(
        checked(Ca, &two),
        Err(Refusal::Malformed),
        "two certificates"
    );
    let mut mislabelled = CERT_PEM.to_vec();
    let end = find(&mislabelled, b"-----END CERTIFICATE").expect("end line");
    mislabelled.truncate(end);
    mislabelled.extend_from_slice(b"-----END PRIVATE KEY-----\n");
    assert_eq!(
        checked(Ca, &mislabelled),
        Err(Refusal::Malformed),
        "labels differ"
    );
}

#[test]
fn every_single_byte_change_is_checked_without_panicking() {
    for (kind, item) in [
        (Ca, CERT_DER),
        (Ca, P384_CA_DER),
        (ClientKey, KEY_PKCS8_DER),
        (Ca, CERT_PEM),
    ] {
        for i in 0..item.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut changed = item.to_vec();
                if let Some(byte) = changed.get_mut(i) {
                    *byte ^= flip;
                }
                // A change inside a signature or a name may still parse: only a panic
                // or a DER that is not a prefix of the input would be wrong.
                if let Ok(len) = check(kind, &mut changed) {
                    assert!(len <= item.len());
                }
            }
        }
    }
}

#[test]
fn codes_name_the_kind_and_the_reason() {
    use crate::error::*;
    assert_eq!(Refusal::Length.code(Ca), CA_LENGTH_ERROR);
    assert_eq!(Refusal::Malformed.code(Ca), CA_READ_FAILED);
    assert_eq!(Refusal::Length.code(ClientCert), CERT_LENGTH_ERROR);
    assert_eq!(Refusal::Malformed.code(ClientCert), CERT_READ_FAILED);
    assert_eq!(Refusal::Length.code(ClientKey), KEY_LENGTH_ERROR);
    assert_eq!(Refusal::Malformed.code(ClientKey), KEY_READ_FAILED);
}
