//! [`Paced`]: a serial line's halves held to a UART's pace (`at-host --baud N`, then
//! the rate `AT+UART_CUR` sets), read from a shared [`LineRate`] at each step; at rate 0
//! bytes pass as fast as the host side takes them.
//!
//! A UART moves one byte per 10 bit times (start bit, 8 data bits, stop bit), so at N
//! baud each direction carries at most N / 10 bytes per second. The model is a board's
//! buffered UART driver (the STM32 port's: a 512-byte transmit ring, a 1024-byte receive
//! ring). Each direction books its bytes on a busy-until time advanced by exact byte
//! times, so the pace is kept by the time booked, not by when the engine's task happens
//! to run:
//! - a write puts bytes into the transmit buffer once it has room for them and returns;
//!   bytes reach the host's side once they have left the line (delivered at the next
//!   write after that, or by a flush); a flush delivers the buffer 16 bytes at a time as
//!   they leave, and returns once it has drained;
//! - a read hands over the bytes that have arrived by now, once at least 16 of them (or
//!   all it holds) have: bytes the host sent arrive back to back from the first one,
//!   and bytes that were already waiting when the reader came back arrived while it was
//!   away (as a receive ring fills on its own), though not before its previous read
//!   returned.
//!
//! The runtime's timer has a resolution of a millisecond, about 12 byte times at 115200
//! baud, so the last stretch of each wait yields to the runtime until the time has come
//! instead of sleeping (a paced transfer keeps a CPU core busy).

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use embedded_io_async::{ErrorType, Read, Write};
use tokio::time::{Instant, sleep_until};

use crate::line_rate::LineRate;

/// Waits are left to the timer only up to this long before their end: it wakes up to a
/// millisecond late, rounding to its ticks.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// The transmit buffer: bytes written and not yet through the line.
pub const TX_BUFFER_BYTES: usize = 512;

/// A write waits for this much room in the transmit buffer (or for room for all its
/// bytes, if fewer), as a driver refills its buffer at a threshold, not at every byte.
const TX_THRESHOLD: usize = 16;

/// A receiver hands bytes over in groups of this many (or all it has, if fewer), as its
/// interrupt comes at a FIFO threshold: the modem's side, reading the host's bytes, and
/// the host's side, taking a flush's bytes as they leave the line.
const RECEIVER_GROUP_BYTES: usize = 16;

/// Bytes taken from the host's side at a time (arrived or not yet).
const RX_CHUNK_BYTES: usize = 256;

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

/// A receiving end of a serial line that may know when the bytes of its last read
/// reached this machine.
pub trait Arrival {
    /// When the last read's bytes arrived (the latest of them), if known.
    fn arrived_at(&self) -> Option<Instant> {
        None
    }
}

impl<T: Arrival + ?Sized> Arrival for &mut T {
    fn arrived_at(&self) -> Option<Instant> {
        (**self).arrived_at()
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

    /// One byte's time on the line at the current rate (`None` unpaced).
    fn byte_time(&self) -> Option<Duration> {
        match self.rate.get() {
            0 => None,
            baud => Some(Duration::from_nanos(
                BITS_PER_BYTE * 1_000_000_000 / u64::from(baud),
            )),
        }
    }

    /// `bytes` byte times (zero unpaced).
    fn bytes_time(&self, bytes: usize) -> Duration {
        self.byte_time()
            .unwrap_or_default()
            .saturating_mul(u32::try_from(bytes).unwrap_or(u32::MAX))
    }

    /// Bytes booked but not yet through the line at `now` (0 unpaced).
    fn unfinished(&self, now: Instant) -> usize {
        let Some(byte_time) = self.byte_time() else {
            return 0;
        };
        let ahead = self.busy_until.saturating_duration_since(now);
        let bytes = ahead.as_nanos().div_ceil(byte_time.as_nanos().max(1));
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }

    /// When at most `bytes` of the booked bytes are still on the line.
    fn unfinished_at_most(&self, bytes: usize) -> Instant {
        self.busy_until
            .checked_sub(self.bytes_time(bytes))
            .unwrap_or(self.busy_until)
    }

    /// Books `bytes` from `earliest` or from the end of the bytes before them, whichever
    /// is later (an idle line is not made up for).
    fn book(&mut self, earliest: Instant, bytes: usize) {
        self.busy_until = self.busy_until.max(earliest) + self.bytes_time(bytes);
    }
}

/// One half of a serial line at its [`LineRate`].
pub struct Paced<T> {
    inner: T,
    clock: Clock,
    /// Received bytes not yet handed over; the last of them arrives at the clock's
    /// busy-until time, the others a byte time apart before it.
    held: [u8; RX_CHUNK_BYTES],
    held_len: usize,
    /// When the last read returned: bytes found waiting arrived after it.
    last_read: Instant,
    /// The transmit buffer: bytes written and not yet delivered to `inner`; the last of
    /// them leaves the line at the clock's busy-until time.
    sent: Box<[u8; TX_BUFFER_BYTES]>,
    sent_len: usize,
}

impl<T> Paced<T> {
    /// Paces `inner` at `rate`.
    pub fn new(inner: T, rate: LineRate) -> Self {
        Self {
            inner,
            clock: Clock::new(rate),
            held: [0; RX_CHUNK_BYTES],
            held_len: 0,
            last_read: Instant::now(),
            sent: Box::new([0; TX_BUFFER_BYTES]),
            sent_len: 0,
        }
    }
}

impl<T: ErrorType> ErrorType for Paced<T> {
    type Error = T::Error;
}

impl<T: Read + Arrival> Read for Paced<T> {
    /// Cancel-safe: bytes read from `inner` are held until their arrival time.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, T::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.held_len == 0 {
            if self.clock.rate.get() == 0 {
                return self.inner.read(buf).await;
            }
            let (n, waiting) = {
                let mut read = pin!(self.inner.read(&mut self.held));
                match poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await {
                    Poll::Ready(read) => (read?, true),
                    Poll::Pending => (read.await?, false),
                }
            };
            if n == 0 {
                return Ok(0);
            }
            let now = Instant::now();
            // Bytes start arriving when they reached the machine, if the line knows
            // (waking up to read them takes no line time); else bytes that were waiting
            // started arriving while the reader was away, and bytes that came while it
            // waited start arriving now. Either way at most a receive ring's time back.
            let ring_back = now.checked_sub(self.clock.bytes_time(RX_RING_BYTES));
            let earliest = match (self.inner.arrived_at(), waiting) {
                (Some(arrived), _) => arrived.min(now),
                (None, true) => self.last_read,
                (None, false) => now,
            };
            let earliest = ring_back.map_or(earliest, |back| earliest.max(back));
            self.held_len = n;
            self.clock.book(earliest, n);
        }
        // Handed over in groups, as a receive interrupt comes at a FIFO threshold (one
        // wait per group, not per byte): the group has arrived once at most
        // `held_len - group` bytes are still on their way.
        let group = self.held_len.min(RECEIVER_GROUP_BYTES).min(buf.len());
        let group_at = self.clock.unfinished_at_most(self.held_len - group);
        wait_until(group_at).await;
        let arrived = self.held_len - self.clock.unfinished(Instant::now()).min(self.held_len);
        let n = arrived.max(group).min(buf.len());
        buf[..n].copy_from_slice(&self.held[..n]);
        self.held.copy_within(n..self.held_len, 0);
        self.held_len -= n;
        self.last_read = Instant::now();
        Ok(n)
    }
}

