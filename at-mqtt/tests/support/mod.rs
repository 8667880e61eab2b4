//! Fault-injection support, in minimq's style: a scripted MQTT 5 broker behind a mock
//! [`Network`], and an interactive host line, driving the real [`Modem`] (engine and
//! runner) under `block_on` without sockets.
//!
//! The broker answers CONNECT, PUBLISH (QoS 1 and 2), SUBSCRIBE, UNSUBSCRIBE and PINGREQ
//! by itself unless frozen; a test can close the stream (end-of-stream), freeze it (no
//! answers: a stalled broker), refuse filters, make connects fail, and publish to the
//! modem. Every packet the modem sends is recorded.

#![allow(dead_code, reason = "each test uses a different part")]

pub mod flash;
pub mod pki;
pub mod run;
pub mod tls;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};

use at_core::mock::show;
use at_mqtt::{ConnectError, Network, SplitStream};
use embassy_time::{Duration, Instant, with_timeout};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

/// One packet the modem sent, decoded as far as the tests need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// CONNECT, with its Clean Start flag.
    Connect {
        clean_start: bool,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
    },
    PubRel,
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
    PingReq,
    Disconnect,
    Other(u8),
}

#[derive(Default)]
struct BrokerState {
    /// Bytes for the modem.
    to_client: VecDeque<u8>,
    /// Bytes from the modem not yet decoded.
    from_client: Vec<u8>,
    /// Everything decoded, all connections.
    sent: Vec<Sent>,
    /// The current connection's stream has ended.
    closed: bool,
    /// Answer nothing (packets are held and answered on thaw).
    frozen: bool,
    /// Hold SUBSCRIBEs unanswered.
    hold_subacks: bool,
    /// Packets received but not answered yet.
    held: Vec<(u8, Vec<u8>)>,
    /// Filters whose SUBSCRIBE is refused (reason 0x87).
    refused: Vec<String>,
    /// Connects to fail with this error.
    refuse_connects: Option<ConnectError>,
    connects: usize,
    reader: Option<Waker>,
    /// Connections speak TLS with this server context (TLS-PSK, or certificates).
    tls: Option<openssl::ssl::SslContext>,
    /// The current connection's TLS server.
    server: Option<tls::TlsServer>,
}

/// The scripted broker; clones share it.
#[derive(Clone, Default)]
pub struct Broker(Rc<RefCell<BrokerState>>);

impl Broker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A broker whose connections are TLS 1.3 with the PSK of [`tls::KEY_HEX`].
    pub fn tls() -> Self {
        Self::tls_with(tls::psk_context())
    }

    /// A broker whose connections are TLS 1.3 servers of `context` (e.g. certificates).
    pub fn tls_with(context: openssl::ssl::SslContext) -> Self {
        let broker = Self::default();
        broker.with(|s| s.tls = Some(context));
        broker
    }

    /// Whether the last connection's TLS handshake failed on the server's side.
    pub fn tls_failed(&self) -> bool {
        self.with(|s| s.server.as_ref().is_some_and(tls::TlsServer::failed))
    }

    fn with<R>(&self, f: impl FnOnce(&mut BrokerState) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }

    fn wake(state: &mut BrokerState) {
        if let Some(waker) = state.reader.take() {
            waker.wake();
        }
    }

    /// Ends the current connection's stream (the modem reads end-of-stream).
    pub fn close(&self) {
        self.with(|s| {
            s.closed = true;
            Self::wake(s);
        });
    }

    /// Stops answering (packets are still recorded and held).
    pub fn freeze(&self) {
        self.with(|s| s.frozen = true);
    }

    /// Answers again, first what was held.
    pub fn thaw(&self) {
        self.with(|s| {
            s.frozen = false;
            Self::release(s);
        });
    }

    /// Holds SUBSCRIBEs unanswered until [`release_subacks`](Self::release_subacks).
    pub fn hold_subacks(&self) {
        self.with(|s| s.hold_subacks = true);
    }

    /// Answers the held SUBSCRIBEs and the later ones.
    pub fn release_subacks(&self) {
        self.with(|s| {
            s.hold_subacks = false;
            Self::release(s);
        });
    }

    fn release(s: &mut BrokerState) {
        let held = std::mem::take(&mut s.held);
        for (header, body) in held {
            let sent = decode(header, &body);
            if s.frozen || (s.hold_subacks && matches!(sent, Sent::Subscribe(_))) {
                s.held.push((header, body));
            } else {
                answer(s, header, &body, &sent);
            }
        }
        Self::wake(s);
    }

    /// Refuses SUBSCRIBE for `filter`.
    pub fn refuse(&self, filter: &str) {
        self.with(|s| s.refused.push(filter.to_owned()));
    }

    /// Makes connects fail (or succeed again with `None`).
    pub fn refuse_connects(&self, error: Option<ConnectError>) {
        self.with(|s| s.refuse_connects = error);
    }

    /// Connections opened so far.
    pub fn connects(&self) -> usize {
        self.with(|s| s.connects)
    }

    /// Everything the modem sent.
    pub fn sent(&self) -> Vec<Sent> {
        self.with(|s| s.sent.clone())
    }

    /// Sends the modem a QoS 0 PUBLISH.
    pub fn publish(&self, topic: &str, payload: &[u8]) {
        let mut body = Vec::new();
        body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        body.extend_from_slice(topic.as_bytes());
        body.push(0); // no properties
        body.extend_from_slice(payload);
        self.with(|s| {
            push_packet(s, 0x30, &body);
            Self::wake(s);
        });
    }

    /// Bytes waiting for the modem.
    pub fn backlog(&self) -> usize {
        self.with(|s| s.to_client.len())
    }

    /// Decodes and answers the modem's complete packets.
    fn process(s: &mut BrokerState) {
        while let Some((header, body, used)) = split_packet(&s.from_client) {
            s.from_client.drain(..used);
            let sent = decode(header, &body);
            if s.frozen || (s.hold_subacks && matches!(sent, Sent::Subscribe(_))) {
                s.held.push((header, body));
            } else {
                answer(s, header, &body, &sent);
            }
            s.sent.push(sent);
        }
        Self::wake(s);
    }
}

