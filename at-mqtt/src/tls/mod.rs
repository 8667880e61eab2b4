//! MQTT over TLS 1.3 on embedded-tls: the handshake of every TLS scheme (an external
//! pre-shared key; with the `tls-cert` feature certificates, see [`cert`]), and the
//! pumps that carry the connection afterwards, whatever the handshake was.
//!
//! embedded-tls's reads are not cancel-safe (a record header read halfway is lost),
//! while minimq abandons reads at its keepalive deadline and the runner selects between
//! the link and the host's requests. So the TLS halves are never touched by minimq: two
//! pumps that are never cancelled move plaintext between them and two in-memory pipes,
//! and minimq reads and writes the pipes, which are cancel-safe.

use core::cell::{Cell, RefCell};
use core::convert::Infallible;
use core::future::poll_fn;
use core::pin::pin;
use core::task::Poll;

use embassy_futures::select::{Either, select};
use embassy_sync::waitqueue::WakerRegistration;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::pipe::Pipe;
use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, Write};
#[cfg(not(feature = "tls-cert"))]
use embedded_tls::CryptoProvider;
use embedded_tls::{
    Aes128GcmSha256, CryptoRngCore, MaxFragmentLength, TlsConfig, TlsConnection, TlsContext,
    TlsReader, TlsWriter,
};

use at_core::ErrorCode;

use crate::error::CLIENT_START_FAILED;
use crate::network::SplitStream;

#[cfg(feature = "tls-cert")]
pub(crate) mod cert;
pub(crate) mod plan;
#[cfg(feature = "tls-cert")]
mod verify;
#[cfg(feature = "tls-cert")]
mod x509;

/// Bytes each pipe between minimq and the TLS pumps holds.
pub(crate) const PIPE_BYTES: usize = 1024;

/// What the runner needs for TLS: randomness and TLS record buffers (and, feature
/// `tls-cert`, the credential buffers of the certificate schemes).
pub struct TlsPsk<'a> {
    pub(crate) rng: &'a mut dyn CryptoRngCore,
    pub(crate) record_rx: &'a mut [u8],
    pub(crate) record_tx: &'a mut [u8],
    #[cfg(feature = "tls-cert")]
    pub(crate) certs: Option<cert::CertBuffers<'a>>,
}

impl<'a> TlsPsk<'a> {
    /// `rng` must be a cryptographic generator. `record_rx` holds one received TLS record
    /// ([`TLS_RECORD_RX_BYTES`](crate::budget::TLS_RECORD_RX_BYTES) for the fragment
    /// length the broker is asked for); `record_tx` one sent record (at least 512 bytes;
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
            #[cfg(feature = "tls-cert")]
            certs: None,
        }
    }

    /// Enables the certificate schemes (3, 4, 5; the esp-at profile's 2) with `buffers`
    /// for the credentials.
    #[cfg(feature = "tls-cert")]
    pub fn with_cert_buffers(mut self, buffers: cert::CertBuffers<'a>) -> Self {
        self.certs = Some(buffers);
        self
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

/// The largest record plaintext the broker is asked to send (the `max_fragment_length`
/// extension, RFC 6066): [`TLS_FRAGMENT_BYTES`](crate::budget::TLS_FRAGMENT_BYTES).
pub(crate) const MAX_FRAGMENT_LENGTH: MaxFragmentLength = MaxFragmentLength::Bits12;
const _: () = assert!(crate::budget::TLS_FRAGMENT_BYTES == 4096);

/// embedded-tls's crypto for TLS-PSK in a build without certificates: randomness only.
/// A PSK handshake neither verifies a certificate nor signs, so none of that code is
/// linked (embedded-tls's `UnsecureProvider` brings in ECDSA signing and SEC1/DER key
/// parsing).
#[cfg(not(feature = "tls-cert"))]
struct PskProvider<'r> {
    rng: &'r mut dyn CryptoRngCore,
}

