//! The few X.509 fields the certificate checks need beyond embedded-tls's verifier:
//! the validity period, the subject (its common name, and with the public key, which CA
//! a certificate is) and the subject alternative names (DNS names and IP addresses).
//!
//! embedded-tls's certificate parser is private, so this walks the DER itself; the
//! times are decoded by the `der` crate embedded-tls's verifier links anyway. Every
//! read is bounds-checked: a malformed certificate reads as `None`, never a panic.

use core::net::IpAddr;

use der::Decode;
use der::asn1::{GeneralizedTime, UtcTime};

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version`.
const VERSION: u8 = 0xA0;
/// `[3] EXPLICIT Extensions`.
const EXTENSIONS: u8 = 0xA3;
/// `dNSName [2] IA5String` of a GeneralName.
const DNS_NAME: u8 = 0x82;
/// `iPAddress [7] OCTET STRING` of a GeneralName.
const IP_ADDRESS: u8 = 0x87;
/// 2.5.4.3, `id-at-commonName`.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.29.17, `id-ce-subjectAltName`.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1D, 0x11];

/// One DER element: its tag and its contents.
#[derive(Clone, Copy)]
struct Tlv<'c> {
    tag: u8,
    value: &'c [u8],
    /// The whole element, header included.
    whole: &'c [u8],
}

/// Takes the next element off `input`.
fn next<'c>(input: &mut &'c [u8]) -> Option<Tlv<'c>> {
    let all: &'c [u8] = input;
    let (&tag, rest) = all.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 3 {
            return None;
        }
        let (bytes, rest) = rest.split_at_checked(count)?;
        let len = bytes
            .iter()
            .fold(0usize, |len, &byte| len << 8 | usize::from(byte));
        (len, rest)
    };
    let header = all.len().checked_sub(rest.len())?;
    let (value, after) = rest.split_at_checked(len)?;
    let whole = all.get(..header.checked_add(len)?)?;
    *input = after;
    Some(Tlv { tag, value, whole })
}

/// Takes the next element, which must have `tag`.
fn expect<'c>(input: &mut &'c [u8], tag: u8) -> Option<Tlv<'c>> {
    next(input).filter(|tlv| tlv.tag == tag)
}

/// A time of the validity period, in Unix seconds.
fn time(tlv: Tlv<'_>) -> Option<u64> {
    let duration = match tlv.tag {
        UTC_TIME => UtcTime::from_der(tlv.whole).ok()?.to_unix_duration(),
        GENERALIZED_TIME => GeneralizedTime::from_der(tlv.whole)
            .ok()?
            .to_unix_duration(),
        _ => return None,
    };
    Some(duration.as_secs())
}

/// The fields of one certificate.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'c> {
    /// Valid from (Unix seconds).
    pub(crate) not_before: u64,
    /// Valid until (Unix seconds).
    pub(crate) not_after: u64,
    subject: &'c [u8],
    /// The SubjectPublicKeyInfo, whole.
    key: &'c [u8],
    /// The contents of the SubjectAltName extension's `GeneralNames`, if present.
    alt_names: Option<&'c [u8]>,
}

impl<'c> Fields<'c> {
    /// Reads `certificate` (DER); `None` if it is not a well-formed X.509 certificate.
    pub(crate) fn read(certificate: &'c [u8]) -> Option<Self> {
        let mut outer = expect(&mut &certificate[..], SEQUENCE)?.value;
        let mut tbs = expect(&mut outer, SEQUENCE)?.value;
        // The version (optional), the serial number, the signature algorithm, the issuer.
        if next(&mut tbs)?.tag == VERSION {
            next(&mut tbs)?;
        }
        expect(&mut tbs, SEQUENCE)?;
        expect(&mut tbs, SEQUENCE)?;
        let mut validity = expect(&mut tbs, SEQUENCE)?.value;
        let subject = expect(&mut tbs, SEQUENCE)?.value;
        let key = expect(&mut tbs, SEQUENCE)?.whole;
        let mut alt_names = None;
        while let Some(optional) = next(&mut tbs) {
            if optional.tag == EXTENSIONS {
                alt_names = subject_alt_names(optional.value)?;
            }
        }
        Some(Self {
            not_before: time(next(&mut validity)?)?,
            not_after: time(next(&mut validity)?)?,
            subject,
            key,
            alt_names,
        })
    }

    /// Whether `other` has this certificate's subject and key: the same CA, whoever
    /// signed it.
    pub(crate) fn same_subject_and_key(&self, other: &Fields<'_>) -> bool {
        self.subject == other.subject && self.key == other.key
    }

    /// Whether the certificate is valid at `now` (Unix seconds).
    pub(crate) fn valid_at(&self, now: u64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// A name the certificate is issued to: its first DNS name, else its common name.
    pub(crate) fn own_name(&self) -> Option<&'c str> {
        let mut names = self.alt_names.unwrap_or_default();
        while let Some(name) = next(&mut names) {
            if name.tag == DNS_NAME {
                return core::str::from_utf8(name.value).ok();
            }
        }
        self.common_name()
    }

    /// Whether an `iPAddress` alternative name is `ip`.
    pub(crate) fn names_ip(&self, ip: IpAddr) -> bool {
        let mut names = self.alt_names.unwrap_or_default();
        while let Some(name) = next(&mut names) {
            let matches = match ip {
                IpAddr::V4(v4) => name.value == v4.octets(),
                IpAddr::V6(v6) => name.value == v6.octets(),
            };
            if name.tag == IP_ADDRESS && matches {
                return true;
            }
        }
        false
    }

    /// The subject's (first) common name.
    fn common_name(&self) -> Option<&'c str> {
        let mut rdns = self.subject;
        while let Some(rdn) = expect(&mut rdns, SET) {
            let mut attributes = rdn.value;
            while let Some(attribute) = expect(&mut attributes, SEQUENCE) {
                let mut fields = attribute.value;
                if expect(&mut fields, OID).is_some_and(|oid| oid.value == COMMON_NAME) {
                    return core::str::from_utf8(next(&mut fields)?.value).ok();
                }
            }
        }
        None
    }
}

/// The `GeneralNames` of the SubjectAltName extension in `[3] Extensions`: `Some(None)`
/// when there is none, `None` when the extensions are malformed.
fn subject_alt_names(extensions: &[u8]) -> Option<Option<&[u8]>> {
    let mut list = extensions;
    let mut extensions = expect(&mut list, SEQUENCE)?.value;
    while let Some(extension) = next(&mut extensions) {
        let mut fields = extension.value;
        let id = expect(&mut fields, OID)?;
        let mut value = next(&mut fields)?;
        if value.tag == BOOLEAN {
            value = next(&mut fields)?;
        }
        if value.tag != OCTET_STRING {
            return None;
        }
        if id.value == SUBJECT_ALT_NAME {
            let mut inner = value.value;
            return Some(Some(expect(&mut inner, SEQUENCE)?.value));
        }
    }
    Some(None)
}
