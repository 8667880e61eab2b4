//! The network seam: how the runner opens a byte stream to the broker.
//!
//! A port implements [`Network`] for its stack (embassy-net on boards, the host's TCP in
//! the simulator); the runner calls it for every connect and reconnect.

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConnectError::NetworkDown => "the network is down",
            ConnectError::Dns => "the host name could not be resolved",
            ConnectError::Refused => "the connection was refused or reset",
            ConnectError::Timeout => "the connection timed out",
            ConnectError::NoResources => "no socket or buffer available",
        })
    }
}

impl core::error::Error for ConnectError {}

/// Why a connection to the broker could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectError {
    /// The network is not up (no link, no address).
    NetworkDown,
    /// The host name could not be resolved.
    Dns,
    /// The TCP connection was refused or reset.
    Refused,
    /// The TCP connection did not complete in time.
    Timeout,
    /// No socket or buffer was available.
    NoResources,
}

/// Splits a stream into halves that can be used at the same time (TLS needs a reader
/// and a writer that never wait for each other).
pub trait SplitStream {
    /// The reading half.
    type Reader<'s>: embedded_io_async::Read
    where
        Self: 's;
    /// The writing half.
    type Writer<'s>: embedded_io_async::Write
    where
        Self: 's;

    /// Borrows both halves.
    fn split(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>);
}

/// Opens TCP streams to a broker.
#[allow(async_fn_in_trait)]
pub trait Network {
    /// A connected stream; dropping it closes the connection. Reads must be cancel-safe,
    /// and the halves of [`SplitStream`] usable at the same time (TLS needs that).
    type Stream<'a>: embedded_io_async::Read + embedded_io_async::Write + SplitStream
    where
        Self: 'a;

    /// Resolves `host` (a domain name or an IPv4 literal) and connects to `port`.
    async fn connect(&mut self, host: &str, port: u16) -> Result<Self::Stream<'_>, ConnectError>;
}

#[cfg(feature = "embassy-net")]
mod embassy;
#[cfg(feature = "embassy-net")]
pub use embassy::{EmbassyNetwork, EmbassyStream, EmbassyWriter};