#[cfg(not(feature = "tls-cert"))]
impl CryptoProvider for PskProvider<'_> {
    type CipherSuite = Aes128GcmSha256;
    /// Never produced: the default `signer` refuses.
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut *self.rng
    }
}

/// What one handshake sends and checks.
pub(crate) struct Handshake<'p> {
    /// The PSK identity and key (TLS-PSK), or none (certificates).
    pub(crate) psk: Option<(&'p [u8], &'p [u8])>,
    /// The server name sent (and verified against the certificate).
    pub(crate) server_name: Option<&'p str>,
    /// The ALPN protocols offered.
    pub(crate) alpn: &'p [&'p [u8]],
    /// The credentials of a certificate scheme, and the connect host when it is an IP
    /// address without SNI.
    #[cfg(feature = "tls-cert")]
    pub(crate) cert: Option<(cert::Loaded, Option<core::net::IpAddr>)>,
}

/// Performs the TLS 1.3 handshake; the error is `AT+MQTTCONN`'s code.
pub(crate) async fn open<'a, 'h: 'a, R: Read, W: Write>(
    halves: &'h Halves<R, W>,
    tls: &'a mut TlsPsk<'_>,
    handshake: Handshake<'_>,
) -> Result<Tls<'a, 'h, R, W>, ErrorCode> {
    #[cfg(feature = "tls-cert")]
    let TlsPsk {
        rng,
        record_rx,
        record_tx,
        certs,
    } = tls;
    #[cfg(not(feature = "tls-cert"))]
    let TlsPsk {
        rng,
        record_rx,
        record_tx,
    } = tls;
    let mut connection = TlsConnection::new(HalvesRef(halves), record_rx, record_tx);
    let mut config = TlsConfig::new().with_max_fragment_length(MAX_FRAGMENT_LENGTH);
    if let Some((identity, key)) = handshake.psk {
        config = config.with_psk(key, &[identity]);
    }
    if let Some(name) = handshake.server_name {
        config = config.with_server_name(name);
    }
    if !handshake.alpn.is_empty() {
        config = config.with_alpn(handshake.alpn);
    }
    #[cfg(feature = "tls-cert")]
    let mut provider = match (handshake.cert, certs.as_ref()) {
        (Some((loaded, ip)), Some(buffers)) => {
            cert::ModemProvider::new(&mut **rng, buffers, loaded, ip)
        }
        (Some(_), None) => return Err(crate::error::TLS_CONFIG_ERROR),
        (None, _) => cert::ModemProvider::plain(&mut **rng),
    };
    #[cfg(not(feature = "tls-cert"))]
    let mut provider = PskProvider { rng: &mut **rng };
    match connection
        .open(TlsContext::new(&config, &mut provider))
        .await
    {
        Ok(()) => Ok(connection),
        Err(error) => {
            warn!(
                "TLS handshake failed: {:?}",
                crate::fmt::Debug2Format(&error)
            );
            if handshake.psk.is_some() {
                return Err(CLIENT_START_FAILED);
            }
            #[cfg(feature = "tls-cert")]
            return Err(provider.refusal(&error));
            #[cfg(not(feature = "tls-cert"))]
            Err(CLIENT_START_FAILED)
        }
    }
}

/// Splits a stream for [`Halves`].
pub(crate) fn split<S: SplitStream>(stream: &mut S) -> Halves<S::Reader<'_>, S::Writer<'_>> {
    Halves::new(stream.split())
}

/// The pipes between minimq and the TLS pumps, and whether the TLS stream has ended.
pub(crate) struct Pipes {
    inbound: Pipe<NoopRawMutex, PIPE_BYTES>,
    outbound: Pipe<NoopRawMutex, PIPE_BYTES>,
    closed: Cell<bool>,
    closing: RefCell<WakerRegistration>,
}

impl Pipes {
    pub(crate) const fn new() -> Self {
        Self {
            inbound: Pipe::new(),
            outbound: Pipe::new(),
            closed: Cell::new(false),
            closing: RefCell::new(WakerRegistration::new()),
        }
    }

