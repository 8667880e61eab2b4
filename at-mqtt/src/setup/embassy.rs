//! [`TimeSource`] over an embassy-net stack: one SNTP exchange over UDP with `sntpc`.

use core::net::{IpAddr, SocketAddr};

use embassy_net::dns::DnsQueryType;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpEndpoint, Stack};
use embassy_time::Instant;
use sntpc::{NtpContext, NtpTimestampGenerator, NtpUdpSocket};

use super::TimeSource;

/// Bytes of one SNTP datagram buffer: one NTP packet without extensions, as SNTP
/// servers answer (RFC 4330); a longer datagram does not fit and is not taken.
const DATAGRAM_BYTES: usize = 48;

/// SNTP over an embassy-net stack: resolves the server (DNS), then asks it on UDP port
/// 123 from a socket that exists only during the exchange (one socket of the stack's
/// `StackResources` must stay free for it).
pub struct EmbassySntp<'a> {
    stack: Stack<'a>,
    rx_meta: [PacketMetadata; 1],
    rx: [u8; DATAGRAM_BYTES],
    tx_meta: [PacketMetadata; 1],
    tx: [u8; DATAGRAM_BYTES],
}

impl<'a> EmbassySntp<'a> {
    /// SNTP on `stack`.
    pub fn new(stack: Stack<'a>) -> Self {
        Self {
            stack,
            rx_meta: [PacketMetadata::EMPTY; 1],
            rx: [0; DATAGRAM_BYTES],
            tx_meta: [PacketMetadata::EMPTY; 1],
            tx: [0; DATAGRAM_BYTES],
        }
    }
}

/// The earliest time the modem can be asked about: 2024-01-01 00:00:00 UTC.
const PIVOT_FLOOR_SECONDS: u64 = 1_704_067_200;

/// The local timestamps of the exchange: [`PIVOT_FLOOR_SECONDS`] plus the time since
/// boot, as the modem's own clock is what SNTP is about to set. Only the server's
/// transmit time is used; sntpc picks the NTP era (2^32 s) nearest to this pivot, so
/// times from 2024 until about 2092 come out right.
#[derive(Clone, Copy, Default)]
struct SinceBoot(u64);

impl NtpTimestampGenerator for SinceBoot {
    fn init(&mut self) {
        self.0 = Instant::now().as_micros();
    }

    fn timestamp_sec(&self) -> u64 {
        PIVOT_FLOOR_SECONDS + self.0 / 1_000_000
    }

    fn timestamp_subsec_micros(&self) -> u32 {
        u32::try_from(self.0 % 1_000_000).unwrap_or(0)
    }
}

impl TimeSource for EmbassySntp<'_> {
    async fn unix_time(&mut self, server: &str) -> Option<u64> {
        let address = *self
            .stack
            .dns_query(server, DnsQueryType::A)
            .await
            .ok()?
            .first()?;
        let IpAddr::V4(address) = IpAddr::from(address) else {
            return None;
        };
        let mut socket = UdpSocket::new(
            self.stack,
            &mut self.rx_meta,
            &mut self.rx,
            &mut self.tx_meta,
            &mut self.tx,
        );
        socket.bind(0).ok()?;
        let socket = NtpSocket(socket);
        let server = SocketAddr::new(IpAddr::V4(address), 123);
        let reply = sntpc::get_time(server, &socket, NtpContext::new(SinceBoot::default()))
            .await
            .ok()?;
        Some(reply.seconds)
    }
}

/// sntpc's socket trait on an embassy-net UDP socket, IPv4 only (as the stack is).
struct NtpSocket<'a>(UdpSocket<'a>);

impl NtpUdpSocket for NtpSocket<'_> {
    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> sntpc::Result<usize> {
        let SocketAddr::V4(addr) = addr else {
            return Err(sntpc::Error::Network);
        };
        match self.0.send_to(buf, IpEndpoint::from(addr)).await {
            Ok(()) => Ok(buf.len()),
            Err(_) => Err(sntpc::Error::Network),
        }
    }

    async fn recv_from(&self, buf: &mut [u8]) -> sntpc::Result<(usize, SocketAddr)> {
        match self.0.recv_from(buf).await {
            Ok((len, meta)) => Ok((len, SocketAddr::from(meta.endpoint))),
            Err(_) => Err(sntpc::Error::Network),
        }
    }
}
