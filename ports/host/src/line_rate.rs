//! [`LineRate`]: the serial line's baud rate as `AT+UART_CUR` last set it, shared with
//! whatever paces the simulated line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The simulated UART's rate in baud; `0` means unpaced (bytes go as fast as the host
/// side takes them). Clones share one rate.
#[derive(Clone, Debug, Default)]
pub struct LineRate {
    power_on: u32,
    current: Arc<AtomicU32>,
}

/// The rate `AT+UART_CUR?` reports for an unpaced line: ESP-AT's default.
pub const DEFAULT_BAUD: u32 = 115_200;

impl LineRate {
    /// A line at `baud` (`0`: unpaced) at every power-on.
    pub fn new(baud: u32) -> Self {
        Self {
            power_on: baud,
            current: Arc::new(AtomicU32::new(baud)),
        }
    }

    /// The rate now (`0`: unpaced).
    pub fn get(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }

    /// Sets the rate (after `AT+UART_CUR`'s `OK` has been written).
    pub fn set(&self, baud: u32) {
        self.current.store(baud, Ordering::Relaxed);
    }

    /// Back to the power-on rate, as a restarted board's UART is.
    pub fn power_on(&self) {
        self.set(self.power_on);
    }

    /// The rate `AT+UART_CUR?` shows: the current one, or [`DEFAULT_BAUD`] if unpaced.
    pub fn shown(&self) -> u32 {
        match self.get() {
            0 => DEFAULT_BAUD,
            baud => baud,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_rate_and_power_on_restores_it() {
        let rate = LineRate::new(0);
        let pacing = rate.clone();
        assert_eq!(rate.shown(), DEFAULT_BAUD);
        rate.set(921_600);
        assert_eq!(pacing.get(), 921_600);
        assert_eq!(pacing.shown(), 921_600);
        rate.power_on();
        assert_eq!(pacing.get(), 0);
    }
}