/// Sends the modem one packet (encrypted on a TLS connection).
fn push_packet(s: &mut BrokerState, header: u8, body: &[u8]) {
    let mut packet = vec![header];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if len == 0 {
            break;
        }
    }
    packet.extend_from_slice(body);
    match s.server.as_mut() {
        Some(server) => {
            server.send(&packet);
            s.to_client.extend(server.take_outbound());
        }
        None => s.to_client.extend(packet),
    }
}

/// A complete packet at the front of `bytes`: header, body, bytes used.
fn split_packet(bytes: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let header = *bytes.first()?;
    let (mut len, mut shift, mut at) = (0usize, 0, 1);
    loop {
        let byte = *bytes.get(at)?;
        len |= usize::from(byte & 0x7F) << shift;
        at += 1;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let body = bytes.get(at..at + len)?.to_vec();
    Some((header, body, at + len))
}

fn varint(bytes: &[u8], at: &mut usize) -> usize {
    let (mut value, mut shift) = (0usize, 0);
    while let Some(&byte) = bytes.get(*at) {
        *at += 1;
        value |= usize::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    value
}

fn string(bytes: &[u8], at: &mut usize) -> String {
    let len = usize::from(u16::from_be_bytes([bytes[*at], bytes[*at + 1]]));
    let text = String::from_utf8_lossy(&bytes[*at + 2..*at + 2 + len]).into_owned();
    *at += 2 + len;
    text
}

fn decode(header: u8, body: &[u8]) -> Sent {
    match header >> 4 {
        // Protocol name (6 bytes) and version, then the flags.
        1 => Sent::Connect {
            clean_start: body.get(7).is_some_and(|flags| flags & 0x02 != 0),
        },
        3 => {
            let qos = (header >> 1) & 3;
            let mut at = 0;
            let topic = string(body, &mut at);
            if qos > 0 {
                at += 2;
            }
            let props = varint(body, &mut at);
            at += props;
            Sent::Publish {
                topic,
                payload: body[at..].to_vec(),
                qos,
            }
        }
        6 => Sent::PubRel,
        8 | 10 => {
            let mut at = 2;
            let props = varint(body, &mut at);
            at += props;
            let mut filters = Vec::new();
            while at < body.len() {
                filters.push(string(body, &mut at));
                if header >> 4 == 8 {
                    at += 1; // options
                }
            }
            if header >> 4 == 8 {
                Sent::Subscribe(filters)
            } else {
                Sent::Unsubscribe(filters)
            }
        }
        12 => Sent::PingReq,
        14 => Sent::Disconnect,
        other => Sent::Other(other),
    }
}

fn answer(s: &mut BrokerState, header: u8, body: &[u8], sent: &Sent) {
    let pid = |at: usize| [body[at], body[at + 1]];
    match sent {
        Sent::Connect { .. } => push_packet(s, 0x20, &[0, 0, 0]),
        Sent::Publish { topic, qos, .. } => {
            let at = 2 + topic.len();
            let [hi, lo] = pid(at);
            match qos {
                1 => push_packet(s, 0x40, &[hi, lo, 0, 0]),
                2 => push_packet(s, 0x50, &[hi, lo, 0, 0]),
                _ => {}
            }
        }
        Sent::PubRel => {
            let [hi, lo] = pid(0);
            push_packet(s, 0x70, &[hi, lo, 0, 0]);
        }
        Sent::Subscribe(filters) => {
            let [hi, lo] = pid(0);
            let mut ack = vec![hi, lo, 0];
            for filter in filters {
                ack.push(if s.refused.contains(filter) { 0x87 } else { 1 });
            }
            push_packet(s, 0x90, &ack);
        }
        Sent::Unsubscribe(filters) => {
            let [hi, lo] = pid(0);
            let mut ack = vec![hi, lo, 0];
            ack.extend(filters.iter().map(|_| 0));
            push_packet(s, 0xB0, &ack);
        }
        Sent::PingReq => push_packet(s, 0xD0, &[]),
        Sent::Disconnect | Sent::Other(_) => {}
    }
    let _ = header;
}

/// The modem's side of one connection.
pub struct Stream {
    broker: Broker,
}

impl ErrorType for Stream {
    type Error = ErrorKind;
}

async fn read_from(broker: &Broker, buf: &mut [u8]) -> Result<usize, ErrorKind> {
    std::future::poll_fn(|cx| {
        broker.with(|s| {
            if !s.to_client.is_empty() && !s.closed {
                let n = buf.len().min(s.to_client.len());
                for (slot, byte) in buf.iter_mut().zip(s.to_client.drain(..n)) {
                    *slot = byte;
                }
                return Poll::Ready(Ok(n));
            }
            if s.closed {
                return Poll::Ready(Ok(0));
            }
            s.reader = Some(cx.waker().clone());
            Poll::Pending
        })
    })
    .await
}

fn write_to(broker: &Broker, buf: &[u8]) -> Result<usize, ErrorKind> {
    broker.with(|s| {
        if s.closed {
            return Err(ErrorKind::BrokenPipe);
        }
        match s.server.as_mut() {
            Some(server) => {
                let plaintext = server.receive(buf);
                s.to_client.extend(server.take_outbound());
                s.from_client.extend_from_slice(&plaintext);
            }
            None => s.from_client.extend_from_slice(buf),
        }
        Broker::process(s);
        Ok(buf.len())
    })
}

impl Read for Stream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        read_from(&self.broker, buf).await
    }
}

