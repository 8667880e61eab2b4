//! The simulated board's credential store: a directory (`--state-dir`) that survives
//! `AT+RST` and simulator restarts, or, without it, memory that survives `AT+RST` only.
//!
//! In a directory each item is one file, `DIR/credentials/<namespace>.<index>.der`
//! (e.g. `mqtt_ca.0.der`), written to a temporary file first and renamed over the old
//! one, so a crash leaves the old item or the new one, never half of either. A missing
//! file is an absent item.

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use at_mqtt::credentials::{CredentialKind, CredentialStore, StoreError};

/// Where the simulated board keeps its certificates and keys.
#[derive(Debug)]
pub enum HostCredentials {
    /// Files in a directory.
    Dir(DirCredentials),
    /// Memory of the simulator process.
    Memory(HashMap<(CredentialKind, u8), Vec<u8>>),
}

impl HostCredentials {
    /// The store in `state_dir`, or in memory without one.
    pub fn open(state_dir: Option<&Path>) -> Result<Self, String> {
        Ok(match state_dir {
            Some(dir) => Self::Dir(DirCredentials::open(dir)?),
            None => Self::Memory(HashMap::new()),
        })
    }
}

impl CredentialStore for HostCredentials {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        match self {
            Self::Dir(dir) => dir.load(kind, index, buf).await,
            Self::Memory(items) => items
                .get(&(kind, index))
                .map(|item| copy_into(item, buf))
                .transpose(),
        }
    }

    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError> {
        match self {
            Self::Dir(dir) => dir.store(kind, index, der).await,
            Self::Memory(items) => {
                items.insert((kind, index), der.to_vec());
                Ok(())
            }
        }
    }

    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError> {
        match self {
            Self::Dir(dir) => dir.erase(kind, index).await,
            Self::Memory(items) => {
                items.remove(&(kind, index));
                Ok(())
            }
        }
    }
}

/// Credentials as files under `DIR/credentials/`.
#[derive(Debug)]
pub struct DirCredentials {
    dir: PathBuf,
}

impl DirCredentials {
    /// The store under `state_dir`, creating `state_dir/credentials` if needed.
    pub fn open(state_dir: &Path) -> Result<Self, String> {
        let dir = state_dir.join("credentials");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the state directory {}: {e}", dir.display()))?;
        Ok(Self { dir })
    }

    /// The file of one item.
    pub fn path(&self, kind: CredentialKind, index: u8) -> PathBuf {
        self.dir.join(format!("{}.{index}.der", kind.namespace()))
    }

    fn write_atomically(&self, path: &Path, der: &[u8]) -> std::io::Result<()> {
        let temporary = path.with_extension("der.tmp");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(der)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)?;
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

impl CredentialStore for DirCredentials {
    async fn load(
        &mut self,
        kind: CredentialKind,
        index: u8,
        buf: &mut [u8],
    ) -> Result<Option<usize>, StoreError> {
        let path = self.path(kind, index);
        match std::fs::read(&path) {
            Ok(item) => copy_into(&item, buf).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => {
                log::warn!("cannot read {}: {e}", path.display());
                Err(StoreError::Medium)
            }
        }
    }

    async fn store(
        &mut self,
        kind: CredentialKind,
        index: u8,
        der: &[u8],
    ) -> Result<(), StoreError> {
        let path = self.path(kind, index);
        self.write_atomically(&path, der).map_err(|e| {
            log::warn!("cannot write {}: {e}", path.display());
            StoreError::Medium
        })?;
        log::info!("stored {} ({} bytes)", path.display(), der.len());
        Ok(())
    }

    async fn erase(&mut self, kind: CredentialKind, index: u8) -> Result<(), StoreError> {
        let path = self.path(kind, index);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => {
                log::warn!("cannot remove {}: {e}", path.display());
                Err(StoreError::Medium)
            }
        }
    }
}

/// Copies `item` to the front of `buf`: its length, or `Full` if it does not fit.
fn copy_into(item: &[u8], buf: &mut [u8]) -> Result<usize, StoreError> {
    let target = buf.get_mut(..item.len()).ok_or(StoreError::Full)?;
    target.copy_from_slice(item);
    Ok(item.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    use at_mqtt::credentials::CredentialKind::{Ca, ClientCert, ClientKey};
    use embassy_futures::block_on;

    fn load(store: &mut impl CredentialStore, kind: CredentialKind, index: u8) -> Option<Vec<u8>> {
        let mut buf = [0; 64];
        let len = block_on(store.load(kind, index, &mut buf)).expect("load");
        len.map(|len| buf.get(..len).unwrap_or_default().to_vec())
    }

    #[test]
    fn a_directory_keeps_items_across_reopening() {
        let state = tempfile::tempdir().expect("temporary directory");
        let mut store = DirCredentials::open(state.path()).expect("open");
        assert_eq!(load(&mut store, Ca, 0), None, "a fresh directory is empty");
        block_on(store.store(Ca, 0, b"ca zero")).expect("store");
        block_on(store.store(ClientKey, 3, b"key three")).expect("store");
        block_on(store.store(Ca, 0, b"ca zero, replaced")).expect("replace");

        let mut reopened = DirCredentials::open(state.path()).expect("reopen");
        assert_eq!(
            load(&mut reopened, Ca, 0).as_deref(),
            Some(&b"ca zero, replaced"[..])
        );
        assert_eq!(
            load(&mut reopened, ClientKey, 3).as_deref(),
            Some(&b"key three"[..])
        );
        assert_eq!(load(&mut reopened, ClientCert, 0), None);
        assert!(state.path().join("credentials/mqtt_ca.0.der").is_file());
        assert!(state.path().join("credentials/mqtt_key.3.der").is_file());
        let leftovers: Vec<_> = std::fs::read_dir(state.path().join("credentials"))
            .expect("list")
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|e| e == "tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

        block_on(reopened.erase(Ca, 0)).expect("erase");
        block_on(reopened.erase(Ca, 1)).expect("erasing nothing is no error");
        assert_eq!(load(&mut reopened, Ca, 0), None);
    }

    #[test]
    fn an_item_larger_than_the_buffer_is_full_not_truncated() {
        let state = tempfile::tempdir().expect("temporary directory");
        let mut store = HostCredentials::open(Some(state.path())).expect("open");
        block_on(store.store(Ca, 0, &[7; 65])).expect("store");
        let mut buf = [0; 64];
        assert_eq!(block_on(store.load(Ca, 0, &mut buf)), Err(StoreError::Full));
    }

    #[test]
    fn memory_holds_items_by_kind_and_index() {
        let mut store = HostCredentials::open(None).expect("open");
        block_on(store.store(ClientCert, 1, b"cert one")).expect("store");
        assert_eq!(
            load(&mut store, ClientCert, 1).as_deref(),
            Some(&b"cert one"[..])
        );
        assert_eq!(load(&mut store, ClientCert, 0), None);
        assert_eq!(load(&mut store, Ca, 1), None);
        block_on(store.erase(ClientCert, 1)).expect("erase");
        assert_eq!(load(&mut store, ClientCert, 1), None);
    }
}
