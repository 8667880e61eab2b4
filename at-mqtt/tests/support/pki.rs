//! Test certificates made at test time with OpenSSL (P-256 keys unless a [`Curve`] is
//! named; an issuer with a P-384 key signs with SHA-384, as Let's Encrypt's do): CAs,
//! server and client certificates, and the server contexts that present them.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{NameType, SslContext, SslMethod, SslVerifyMode, SslVersion};
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};

/// A certificate and its key.
#[derive(Clone)]
pub struct Issued {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Issued {
    /// The certificate, DER.
    pub fn der(&self) -> Vec<u8> {
        self.cert.to_der().expect("certificate DER")
    }

    /// The key as SEC1 DER (OpenSSL's `EC PRIVATE KEY`).
    pub fn key_sec1(&self) -> Vec<u8> {
        self.key
            .ec_key()
            .expect("EC key")
            .private_key_to_der()
            .expect("SEC1 DER")
    }

    /// The key as PKCS#8 DER.
    pub fn key_pkcs8(&self) -> Vec<u8> {
        self.key.private_key_to_pkcs8().expect("PKCS#8 DER")
    }
}

/// Seconds since 1970 now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// The command bound of the certificate scenarios: long enough for RustCrypto's P-256
/// in a debug build.
pub const HANDSHAKE_BOUND: embassy_time::Duration = embassy_time::Duration::from_secs(4);

/// Sets the modem's clock to now: the certificate checks need the time.
pub fn set_modem_clock() {
    at_mqtt::setup::Clock::default().set_by_host(now() as u64);
}

const DAY: i64 = 86_400;

/// The curve of a certificate's key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Curve {
    #[default]
    P256,
    P384,
}

impl Curve {
    fn nid(self) -> Nid {
        match self {
            Self::P256 => Nid::X9_62_PRIME256V1,
            Self::P384 => Nid::SECP384R1,
        }
    }

    /// A new key on the curve.
    fn key(self) -> PKey<Private> {
        let group = EcGroup::from_curve_name(self.nid()).expect("curve");
        PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("key")
    }

    /// The curve of `key`.
    pub fn of(key: &PKey<Private>) -> Self {
        let nid = key.ec_key().expect("EC key").group().curve_name();
        if nid == Some(Nid::SECP384R1) {
            Self::P384
        } else {
            Self::P256
        }
    }

    /// The digest a key on the curve signs with.
    fn digest(self) -> MessageDigest {
        match self {
            Self::P256 => MessageDigest::sha256(),
            Self::P384 => MessageDigest::sha384(),
        }
    }
}

/// What a certificate says.
pub struct Spec<'a> {
    pub common_name: &'a str,
    pub dns: &'a [&'a str],
    pub ips: &'a [&'a str],
    /// Validity, in days from now.
    pub from_days: i64,
    pub to_days: i64,
    /// The curve of the certificate's key.
    pub curve: Curve,
}

impl<'a> Spec<'a> {
    /// Valid from yesterday for a year, named `common_name` only.
    pub fn named(common_name: &'a str) -> Self {
        Self {
            common_name,
            dns: &[],
            ips: &[],
            from_days: -1,
            to_days: 365,
            curve: Curve::P256,
        }
    }
}

fn build(spec: &Spec<'_>, issuer: Option<&Issued>, ca: bool) -> Issued {
    build_for(spec.curve.key(), spec, issuer, ca)
}

