//! A NOR flash in memory that can lose power, for the flash credential store's tests
//! (`at-mqtt/src/credentials/flash/tests.rs` includes this file too).

#![allow(
    clippy::cast_possible_truncation,
    reason = "the simulated flash is a few KiB"
)]

use core::ops::Range;

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// The erase page.
pub const PAGE: usize = 1024;
/// Pages in the flash.
pub const PAGES: usize = 4;
/// The whole flash, as a store's range.
pub const RANGE: Range<u32> = 0..(PAGE * PAGES) as u32;

/// A NOR flash in memory that can lose power: after `budget` more programmed words or
/// erased pages the operation in progress stops half done and fails, as a power cut
/// would leave it.
#[derive(Clone)]
pub struct SimulatedFlash {
    /// The cells.
    pub bytes: Vec<u8>,
    /// Words or pages left before the power goes (`None`: never).
    pub budget: Option<usize>,
}

impl SimulatedFlash {
    /// An erased flash (all `0xFF`) that keeps its power.
    pub fn erased() -> Self {
        Self {
            bytes: vec![0xff; PAGE * PAGES],
            budget: None,
        }
    }

    /// Spends one unit of the budget: `false` once the power is gone.
    fn spend(&mut self) -> bool {
        match &mut self.budget {
            None => true,
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }
}

/// The power went during the operation.
#[derive(Debug)]
pub struct PowerCut;

impl NorFlashError for PowerCut {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

impl ErrorType for SimulatedFlash {
    type Error = PowerCut;
}

impl ReadNorFlash for SimulatedFlash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), PowerCut> {
        let at = offset as usize;
        bytes.copy_from_slice(&self.bytes[at..at + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl NorFlash for SimulatedFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), PowerCut> {
        for page in (from as usize..to as usize).step_by(PAGE) {
            if !self.spend() {
                // Half a page erased when the power went.
                self.bytes[page..page + PAGE / 2].fill(0xff);
                return Err(PowerCut);
            }
            self.bytes[page..page + PAGE].fill(0xff);
        }
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), PowerCut> {
        assert_eq!(offset as usize % Self::WRITE_SIZE, 0, "aligned writes");
        for (i, word) in bytes.chunks(Self::WRITE_SIZE).enumerate() {
            if !self.spend() {
                return Err(PowerCut);
            }
            let at = offset as usize + i * Self::WRITE_SIZE;
            for (cell, &bit) in self.bytes[at..at + word.len()].iter_mut().zip(word) {
                // NOR programming only clears bits.
                *cell &= bit;
            }
        }
        Ok(())
    }
}
