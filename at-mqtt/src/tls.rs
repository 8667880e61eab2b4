//! MQTT over TLS 1.3 with an external pre-shared key (scheme 2), on embedded-tls.
//!
//! embedded-tls's reads are not cancel-safe (a record header read halfway is lost),
//! while minimq abandons reads at its keepalive deadline and the runner selects between
//! the link and the host's requests. So the TLS halves are never touched by minimq: two
//! pumps that are never cancelled move plaintext between them and two in-memory pipes,
//! and minimq reads and writes the pipes, which are cancel-safe.

use core::cell::RefCell;
use core::convert::Infallible;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::pipe::Pipe;
use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, Write};
use embedded_tls::{
    Aes128GcmSha256, CryptoRngCore, TlsConfig, TlsConnection, TlsContext, TlsError, TlsReader,
    TlsWriter, UnsecureProvider,
};

use crate::network::SplitStream;

/// Bytes each pipe between minimq and the TLS pumps holds.
pub(crate) const PIPE_BYTES: usize = 1024;

/// What the runner needs for scheme 2: randomness and TLS record buffers.
pub struct TlsPsk<'a> {
    pub(crate) rng: &'a mut dyn CryptoRngCore,
    pub(crate) record_rx: &'a mut [u8],
    pub(crate) record_tx: &'a mut [u8],
}

impl<'a> TlsPsk<'a> {
    /// `rng` must be a cryptographic generator. `record_rx` holds one received TLS record
    /// (16,640 bytes covers any record); `record_tx` one sent record (at least 512 bytes;
    /// larger writes are split).
    pub fn new(
        rng: &'a mut dyn CryptoRngCore,
        record_rx: &'a mut [u8],
        record_tx: &'a mut [u8],
    ) -> Self {
        Self {
            rng,
            record_rx,
            record_tx,
        }
    }
}

/// The two halves of a split stream, each used by one side only.
pub(crate) struct Halves<R, W> {
    reader: RefCell<R>,
    writer: RefCell<W>,
}

impl<R, W> Halves<R, W> {
    pub(crate) fn new((reader, writer): (R, W)) -> Self {
        Self {
            reader: RefCell::new(reader),
            writer: RefCell::new(writer),
        }
    }
}

/// A copyable handle on [`Halves`], as embedded-tls's `split` needs a `Clone` socket.
pub(crate) struct HalvesRef<'h, R, W>(&'h Halves<R, W>);

impl<R, W> Clone for HalvesRef<'_, R, W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R, W> Copy for HalvesRef<'_, R, W> {}

impl<R, W> ErrorType for HalvesRef<'_, R, W> {
    type Error = ErrorKind;
}

impl<R: Read, W> Read for HalvesRef<'_, R, W> {
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "only the TLS reader (or the handshake, before the split) reads"
    )]
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let mut reader = self
            .0
            .reader
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?;
        reader.read(buf).await.map_err(|e| e.kind())
    }
}

impl<R, W: Write> Write for HalvesRef<'_, R, W> {
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "only the TLS writer (or the handshake, before the split) writes"
    )]
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let mut writer = self
            .0
            .writer
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?;
        writer.write(buf).await.map_err(|e| e.kind())
    }

    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "only the TLS writer (or the handshake, before the split) writes"
    )]
    async fn flush(&mut self) -> Result<(), ErrorKind> {
        let mut writer = self
            .0
            .writer
            .try_borrow_mut()
            .map_err(|_| ErrorKind::Other)?;
        writer.flush().await.map_err(|e| e.kind())
    }
}

/// A TLS connection over a split stream.
pub(crate) type Tls<'a, 'h, R, W> = TlsConnection<'a, HalvesRef<'h, R, W>, Aes128GcmSha256>;

/// Performs the TLS 1.3 handshake with the external PSK `key` for `identity`.
pub(crate) async fn open<'a, 'h: 'a, R: Read, W: Write>(
    halves: &'h Halves<R, W>,
    tls: &'a mut TlsPsk<'_>,
    identity: &[u8],
    key: &[u8],
) -> Result<Tls<'a, 'h, R, W>, TlsError> {
    let mut connection = TlsConnection::new(HalvesRef(halves), tls.record_rx, tls.record_tx);
    let config = TlsConfig::new().with_psk(key, &[identity]);
    let provider = UnsecureProvider::new::<Aes128GcmSha256>(&mut *tls.rng);
    connection.open(TlsContext::new(&config, provider)).await?;
    Ok(connection)
}

/// Splits a stream for [`Halves`].
pub(crate) fn split<S: SplitStream>(stream: &mut S) -> Halves<S::Reader<'_>, S::Writer<'_>> {
    Halves::new(stream.split())
}

/// The pipes between minimq and the TLS pumps.
pub(crate) struct Pipes {
    inbound: Pipe<NoopRawMutex, PIPE_BYTES>,
    outbound: Pipe<NoopRawMutex, PIPE_BYTES>,
}

impl Pipes {
    pub(crate) const fn new() -> Self {
        Self {
            inbound: Pipe::new(),
            outbound: Pipe::new(),
        }
    }

    /// minimq's side: reads decrypted bytes, writes plaintext to be encrypted.
    pub(crate) fn io(&self) -> PipeIo<'_> {
        PipeIo { pipes: self }
    }

    /// Moves decrypted bytes from `reader` into the inbound pipe until the stream ends.
    pub(crate) async fn pump_in<'a, S: Read + Write + Clone + 'a>(
        &self,
        reader: &mut TlsReader<'a, S, Aes128GcmSha256>,
    ) {
        let mut chunk = [0u8; 256];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    self.inbound
                        .write_all(chunk.get(..n).unwrap_or_default())
                        .await;
                }
            }
        }
    }

    /// Moves plaintext from the outbound pipe into `writer` until the stream fails.
    pub(crate) async fn pump_out<'a, S: Read + Write + Clone + 'a>(
        &self,
        writer: &mut TlsWriter<'a, S, Aes128GcmSha256>,
    ) {
        let mut chunk = [0u8; 256];
        loop {
            let n = self.outbound.read(&mut chunk).await;
            let data = chunk.get(..n).unwrap_or_default();
            if writer.write_all(data).await.is_err() || writer.flush().await.is_err() {
                return;
            }
        }
    }
}

/// minimq's transport over the pipes; cancel-safe both ways.
pub(crate) struct PipeIo<'p> {
    pipes: &'p Pipes,
}

impl ErrorType for PipeIo<'_> {
    type Error = Infallible;
}

impl Read for PipeIo<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        Ok(self.pipes.inbound.read(buf).await)
    }
}

impl Write for PipeIo<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(self.pipes.outbound.write(buf).await)
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        // The writing pump drains the pipe on its own.
        Ok(())
    }
}
