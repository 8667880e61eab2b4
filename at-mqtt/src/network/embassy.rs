//! [`Network`] over an embassy-net (smoltcp) stack.

use core::net::Ipv4Addr;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::{TcpReader, TcpSocket, TcpWriter};
use embassy_net::{IpAddress, Stack};
use embassy_time::{Duration, with_timeout};
use embedded_io_async::{ErrorType, Read, Write};

use super::{ConnectError, Network, SplitStream};

/// Opens one TCP socket at a time on an embassy-net [`Stack`], in caller-owned buffers.
///
/// While the stack has no link or no IPv4 configuration, [`connect`](Network::connect)
/// fails at once with [`ConnectError::NetworkDown`], so `AT+MQTTCONN` answers `ERROR`
/// without waiting for a TCP timeout.
pub struct EmbassyNetwork<'a> {
    stack: Stack<'a>,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
}

impl<'a> EmbassyNetwork<'a> {
    /// Uses `stack` with socket buffers `rx` and `tx`.
    pub fn new(stack: Stack<'a>, rx: &'a mut [u8], tx: &'a mut [u8]) -> Self {
        Self { stack, rx, tx }
    }

    /// The stack.
    pub fn stack(&self) -> Stack<'a> {
        self.stack
    }
}

impl Network for EmbassyNetwork<'_> {
    type Stream<'s>
        = EmbassyStream<'s>
    where
        Self: 's;

    async fn connect(&mut self, host: &str, port: u16) -> Result<EmbassyStream<'_>, ConnectError> {
        // No link (cable out, access point not joined) or no address yet: fail at once
        // rather than wait for a TCP timeout. A static address outlives the link.
        if !self.stack.is_link_up() || !self.stack.is_config_up() {
            return Err(ConnectError::NetworkDown);
        }
        let address = match host.parse::<Ipv4Addr>() {
            Ok(ip) => IpAddress::Ipv4(ip),
            Err(_) => *self
                .stack
                .dns_query(host, DnsQueryType::A)
                .await
                .map_err(|_| ConnectError::Dns)?
                .first()
                .ok_or(ConnectError::Dns)?,
        };
        let mut socket = TcpSocket::new(self.stack, self.rx, self.tx);
        socket.set_timeout(Some(Duration::from_secs(60)));
        socket.connect((address, port)).await.map_err(|e| match e {
            embassy_net::tcp::ConnectError::TimedOut => ConnectError::Timeout,
            embassy_net::tcp::ConnectError::NoRoute => ConnectError::NetworkDown,
            _ => ConnectError::Refused,
        })?;
        Ok(EmbassyStream(socket))
    }
}

/// How long `flush` waits for the peer to acknowledge what was sent.
const FLUSH_BOUND: Duration = Duration::from_millis(200);

/// A connected embassy-net TCP socket whose `flush` waits at most [`FLUSH_BOUND`].
///
/// embassy-net's own `flush` waits until the peer has acknowledged every byte sent; on a
/// dead link (cable out, no FIN) that is for ever, and the MQTT session waiting in it
/// would never see its keepalive time out. Bounded, it still lets a DISCONNECT reach a
/// live broker before the socket is dropped (which resets the connection), and on a dead
/// link the keepalive tells. Written bytes go out without a flush in any case.
pub struct EmbassyStream<'s>(TcpSocket<'s>);

/// The writing half of an [`EmbassyStream`], with the same `flush`.
pub struct EmbassyWriter<'s>(TcpWriter<'s>);

/// Waits for embassy-net's `flush` at most [`FLUSH_BOUND`]; past it, the bytes are still
/// on their way and the flush counts as done.
async fn bounded_flush(
    flush: impl core::future::Future<Output = Result<(), embassy_net::tcp::Error>>,
) -> Result<(), embassy_net::tcp::Error> {
    with_timeout(FLUSH_BOUND, flush).await.unwrap_or(Ok(()))
}

impl ErrorType for EmbassyStream<'_> {
    type Error = embassy_net::tcp::Error;
}

impl Read for EmbassyStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf).await
    }
}

impl Write for EmbassyStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        bounded_flush(self.0.flush()).await
    }
}

impl ErrorType for EmbassyWriter<'_> {
    type Error = embassy_net::tcp::Error;
}

impl Write for EmbassyWriter<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        bounded_flush(self.0.flush()).await
    }
}

impl SplitStream for EmbassyStream<'_> {
    type Reader<'s>
        = TcpReader<'s>
    where
        Self: 's;
    type Writer<'s>
        = EmbassyWriter<'s>
    where
        Self: 's;

    fn split(&mut self) -> (TcpReader<'_>, EmbassyWriter<'_>) {
        let (reader, writer) = self.0.split();
        (reader, EmbassyWriter(writer))
    }
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use embassy_futures::block_on;
    use embassy_net::{Config, Ipv4Cidr, StackResources, StaticConfigV4};
    use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};
    use embassy_time::{Duration, with_timeout};

    use super::*;

    /// A network device whose cable is out: no link, no frames.
    struct Unplugged;

    /// The tokens of a device that never has a frame.
    enum NoFrame {}

    impl RxToken for NoFrame {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, _: F) -> R {
            match self {}
        }
    }

    impl TxToken for NoFrame {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, _: usize, _: F) -> R {
            match self {}
        }
    }

    impl Driver for Unplugged {
        type RxToken<'a> = NoFrame;
        type TxToken<'a> = NoFrame;

        fn receive(&mut self, _: &mut core::task::Context) -> Option<(NoFrame, NoFrame)> {
            None
        }

        fn transmit(&mut self, _: &mut core::task::Context) -> Option<NoFrame> {
            None
        }

        fn link_state(&mut self, _: &mut core::task::Context) -> LinkState {
            LinkState::Down
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }

        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ethernet([0x02, 0, 0, 0, 0, 1])
        }
    }

    #[test]
    fn connect_without_a_link_fails_at_once_even_with_a_static_address() {
        let mut resources = StackResources::<2>::new();
        let config = Config::ipv4_static(StaticConfigV4 {
            address: Ipv4Cidr::new(Ipv4Addr::new(192, 0, 2, 10), 24),
            gateway: None,
            dns_servers: heapless::Vec::new(),
        });
        let (stack, _runner) = embassy_net::new(Unplugged, config, &mut resources, 1);
        assert!(stack.is_config_up());
        let (mut rx, mut tx) = ([0; 64], [0; 64]);
        let mut network = EmbassyNetwork::new(stack, &mut rx, &mut tx);
        let connect = with_timeout(Duration::from_secs(2), network.connect("192.0.2.1", 1883));
        match block_on(connect) {
            Ok(Err(error)) => assert_eq!(error, ConnectError::NetworkDown),
            Ok(Ok(_)) => panic!("connected without a link"),
            Err(_) => panic!("connect waited instead of failing at once"),
        }
    }

    #[test]
    fn connect_without_an_address_fails_at_once() {
        let mut resources = StackResources::<2>::new();
        let (stack, _runner) = embassy_net::new(Unplugged, Config::default(), &mut resources, 1);
        let (mut rx, mut tx) = ([0; 64], [0; 64]);
        let mut network = EmbassyNetwork::new(stack, &mut rx, &mut tx);
        let connect = with_timeout(Duration::from_secs(2), network.connect("broker", 1883));
        assert!(matches!(
            block_on(connect),
            Ok(Err(ConnectError::NetworkDown))
        ));
    }
}
