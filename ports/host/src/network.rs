//! The simulated board's network: the host's own TCP/IP stack.
//!
//! [`HostNetwork`] opens broker connections with tokio; [`HostInterface`] answers
//! `AT+CIPSTA` with the host's first non-loopback IPv4 address.

use std::net::{Ipv4Addr, SocketAddr};

use at_mqtt::station::{IpInterface, Ipv4Settings};
use at_mqtt::{ConnectError, Network, SplitStream};
use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read, Write};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Broker connections over the host's TCP.
#[derive(Debug, Default)]
pub struct HostNetwork;

/// Bytes a broker connection reads from its socket at a time: more than a typical MQTT
/// packet.
const RECEIVE_BUFFER_BYTES: usize = 2048;

/// A broker connection over the host's TCP, its reads through a [`BufReader`].
///
/// minimq asks for exactly the bytes it needs next (a fixed header byte, a length byte,
/// then the rest), so read straight from the socket a 4-byte PUBACK would cost three
/// `recvfrom` calls, and a fourth that finds the socket empty (tokio clears a socket's
/// readiness only on `EAGAIN` or on a read that did not fill its buffer). Through the
/// buffer one call takes what has arrived, and that short read tells tokio the socket
/// is drained. The socket is split once, at connect, so that [`SplitStream::split`]'s
/// reader is the same buffered half and no buffered byte is left behind.
pub struct HostStream {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl HostStream {
    fn new(socket: TcpStream) -> Self {
        let (reader, writer) = socket.into_split();
        Self {
            reader: BufReader::with_capacity(RECEIVE_BUFFER_BYTES, reader),
            writer,
        }
    }
}

impl ErrorType for HostStream {
    type Error = std::io::Error;
}

impl Read for HostStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        AsyncReadExt::read(&mut self.reader, buf).await
    }
}

impl Write for HostStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        AsyncWriteExt::write(&mut self.writer, buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        AsyncWriteExt::flush(&mut self.writer).await
    }
}

impl SplitStream for HostStream {
    type Reader<'s> = FromTokio<&'s mut BufReader<OwnedReadHalf>>;
    type Writer<'s> = FromTokio<&'s mut OwnedWriteHalf>;

    fn split(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        (
            FromTokio::new(&mut self.reader),
            FromTokio::new(&mut self.writer),
        )
    }
}

impl Network for HostNetwork {
    type Stream<'a> = HostStream;

    async fn connect(&mut self, host: &str, port: u16) -> Result<Self::Stream<'_>, ConnectError> {
        let address = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| ConnectError::Dns)?
            .find(SocketAddr::is_ipv4)
            .ok_or(ConnectError::Dns)?;
        let stream = TcpStream::connect(address)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => ConnectError::Timeout,
                _ => ConnectError::Refused,
            })?;
        // MQTT packets are small and latency-bound.
        let _ = stream.set_nodelay(true);
        Ok(HostStream::new(stream))
    }
}

/// The host's IPv4 configuration for `AT+CIPSTA`.
///
/// `AT+CIPSTA=` and `AT+CWDHCP=` are recorded and reported back, but the simulator
/// never changes the host's own addresses (with `--tap` they act on the board's stack).
#[derive(Debug)]
pub struct HostInterface {
    configured: Option<Ipv4Settings>,
    dhcp: bool,
}

impl Default for HostInterface {
    /// The host's addresses, reported as coming from DHCP (a board's power-on state).
    fn default() -> Self {
        Self {
            configured: None,
            dhcp: true,
        }
    }
}

impl IpInterface for HostInterface {
    fn ipv4(&self) -> Option<Ipv4Settings> {
        self.configured.or_else(host_ipv4)
    }

    fn set_static(&mut self, settings: Ipv4Settings) {
        self.configured = Some(settings);
        self.dhcp = false;
    }

    fn dhcp(&self) -> bool {
        self.dhcp
    }

    fn set_dhcp(&mut self, enabled: bool) {
        if enabled {
            // The host's own addresses again, as a lease would give.
            self.configured = None;
        }
        self.dhcp = enabled;
    }
}

/// The first non-loopback IPv4 interface, with the default gateway if it has one.
fn host_ipv4() -> Option<Ipv4Settings> {
    let interfaces = nix::ifaddrs::getifaddrs().ok()?;
    let (name, address, netmask) = interfaces.into_iter().find_map(|interface| {
        let address = interface.address?.as_sockaddr_in()?.ip();
        let netmask = interface.netmask?.as_sockaddr_in()?.ip();
        (!address.is_loopback()).then_some((interface.interface_name, address, netmask))
    })?;
    Some(Ipv4Settings {
        address,
        gateway: default_gateway(&name).unwrap_or(Ipv4Addr::UNSPECIFIED),
        netmask,
    })
}

/// The default route's gateway on `interface`, from `/proc/net/route`.
fn default_gateway(interface: &str) -> Option<Ipv4Addr> {
    let table = std::fs::read_to_string("/proc/net/route").ok()?;
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let (name, destination, gateway) = (fields.next()?, fields.next()?, fields.next()?);
        if name != interface || destination != "00000000" {
            return None;
        }
        let raw = u32::from_str_radix(gateway, 16).ok()?;
        Some(Ipv4Addr::from(u32::from_be(raw)))
    })
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    /// A connected `HostStream` and the broker's end of it, which has written `bytes`.
    async fn connected(bytes: &[u8]) -> (HostStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = HostNetwork.connect("127.0.0.1", port).await.unwrap();
        let (mut broker, _) = listener.accept().await.unwrap();
        broker.write_all(bytes).await.unwrap();
        (stream, broker)
    }

    #[tokio::test]
    async fn a_packet_read_in_pieces_comes_from_one_socket_read() {
        // A PUBACK, then the start of the next packet.
        let (mut stream, _broker) = connected(b"@\x02\x00\x07\x30").await;
        let mut header = [0u8; 1];
        assert_eq!(Read::read(&mut stream, &mut header).await.unwrap(), 1);
        assert_eq!(header, [b'@']);
        assert_eq!(
            stream.reader.buffer(),
            b"\x02\x00\x07\x30",
            "the rest came with the first byte, for the next reads"
        );
    }

    #[tokio::test]
    async fn the_split_reader_starts_with_what_the_stream_buffered() {
        let (mut stream, broker) = connected(b"@\x02\x00\x07").await;
        let mut header = [0u8; 1];
        assert_eq!(Read::read(&mut stream, &mut header).await.unwrap(), 1);
        drop(broker);
        let (mut reader, _writer) = stream.split();
        let mut rest = [0u8; 8];
        assert_eq!(reader.read(&mut rest).await.unwrap(), 3);
        assert_eq!(&rest[..3], b"\x02\x00\x07");
        assert_eq!(reader.read(&mut rest).await.unwrap(), 0, "then the end");
    }
}
