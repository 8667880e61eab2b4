//! Resuming a broker session across modem restarts.
//!
//! minimq starts every new session with `Clean Start = 1`, which would discard the
//! session a broker kept for a persistent client (`disable_clean_session=1`) while the
//! modem was off. [`ResumeSession`] wraps the stream of such a first connect and clears
//! the Clean Start flag of the CONNECT packet as it is written; the broker then resumes
//! the session if it has one (CONNACK "session present"), which minimq accepts.

use embedded_io_async::{ErrorType, Read, Write};

/// The CONNECT flags' Clean Start bit.
const CLEAN_START: u8 = 0x02;
/// Bytes between the remaining-length field and the flags: protocol name and version.
const NAME_AND_VERSION: usize = 7;

/// Where the writer stands in the CONNECT packet's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    /// At `offset` bytes; the remaining length ends at `length_end` once known.
    Scanning {
        offset: usize,
        length_end: Option<usize>,
    },
    /// The flags were written (or the stream is not a CONNECT): pass through.
    Done,
}

impl Header {
    /// Whether the byte at the current offset is the flags byte.
    fn at_flags(self) -> bool {
        matches!(self, Header::Scanning { offset, length_end: Some(end) } if offset == end + 1 + NAME_AND_VERSION)
    }

    /// Advances over one written byte.
    fn advance(self, byte: u8) -> Self {
        let Header::Scanning { offset, length_end } = self else {
            return Header::Done;
        };
        if self.at_flags() || (offset == 0 && byte & 0xF0 != 0x10) {
            return Header::Done;
        }
        let length_end = match length_end {
            None if offset >= 1 && byte & 0x80 == 0 => Some(offset),
            None if offset > 4 => return Header::Done,
            other => other,
        };
        Header::Scanning {
            offset: offset + 1,
            length_end,
        }
    }
}

/// A stream whose first CONNECT packet goes out with Clean Start cleared.
pub struct ResumeSession<S> {
    inner: S,
    header: Header,
}

impl<S> ResumeSession<S> {
    /// Wraps `inner`; with `resume` false it only passes bytes through.
    pub fn new(inner: S, resume: bool) -> Self {
        Self {
            inner,
            header: if resume {
                Header::Scanning {
                    offset: 0,
                    length_end: None,
                }
            } else {
                Header::Done
            },
        }
    }
}

impl<S: ErrorType> ErrorType for ResumeSession<S> {
    type Error = S::Error;
}

impl<S: Read> Read for ResumeSession<S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.inner.read(buf).await
    }
}

impl<S: Write> Write for ResumeSession<S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if self.header == Header::Done {
            return self.inner.write(buf).await;
        }
        // Find the flags byte in `buf`, without committing state for unwritten bytes.
        let mut probe = self.header;
        let mut flags_at = None;
        for (index, &byte) in buf.iter().enumerate() {
            if probe.at_flags() {
                flags_at = Some(index);
                break;
            }
            probe = probe.advance(byte);
            if probe == Header::Done {
                break;
            }
        }
        let written = match flags_at {
            Some(0) => {
                let flags = buf.first().map_or(0, |flags| flags & !CLEAN_START);
                self.inner.write(&[flags]).await?
            }
            Some(index) => self.inner.write(buf.get(..index).unwrap_or(buf)).await?,
            None => self.inner.write(buf).await?,
        };
        for &byte in buf.iter().take(written) {
            self.header = self.header.advance(byte);
        }
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records writes, accepting at most `chunk` bytes per call.
    struct Recorder {
        bytes: std::vec::Vec<u8>,
        chunk: usize,
    }

    impl ErrorType for Recorder {
        type Error = core::convert::Infallible;
    }

    impl Write for Recorder {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            let n = buf.len().min(self.chunk);
            self.bytes.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn connect_packet(remaining: usize) -> std::vec::Vec<u8> {
        let mut packet = vec![0x10];
        let mut length = remaining;
        loop {
            let mut byte = u8::try_from(length % 128).unwrap();
            length /= 128;
            if length > 0 {
                byte |= 0x80;
            }
            packet.push(byte);
            if length == 0 {
                break;
            }
        }
        packet.extend_from_slice(&[0, 4, b'M', b'Q', b'T', b'T', 5, 0b1100_0110]);
        packet.resize(packet.len() + remaining - 8, 0xAA);
        packet
    }

    fn send(packet: &[u8], resume: bool, chunk: usize, pieces: usize) -> std::vec::Vec<u8> {
        let mut stream = ResumeSession::new(
            Recorder {
                bytes: vec![],
                chunk,
            },
            resume,
        );
        embassy_futures::block_on(async {
            for part in packet.chunks(pieces) {
                stream.write_all(part).await.unwrap();
            }
            // Later packets pass untouched.
            stream.write_all(&[0x10, 0x02, 0xFF]).await.unwrap();
        });
        stream.inner.bytes
    }

    #[test]
    fn clears_clean_start_in_any_split() {
        for remaining in [20, 200, 20_000] {
            let packet = connect_packet(remaining);
            let flags = packet.iter().position(|&b| b == 0b1100_0110).unwrap();
            for (chunk, pieces) in [(1000, 1000), (1, 1000), (3, 5), (1000, 1), (7, 9)] {
                let out = send(&packet, true, chunk, pieces);
                let mut expected = packet.clone();
                expected[flags] = 0b1100_0100;
                expected.extend_from_slice(&[0x10, 0x02, 0xFF]);
                assert_eq!(
                    out, expected,
                    "remaining {remaining} chunk {chunk} pieces {pieces}"
                );
            }
        }
    }

    #[test]
    fn passes_through_without_resume_or_for_other_packets() {
        let packet = connect_packet(20);
        let mut expected = packet.clone();
        expected.extend_from_slice(&[0x10, 0x02, 0xFF]);
        assert_eq!(send(&packet, false, 4, 6), expected);
        let other = [0x30, 0x03, 0, 1, b'a'];
        let mut expected = other.to_vec();
        expected.extend_from_slice(&[0x10, 0x02, 0xFF]);
        assert_eq!(send(&other, true, 2, 3), expected);
    }
}
