//! The check every uploaded credential passes before it is stored: PEM or DER in, the
//! DER the TLS handshake reads out, decoded in place (no second buffer, no heap).
//!
//! - Certificates (`mqtt_ca`, `mqtt_cert`): one X.509 certificate, PEM
//!   (`-----BEGIN CERTIFICATE-----`) or DER, whose subject public key is an EC P-256
//!   key (a CA's may be P-384 with feature `tls-p384`); stored as its DER.
//! - Client keys (`mqtt_key`): a P-256 private key, SEC1 (`EC PRIVATE KEY`) or PKCS#8
//!   (`PRIVATE KEY`), PEM or DER; stored as SEC1 DER (the `ECPrivateKey` inside a PKCS#8
//!   key), the form the handshake's signer reads. An `EC PARAMETERS` block before the
//!   key (as `openssl ecparam -genkey` writes) is skipped.
//!
//! Anything else (empty, truncated, trailing bytes, another type or curve, broken
//! base64, an encrypted key) is refused with a [`Refusal`].

use base64ct::Encoding;
use p256::NistP256;
use p256::elliptic_curve::pkcs8::der::asn1::{BitStringRef, UintRef};
use p256::elliptic_curve::pkcs8::der::{
    AnyRef, Decode, Reader, SliceReader, Tag, TagNumber, Tagged,
};
use p256::elliptic_curve::pkcs8::spki::SubjectPublicKeyInfoRef;
use p256::elliptic_curve::pkcs8::{AssociatedOid, PrivateKeyInfo};
use p256::{PublicKey, SecretKey};

use super::CredentialKind;

/// Whether a CA may carry a P-384 key: the verifier checks P-384 signatures
/// (feature `tls-p384`). Client certificates stay P-256: the client signs with P-256.
const P384_CA: bool = cfg!(feature = "tls-p384");

/// Why an upload was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Refusal {
    /// Nothing was sent, or it does not fit where it must go.
    Length,
    /// It is not a credential of the kind named: not PEM or DER, not a certificate or
    /// key, not on a curve accepted for its kind, truncated or followed by other bytes.
    Malformed,
}

impl Refusal {
    /// The ESP-AT code for a refused item of `kind`: `*_LENGTH_ERROR` or
    /// `*_READ_FAILED` of its namespace (`CA`, `CERT`, `KEY`).
    pub const fn code(self, kind: CredentialKind) -> at_core::ErrorCode {
        use crate::error::*;
        match (kind, self) {
            (CredentialKind::Ca, Self::Length) => CA_LENGTH_ERROR,
            (CredentialKind::Ca, Self::Malformed) => CA_READ_FAILED,
            (CredentialKind::ClientCert, Self::Length) => CERT_LENGTH_ERROR,
            (CredentialKind::ClientCert, Self::Malformed) => CERT_READ_FAILED,
            (CredentialKind::ClientKey, Self::Length) => KEY_LENGTH_ERROR,
            (CredentialKind::ClientKey, Self::Malformed) => KEY_READ_FAILED,
        }
    }
}

/// Checks `data` as a credential of `kind`, PEM or DER, and leaves its DER at the front
/// of `data`: the DER's length.
pub fn check(kind: CredentialKind, data: &mut [u8]) -> Result<usize, Refusal> {
    check_with(kind, data, P384_CA)
}

/// [`check`], with a CA's P-384 key accepted when `p384_ca` is set.
fn check_with(kind: CredentialKind, data: &mut [u8], p384_ca: bool) -> Result<usize, Refusal> {
    if data.is_empty() {
        return Err(Refusal::Length);
    }
    let len = if data.first() == Some(&SEQUENCE) {
        data.len()
    } else {
        pem_to_der(kind, data)?
    };
    let der = data.get(..len).ok_or(Refusal::Malformed)?;
    match kind {
        CredentialKind::Ca | CredentialKind::ClientCert => {
            certificate(kind, der, p384_ca)?;
            Ok(len)
        }
        CredentialKind::ClientKey => sec1_in_place(data, len),
    }
}

