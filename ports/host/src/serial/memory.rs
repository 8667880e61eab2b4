//! An in-memory serial line between a host and the modem on the same thread: `--script`
//! plays its file over one; benchmarks drive the modem in their own process over one.
//! Each direction holds a bounded number of bytes, so a side that stops reading holds
//! the other back as a UART's buffers do. The modem's end knows when the host last
//! wrote, so that a paced line ([`crate::serial::paced`]) never has the host's bytes
//! arrive before they were sent.
//!
//! Both ends live on one thread (a `LocalSet` task or a `join!`): the line is a
//! `RefCell`, without the lock and atomics a line between threads would pay on every
//! read and write.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use embedded_io_async::{ErrorType, Read, Write};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::serial::paced::Arrival;

/// One direction of the line: the bytes written and not yet read, and who waits.
struct Pipe {
    bytes: VecDeque<u8>,
    /// The most bytes it holds; a writer waits for room beyond that.
    capacity: usize,
    /// The reader waiting for bytes.
    reader: Option<Waker>,
    /// The writer waiting for room.
    writer: Option<Waker>,
    /// The writing end is gone: once its bytes are read, the reader gets end of input.
    writer_gone: bool,
    /// The reading end is gone: writes fail.
    reader_gone: bool,
}

impl Pipe {
    fn new(capacity: usize) -> Self {
        Self {
            bytes: VecDeque::with_capacity(capacity),
            capacity,
            reader: None,
            writer: None,
            writer_gone: false,
            reader_gone: false,
        }
    }

    /// Moves up to `room` bytes out through `take` (each slice in order); `Ready(0)` is
    /// the end of input. Returns the waker of a writer that may go on.
    fn poll_read(
        &mut self,
        cx: &Context<'_>,
        room: usize,
        mut take: impl FnMut(&[u8]),
    ) -> (Poll<usize>, Option<Waker>) {
        if room == 0 {
            return (Poll::Ready(0), None);
        }
        if self.bytes.is_empty() {
            if self.writer_gone {
                return (Poll::Ready(0), None);
            }
            self.reader = Some(cx.waker().clone());
            return (Poll::Pending, None);
        }
        let (first, second) = self.bytes.as_slices();
        let from_first = first.len().min(room);
        take(first.get(..from_first).unwrap_or_default());
        let from_second = second.len().min(room - from_first);
        take(second.get(..from_second).unwrap_or_default());
        let n = from_first + from_second;
        self.bytes.drain(..n);
        (Poll::Ready(n), self.writer.take())
    }

    /// Takes as many of `buf`'s bytes as there is room for. Returns the waker of a
    /// reader that may go on.
    fn poll_write(
        &mut self,
        cx: &Context<'_>,
        buf: &[u8],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        if self.reader_gone {
            return (Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())), None);
        }
        if buf.is_empty() {
            return (Poll::Ready(Ok(0)), None);
        }
        let room = self.capacity - self.bytes.len();
        if room == 0 {
            self.writer = Some(cx.waker().clone());
            return (Poll::Pending, None);
        }
        let n = room.min(buf.len());
        self.bytes.extend(buf.get(..n).unwrap_or_default());
        (Poll::Ready(Ok(n)), self.reader.take())
    }

    /// The writing end is gone: the reader gets the rest, then end of input.
    fn close_writer(&mut self) -> Option<Waker> {
        self.writer_gone = true;
        self.reader.take()
    }

    /// The reading end is gone: the writer fails.
    fn close_reader(&mut self) -> Option<Waker> {
        self.reader_gone = true;
        self.writer.take()
    }
}

/// Both directions, and when the host last wrote.
struct Line {
    to_modem: Pipe,
    to_host: Pipe,
    /// When the host last wrote bytes (`None` before its first write).
    written: Option<Instant>,
}

type Shared = Rc<RefCell<Line>>;

/// Wakes the side that may go on, once the line is no longer borrowed.
fn wake<T>((poll, waker): (T, Option<Waker>)) -> T {
    if let Some(waker) = waker {
        waker.wake();
    }
    poll
}

/// The host's end of an in-memory line: a byte stream both ways.
pub struct HostEnd {
    line: Shared,
}

/// What the host sent, as the modem reads it.
pub struct ModemRx {
    line: Shared,
}

/// What the modem answers, as it writes it.
pub struct ModemTx {
    line: Shared,
}

/// The modem's end of an in-memory line, as [`crate::modem::serve`] takes it.
pub struct ModemEnd {
    /// What the host sent.
    pub rx: ModemRx,
    /// What the modem answers.
    pub tx: ModemTx,
}