impl Write for Stream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        write_to(&self.broker, buf)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// One half of a split [`Stream`].
pub struct Half(Broker);

impl ErrorType for Half {
    type Error = ErrorKind;
}

impl Read for Half {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        read_from(&self.0, buf).await
    }
}

impl Write for Half {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        write_to(&self.0, buf)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl SplitStream for Stream {
    type Reader<'s> = Half;
    type Writer<'s> = Half;

    fn split(&mut self) -> (Half, Half) {
        (Half(self.broker.clone()), Half(self.broker.clone()))
    }
}

/// The mock network: every connect opens a fresh stream to the [`Broker`].
pub struct MockNetwork(pub Broker);

impl Network for MockNetwork {
    type Stream<'a> = Stream;

    async fn connect(&mut self, _host: &str, _port: u16) -> Result<Stream, ConnectError> {
        self.0.with(|s| {
            s.connects += 1;
            if let Some(error) = s.refuse_connects {
                return Err(error);
            }
            s.closed = false;
            s.to_client.clear();
            s.from_client.clear();
            s.held.clear();
            s.server = s.tls.as_ref().map(tls::TlsServer::new);
            Ok(())
        })?;
        Ok(Stream {
            broker: self.0.clone(),
        })
    }
}

#[derive(Default)]
struct LineState {
    input: VecDeque<u8>,
    output: Vec<u8>,
    /// Read errors to report before the next input.
    faults: VecDeque<ErrorKind>,
    /// Writes wait while set (a host that stopped reading).
    stalled: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
    /// Where the test's matching has got to in `output`.
    cursor: usize,
}

/// The host's serial line: the test types and reads, the modem's engine runs on the
/// other end ([`HostLine::uart`]). Each write of the modem yields once, like a UART that
/// is slower than the code feeding it.
#[derive(Clone, Default)]
pub struct HostLine(Rc<RefCell<LineState>>);

/// The modem's receiving half.
pub struct UartRx(HostLine);
/// The modem's sending half.
pub struct UartTx(HostLine);

impl HostLine {
    pub fn new() -> Self {
        Self::default()
    }

