#![allow(
    clippy::cast_possible_truncation,
    reason = "the simulated flash and its test items are a few KiB"
)]

use super::*;

use embassy_futures::block_on;

#[path = "../../../tests/support/flash.rs"]
mod simulated;
use simulated::{PAGE, RANGE, SimulatedFlash};

use CredentialKind::{Ca, ClientCert, ClientKey};

type Store = FlashCredentials<SimulatedFlash, 1100>;

fn open(flash: SimulatedFlash) -> Store {
    Store::new(flash, RANGE).expect("a valid range")
}

fn load(store: &mut Store, kind: CredentialKind, index: u8) -> Option<Vec<u8>> {
    let mut buf = [0; 1024];
    let len = block_on(store.load(kind, index, &mut buf)).expect("load");
    len.map(|len| buf[..len].to_vec())
}

fn item(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn items_survive_a_restart_and_are_replaced_and_erased() {
    let mut store = open(SimulatedFlash::erased());
    assert_eq!(
        load(&mut store, Ca, 0),
        None,
        "erased flash is an empty store"
    );
    block_on(store.store(Ca, 0, &item(1, 400))).expect("store");
    block_on(store.store(ClientCert, 3, &item(2, 500))).expect("store");
    block_on(store.store(ClientKey, 3, &item(3, 121))).expect("store");
    block_on(store.store(Ca, 0, &item(4, 410))).expect("replace");

    let mut store = open(store.into_flash());
    assert_eq!(load(&mut store, Ca, 0), Some(item(4, 410)));
    assert_eq!(load(&mut store, ClientCert, 3), Some(item(2, 500)));
    assert_eq!(load(&mut store, ClientKey, 3), Some(item(3, 121)));
    assert_eq!(load(&mut store, ClientKey, 0), None);

    block_on(store.erase(ClientCert, 3)).expect("erase");
    block_on(store.erase(ClientCert, 2)).expect("erasing nothing");
    let mut store = open(store.into_flash());
    assert_eq!(load(&mut store, ClientCert, 3), None);
    assert_eq!(load(&mut store, Ca, 0), Some(item(4, 410)));
}

#[test]
fn many_rewrites_fit_by_reclaiming_pages() {
    let mut store = open(SimulatedFlash::erased());
    for round in 0..40u8 {
        block_on(store.store(Ca, 0, &item(round, 700))).expect("rewrite");
        block_on(store.store(ClientKey, 1, &item(round ^ 0x55, 121))).expect("rewrite");
    }
    let mut store = open(store.into_flash());
    assert_eq!(load(&mut store, Ca, 0), Some(item(39, 700)));
    assert_eq!(load(&mut store, ClientKey, 1), Some(item(39 ^ 0x55, 121)));
}

#[test]
fn an_item_larger_than_the_buffer_is_refused_as_full() {
    let mut store = open(SimulatedFlash::erased());
    assert_eq!(
        block_on(store.store(Ca, 0, &item(1, 1200))),
        Err(StoreError::Full)
    );
    assert_eq!(block_on(store.store(Ca, 0, &[])), Err(StoreError::Full));
    assert_eq!(load(&mut store, Ca, 0), None);
}

#[test]
fn a_range_off_the_page_grid_is_refused() {
    assert!(Store::new(SimulatedFlash::erased(), 0..PAGE as u32).is_err());
    assert!(Store::new(SimulatedFlash::erased(), 100..(3 * PAGE) as u32).is_err());
}

/// A power cut at every point of a replacement (including the page erases of a full
/// range) leaves the old item or the new one, whole, after the restart, and the store
/// keeps working.
#[test]
fn a_power_cut_mid_write_leaves_the_old_or_the_new_item() {
    let old = item(7, 600);
    let new = item(8, 640);
    // Fill the range so that the replacement has to reclaim a page.
    let mut store = open(SimulatedFlash::erased());
    for round in 0..5u8 {
        block_on(store.store(ClientCert, 0, &item(round, 600))).expect("fill");
    }
    block_on(store.store(Ca, 0, &old)).expect("old item");
    let before = store.into_flash();

    let (mut saw_old, mut saw_new) = (false, false);
    for cut in 0.. {
        let mut flash = before.clone();
        flash.budget = Some(cut);
        let mut store = open(flash);
        let finished = block_on(store.store(Ca, 0, &new)).is_ok();
        let mut flash = store.into_flash();
        flash.budget = None;
        let mut store = open(flash);
        let found = load(&mut store, Ca, 0);
        assert!(
            found == Some(old.clone()) || found == Some(new.clone()),
            "cut after {cut} steps: neither item"
        );
        saw_old |= found == Some(old.clone());
        saw_new |= found == Some(new.clone());
        // After the restart the store takes writes again.
        block_on(store.store(ClientKey, 0, &item(9, 121))).expect("usable after the cut");
        assert_eq!(load(&mut store, ClientKey, 0), Some(item(9, 121)));
        if finished {
            assert_eq!(found, Some(new.clone()), "a finished write is kept");
            break;
        }
    }
    assert!(
        saw_old && saw_new,
        "cuts both before and after the item counted"
    );
}
