//! [`FixedCredentials`]: credentials built into the image (e.g. with `include_bytes!`),
//! read-only.

use super::{CredentialKind, CredentialStore, StoreError};

/// One built-in item: its kind, its index and its DER.
pub type FixedItem = (CredentialKind, u8, &'static [u8]);

/// The items of a table fixed at build time; writes are refused ([`StoreError::Full`]:
/// there is no room for anything new).
#[derive(Clone, Copy, Debug)]
pub struct FixedCredentials {
    items: &'static [FixedItem],
}

impl FixedCredentials {
    /// A store of `items` (DER; a later duplicate of a kind and index is never read).
    pub const fn new(items: &'static [FixedItem]) -> Self {
        Self { items }
    }
}

impl CredentialStore for FixedCredentials {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        let Some(&(_, _, der)) = self
            .items
            .iter()
            .find(|&&(k, i, _)| k == kind && i == index)
        else {
            return Ok(None);
        };
        let target = buf.get_mut(..der.len()).ok_or(StoreError::Full)?;
        target.copy_from_slice(der);
        Ok(Some(der.len()))
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
        Err(StoreError::Full)
    }
}
