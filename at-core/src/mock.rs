//! A scripted mock UART for tests (feature `mock`; needs `std`): [`MockRx`] replays
//! [`Item`]s (data, gates, injected receive errors), [`MockTx`] records what was written,
//! and a few byte helpers make transcripts readable.
//!
//! [`block_on`] guards against hangs with an `embassy_time` timer, so the test crate must
//! give embassy-time a driver and a timer queue (e.g. its `std` and `generic-queue-8`
//! features).

use std::collections::VecDeque;
use std::future::Future;

use embassy_futures::select::{Either, select};
use embassy_futures::yield_now;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Timer};
use embedded_io_async::ErrorKind;

/// A one-shot event shared by the test, the mock UART and the command set.
pub type Gate = Signal<NoopRawMutex, ()>;

/// Concatenates byte strings: `cat(&[READY, b"AT\r\n", OK])`.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Shows bytes readably in assertion messages.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Asserts byte equality with a readable message.
#[track_caller]
pub fn assert_bytes(got: &[u8], expected: &[u8]) {
    assert!(
        got == expected,
        "output differs\n     got: {}\nexpected: {}",
        show(got),
        show(expected)
    );
}

/// One step of the scripted UART input.
pub enum Item<'a> {
    /// Bytes to deliver (split into reads of at most the reader's chunk size).
    Data(Vec<u8>),
    /// Once every byte before it has been read: signal the gate, then yield once so
    /// that the engine's other futures see it before more input arrives.
    Release(&'a Gate),
    /// Stall until the gate is signalled.
    Wait(&'a Gate),
    /// Fail the read with this error.
    Fail(ErrorKind),
}

/// Shorthand for [`Item::Data`].
pub fn data(bytes: &[u8]) -> Item<'static> {
    Item::Data(bytes.to_vec())
}

/// A scripted UART reader: yields the items in order, then end of input (`Ok(0)`).
///
/// Reads are cancel-safe: an item is removed only once it has had its effect.
pub struct MockRx<'a> {
    items: VecDeque<Item<'a>>,
    /// Chunk sizes to cycle through for reads (empty: as much as the buffer takes).
    chunks: Vec<usize>,
    next_chunk: usize,
}

impl<'a> MockRx<'a> {
    /// A reader over `items`, delivering each data item in as few reads as possible.
    pub fn new(items: Vec<Item<'a>>) -> Self {
        Self {
            items: items.into(),
            chunks: Vec::new(),
            next_chunk: 0,
        }
    }

    /// A reader over one block of bytes.
    pub fn bytes(input: &[u8]) -> Self {
        Self::new(vec![data(input)])
    }

    /// The same reader delivering one byte per read.
    pub fn bytewise(self) -> Self {
        self.chunked(vec![1])
    }

    /// The same reader delivering reads of the given sizes in turn (0 counts as 1).
    pub fn chunked(mut self, sizes: Vec<usize>) -> Self {
        self.chunks = sizes;
        self
    }

    fn chunk_limit(&mut self) -> usize {
        match self.chunks.get(self.next_chunk % self.chunks.len().max(1)) {
            Some(&size) => {
                self.next_chunk += 1;
                size.max(1)
            }
            None => usize::MAX,
        }
    }
}

impl embedded_io_async::ErrorType for MockRx<'_> {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for MockRx<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            match self.items.front_mut() {
                None => return Ok(0),
                Some(Item::Data(bytes)) if bytes.is_empty() => {
                    self.items.pop_front();
                }
                Some(Item::Data(_)) => {
                    let limit = self.chunk_limit();
                    let Some(Item::Data(bytes)) = self.items.front_mut() else {
                        continue;
                    };
                    let n = bytes.len().min(buf.len()).min(limit);
                    for (slot, byte) in buf.iter_mut().zip(bytes.drain(..n)) {
                        *slot = byte;
                    }
                    if bytes.is_empty() {
                        self.items.pop_front();
                    }
                    return Ok(n);
                }
                Some(Item::Release(gate)) => {
                    let gate = *gate;
                    self.items.pop_front();
                    gate.signal(());
                    yield_now().await;
                }
                Some(Item::Wait(gate)) => {
                    let gate = *gate;
                    gate.wait().await;
                    self.items.pop_front();
                }
                Some(Item::Fail(kind)) => {
                    let kind = *kind;
                    self.items.pop_front();
                    return Err(kind);
                }
            }
        }
    }
}

/// A UART writer that records every byte, optionally failing after `fail_after` bytes.
#[derive(Debug, Default)]
pub struct MockTx {
    /// Everything written.
    pub out: Vec<u8>,
    /// Fail writes once this many bytes have been accepted.
    pub fail_after: Option<usize>,
    /// The number of flushes.
    pub flushes: usize,
    /// Make every write wait for one turn of the executor first, like a UART that takes
    /// time to send (other joined futures, e.g. a URC producer, run meanwhile).
    pub slow: bool,
}

impl MockTx {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }
}

impl embedded_io_async::ErrorType for MockTx {
    type Error = ErrorKind;
}

impl embedded_io_async::Write for MockTx {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        if self.slow {
            yield_now().await;
        }
        let room = match self.fail_after {
            Some(limit) => limit.saturating_sub(self.out.len()),
            None => usize::MAX,
        };
        if room == 0 && !buf.is_empty() {
            return Err(ErrorKind::BrokenPipe);
        }
        let n = buf.len().min(room);
        self.out.extend_from_slice(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.flushes += 1;
        Ok(())
    }
}

/// Runs `future` to completion, failing the test if it takes more than 20 s (a hang).
#[allow(clippy::panic, reason = "a hang fails the test")]
pub fn block_on<F: Future>(future: F) -> F::Output {
    embassy_futures::block_on(async {
        match select(future, Timer::after(Duration::from_secs(20))).await {
            Either::First(output) => output,
            Either::Second(()) => panic!("the engine hung"),
        }
    })
}
