//! [`Paced`]: a serial line's halves held to a UART's pace (`at-host --baud N`, then
//! the rate `AT+UART_CUR` sets), read from a shared [`LineRate`] at each step; at rate 0
//! bytes pass as fast as the host side takes them.
//!
//! A UART moves one byte per 10 bit times (start bit, 8 data bits, stop bit), so at N
//! baud each direction carries at most N / 10 bytes per second. Each half keeps the time
//! its line is busy until: a write returns once its bytes would have left the UART, a
//! read hands over bytes only once they would have arrived. Bytes are paced in groups of
//! at most [`FIFO_BYTES`] (a UART's FIFO), and the busy-until time advances by exact
//! byte times. The runtime's timer has a resolution of a millisecond, about 12 byte
//! times at 115200 baud, so the last stretch of each wait yields to the runtime until
//! the time has come instead of sleeping (a paced transfer keeps a CPU core busy).

use std::time::Duration;

use embedded_io_async::{ErrorType, Read, Write};
use tokio::time::{Instant, sleep_until};

use crate::line_rate::LineRate;

/// Waits are left to the timer only up to this long before their end: it wakes up to a
/// millisecond late, rounding to its ticks.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Bytes moved per pacing step, as a UART FIFO holds.
pub const FIFO_BYTES: usize = 16;

/// Bits on the wire per byte: start bit, 8 data bits, stop bit.
const BITS_PER_BYTE: u64 = 10;

/// Waits until `deadline`, to within the time a runtime turn takes.
async fn wait_until(deadline: Instant) {
    if let Some(early) = deadline.checked_sub(TIMER_SLACK)
        && early > Instant::now()
    {
        sleep_until(early).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// The busy-until time of one direction of the line.
struct Clock {
    rate: LineRate,
    busy_until: Instant,
}

impl Clock {
    fn new(rate: LineRate) -> Self {
        Self {
            rate,
            busy_until: Instant::now(),
        }
    }

    /// Books `bytes` on the line from now or from the end of the bytes before them,
    /// whichever is later (an idle line is not made up for); returns when the last of
    /// them is through (now on an unpaced line).
    fn book(&mut self, bytes: usize) -> Instant {
        let now = Instant::now();
        self.busy_until = self.busy_until.max(now);
        let baud = self.rate.get();
        if baud == 0 {
            return now;
        }
        let nanos_per_byte = BITS_PER_BYTE * 1_000_000_000 / u64::from(baud);
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.busy_until += Duration::from_nanos(nanos_per_byte.saturating_mul(bytes));
        self.busy_until
    }
}

/// One half of a serial line at its [`LineRate`].
pub struct Paced<T> {
    inner: T,
    clock: Clock,
    /// Received bytes not yet handed over, and when the last of them has arrived.
    held: [u8; FIFO_BYTES],
    held_len: usize,
    held_until: Instant,
}

impl<T> Paced<T> {
    /// Paces `inner` at `rate`.
    pub fn new(inner: T, rate: LineRate) -> Self {
        Self {
            inner,
            clock: Clock::new(rate),
            held: [0; FIFO_BYTES],
            held_len: 0,
            held_until: Instant::now(),
        }
    }
}

impl<T: ErrorType> ErrorType for Paced<T> {
    type Error = T::Error;
}

impl<T: Read> Read for Paced<T> {
    /// Cancel-safe: bytes read from `inner` are held until their arrival time.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, T::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.held_len == 0 {
            if self.clock.rate.get() == 0 {
                return self.inner.read(buf).await;
            }
            let n = self.inner.read(&mut self.held).await?;
            if n == 0 {
                return Ok(0);
            }
            self.held_len = n;
            self.held_until = self.clock.book(n);
        }
        wait_until(self.held_until).await;
        let n = self.held_len.min(buf.len());
        buf[..n].copy_from_slice(&self.held[..n]);
        self.held.copy_within(n..self.held_len, 0);
        self.held_len -= n;
        Ok(n)
    }
}

impl<T: Write> Write for Paced<T> {
    /// The bytes go to `inner` once they would have left the UART.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, T::Error> {
        if self.clock.rate.get() == 0 {
            return self.inner.write(buf).await;
        }
        let chunk = &buf[..buf.len().min(FIFO_BYTES)];
        wait_until(self.clock.book(chunk.len())).await;
        self.inner.write_all(chunk).await?;
        Ok(chunk.len())
    }

    async fn flush(&mut self) -> Result<(), T::Error> {
        self.inner.flush().await
    }
}
