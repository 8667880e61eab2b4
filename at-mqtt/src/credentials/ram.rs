//! [`RamCredentials`]: a credential store in RAM, lost at reset (tests, boards whose
//! host uploads the credentials after every power-on).

use heapless::Vec;

use super::{CredentialKind, CredentialStore, StoreError};

/// One stored item.
#[derive(Clone, Debug)]
struct Item<const BYTES: usize> {
    kind: CredentialKind,
    index: u8,
    der: Vec<u8, BYTES>,
}

/// Up to `ITEMS` items of up to `BYTES` bytes each, in RAM (`ITEMS` x `BYTES` bytes).
#[derive(Clone, Debug, Default)]
pub struct RamCredentials<const BYTES: usize, const ITEMS: usize> {
    items: Vec<Item<BYTES>, ITEMS>,
}

impl<const BYTES: usize, const ITEMS: usize> RamCredentials<BYTES, ITEMS> {
    /// An empty store.
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }

    fn position(&self, kind: CredentialKind, index: u8) -> Option<usize> {
        self.items
            .iter()
            .position(|item| item.kind == kind && item.index == index)
    }
}

impl<const BYTES: usize, const ITEMS: usize> CredentialStore for RamCredentials<BYTES, ITEMS> {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        let Some(item) = self.position(kind, index).and_then(|at| self.items.get(at)) else {
            return Ok(None);
        };
        let target = buf.get_mut(..item.der.len()).ok_or(StoreError::Full)?;
        target.copy_from_slice(&item.der);
        Ok(Some(item.der.len()))
    }

    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError> {
        let der = Vec::from_slice(der).map_err(|_| StoreError::Full)?;
        let item = Item { kind, index, der };
        match self
            .position(kind, index)
            .and_then(|at| self.items.get_mut(at))
        {
            Some(slot) => *slot = item,
            None => self.items.push(item).map_err(|_| StoreError::Full)?,
        }
        Ok(())
    }

    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError> {
        if let Some(at) = self.position(kind, index) {
            self.items.swap_remove(at);
        }
        Ok(())
    }
}