    /// The modem's UART halves.
    pub fn uart(&self) -> (UartRx, UartTx) {
        (UartRx(self.clone()), UartTx(self.clone()))
    }

    /// Types `line` and CR LF.
    pub fn send(&self, line: &str) {
        self.send_bytes(line.as_bytes());
        self.send_bytes(b"\r\n");
    }

    /// Types raw bytes.
    pub fn send_bytes(&self, bytes: &[u8]) {
        let mut s = self.0.borrow_mut();
        s.input.extend(bytes.iter().copied());
        if let Some(waker) = s.reader.take() {
            waker.wake();
        }
    }

    /// Makes the next read fail with `kind` (a framing or overrun error).
    pub fn inject_read_error(&self, kind: ErrorKind) {
        let mut s = self.0.borrow_mut();
        s.faults.push_back(kind);
        if let Some(waker) = s.reader.take() {
            waker.wake();
        }
    }

    /// Stops (or resumes) taking the modem's output.
    pub fn stall(&self, stalled: bool) {
        let mut s = self.0.borrow_mut();
        s.stalled = stalled;
        if let Some(waker) = s.writer.take() {
            waker.wake();
        }
    }

    /// Everything the modem wrote.
    pub fn output(&self) -> Vec<u8> {
        self.0.borrow().output.clone()
    }

    /// Waits up to `limit` for `pattern` after what earlier `expect`s consumed; returns
    /// the bytes up to and including it. Panics with the transcript when it does not come.
    pub async fn expect_within(&self, pattern: &[u8], limit: Duration) -> Vec<u8> {
        let found = with_timeout(
            limit,
            std::future::poll_fn(|cx| {
                let mut s = self.0.borrow_mut();
                let from = s.cursor;
                if let Some(at) = s.output[from..]
                    .windows(pattern.len())
                    .position(|w| w == pattern)
                {
                    let end = from + at + pattern.len();
                    s.cursor = end;
                    return Poll::Ready(s.output[from..end].to_vec());
                }
                s.writer = Some(cx.waker().clone());
                // Writers wake us through the same slot; keep theirs too.
                Poll::Pending
            }),
        )
        .await;
        match found {
            Ok(bytes) => bytes,
            Err(_) => {
                let s = self.0.borrow();
                panic!(
                    "expected {} within {limit:?}; after the last match came: {}\n--- whole output ---\n{}",
                    show(pattern),
                    show(&s.output[s.cursor..]),
                    show(&s.output)
                );
            }
        }
    }

    /// [`expect_within`](Self::expect_within) with 5 s.
    pub async fn expect(&self, pattern: &[u8]) -> Vec<u8> {
        self.expect_within(pattern, Duration::from_secs(5)).await
    }

    /// Sends `line` and expects `reply` after its echo.
    pub async fn exchange(&self, line: &str, reply: &[u8]) -> Vec<u8> {
        self.send(line);
        self.expect(reply).await
    }
}

impl ErrorType for UartRx {
    type Error = ErrorKind;
}

impl Read for UartRx {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        std::future::poll_fn(|cx| {
            let mut s = (self.0).0.borrow_mut();
            if let Some(kind) = s.faults.pop_front() {
                return Poll::Ready(Err(kind));
            }
            if !s.input.is_empty() {
                let n = buf.len().min(s.input.len());
                for (slot, byte) in buf.iter_mut().zip(s.input.drain(..n)) {
                    *slot = byte;
                }
                return Poll::Ready(Ok(n));
            }
            s.reader = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl ErrorType for UartTx {
    type Error = ErrorKind;
}

impl Write for UartTx {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        embassy_futures::yield_now().await;
        std::future::poll_fn(|cx| {
            let mut s = (self.0).0.borrow_mut();
            if s.stalled {
                s.writer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            s.output.extend_from_slice(buf);
            if let Some(waker) = s.writer.take() {
                waker.wake();
            }
            Poll::Ready(Ok(buf.len()))
        })
        .await
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// Counts the non-overlapping occurrences of `pattern` in `bytes`.
pub fn count(bytes: &[u8], pattern: &[u8]) -> usize {
    let mut n = 0;
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .windows(pattern.len())
        .position(|w| w == pattern)
    {
        n += 1;
        at += found + pattern.len();
    }
    n
}

/// Time since `start`.
pub fn since(start: Instant) -> Duration {
    Instant::now() - start
}
