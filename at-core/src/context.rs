//! What a command handler sees: the [`Context`] trait, and [`LineBuf`] for formatting.

use core::fmt;
use core::future::Future;

use crate::Profile;

/// Raw data did not complete within the raw-data timeout (or a UART receive error
/// damaged it); the partial data was discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawDataTimeout;

impl fmt::Display for RawDataTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("raw data did not complete in time")
    }
}

impl core::error::Error for RawDataTimeout {}

/// The engine's services for a running command.
///
/// A handler writes its information lines with [`write`](Self::write) (nothing is framed
/// for it), waits for anything slow through [`wait`](Self::wait) so that the UART keeps
/// being served (`busy p...`, URCs), and reads binary data with
/// [`raw_data`](Self::raw_data). The final `OK`/`ERROR` is written by the engine.
#[allow(async_fn_in_trait)]
pub trait Context {
    /// The protocol profile in force.
    fn profile(&self) -> Profile;

    /// Writes bytes of the response as they are.
    async fn write(&mut self, bytes: &[u8]);

    /// Writes `bytes` and CR LF.
    async fn write_line(&mut self, bytes: &[u8]) {
        self.write(bytes).await;
        self.write(b"\r\n").await;
    }

    /// Runs `future` to completion while serving the UART: lines completed meanwhile get
    /// `busy p...`, and URCs may be written as long as this command has written nothing.
    ///
    /// Pass a large future pinned in the caller (`cx.wait(pin!(future))`): the waiting
    /// future would otherwise hold it twice, as its argument and pinned.
    async fn wait<F: Future>(&mut self, future: F) -> F::Output;

    /// Writes the oldest `count` queued URCs (fewer if fewer are queued, so it is
    /// bounded), provided this command has written nothing yet (or only a completed
    /// raw-data prompt exchange) and a URC may be written now; otherwise does nothing.
    ///
    /// For URCs that belong before the result, e.g. the `count` a background task had
    /// queued when it answered this command (later ones still follow the result).
    async fn flush_urcs(&mut self, count: usize);

    /// Writes the prompt `\r\nOK\r\n\r\n>` and reads exactly `dest.len()` bytes of raw data,
    /// without echo. Bytes after them are ordinary input again.
    async fn raw_data(&mut self, dest: &mut [u8]) -> Result<(), RawDataTimeout>;
}

/// A fixed-capacity byte line for building responses from text and numbers.
///
/// Numbers are written with [`push_decimal`](Self::push_decimal) and
/// [`push_signed`](Self::push_signed), which do not use `core::fmt` (so firmware built on
/// them does not link it); `write!` works too ([`fmt::Write`]). Writing past the capacity
/// truncates and sets [`overflowed`](Self::overflowed)
/// instead of panicking.
#[derive(Clone, Debug, Default)]
pub struct LineBuf<const N: usize> {
    buf: heapless::Vec<u8, N>,
    overflowed: bool,
}

impl<const N: usize> LineBuf<N> {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: heapless::Vec::new(),
            overflowed: false,
        }
    }

    /// Appends bytes, truncating at the capacity.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        if !push_truncated(self.buf.as_mut_view(), bytes) {
            self.overflowed = true;
        }
    }

    /// Appends text, truncating at the capacity.
    pub fn push_str(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    /// Appends `value` in decimal.
    pub fn push_decimal(&mut self, value: impl Into<u64>) {
        self.push_u64(value.into());
    }

    /// Appends `value` in decimal, with a leading `-` when negative.
    pub fn push_signed(&mut self, value: impl Into<i64>) {
        let value = value.into();
        if value < 0 {
            self.push_bytes(b"-");
        }
        self.push_u64(value.unsigned_abs());
    }

    // One digit writer for every integer type keeps the firmware's code small.
    fn push_u64(&mut self, value: u64) {
        self.push_str(itoa::Buffer::new().format(value));
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Whether anything was cut off.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Empties the line.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.overflowed = false;
    }
}

/// Appends what fits of `bytes` to `buf`; whether all of it did. Not generic over the
/// capacity, so one copy serves every `LineBuf` size.
fn push_truncated(buf: &mut heapless::VecView<u8>, bytes: &[u8]) -> bool {
    let room = buf.capacity() - buf.len();
    let fits = bytes.get(..room).unwrap_or(bytes);
    // Cannot fail: `fits` is at most the room left.
    let _ = buf.extend_from_slice(fits);
    fits.len() == bytes.len()
}

impl<const N: usize> fmt::Write for LineBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_bytes(s.as_bytes());
        if self.overflowed {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write as _;

    #[test]
    fn line_buf_writes_numbers() {
        let mut line = LineBuf::<64>::new();
        line.push_decimal(0u8);
        line.push_str(",");
        line.push_decimal(u64::MAX);
        line.push_str(",");
        line.push_signed(i64::MIN);
        line.push_str(",");
        line.push_signed(-7i32);
        line.push_str(",");
        line.push_signed(12i16);
        assert_eq!(
            line.as_bytes(),
            b"0,18446744073709551615,-9223372036854775808,-7,12"
        );
        assert!(!line.overflowed());
    }

    #[test]
    fn line_buf_truncates_numbers() {
        let mut line = LineBuf::<4>::new();
        line.push_str("+X:");
        line.push_decimal(123u32);
        assert_eq!(line.as_bytes(), b"+X:1");
        assert!(line.overflowed());
    }

    #[test]
    fn line_buf_formats_and_truncates() {
        let mut line = LineBuf::<8>::new();
        let _ = write!(line, "+X:{}", 42);
        assert_eq!(line.as_bytes(), b"+X:42");
        assert!(!line.overflowed());
        let _ = write!(line, "{}", 12345);
        assert_eq!(line.as_bytes(), b"+X:42123");
        assert!(line.overflowed());
    }
}