/// A line that holds up to `buffer` bytes in each direction: the host's end and the
/// modem's. Dropping the host's end is the end of the modem's input.
pub fn open(buffer: usize) -> (HostEnd, ModemEnd) {
    let line = Rc::new(RefCell::new(Line {
        to_modem: Pipe::new(buffer),
        to_host: Pipe::new(buffer),
        written: None,
    }));
    let modem = ModemEnd {
        rx: ModemRx { line: line.clone() },
        tx: ModemTx { line: line.clone() },
    };
    (HostEnd { line }, modem)
}

impl AsyncRead for HostEnd {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.remaining();
        let read = self
            .line
            .borrow_mut()
            .to_host
            .poll_read(cx, room, |bytes| buf.put_slice(bytes));
        wake(read).map(|_| Ok(()))
    }
}

impl AsyncWrite for HostEnd {
    /// Notes the time of every write that passes bytes.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = {
            let mut line = self.line.borrow_mut();
            let written = line.to_modem.poll_write(cx, buf);
            if let (Poll::Ready(Ok(1..)), _) = written {
                line.written = Some(Instant::now());
            }
            written
        };
        wake(written)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Ends the modem's input, as dropping the end does.
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let waker = self.line.borrow_mut().to_modem.close_writer();
        wake((Poll::Ready(Ok(())), waker))
    }
}

impl Drop for HostEnd {
    fn drop(&mut self) {
        let wakers = {
            let mut line = self.line.borrow_mut();
            [line.to_modem.close_writer(), line.to_host.close_reader()]
        };
        wakers.into_iter().flatten().for_each(Waker::wake);
    }
}

impl ErrorType for ModemRx {
    type Error = io::Error;
}

impl Read for ModemRx {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        std::future::poll_fn(|cx| {
            let mut at = 0;
            let read = self
                .line
                .borrow_mut()
                .to_modem
                .poll_read(cx, buf.len(), |bytes| {
                    if let Some(into) = buf.get_mut(at..at + bytes.len()) {
                        into.copy_from_slice(bytes);
                    }
                    at += bytes.len();
                });
            wake(read).map(Ok)
        })
        .await
    }
}

/// The time of the host's latest write: when the last read's bytes had all arrived, or
/// later if the host has written again since (never earlier).
impl Arrival for ModemRx {
    fn arrived_at(&self) -> Option<Instant> {
        self.line.borrow().written
    }
}

impl Drop for ModemRx {
    fn drop(&mut self) {
        let waker = self.line.borrow_mut().to_modem.close_reader();
        wake(((), waker));
    }
}

impl ErrorType for ModemTx {
    type Error = io::Error;
}

impl Write for ModemTx {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        std::future::poll_fn(|cx| wake(self.line.borrow_mut().to_host.poll_write(cx, buf))).await
    }

    async fn flush(&mut self) -> Result<(), io::Error> {
        Ok(())
    }
}

impl Drop for ModemTx {
    fn drop(&mut self) {
        let waker = self.line.borrow_mut().to_host.close_writer();
        wake(((), waker));
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

    /// A full direction holds its writer back until the reader makes room, and the
    /// bytes come out in order across the ring's wrap.
    #[tokio::test]
    async fn a_full_line_holds_the_writer_back() {
        let (mut host, mut modem) = open(8);
        let sent: Vec<u8> = (0..200).collect();
        let reader = async {
            let mut got = Vec::new();
            let mut buf = [0; 5];
            while got.len() < sent.len() {
                let n = modem.rx.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            got
        };
        let (written, got) = tokio::join!(host.write_all(&sent), reader);
        written.unwrap();
        assert_eq!(got, sent);
    }

    /// Dropping the host's end ends the modem's input once its bytes are read and
    /// fails the modem's writes; dropping the modem's end ends the host's.
    #[tokio::test]
    async fn a_dropped_end_is_the_end_of_the_stream() {
        let (mut host, mut modem) = open(16);
        host.write_all(b"AT").await.unwrap();
        drop(host);
        let mut buf = [0; 4];
        assert_eq!(modem.rx.read(&mut buf).await.unwrap(), 2);
        assert_eq!(modem.rx.read(&mut buf).await.unwrap(), 0);
        let refused = modem.tx.write(b"OK").await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::BrokenPipe);

        let (mut host, modem) = open(16);
        let ModemEnd { rx, mut tx } = modem;
        tx.write_all(b"ready").await.unwrap();
        drop(tx);
        let mut seen = Vec::new();
        host.read_to_end(&mut seen).await.unwrap();
        assert_eq!(seen, b"ready");
        drop(rx);
        let refused = host.write_all(b"AT").await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::BrokenPipe);
    }
}
