//! The simulated board's network: the host's own TCP/IP stack.
//!
//! [`HostNetwork`] opens broker connections with tokio; [`HostInterface`] answers
//! `AT+CIPSTA` with the host's first non-loopback IPv4 address.

mod read_buffer;

use std::net::{Ipv4Addr, SocketAddr};

use at_mqtt::station::{IpInterface, Ipv4Settings};
use at_mqtt::{ConnectError, Network, SplitStream};
use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{ErrorType, Read, Write};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};

use read_buffer::ReadBuffer;

/// Broker connections over the host's TCP.
#[derive(Debug, Default)]
pub struct HostNetwork;

/// A broker connection over the host's TCP, its reads through a [`ReadBuffer`].
pub struct HostStream {
    socket: FromTokio<TcpStream>,
    received: ReadBuffer,
}

impl ErrorType for HostStream {
    type Error = std::io::Error;
}

impl Read for HostStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.received.read(self.socket.inner_mut(), buf).await
    }
}

impl Write for HostStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.socket.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.socket.flush().await
    }
}

/// The receiving half of a split [`HostStream`]: bytes the stream had buffered come
/// first.
pub struct HostReader<'s> {
    socket: ReadHalf<'s>,
    received: &'s mut ReadBuffer,
}

impl ErrorType for HostReader<'_> {
    type Error = std::io::Error;
}

impl Read for HostReader<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.received.read(&mut self.socket, buf).await
    }
}

impl SplitStream for HostStream {
    type Reader<'s> = HostReader<'s>;
    type Writer<'s> = FromTokio<WriteHalf<'s>>;

    fn split(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        let (socket, writer) = self.socket.inner_mut().split();
        let reader = HostReader {
            socket,
            received: &mut self.received,
        };
        (reader, FromTokio::new(writer))
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
        Ok(HostStream {
            socket: FromTokio::new(stream),
            received: ReadBuffer::new(),
        })
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