/// The receive ring bytes waiting for the reader may fill in its absence.
const RX_RING_BYTES: usize = 1024;

impl<T: Write> Paced<T> {
    /// Delivers to `inner` the bytes of the transmit buffer that have left the line.
    async fn deliver_sent(&mut self) -> Result<(), T::Error> {
        let unfinished = self.clock.unfinished(Instant::now()).min(self.sent_len);
        let due = self.sent_len - unfinished;
        if due > 0 {
            self.inner.write_all(&self.sent[..due]).await?;
            // They have arrived: nothing below holds them back.
            self.inner.flush().await?;
            self.sent.copy_within(due..self.sent_len, 0);
            self.sent_len = unfinished;
        }
        Ok(())
    }
}

impl<T: Write> Write for Paced<T> {
    /// Puts as many bytes into the transmit buffer as it has room for, waiting for room
    /// if it is full.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, T::Error> {
        self.deliver_sent().await?;
        if self.clock.rate.get() == 0 {
            return self.inner.write(buf).await;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let wanted = buf.len().min(TX_THRESHOLD);
        while TX_BUFFER_BYTES - self.sent_len < wanted {
            // Room for `wanted` once at most `TX_BUFFER_BYTES - wanted` are left.
            let room_at = self.clock.unfinished_at_most(TX_BUFFER_BYTES - wanted);
            wait_until(room_at).await;
            self.deliver_sent().await?;
        }
        let n = buf.len().min(TX_BUFFER_BYTES - self.sent_len);
        self.sent[self.sent_len..self.sent_len + n].copy_from_slice(&buf[..n]);
        self.sent_len += n;
        self.clock.book(Instant::now(), n);
        Ok(n)
    }

    /// Returns once the transmit buffer is empty, its last byte through the line and
    /// delivered. Meanwhile bytes are delivered as they leave the line, a group at a
    /// time, as a real line hands them to the host while the rest is still on its way.
    async fn flush(&mut self) -> Result<(), T::Error> {
        while self.sent_len > 0 {
            // The next group has left once at most `sent_len - group` bytes are unfinished.
            let group = self.sent_len.min(RECEIVER_GROUP_BYTES);
            let group_at = self.clock.unfinished_at_most(self.sent_len - group);
            wait_until(group_at).await;
            self.deliver_sent().await?;
        }
        self.inner.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host's side of the line: when each delivery came, and its bytes.
    #[derive(Default)]
    struct Host {
        deliveries: Vec<(Instant, usize)>,
    }

    impl ErrorType for Host {
        type Error = core::convert::Infallible;
    }

    impl Write for Host {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            self.deliveries.push((Instant::now(), buf.len()));
            Ok(buf.len())
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    /// A flush hands the bytes over as they leave the line, never before: at 2400 baud
    /// (4.2 ms a byte) 64 bytes take 267 ms, and they arrive in several deliveries, each
    /// no earlier than its last byte's time on the wire.
    #[tokio::test]
    async fn a_flush_delivers_bytes_as_they_leave_the_line() {
        let mut tx = Paced::new(Host::default(), LineRate::new(2400));
        let byte_time = tx.clock.byte_time().unwrap();
        let start = Instant::now();
        assert_eq!(tx.write(&[b'x'; 64]).await, Ok(64));
        tx.flush().await.unwrap();
        let deliveries = &tx.inner.deliveries;
        let mut through = 0;
        for &(at, bytes) in deliveries {
            through += bytes;
            let wire = byte_time * u32::try_from(through).unwrap();
            assert!(
                at - start >= wire,
                "{through} bytes delivered after {:?}, before their {wire:?} on the wire",
                at - start
            );
        }
        assert_eq!(through, 64);
        assert!(
            deliveries.len() > 1,
            "the flush delivered all 64 bytes at once, after the last had left"
        );
    }
}
