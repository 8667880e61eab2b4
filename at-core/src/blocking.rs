//! The blocking driver: the same engine over blocking `embedded_io` UART halves.
//!
//! [`Polled`] turns a blocking reader that can report readiness into a cancel-safe async
//! one (and a blocking writer into an async one); [`Engine::run_blocking`] then drives
//! the async driver with a spinning `block_on`. Command futures that wait on other work
//! (such as an MQTT runner) must be polled in the same `block_on`, e.g. with
//! `embassy_futures::join`, around [`Engine::run`] on [`Polled`] halves.

use core::future::poll_fn;
use core::task::Poll;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write};

use crate::{CommandSet, Engine, Stop};

/// Adapts a blocking UART half to `embedded_io_async`.
///
/// Reads return only when [`ReadReady::read_ready`] says data is waiting, so they never
/// block and are cancel-safe.
#[derive(Debug)]
pub struct Polled<T>(pub T);

impl<T: ErrorType> ErrorType for Polled<T> {
    type Error = T::Error;
}

impl<T: Read + ReadReady> embedded_io_async::Read for Polled<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        poll_fn(|cx| match self.0.read_ready() {
            Ok(true) => Poll::Ready(self.0.read(buf)),
            Ok(false) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        })
        .await
    }
}

impl<T: Write> embedded_io_async::Write for Polled<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

impl<const URC: usize> Engine<'_, URC> {
    /// Runs the modem over blocking UART halves until `AT+RST`, end of input or an error.
    #[doc(hidden)]
    pub fn run_blocking<R, W, S>(
        &mut self,
        rx: R,
        tx: W,
        commands: &mut S,
    ) -> Result<Stop, ErrorKind>
    where
        R: Read + ReadReady,
        W: Write,
        S: CommandSet,
    {
        let mut rx = Polled(rx);
        let mut tx = Polled(tx);
        embassy_futures::block_on(self.run(&mut rx, &mut tx, commands))
    }
}
