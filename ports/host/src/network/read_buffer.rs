//! The receive buffer of a broker connection: whole small packets in one system call.
//!
//! minimq asks for exactly the bytes it needs next (a fixed header byte, a length byte,
//! then the rest), so read straight from the socket a 4-byte PUBACK costs three
//! `recvfrom` calls, and a fourth that finds the socket empty (tokio clears a socket's
//! readiness only on `EAGAIN` or on a read that did not fill its buffer). Reading into
//! this buffer instead takes what has arrived in one call, and the short read tells
//! tokio the socket is drained.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Bytes read from the socket at a time: more than a typical MQTT packet.
pub(crate) const READ_BUFFER_BYTES: usize = 2048;

/// Bytes read from a socket and not yet consumed.
pub(crate) struct ReadBuffer {
    bytes: Box<[u8]>,
    /// `bytes[start..end]` is still to be consumed.
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// An empty buffer.
    pub(crate) fn new() -> Self {
        Self {
            bytes: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// Fills `dest` from the buffer, reading `socket` once when the buffer is empty;
    /// 0 only at the end of the stream (or for an empty `dest`). Cancel-safe: nothing
    /// changes before the socket's read completes.
    pub(crate) async fn read<R: AsyncRead + Unpin>(
        &mut self,
        socket: &mut R,
        dest: &mut [u8],
    ) -> std::io::Result<usize> {
        if dest.is_empty() {
            return Ok(0);
        }
        if self.start == self.end {
            if dest.len() >= self.bytes.len() {
                // As large as the buffer: straight in, no copy.
                return socket.read(dest).await;
            }
            let n = socket.read(&mut self.bytes).await?;
            self.start = 0;
            self.end = n;
        }
        let buffered = self.bytes.get(self.start..self.end).unwrap_or_default();
        let n = buffered.len().min(dest.len());
        dest[..n].copy_from_slice(&buffered[..n]);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncWriteExt, DuplexStream, ReadBuf};

    use super::*;

    /// A socket that counts the reads that completed.
    struct Counted {
        inner: DuplexStream,
        reads: usize,
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
            if polled.is_ready() {
                self.reads += 1;
            }
            polled
        }
    }

    fn socket(capacity: usize) -> (Counted, DuplexStream) {
        let (near, far) = tokio::io::duplex(capacity);
        (
            Counted {
                inner: near,
                reads: 0,
            },
            far,
        )
    }

    #[tokio::test]
    async fn a_packet_read_in_pieces_costs_one_socket_read() {
        let (mut near, mut far) = socket(64);
        // A PUBACK, then the start of the next packet.
        far.write_all(b"@\x02\x00\x07\x30").await.unwrap();
        let mut buffer = ReadBuffer::new();
        let (mut header, mut length, mut body) = ([0u8; 1], [0u8; 1], [0u8; 2]);
        assert_eq!(buffer.read(&mut near, &mut header).await.unwrap(), 1);
        assert_eq!(buffer.read(&mut near, &mut length).await.unwrap(), 1);
        assert_eq!(buffer.read(&mut near, &mut body).await.unwrap(), 2);
        assert_eq!((header, length, body), ([b'@'], [2], [0, 7]));
        assert_eq!(near.reads, 1, "three pieces, one socket read");
        // What is left comes first, then the end of the stream.
        drop(far);
        let mut rest = [0u8; 16];
        assert_eq!(buffer.read(&mut near, &mut rest).await.unwrap(), 1);
        assert_eq!(rest[0], 0x30);
        assert_eq!(buffer.read(&mut near, &mut rest).await.unwrap(), 0);
        assert_eq!(near.reads, 2);
    }

    #[tokio::test]
    async fn a_large_read_bypasses_the_buffer_and_an_empty_one_reads_nothing() {
        let (mut near, mut far) = socket(4 * READ_BUFFER_BYTES);
        let data: Vec<u8> = (0..=255u8).cycle().take(READ_BUFFER_BYTES + 10).collect();
        far.write_all(&data).await.unwrap();
        let mut buffer = ReadBuffer::new();
        assert_eq!(buffer.read(&mut near, &mut []).await.unwrap(), 0);
        assert_eq!(near.reads, 0);
        let mut dest = vec![0u8; READ_BUFFER_BYTES + 10];
        assert_eq!(
            buffer.read(&mut near, &mut dest).await.unwrap(),
            dest.len(),
            "straight into the destination, in one read"
        );
        assert_eq!(dest, data);
        assert_eq!(near.reads, 1);
    }
}
