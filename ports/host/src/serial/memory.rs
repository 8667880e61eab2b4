//! An in-memory serial line: a tokio duplex pipe whose one end is the host's and whose
//! other end, split into halves, is the modem's. `--script` plays its file over one;
//! benchmarks drive the modem in their own process over one. The modem's end knows when
//! the host last wrote, so that a paced line ([`crate::serial::paced`]) never has the
//! host's bytes arrive before they were sent.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf, ReadHalf, WriteHalf};
use tokio::time::Instant;

use crate::serial::paced::Arrival;

/// When the host last wrote to the line (`None` before its first write).
type WriteTime = Arc<Mutex<Option<Instant>>>;

/// The host's end of an in-memory line: a byte stream both ways.
pub struct HostEnd {
    line: DuplexStream,
    written: WriteTime,
}

/// What the host sent, as the modem reads it.
pub struct ModemRx {
    line: FromTokio<ReadHalf<DuplexStream>>,
    written: WriteTime,
}

/// The modem's end of an in-memory line, as [`crate::modem::serve`] takes it.
pub struct ModemEnd {
    /// What the host sent.
    pub rx: ModemRx,
    /// What the modem answers.
    pub tx: FromTokio<WriteHalf<DuplexStream>>,
}

/// A line that holds up to `buffer` bytes in each direction: the host's end and the
/// modem's. Dropping the host's end is the end of the modem's input.
pub fn open(buffer: usize) -> (HostEnd, ModemEnd) {
    let (host, modem) = tokio::io::duplex(buffer);
    let (rx, tx) = tokio::io::split(modem);
    let written = WriteTime::default();
    let modem = ModemEnd {
        rx: ModemRx {
            line: FromTokio::new(rx),
            written: written.clone(),
        },
        tx: FromTokio::new(tx),
    };
    (
        HostEnd {
            line: host,
            written,
        },
        modem,
    )
}

impl AsyncRead for HostEnd {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.line).poll_read(cx, buf)
    }
}

impl AsyncWrite for HostEnd {
    /// Notes the time of every write that passes bytes.
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.line).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            *this.written.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.line).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.line).poll_shutdown(cx)
    }
}

impl ErrorType for ModemRx {
    type Error = io::Error;
}

impl Read for ModemRx {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        self.line.read(buf).await
    }
}

/// The time of the host's latest write: when the last read's bytes had all arrived, or
/// later if the host has written again since (never earlier).
impl Arrival for ModemRx {
    fn arrived_at(&self) -> Option<Instant> {
        *self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// The modem's end reports no arrival before the host writes, then the time of the
    /// host's write, and reads what was written.
    #[tokio::test]
    async fn the_modem_end_knows_when_the_host_wrote() {
        let (mut host, mut modem) = open(64);
        assert_eq!(modem.rx.arrived_at(), None);
        let before = Instant::now();
        host.write_all(b"AT\r\n").await.unwrap();
        let after = Instant::now();
        let mut buf = [0; 8];
        let n = modem.rx.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"AT\r\n");
        let arrived = modem.rx.arrived_at().expect("an arrival time");
        assert!(before <= arrived && arrived <= after);
    }
}
