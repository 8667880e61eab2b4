//! The runner's side of `AT+MQTTCERT` and `AT+SYSMFG`: checking an uploaded item in the
//! request slot and storing its DER, erasing one, reading one back into the slot.
//!
//! Only the runner calls [`carry_out`], so it stays the store's one owner; it may do so
//! while a link is up (an upload touches the store alone, never the link).

use core::cell::RefCell;

use at_core::ErrorCode;
use embassy_time::Duration;

use super::check::{Refusal, check};
use super::{CredentialKind, CredentialStore, MAX_CREDENTIAL_INDEX, StoreError};
use crate::mailbox::{Reply, Slot};

/// The store failed (flash or file system), or read back an item it could not hold.
pub const STORE_FAILED: ErrorCode = ErrorCode::execution(0x0004);

/// How long the client waits for a store request: a flash store may have to erase a
/// sector first (up to about 2 s for a large STM32 sector).
pub(crate) const STORE_BOUND: Duration = Duration::from_secs(10);

/// One item of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    /// What it is.
    pub(crate) kind: CredentialKind,
    /// Its index (`CA_ID`, `cert_key_ID`), at most [`MAX_CREDENTIAL_INDEX`].
    pub(crate) index: u8,
}

/// What the host asked of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialRequest {
    /// Check the slot's payload as `item`'s kind and store its DER.
    Store(Item),
    /// Remove the item.
    Erase(Item),
    /// Copy the item's DER into the slot's payload (left empty when there is none).
    Load(Item),
}

impl CredentialRequest {
    /// The code reported when the request fails without a more precise reason.
    pub(crate) fn failure(self) -> ErrorCode {
        STORE_FAILED
    }
}

/// Carries out `request` on `store` with the request slot.
#[allow(
    clippy::await_holding_refcell_ref,
    reason = "the slot is the runner's until it answers the request"
)]
pub(crate) async fn carry_out<S: CredentialStore, const PAYLOAD: usize>(
    store: &mut S,
    slot: &RefCell<Slot<PAYLOAD>>,
    request: CredentialRequest,
) -> Reply {
    let item = match request {
        CredentialRequest::Store(item)
        | CredentialRequest::Erase(item)
        | CredentialRequest::Load(item) => item,
    };
    if item.index > MAX_CREDENTIAL_INDEX {
        return Reply::Failed(STORE_FAILED);
    }
    let Ok(mut slot) = slot.try_borrow_mut() else {
        return Reply::Failed(ErrorCode::BUSY);
    };
    let payload = &mut slot.payload;
    let done = match request {
        CredentialRequest::Store(Item { kind, index }) => {
            let len = match check(kind, payload.as_mut_slice()) {
                Ok(len) => len,
                Err(refusal) => {
                    warn!("upload refused: {:?}", refusal);
                    return Reply::Failed(refusal.code(kind));
                }
            };
            payload.truncate(len);
            store.store(kind, index, payload).await
        }
        CredentialRequest::Erase(Item { kind, index }) => store.erase(kind, index).await,
        CredentialRequest::Load(Item { kind, index }) => {
            payload.clear();
            if payload.resize(PAYLOAD, 0).is_err() {
                return Reply::Failed(STORE_FAILED);
            }
            let loaded = store.load(kind, index, payload).await;
            payload.truncate(loaded.ok().flatten().unwrap_or(0));
            loaded.map(drop)
        }
    };
    match done {
        Ok(()) => Reply::Done,
        Err(StoreError::Full) if matches!(request, CredentialRequest::Store(_)) => {
            warn!("upload refused: no room in the store");
            Reply::Failed(Refusal::Length.code(item.kind))
        }
        Err(error) => {
            warn!("credential store failed: {:?}", error);
            Reply::Failed(STORE_FAILED)
        }
    }
}