    /// minimq's side: reads decrypted bytes, writes plaintext to be encrypted.
    pub(crate) fn io(&self) -> PipeIo<'_> {
        PipeIo { pipes: self }
    }

    /// Moves bytes between the TLS halves and the pipes until the TLS stream ends or
    /// fails; then closes the pipes (minimq sees end-of-stream) and waits for ever.
    /// Never cancel it while the link is used: embedded-tls's reads are not cancel-safe.
    pub(crate) async fn pump<'a, S: Read + Write + Clone + 'a>(
        &self,
        reader: &mut TlsReader<'a, S, Aes128GcmSha256>,
        writer: &mut TlsWriter<'a, S, Aes128GcmSha256>,
    ) -> Infallible {
        select(pin!(self.pump_in(reader)), pin!(self.pump_out(writer))).await;
        info!("TLS stream ended");
        self.closed.set(true);
        if let Ok(mut closing) = self.closing.try_borrow_mut() {
            closing.wake();
        }
        core::future::pending().await
    }

    /// Moves decrypted bytes from `reader` into the inbound pipe until the stream ends.
    async fn pump_in<'a, S: Read + Write + Clone + 'a>(
        &self,
        reader: &mut TlsReader<'a, S, Aes128GcmSha256>,
    ) {
        let mut chunk = [0u8; 256];
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) => return,
                Err(error) => {
                    warn!("TLS read: {:?}", crate::fmt::Debug2Format(&error));
                    return;
                }
                Ok(n) => {
                    self.inbound
                        .write_all(chunk.get(..n).unwrap_or_default())
                        .await;
                }
            }
        }
    }

    /// Moves plaintext from the outbound pipe into `writer` until the stream fails.
    async fn pump_out<'a, S: Read + Write + Clone + 'a>(
        &self,
        writer: &mut TlsWriter<'a, S, Aes128GcmSha256>,
    ) {
        let mut chunk = [0u8; 256];
        loop {
            let n = self.outbound.read(&mut chunk).await;
            let data = chunk.get(..n).unwrap_or_default();
            if let Err(error) = writer.write_all(data).await {
                warn!("TLS write: {:?}", crate::fmt::Debug2Format(&error));
                return;
            }
            if let Err(error) = writer.flush().await {
                warn!("TLS flush: {:?}", crate::fmt::Debug2Format(&error));
                return;
            }
        }
    }

    /// Waits until the pumps have stopped.
    async fn until_closed(&self) {
        poll_fn(|cx| {
            if self.closed.get() {
                return Poll::Ready(());
            }
            if let Ok(mut closing) = self.closing.try_borrow_mut() {
                closing.register(cx.waker());
            }
            Poll::Pending
        })
        .await;
    }
}

/// minimq's transport over the pipes: cancel-safe both ways, and at end-of-stream once
/// the TLS stream has ended (reads give what is left, then 0; writes fail).
pub(crate) struct PipeIo<'p> {
    pipes: &'p Pipes,
}

impl PipeIo<'_> {
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let pipes = self.pipes;
        if pipes.closed.get() {
            return Ok(pipes.inbound.try_read(buf).unwrap_or(0));
        }
        match select(pipes.inbound.read(buf), pipes.until_closed()).await {
            Either::First(n) => Ok(n),
            Either::Second(()) => Ok(0),
        }
    }

    pub(crate) async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        let pipes = self.pipes;
        if pipes.closed.get() {
            return Err(ErrorKind::BrokenPipe);
        }
        match select(pipes.outbound.write(buf), pipes.until_closed()).await {
            Either::First(n) => Ok(n),
            Either::Second(()) => Err(ErrorKind::BrokenPipe),
        }
    }

    pub(crate) async fn flush(&mut self) -> Result<(), ErrorKind> {
        // The writing pump drains the pipe on its own.
        if self.pipes.closed.get() {
            return Err(ErrorKind::BrokenPipe);
        }
        Ok(())
    }
}
