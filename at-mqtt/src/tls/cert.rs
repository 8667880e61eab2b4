//! The certificate schemes' side of a handshake: the credential buffers, reading the
//! CA, client certificate and key from the store, and the crypto provider that checks
//! the server ([`Verifier`]) and signs with the client key.

use at_core::ErrorCode;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, SignatureScheme, TlsError,
    TlsVerifier,
};
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::DecodePrivateKey;

use super::verify::{Trust, Verifier};
use crate::credentials::{CredentialKind, CredentialStore, StoreError};
use crate::error::{
    CA_LENGTH_ERROR, CA_READ_FAILED, CERT_LENGTH_ERROR, CERT_READ_FAILED, KEY_LENGTH_ERROR,
    KEY_READ_FAILED, TIME_UNKNOWN, TLS_HANDSHAKE_FAILED,
};

/// The RAM a certificate handshake reads its credentials into (sizes in
/// [`budget`](crate::budget): [`TLS_CA_BYTES`](crate::budget::TLS_CA_BYTES),
/// [`TLS_CLIENT_CERT_BYTES`](crate::budget::TLS_CLIENT_CERT_BYTES),
/// [`TLS_CLIENT_KEY_BYTES`](crate::budget::TLS_CLIENT_KEY_BYTES)).
pub struct CertBuffers<'a> {
    ca: &'a mut [u8],
    cert: &'a mut [u8],
    key: &'a mut [u8],
}

impl<'a> CertBuffers<'a> {
    /// `ca` holds the largest CA, `cert` the largest client certificate, `key` the
    /// largest client key (all DER).
    pub fn new(ca: &'a mut [u8], cert: &'a mut [u8], key: &'a mut [u8]) -> Self {
        Self { ca, cert, key }
    }
}

/// What a certificate scheme does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CertScheme {
    /// Verify the server against the CA of `CA_ID` (schemes 3, 5).
    pub(crate) verify: bool,
    /// Present the client certificate of `cert_key_ID` (schemes 4, 5).
    pub(crate) client: bool,
}

/// The credentials of one handshake, read from the store.
pub(crate) struct Loaded {
    /// The CA's length in the CA buffer and the time, when the server is verified.
    trust: Option<(usize, u64)>,
    /// The client certificate's length and its key, when one is presented.
    client: Option<(usize, SigningKey)>,
}

/// Reads what `scheme` needs from `store`, before any connection is opened; the codes
/// say what is missing.
pub(crate) async fn load<C: CredentialStore>(
    buffers: &mut CertBuffers<'_>,
    store: &mut C,
    scheme: CertScheme,
    ca_id: u8,
    cert_key_id: u8,
) -> Result<Loaded, ErrorCode> {
    let trust = if scheme.verify {
        let now = crate::setup::wall_time().ok_or(TIME_UNKNOWN)?;
        let ca = read(
            store,
            CredentialKind::Ca,
            ca_id,
            buffers.ca,
            CA_READ_FAILED,
            CA_LENGTH_ERROR,
        )
        .await?;
        Some((ca, now))
    } else {
        None
    };
    let client = if scheme.client {
        let cert = read(
            store,
            CredentialKind::ClientCert,
            cert_key_id,
            buffers.cert,
            CERT_READ_FAILED,
            CERT_LENGTH_ERROR,
        )
        .await?;
        let key = read(
            store,
            CredentialKind::ClientKey,
            cert_key_id,
            buffers.key,
            KEY_READ_FAILED,
            KEY_LENGTH_ERROR,
        )
        .await?;
        let der = buffers.key.get(..key).unwrap_or_default();
        let secret = p256::SecretKey::from_sec1_der(der)
            .or_else(|_| p256::SecretKey::from_pkcs8_der(der))
            .map_err(|_| KEY_READ_FAILED);
        // The key's DER stays in RAM no longer than it takes to parse it (the parsed key
        // is wiped when the handshake drops it).
        buffers.key.fill(0);
        Some((cert, SigningKey::from(&secret?)))
    } else {
        None
    };
    Ok(Loaded { trust, client })
}

/// Reads one item: its length, or `missing` / `too_long`.
async fn read<C: CredentialStore>(
    store: &mut C,
    kind: CredentialKind,
    index: u8,
    buf: &mut [u8],
    missing: ErrorCode,
    too_long: ErrorCode,
) -> Result<usize, ErrorCode> {
    match store.load(kind, index, buf).await {
        Ok(Some(len)) if len > 0 && len <= buf.len() => Ok(len),
        Ok(Some(_)) | Ok(None) => Err(missing),
        Err(StoreError::Full) => Err(too_long),
        Err(StoreError::Medium) => Err(missing),
    }
}

/// embedded-tls's crypto for every TLS scheme of a `tls-cert` build (one provider type,
/// so one copy of the handshake): randomness, the server check, the client key.
pub(crate) struct ModemProvider<'r> {
    rng: &'r mut dyn CryptoRngCore,
    verifier: Verifier<'r>,
    client: Option<(&'r [u8], SigningKey)>,
}

impl<'r> ModemProvider<'r> {
    /// A provider that neither checks the server nor presents a certificate (TLS-PSK,
    /// the esp-at profile's scheme 2).
    pub(crate) fn plain(rng: &'r mut dyn CryptoRngCore) -> Self {
        Self {
            rng,
            verifier: Verifier::none(),
            client: None,
        }
    }

    /// A provider for `loaded` credentials in `buffers`; `ip` is the connect host when
    /// it is an address and no SNI is set.
    pub(crate) fn new(
        rng: &'r mut dyn CryptoRngCore,
        buffers: &'r CertBuffers<'_>,
        loaded: Loaded,
        ip: Option<core::net::IpAddr>,
    ) -> Self {
        let verifier = match loaded.trust {
            Some((ca, now)) => Verifier::new(Trust {
                ca: buffers.ca.get(..ca).unwrap_or_default(),
                now,
                ip,
            }),
            None => Verifier::none(),
        };
        let client = loaded
            .client
            .map(|(cert, key)| (buffers.cert.get(..cert).unwrap_or_default(), key));
        Self {
            rng,
            verifier,
            client,
        }
    }

    /// The code for a failed handshake: the verifier's refusal, or a general one.
    pub(crate) fn refusal(&self, error: &TlsError) -> ErrorCode {
        match (self.verifier.refusal(), error) {
            (Some(code), _) => code,
            (None, TlsError::InvalidPrivateKey) => KEY_READ_FAILED,
            (None, _) => TLS_HANDSHAKE_FAILED,
        }
    }
}

impl CryptoProvider for ModemProvider<'_> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = DerSignature;

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, TlsError> {
        Ok(&mut self.verifier)
    }

    fn signer(
        &mut self,
    ) -> Result<(impl signature::SignerMut<DerSignature>, SignatureScheme), TlsError> {
        let (_, key) = self.client.as_ref().ok_or(TlsError::InvalidPrivateKey)?;
        Ok((key.clone(), SignatureScheme::EcdsaSecp256r1Sha256))
    }

    fn client_cert(&mut self) -> Option<Certificate<impl AsRef<[u8]>>> {
        self.client
            .as_ref()
            .map(|(cert, _)| Certificate::X509(*cert))
    }
}
