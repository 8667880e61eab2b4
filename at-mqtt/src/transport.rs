//! [`Transport`]: the one byte stream minimq runs on, whichever scheme the host chose.
//!
//! Scheme 1 is the network's TCP stream itself; scheme 2 is the plaintext side of the
//! TLS pipes, which report end-of-stream when the TLS connection ends. One type for both
//! keeps a single copy of minimq's session and of the runner's link loop in the image.

use embedded_io_async::{Error as _, ErrorKind, ErrorType, Read, Write};

/// The stream under the MQTT session.
pub(crate) enum Transport<'t, S> {
    /// MQTT over TCP.
    Tcp(&'t mut S),
    /// MQTT over TLS, through the pipes.
    #[cfg(feature = "tls-psk")]
    Tls(crate::tls::PipeIo<'t>),
}

impl<'t, S> Transport<'t, S> {
    /// MQTT straight over `stream`.
    pub(crate) fn tcp(stream: &'t mut S) -> Self {
        Transport::Tcp(stream)
    }

    /// MQTT over the TLS pipes.
    #[cfg(feature = "tls-psk")]
    pub(crate) fn tls(pipes: crate::tls::PipeIo<'t>) -> Self {
        Transport::Tls(pipes)
    }
}

impl<S> ErrorType for Transport<'_, S> {
    type Error = ErrorKind;
}

impl<S: Read> Read for Transport<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        match self {
            Transport::Tcp(stream) => stream.read(buf).await.map_err(|e| e.kind()),
            #[cfg(feature = "tls-psk")]
            Transport::Tls(pipes) => pipes.read(buf).await,
        }
    }
}

impl<S: Write> Write for Transport<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        match self {
            Transport::Tcp(stream) => stream.write(buf).await.map_err(|e| e.kind()),
            #[cfg(feature = "tls-psk")]
            Transport::Tls(pipes) => pipes.write(buf).await,
        }
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        match self {
            Transport::Tcp(stream) => stream.flush().await.map_err(|e| e.kind()),
            #[cfg(feature = "tls-psk")]
            Transport::Tls(pipes) => pipes.flush().await,
        }
    }
}