/// The tag byte every DER item here starts with.
const SEQUENCE: u8 = 0x30;

/// Checks a DER X.509 certificate of `kind`: a P-256 key, or (a CA, with `p384_ca`) a
/// P-384 key.
fn certificate(kind: CredentialKind, der: &[u8], p384_ca: bool) -> Result<(), Refusal> {
    let spki = certificate_spki(der)?;
    let p256 = PublicKey::try_from(spki.clone()).is_ok();
    let p384 = p384_ca && kind == CredentialKind::Ca && p384_key(spki);
    if p256 || p384 {
        Ok(())
    } else {
        Err(Refusal::Malformed)
    }
}

/// Whether `spki` is a P-384 public key.
#[cfg(feature = "tls-p384")]
fn p384_key(spki: SubjectPublicKeyInfoRef<'_>) -> bool {
    p384::PublicKey::try_from(spki).is_ok()
}

/// Whether `spki` is a P-384 public key: never, without the P-384 curve.
#[cfg(not(feature = "tls-p384"))]
fn p384_key(_spki: SubjectPublicKeyInfoRef<'_>) -> bool {
    false
}

/// The P-256 public key of a DER X.509 certificate (nothing may follow it).
pub fn certificate_key(der: &[u8]) -> Result<PublicKey, Refusal> {
    PublicKey::try_from(certificate_spki(der)?).map_err(|_| Refusal::Malformed)
}

/// The subject public key of a DER X.509 certificate (nothing may follow it).
fn certificate_spki(der: &[u8]) -> Result<SubjectPublicKeyInfoRef<'_>, Refusal> {
    let mut reader = SliceReader::new(der).map_err(|_| Refusal::Malformed)?;
    let spki = reader
        .sequence(|certificate| {
            let spki = certificate.sequence(|tbs| {
                let version = TagNumber::N0;
                if tbs.peek_tag()?
                    == (Tag::ContextSpecific {
                        constructed: true,
                        number: version,
                    })
                {
                    AnyRef::decode(tbs)?;
                }
                UintRef::decode(tbs)?; // serialNumber
                sequence(tbs)?; // signature
                sequence(tbs)?; // issuer
                sequence(tbs)?; // validity
                sequence(tbs)?; // subject
                let spki = SubjectPublicKeyInfoRef::decode(tbs)?;
                // issuerUniqueID, subjectUniqueID, extensions.
                while !tbs.is_finished() {
                    AnyRef::decode(tbs)?;
                }
                Ok(spki)
            })?;
            sequence(certificate)?; // signatureAlgorithm
            BitStringRef::decode(certificate)?; // signatureValue
            Ok(spki)
        })
        .map_err(|_| Refusal::Malformed)?;
    reader.finish(()).map_err(|_| Refusal::Malformed)?;
    Ok(spki)
}

/// Skips one element, which must be a SEQUENCE.
fn sequence<'a, R: Reader<'a>>(reader: &mut R) -> p256::pkcs8::der::Result<()> {
    let any = AnyRef::decode(reader)?;
    any.tag().assert_eq(Tag::Sequence).map(drop)
}

/// Checks the DER key in `data[..len]` and moves its SEC1 form to the front: its length.
fn sec1_in_place(data: &mut [u8], len: usize) -> Result<usize, Refusal> {
    let der = data.get(..len).ok_or(Refusal::Malformed)?;
    if let Ok(key) = sec1::EcPrivateKey::from_der(der) {
        let named = match key.parameters {
            None => true,
            Some(parameters) => parameters.named_curve() == Some(NistP256::OID),
        };
        if !named || SecretKey::try_from(key).is_err() {
            return Err(Refusal::Malformed);
        }
        return Ok(len);
    }
    let info = PrivateKeyInfo::from_der(der).map_err(|_| Refusal::Malformed)?;
    SecretKey::try_from(info.clone()).map_err(|_| Refusal::Malformed)?;
    // `try_from` checked the algorithm (id-ecPublicKey on P-256) and the inner key.
    let inner = info.private_key;
    // `inner` lies inside `der`: its offset there.
    let start = (inner.as_ptr() as usize)
        .checked_sub(der.as_ptr() as usize)
        .ok_or(Refusal::Malformed)?;
    let inner_len = inner.len();
    let end = start.checked_add(inner_len).ok_or(Refusal::Malformed)?;
    data.copy_within(start..end, 0);
    Ok(inner_len)
}

