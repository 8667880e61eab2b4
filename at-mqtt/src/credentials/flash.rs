//! [`FlashCredentials`]: the credential store of the boards, a key-value map
//! (`sequential-storage`) on a reserved range of any `embedded-storage-async`
//! [`NorFlash`] (a board's HAL flash, wrapped in `BlockingAsync` when it blocks).
//!
//! Items survive `AT+RST` and power loss. A write cut off by a power loss leaves the old
//! item or the new one (sequential-storage writes the new item in full, with a checksum,
//! before it counts); erasing writes an empty item over the key, so the flash need not
//! support writing a word twice.

use core::ops::Range;

use embedded_storage_async::nor_flash::NorFlash;
use sequential_storage::Error;
use sequential_storage::cache::Cache;
use sequential_storage::map::{MapConfig, MapStorage};

use super::{CredentialKind, CredentialStore, StoreError};

/// sequential-storage's cache of nothing: every look-up scans the range (a few pages).
type NoCache = Cache<
    sequential_storage::cache::Uncached,
    sequential_storage::cache::Uncached,
    sequential_storage::cache::Uncached,
    u8,
>;

/// The flash range is not usable by the map: not aligned to erase pages, or fewer than
/// two pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BadFlashRange;

/// Credentials in `flash`'s range, with a `BUF`-byte work buffer (the largest item plus
/// a few bytes: at least the request slot's payload size plus 16).
pub struct FlashCredentials<S: NorFlash, const BUF: usize> {
    map: MapStorage<u8, S, NoCache>,
    buffer: [u8; BUF],
}

impl<S: NorFlash, const BUF: usize> FlashCredentials<S, BUF> {
    /// The store on `range` of `flash` (byte offsets, each a multiple of the erase page;
    /// at least two pages). An erased (all `0xFF`) range is an empty store.
    pub fn new(flash: S, range: Range<u32>) -> Result<Self, BadFlashRange> {
        let config = MapConfig::try_new(range).map_err(|_| BadFlashRange)?;
        Ok(Self {
            map: MapStorage::new(flash, config, Cache::new_uncached()),
            buffer: [0; BUF],
        })
    }

    /// The flash, given back.
    pub fn into_flash(self) -> S {
        self.map.destroy().0
    }
}

/// The map key of an item: its kind in the high bits, its index in the low four.
fn key(kind: CredentialKind, index: u8) -> u8 {
    let kind = match kind {
        CredentialKind::Ca => 0,
        CredentialKind::ClientCert => 1,
        CredentialKind::ClientKey => 2,
    };
    kind << 4 | (index & 0x0f)
}

fn store_error<E>(error: &Error<E>) -> StoreError {
    match error {
        Error::FullStorage
        | Error::BufferTooSmall(_)
        | Error::BufferTooBig
        | Error::SerializationError(_) => StoreError::Full,
        _ => StoreError::Medium,
    }
}

impl<S: NorFlash, const BUF: usize> CredentialStore for FlashCredentials<S, BUF> {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        let found = self
            .map
            .fetch_item::<&[u8]>(&mut self.buffer, &key(kind, index))
            .await;
        match found {
            // An empty item is an erased one.
            Ok(None) => Ok(None),
            Ok(Some([])) => Ok(None),
            Ok(Some(der)) => {
                let target = buf.get_mut(..der.len()).ok_or(StoreError::Full)?;
                target.copy_from_slice(der);
                Ok(Some(der.len()))
            }
            Err(error) => {
                warn!(
                    "flash credential store: {:?}",
                    crate::fmt::Debug2Format(&error)
                );
                Err(store_error(&error))
            }
        }
    }

    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError> {
        if der.is_empty() {
            // Empty is the erased mark, never an item.
            return Err(StoreError::Full);
        }
        self.map
            .store_item(&mut self.buffer, &key(kind, index), &der)
            .await
            .map_err(|error| {
                warn!(
                    "flash credential store: {:?}",
                    crate::fmt::Debug2Format(&error)
                );
                store_error(&error)
            })
    }

    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError> {
        let key = key(kind, index);
        let present = self.map.fetch_item::<&[u8]>(&mut self.buffer, &key).await;
        match present {
            Ok(None) => return Ok(()),
            Ok(Some([])) => return Ok(()),
            Ok(Some(_)) => {}
            Err(error) => return Err(store_error(&error)),
        }
        let empty: &[u8] = &[];
        self.map
            .store_item(&mut self.buffer, &key, &empty)
            .await
            .map_err(|error| store_error(&error))
    }
}

#[cfg(test)]
mod tests;
