//! The credential store: CA certificates, client certificates and client keys for TLS
//! schemes 3, 4 and 5, by index (`CA_ID` and `cert_key_ID` of `AT+MQTTUSERCFG`).
//!
//! The port supplies the store; the [`Runner`](crate::Runner) alone owns it: it reads a
//! credential when a certificate handshake starts and writes one when the host uploads
//! it. Every item is stored as DER, checked when it is written (a malformed certificate
//! or key is refused at upload, never at connect time).
//!
//! Implementations: [`NoCredentials`] (none; certificate schemes fail with
//! `ERROR`), [`FixedCredentials`] (built into the image), [`RamCredentials`] (lost at
//! reset), `FlashCredentials` (feature `flash-credentials`: the boards' flash, on
//! sequential-storage), and the simulator's directory store in `ports/host`.
//!
//! Feature `tls-cert`: `check` is the upload check every store's items pass (PEM or DER
//! in, DER out); `upload` is the runner's side of `AT+MQTTCERT` and `AT+SYSMFG`.

mod fixed;
mod ram;

pub use fixed::{FixedCredentials, FixedItem};
pub use ram::RamCredentials;

#[cfg(feature = "tls-cert")]
pub mod check;
#[cfg(feature = "flash-credentials")]
mod flash;
#[cfg(feature = "tls-cert")]
pub(crate) mod upload;

#[cfg(feature = "flash-credentials")]
pub use flash::{BadFlashRange, FlashCredentials};

#[cfg(feature = "tls-cert")]
pub use upload::STORE_FAILED;

/// The three kinds of credential, named as ESP-AT's manufacturing namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CredentialKind {
    /// A trust anchor the server's chain must end in (`mqtt_ca`): an X.509 certificate.
    Ca,
    /// The certificate the client presents (`mqtt_cert`): an X.509 certificate.
    ClientCert,
    /// The private key of the client certificate (`mqtt_key`): a P-256 key, SEC1 or
    /// PKCS#8 DER.
    ClientKey,
}

impl CredentialKind {
    /// Every kind, in a fixed order.
    pub const ALL: [CredentialKind; 3] = [Self::Ca, Self::ClientCert, Self::ClientKey];

    /// ESP-AT's namespace for the kind (`mqtt_ca`, `mqtt_cert`, `mqtt_key`); stores
    /// that name their items use it with the index, e.g. `mqtt_ca.0`.
    pub const fn namespace(self) -> &'static str {
        match self {
            Self::Ca => "mqtt_ca",
            Self::ClientCert => "mqtt_cert",
            Self::ClientKey => "mqtt_key",
        }
    }
}

/// The highest index `CA_ID` and `cert_key_ID` may select (ESP-AT stores index 0 only;
/// we keep a few more so that a modem can hold credentials for more than one broker).
pub const MAX_CREDENTIAL_INDEX: u8 = 3;

/// Why the store could not do what it was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreError {
    /// The item does not fit the caller's buffer or the store's room.
    Full,
    /// The storage medium failed (flash, file system).
    Medium,
}

/// Where credentials live. All methods are async so that a flash store can wait for its
/// medium; a store never panics on what it reads back (a corrupted item reads as absent
/// or as [`StoreError::Medium`]).
#[allow(async_fn_in_trait, reason = "used only through generics, never boxed")]
pub trait CredentialStore {
    /// Copies the item `kind`/`index` into `buf`: its length, or `None` if there is none.
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError>;

    /// Replaces the item `kind`/`index` with `der` (already checked by the caller).
    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError>;

    /// Removes the item `kind`/`index` (no error if there was none).
    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError>;
}

/// A store that holds nothing and refuses writes: certificate schemes are unavailable.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCredentials;

impl CredentialStore for NoCredentials {
    async fn load(
        &mut self,
        _kind: CredentialKind,
        _index: u8,
        _buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        Ok(None)
    }

    async fn store(
        &mut self,
        _kind: CredentialKind,
        _index: u8,
        _der: &[u8],
    ) -> Result<(), StoreError> {
        Err(StoreError::Full)
    }

    async fn erase(&mut self, _kind: CredentialKind, _index: u8) -> Result<(), StoreError> {
        Ok(())
    }
}

impl<T: CredentialStore> CredentialStore for &mut T {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        T::load(self, kind, index, buf).await
    }

    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError> {
        T::store(self, kind, index, der).await
    }

    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError> {
        T::erase(self, kind, index).await
    }
}