/// The PEM labels a credential of `kind` may carry.
fn labels(kind: CredentialKind) -> &'static [&'static [u8]] {
    match kind {
        CredentialKind::Ca | CredentialKind::ClientCert => &[b"CERTIFICATE"],
        CredentialKind::ClientKey => &[b"EC PRIVATE KEY", b"PRIVATE KEY"],
    }
}

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// Decodes the one PEM block of `data` (an `EC PARAMETERS` block before a key is
/// skipped; only whitespace may surround them) in place: the DER's length.
fn pem_to_der(kind: CredentialKind, data: &mut [u8]) -> Result<usize, Refusal> {
    let mut rest = 0;
    let (label, body, after) = loop {
        let block = pem_block(data, rest)?;
        if kind == CredentialKind::ClientKey && block.0 == b"EC PARAMETERS" {
            rest = block.2;
            continue;
        }
        break block;
    };
    if !labels(kind).contains(&label) {
        return Err(Refusal::Malformed);
    }
    let trailing = data.get(after..).ok_or(Refusal::Malformed)?;
    if !trailing.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::Malformed);
    }
    // Squeeze the base64 to the front (every byte moves back or stays), then decode it
    // where it lies: base64 is longer than what it encodes.
    let mut len = 0;
    for i in body {
        let byte = data.get(i).copied().ok_or(Refusal::Malformed)?;
        if byte.is_ascii_whitespace() {
            continue;
        }
        *data.get_mut(len).ok_or(Refusal::Malformed)? = byte;
        len += 1;
    }
    let base64 = data.get_mut(..len).ok_or(Refusal::Malformed)?;
    let der = base64ct::Base64::decode_in_place(base64).map_err(|_| Refusal::Malformed)?;
    if der.is_empty() {
        return Err(Refusal::Malformed);
    }
    Ok(der.len())
}

/// The PEM block starting at `from` (after whitespace): its label, the range of its
/// body, and where the text after its end line starts. Borrowing `data` only briefly.
fn pem_block(
    data: &[u8],
    from: usize,
) -> Result<(&'static [u8], core::ops::Range<usize>, usize), Refusal> {
    let text = data.get(from..).ok_or(Refusal::Malformed)?;
    let skipped = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(Refusal::Malformed)?;
    let text = text.get(skipped..).ok_or(Refusal::Malformed)?;
    let header = text.strip_prefix(BEGIN).ok_or(Refusal::Malformed)?;
    let label_len = find(header, DASHES).ok_or(Refusal::Malformed)?;
    let label = header.get(..label_len).ok_or(Refusal::Malformed)?;
    let label = known_label(label).ok_or(Refusal::Malformed)?;
    let body_start = from + skipped + BEGIN.len() + label_len + DASHES.len();
    let body = data.get(body_start..).ok_or(Refusal::Malformed)?;
    let body_len = find(body, END).ok_or(Refusal::Malformed)?;
    let footer = body.get(body_len + END.len()..).ok_or(Refusal::Malformed)?;
    let footer = footer.strip_prefix(label).ok_or(Refusal::Malformed)?;
    if !footer.starts_with(DASHES) {
        return Err(Refusal::Malformed);
    }
    let body_end = body_start + body_len;
    let after = body_end + END.len() + label.len() + DASHES.len();
    Ok((label, body_start..body_end, after))
}

/// The labels this checker knows, as `'static` (so the block's label outlives `data`).
fn known_label(label: &[u8]) -> Option<&'static [u8]> {
    [
        &b"CERTIFICATE"[..],
        b"EC PRIVATE KEY",
        b"PRIVATE KEY",
        b"EC PARAMETERS",
    ]
    .into_iter()
    .find(|known| *known == label)
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests;