/// A certificate for `key`.
fn build_for(key: PKey<Private>, spec: &Spec<'_>, issuer: Option<&Issued>, ca: bool) -> Issued {
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, spec.common_name)
        .expect("CN");
    let name = name.build();
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("v3");
    let mut serial = BigNum::new().expect("serial");
    serial
        .rand(64, MsbOption::MAYBE_ZERO, false)
        .expect("serial");
    builder
        .set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    builder.set_subject_name(&name).expect("subject");
    let issuer_name = issuer.map_or(&*name, |issuer| issuer.cert.subject_name());
    builder.set_issuer_name(issuer_name).expect("issuer");
    builder.set_pubkey(&key).expect("public key");
    let from = Asn1Time::from_unix(now() + spec.from_days * DAY).expect("time");
    let to = Asn1Time::from_unix(now() + spec.to_days * DAY).expect("time");
    builder.set_not_before(&from).expect("not before");
    builder.set_not_after(&to).expect("not after");
    if ca {
        let constraints = BasicConstraints::new().critical().ca().build().expect("CA");
        builder.append_extension(constraints).expect("CA");
    }
    if !spec.dns.is_empty() || !spec.ips.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for dns in spec.dns {
            san.dns(dns);
        }
        for ip in spec.ips {
            san.ip(ip);
        }
        let san = san
            .build(&builder.x509v3_context(issuer.map(|i| &*i.cert), None))
            .expect("SAN");
        builder.append_extension(san).expect("SAN");
    }
    let signer = issuer.map_or(&key, |issuer| &issuer.key);
    builder
        .sign(signer, Curve::of(signer).digest())
        .expect("sign");
    Issued {
        cert: builder.build(),
        key,
    }
}

/// A self-signed CA.
pub fn ca(common_name: &str) -> Issued {
    ca_on(Curve::P256, common_name)
}

/// A self-signed CA with a key on `curve`.
pub fn ca_on(curve: Curve, common_name: &str) -> Issued {
    build(
        &Spec {
            curve,
            ..Spec::named(common_name)
        },
        None,
        true,
    )
}

/// The CA `ca` (its name and key) as `issuer` signs it: a cross-signed CA.
pub fn cross_signed(ca: &Issued, issuer: &Issued) -> Issued {
    let name = ca
        .cert
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|entry| entry.data().to_string().ok())
        .expect("a common name");
    build_for(ca.key.clone(), &Spec::named(&name), Some(issuer), true)
}

/// A certificate `issuer` signs.
pub fn issue(issuer: &Issued, spec: &Spec<'_>) -> Issued {
    build(spec, Some(issuer), false)
}

#[derive(Default)]
struct Hello {
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
}

/// What a server saw of the modem's ClientHello.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Hello>>);

impl Seen {
    /// The server name the modem sent.
    pub fn sni(&self) -> Option<String> {
        self.0.lock().expect("seen").sni.clone()
    }

    /// The ALPN protocols the modem offered (wire format: length-prefixed names).
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.0.lock().expect("seen").alpn.clone()
    }
}

/// A TLS 1.3 server presenting `server` (and `chain` after it); with `clients`, it
/// requires a client certificate that CA signed. It records the SNI and ALPN it sees
/// and accepts the ALPN protocol `mqtt`.
pub fn server(server: &Issued, chain: &[&X509], clients: Option<&X509>, seen: &Seen) -> SslContext {
    let mut builder = SslContext::builder(SslMethod::tls_server()).expect("OpenSSL context");
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_3))
        .expect("TLS 1.3");
    builder
        .set_ciphersuites("TLS_AES_128_GCM_SHA256")
        .expect("cipher suite");
    builder.set_certificate(&server.cert).expect("certificate");
    for cert in chain {
        builder
            .add_extra_chain_cert((*cert).clone())
            .expect("chain");
    }
    builder.set_private_key(&server.key).expect("key");
    if let Some(ca) = clients {
        builder
            .cert_store_mut()
            .add_cert(ca.clone())
            .expect("client CA");
        builder.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    let sni = seen.clone();
    builder.set_servername_callback(move |ssl, _alert| {
        sni.0.lock().expect("seen").sni = ssl.servername(NameType::HOST_NAME).map(str::to_owned);
        Ok(())
    });
    let alpn = seen.clone();
    builder.set_alpn_select_callback(move |_ssl, offered| {
        alpn.0.lock().expect("seen").alpn = Some(offered.to_vec());
        openssl::ssl::select_next_proto(b"\x04mqtt", offered).ok_or(openssl::ssl::AlpnError::NOACK)
    });
    builder.build()
}

/// An intermediate CA `issuer` signs.
pub fn issue_ca(issuer: &Issued, common_name: &str) -> Issued {
    issue_ca_on(issuer, Curve::P256, common_name)
}

/// An intermediate CA with a key on `curve` that `issuer` signs.
pub fn issue_ca_on(issuer: &Issued, curve: Curve, common_name: &str) -> Issued {
    build(
        &Spec {
            curve,
            ..Spec::named(common_name)
        },
        Some(issuer),
        true,
    )
}
