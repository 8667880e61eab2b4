//! The AT UART's receive side: a task moves UART1's bytes into RAM, so that input keeps
//! flowing while the engine writes a long response, and [`UartInput`] hands them to the
//! engine with each receive error at its place in the byte stream.

use embassy_futures::select::{Either, select};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::pipe::Pipe;
use embedded_io_async::{ErrorKind, ErrorType, Read};
use esp_hal::Async;
use esp_hal::uart::UartRx;
use log::warn;

/// Received AT bytes buffered in RAM beyond the UART's 128-byte hardware FIFO.
const UART_RX_BYTES: usize = 1024;
/// Receive errors that may wait for the engine at once; more are logged only.
const FAULTS: usize = 4;

/// AT input on its way from the UART1 receiver to the engine.
static INPUT: Pipe<CriticalSectionRawMutex, UART_RX_BYTES> = Pipe::new();
/// Receive errors on their way to the engine, each with the count of bytes (wrapping)
/// written to [`INPUT`] before it.
static ERRORS: Channel<CriticalSectionRawMutex, (u32, ErrorKind), FAULTS> = Channel::new();

/// Moves received bytes from UART1's hardware FIFO into [`INPUT`]. A line error (framing,
/// parity, FIFO overflow) drops the bytes concerned; it is logged and passed on to the
/// engine, which discards the line it damaged. Reading goes on.
#[embassy_executor::task]
pub async fn rx_task(mut rx: UartRx<'static, Async>) -> ! {
    let mut chunk = [0; 64];
    let mut written = 0u32;
    loop {
        match rx.read_async(&mut chunk).await {
            Ok(n) => {
                INPUT.write_all(chunk.get(..n).unwrap_or_default()).await;
                written = written.wrapping_add(n as u32);
            }
            Err(error) => {
                warn!("AT UART receive error: {}", error);
                let kind = embedded_io_async::Error::kind(&error);
                if ERRORS.try_send((written, kind)).is_err() {
                    warn!("AT UART: too many receive errors waiting; this one is not passed on");
                }
            }
        }
    }
}

/// The engine's end of the receive side: the bytes of [`INPUT`], with each receive error
/// returned once the bytes received before it have been read.
#[derive(Default)]
pub struct UartInput {
    /// Bytes read from [`INPUT`] so far (wrapping).
    read: u32,
    /// The next receive error and its place, once taken from [`ERRORS`].
    error: Option<(u32, ErrorKind)>,
}

impl ErrorType for UartInput {
    type Error = ErrorKind;
}

impl Read for UartInput {
    /// Cancel-safe: what it has taken from [`INPUT`] and [`ERRORS`] is kept in `self`
    /// before it can be cancelled.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            if self.error.is_none() {
                self.error = ERRORS.try_receive().ok();
            }
            let n = match self.error {
                Some((at, kind)) => {
                    let before = at.wrapping_sub(self.read) as usize;
                    if before == 0 {
                        self.error = None;
                        return Err(kind);
                    }
                    let buf = buf.get_mut(..before.min(buf.len())).unwrap_or_default();
                    INPUT.read(buf).await
                }
                None => match select(INPUT.read(buf), ERRORS.receive()).await {
                    Either::First(n) => n,
                    Either::Second(error) => {
                        self.error = Some(error);
                        continue;
                    }
                },
            };
            self.read = self.read.wrapping_add(n as u32);
            return Ok(n);
        }
    }
}
