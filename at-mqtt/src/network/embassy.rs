//! [`Network`] over an embassy-net (smoltcp) stack.

use core::net::Ipv4Addr;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::{TcpReader, TcpSocket, TcpWriter};
use embassy_net::{IpAddress, Stack};
use embassy_time::Duration;

use super::{ConnectError, Network, SplitStream};

/// Opens one TCP socket at a time on an embassy-net [`Stack`], in caller-owned buffers.
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
        = TcpSocket<'s>
    where
        Self: 's;

    async fn connect(&mut self, host: &str, port: u16) -> Result<TcpSocket<'_>, ConnectError> {
        if !self.stack.is_config_up() {
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
        Ok(socket)
    }
}

impl SplitStream for TcpSocket<'_> {
    type Reader<'s>
        = TcpReader<'s>
    where
        Self: 's;
    type Writer<'s>
        = TcpWriter<'s>
    where
        Self: 's;

    fn split(&mut self) -> (TcpReader<'_>, TcpWriter<'_>) {
        TcpSocket::split(self)
    }
}
