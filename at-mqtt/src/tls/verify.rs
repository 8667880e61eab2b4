//! [`Verifier`]: the server check of the certificate schemes, and why it refused.
//!
//! embedded-tls's `CertVerifier` checks the chain's signatures up to the CA, the
//! server's CertificateVerify signature and the host name, but refuses every failure
//! with the same error and matches DNS names only. Around it this verifier checks the
//! validity period of every certificate (and of the CA) against the modem's time, the
//! IP address when the connect host is one (RFC 6066 sends no server name then; the
//! certificate must carry the address as an `iPAddress` name), and records which check
//! failed, so that `AT+MQTTCONN` can answer with a distinct code. A chain entry that is
//! the CA itself (its subject and key, however signed: Let's Encrypt's ECDSA chains end
//! in ISRG Root X2 cross-signed by ISRG Root X1) ends the chain: what follows it is not
//! needed to reach the CA, and embedded-tls would check it against the CA's key.

use core::net::IpAddr;

use at_core::ErrorCode;
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CertificateEntryRef, CertificateRef, CertificateVerifyRef,
    NoClock, TlsError, TlsVerifier,
};

use super::x509::Fields;
use crate::budget::TLS_SERVER_CHAIN_BYTES;
use crate::error::{CERT_EXPIRED, CERT_NOT_TRUSTED, HOSTNAME_VERIFY_FAILED, TLS_HANDSHAKE_FAILED};

type Hash = <Aes128GcmSha256 as embedded_tls::TlsCipherSuite>::Hash;

/// What the server is checked against.
pub(crate) struct Trust<'c> {
    /// The CA the chain must end in (DER).
    pub(crate) ca: &'c [u8],
    /// The modem's time (Unix seconds).
    pub(crate) now: u64,
    /// The connect host, when it is an IP address and no SNI is set.
    pub(crate) ip: Option<IpAddr>,
}

/// The verifier of a TLS handshake: none (scheme 4, esp-at 2, PSK) or a CA check.
pub(crate) struct Verifier<'c> {
    check: Option<(
        Trust<'c>,
        CertVerifier<'c, Aes128GcmSha256, NoClock, TLS_SERVER_CHAIN_BYTES>,
    )>,
    /// The server's chain passed `verify_certificate`.
    certified: bool,
    /// Why the server was refused.
    refusal: Option<ErrorCode>,
}

impl<'c> Verifier<'c> {
    /// Accepts any server (its certificate is not looked at).
    pub(crate) fn none() -> Self {
        Self {
            check: None,
            certified: false,
            refusal: None,
        }
    }

    /// Checks the server against `trust`.
    pub(crate) fn new(trust: Trust<'c>) -> Self {
        let inner = CertVerifier::new(Certificate::X509(trust.ca));
        Self {
            check: Some((trust, inner)),
            certified: false,
            refusal: None,
        }
    }

    /// The code of the check that refused the server, if one did.
    pub(crate) fn refusal(&self) -> Option<ErrorCode> {
        self.refusal
    }

    fn refuse(&mut self, code: ErrorCode, error: TlsError) -> Result<(), TlsError> {
        self.refusal = Some(code);
        Err(error)
    }
}

impl TlsVerifier<Aes128GcmSha256> for Verifier<'_> {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), TlsError> {
        match &mut self.check {
            None => Ok(()),
            Some((_, inner)) => inner.set_hostname_verification(hostname),
        }
    }

    fn verify_certificate(
        &mut self,
        transcript: &Hash,
        mut cert: CertificateRef,
    ) -> Result<(), TlsError> {
        let Some((trust, inner)) = &mut self.check else {
            self.certified = true;
            return Ok(());
        };
        let ca_fields = Fields::read(trust.ca);
        // A copy of the entries, for telling a wrong name from a wrong CA below.
        let mut copy = CertificateRef::with_context(&[]);
        let mut leaf = None;
        let mut expired = false;
        let mut malformed = false;
        let mut kept = 0;
        for entry in &cert.entries {
            let CertificateEntryRef::X509(der) = entry else {
                malformed = true;
                continue;
            };
            let der: &[u8] = der;
            let Some(fields) = Fields::read(der) else {
                malformed = true;
                continue;
            };
            let is_ca = ca_fields.is_some_and(|ca| ca.same_subject_and_key(&fields));
            if leaf.is_some() && is_ca {
                break;
            }
            malformed |= copy.add(CertificateEntryRef::X509(der)).is_err();
            expired |= !fields.valid_at(trust.now);
            leaf.get_or_insert(fields);
            kept += 1;
        }
        // The entries after the CA are left out; the leaf, first, stays.
        cert.entries.truncate(kept);
        let ca_valid = ca_fields.map(|ca| ca.valid_at(trust.now));
        let (ip, now_ca) = (trust.ip, ca_valid);
        let Some(leaf) = leaf.filter(|_| !malformed) else {
            return self.refuse(TLS_HANDSHAKE_FAILED, TlsError::DecodeError);
        };
        if ip.is_some() {
            // No server name was sent: embedded-tls matches names only, so it is given
            // the certificate's own; the address is checked below.
            if let Some(name) = leaf.own_name() {
                inner.set_hostname_verification(name)?;
            }
        }
        let ca = trust.ca;
        let verdict = inner.verify_certificate(transcript, cert);
        let code = match verdict {
            Ok(()) if expired || now_ca == Some(false) => CERT_EXPIRED,
            Ok(()) if ip.is_some_and(|ip| !leaf.names_ip(ip)) => HOSTNAME_VERIFY_FAILED,
            Ok(()) => {
                self.certified = true;
                return Ok(());
            }
            Err(TlsError::InvalidCertificate) => {
                if trusted_under_own_name(ca, transcript, copy, &leaf) {
                    if expired || now_ca == Some(false) {
                        CERT_EXPIRED
                    } else {
                        HOSTNAME_VERIFY_FAILED
                    }
                } else {
                    CERT_NOT_TRUSTED
                }
            }
            // A chain larger than the buffer, an algorithm the verifier lacks (ECDSA
            // P-256 only, and P-384 with `tls-p384`), a malformed certificate.
            Err(_) => TLS_HANDSHAKE_FAILED,
        };
        self.refuse(code, TlsError::InvalidCertificate)
    }

    fn verify_signature(&mut self, verify: CertificateVerifyRef) -> Result<(), TlsError> {
        match &mut self.check {
            None => Ok(()),
            // embedded-tls's verifier expects a checked certificate first.
            Some(_) if !self.certified => Err(TlsError::InvalidSignature),
            Some((_, inner)) => {
                let verified = inner.verify_signature(verify);
                if verified.is_err() {
                    self.refusal = Some(CERT_NOT_TRUSTED);
                }
                verified
            }
        }
    }
}

/// Whether the chain ends in `ca` when the host name is set aside (the name checked is
/// the certificate's own): then a refusal was the host name's.
fn trusted_under_own_name(
    ca: &[u8],
    transcript: &Hash,
    chain: CertificateRef<'_>,
    leaf: &Fields<'_>,
) -> bool {
    let mut probe = CertVerifier::<Aes128GcmSha256, NoClock, 0>::new(Certificate::X509(ca));
    if let Some(name) = leaf.own_name()
        && probe.set_hostname_verification(name).is_err()
    {
        return false;
    }
    // The probe keeps no copy of the chain (0 bytes): running out of room comes only
    // after every check passed.
    matches!(
        probe.verify_certificate(transcript, chain),
        Ok(()) | Err(TlsError::OutOfMemory)
    )
}
