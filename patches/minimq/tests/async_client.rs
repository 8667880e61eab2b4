mod support;

use embassy_time::{Duration, with_timeout};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use minimq::{
    Buffers, ConfigBuilder, ConnectEvent, Connection, Disconnect, Error, InboundPublish, Op,
    PeerError, Property, PubError, Publication, QoS, ReasonCode, ResourceError, Session,
    TopicFilter,
};

/// A live connection handle over the mock transport, returned by `Session::connect`.
type Conn<'a> = Connection<'a, 'static, MockConnection>;
use std::{cell::RefCell, collections::VecDeque, future::poll_fn, rc::Rc, task::Poll};
use support::{block_on, init_host_logging, poll_once};

const WAIT_STEPS: usize = 64;
const QOS1_DUP_PUBLISH_HEADER: u8 = 0x3a;

#[derive(Default)]
struct MockIo {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    read_error: Option<ErrorKind>,
    write_error: Option<(usize, ErrorKind)>,
    write_zero: Option<usize>,
    pending_reads: usize,
    pending_writes: usize,
    pending_flushes: usize,
    buffered: Vec<u8>,
    flush_groups: Vec<Vec<u8>>,
    flush_error: Option<ErrorKind>,
    write_limit: Option<usize>,
    buffer_capacity: Option<usize>,
    automatic_flushes: usize,
}

#[derive(Clone, Default)]
struct MockConnection {
    inner: Rc<RefCell<MockIo>>,
}

impl MockConnection {
    fn push_rx(&mut self, data: &[u8]) {
        self.inner.borrow_mut().rx.push_back(data.to_vec());
    }

    fn push_rx_fragmented(&mut self, data: &[u8]) {
        for byte in data {
            self.push_rx(core::slice::from_ref(byte));
        }
    }

    fn fail_write_after(&mut self, successful_writes: usize, err: ErrorKind) {
        self.inner.borrow_mut().write_error = Some((successful_writes, err));
    }

    fn zero_write_after(&mut self, successful_writes: usize) {
        self.inner.borrow_mut().write_zero = Some(successful_writes);
    }

    fn fail_read(&mut self, err: ErrorKind) {
        self.inner.borrow_mut().read_error = Some(err);
    }

    fn pend_reads(&mut self, count: usize) {
        self.inner.borrow_mut().pending_reads = count;
    }

    fn pend_writes(&mut self, count: usize) {
        self.inner.borrow_mut().pending_writes = count;
    }

    fn pend_flushes(&mut self, count: usize) {
        self.inner.borrow_mut().pending_flushes = count;
    }

    fn tx(&self) -> Vec<Vec<u8>> {
        self.inner.borrow().tx.clone()
    }
}

impl ErrorType for MockConnection {
    type Error = ErrorKind;
}

impl Read for MockConnection {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.pending_reads != 0 {
                inner.pending_reads -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }

            if let Some(err) = inner.read_error.take() {
                return Poll::Ready(Err(err));
            }

            let Some(mut chunk) = inner.rx.pop_front() else {
                return Poll::Pending;
            };

            let len = buf.len().min(chunk.len());
            buf[..len].copy_from_slice(&chunk[..len]);
            if len < chunk.len() {
                chunk.drain(..len);
                inner.rx.push_front(chunk);
            }
            Poll::Ready(Ok(len))
        })
        .await
    }
}

impl Write for MockConnection {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.pending_writes != 0 {
                inner.pending_writes -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if let Some((remaining, err)) = &mut inner.write_error {
                if *remaining == 0 {
                    let err = *err;
                    inner.write_error = None;
                    return Poll::Ready(Err(err));
                }
                *remaining -= 1;
            }
            if let Some(remaining) = &mut inner.write_zero {
                if *remaining == 0 {
                    inner.write_zero = None;
                    return Poll::Ready(Ok(0));
                }
                *remaining -= 1;
            }
            // Model a streaming buffered transport: a full buffer emits data without flush().
            if inner.buffer_capacity == Some(inner.buffered.len()) {
                inner.buffered.clear();
                inner.automatic_flushes += 1;
            }
            let count = buf.len().min(inner.write_limit.unwrap_or(usize::MAX)).min(
                inner
                    .buffer_capacity
                    .map_or(usize::MAX, |capacity| capacity - inner.buffered.len()),
            );
            inner.tx.push(buf[..count].to_vec());
            inner.buffered.extend_from_slice(&buf[..count]);
            Poll::Ready(Ok(count))
        })
        .await
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.pending_flushes != 0 {
                inner.pending_flushes -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if let Some(error) = inner.flush_error.take() {
                return Poll::Ready(Err(error));
            }
            let bytes = std::mem::take(&mut inner.buffered);
            inner.flush_groups.push(bytes);
            Poll::Ready(Ok(()))
        })
        .await
    }
}

struct MockConnector {
    connections: RefCell<VecDeque<MockConnection>>,
}

impl MockConnector {
    fn new(connection: MockConnection) -> Self {
        Self {
            connections: RefCell::new(VecDeque::from([connection])),
        }
    }

    fn with_connections(connections: impl IntoIterator<Item = MockConnection>) -> Self {
        Self {
            connections: RefCell::new(connections.into_iter().collect()),
        }
    }
}

impl MockConnector {
    fn connect(&self) -> Result<MockConnection, ErrorKind> {
        self.connections
            .borrow_mut()
            .pop_front()
            .ok_or(ErrorKind::ConnectionReset)
    }
}

fn config() -> ConfigBuilder<'static> {
    init_host_logging();
    let rx = Box::leak(Box::new([0; 128]));
    let tx = Box::leak(Box::new([0; 1152]));
    ConfigBuilder::new(Buffers::new(rx, tx))
        .client_id("test")
        .unwrap()
}

fn connack() -> [u8; 5] {
    [0x20, 0x03, 0x00, 0x00, 0x00]
}

fn connack_receive_max(max: u16) -> [u8; 8] {
    [
        0x20,
        0x06,
        0x00,
        0x00,
        0x03,
        0x21,
        (max >> 8) as u8,
        max as u8,
    ]
}

fn connack_max_packet_size(max: u32) -> [u8; 10] {
    [
        0x20,
        0x08,
        0x00,
        0x00,
        0x05,
        0x27,
        (max >> 24) as u8,
        (max >> 16) as u8,
        (max >> 8) as u8,
        max as u8,
    ]
}

fn connack_max_qos(max: QoS) -> [u8; 7] {
    [0x20, 0x05, 0x00, 0x00, 0x02, 0x24, max as u8]
}

fn puback(id: u16) -> [u8; 4] {
    [0x40, 0x02, (id >> 8) as u8, id as u8]
}

fn puback_reason(id: u16, reason: u8) -> [u8; 5] {
    [0x40, 0x03, (id >> 8) as u8, id as u8, reason]
}

fn pubrec(id: u16) -> [u8; 4] {
    [0x50, 0x02, (id >> 8) as u8, id as u8]
}

fn pubrec_reason(id: u16, reason: u8) -> [u8; 5] {
    [0x50, 0x03, (id >> 8) as u8, id as u8, reason]
}

fn pubcomp(id: u16) -> [u8; 4] {
    [0x70, 0x02, (id >> 8) as u8, id as u8]
}

fn pubcomp_reason(id: u16, reason: u8) -> [u8; 5] {
    [0x70, 0x03, (id >> 8) as u8, id as u8, reason]
}

fn pubrel(id: u16) -> [u8; 4] {
    [0x62, 0x02, (id >> 8) as u8, id as u8]
}

fn disconnect() -> [u8; 4] {
    [0xE0, 0x02, 0x00, 0x00]
}

fn disconnect_req() -> [u8; 2] {
    [0xE0, 0x00]
}

fn disconnect_with_will() -> [u8; 3] {
    [0xE0, 0x01, ReasonCode::DisconnectWithWill as u8]
}

fn suback(id: u16, code: u8) -> [u8; 6] {
    [0x90, 0x04, (id >> 8) as u8, id as u8, 0x00, code]
}

fn unsuback(id: u16, code: u8) -> [u8; 6] {
    [0xB0, 0x04, (id >> 8) as u8, id as u8, 0x00, code]
}

fn connack_session_present() -> [u8; 5] {
    [0x20, 0x03, 0x01, 0x00, 0x00]
}

fn connack_assigned_client_id(client_id: &str) -> Vec<u8> {
    let property_len = 1 + 2 + client_id.len();
    let remaining_len = 2 + 1 + property_len;
    let mut packet = Vec::with_capacity(2 + remaining_len);
    packet.push(0x20);
    packet.push(remaining_len as u8);
    packet.push(0x00);
    packet.push(0x00);
    packet.push(property_len as u8);
    packet.push(0x12);
    packet.extend_from_slice(&(client_id.len() as u16).to_be_bytes());
    packet.extend_from_slice(client_id.as_bytes());
    packet
}

fn inbound_publish_qos2(id: u16, topic: &str, payload: &[u8]) -> Vec<u8> {
    let remaining = 2 + topic.len() + 2 + 1 + payload.len();
    let mut packet = Vec::with_capacity(2 + remaining);
    packet.push(0x34);
    packet.push(remaining as u8);
    packet.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    packet.extend_from_slice(topic.as_bytes());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.push(0x00);
    packet.extend_from_slice(payload);
    packet
}

fn inbound_publish_qos1(id: u16, topic: &str, payload: &[u8]) -> Vec<u8> {
    let remaining = 2 + topic.len() + 2 + 1 + payload.len();
    let mut packet = Vec::with_capacity(2 + remaining);
    packet.push(0x32);
    packet.push(remaining as u8);
    packet.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    packet.extend_from_slice(topic.as_bytes());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.push(0x00);
    packet.extend_from_slice(payload);
    packet
}

fn inbound_publish_with_response(
    topic: &str,
    payload: &[u8],
    response_topic: &str,
    correlation: &[u8],
) -> Vec<u8> {
    let response_len = 1 + 2 + response_topic.len();
    let correlation_len = 1 + 2 + correlation.len();
    let properties_len = response_len + correlation_len;
    let remaining = 2 + topic.len() + 1 + properties_len + payload.len();
    let mut packet = Vec::with_capacity(2 + remaining);
    packet.push(0x30);
    packet.push(remaining as u8);
    packet.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    packet.extend_from_slice(topic.as_bytes());
    packet.push(properties_len as u8);
    packet.push(0x08);
    packet.extend_from_slice(&(response_topic.len() as u16).to_be_bytes());
    packet.extend_from_slice(response_topic.as_bytes());
    packet.push(0x09);
    packet.extend_from_slice(&(correlation.len() as u16).to_be_bytes());
    packet.extend_from_slice(correlation);
    packet.extend_from_slice(payload);
    packet
}

fn outbound_puback(id: u16) -> [u8; 5] {
    [0x40, 0x03, (id >> 8) as u8, id as u8, 0x00]
}

fn outbound_pubrec(id: u16) -> [u8; 5] {
    [0x50, 0x03, (id >> 8) as u8, id as u8, 0x00]
}

fn outbound_pubrel(id: u16) -> [u8; 5] {
    [0x62, 0x03, (id >> 8) as u8, id as u8, 0x00]
}

fn outbound_pubcomp(id: u16, reason: u8) -> [u8; 5] {
    [0x70, 0x03, (id >> 8) as u8, id as u8, reason]
}

fn session() -> Session<'static> {
    Session::new(config())
}

fn expect_connected<'a>(session: &'a mut Session<'static>, connector: &MockConnector) -> Conn<'a> {
    let conn = block_on(session.connect(connector.connect().unwrap())).unwrap();
    assert!(matches!(conn.connect_event(), ConnectEvent::Connected));
    conn
}

fn expect_reconnected<'a>(
    session: &'a mut Session<'static>,
    connector: &MockConnector,
) -> Conn<'a> {
    let conn = block_on(session.connect(connector.connect().unwrap())).unwrap();
    assert!(matches!(conn.connect_event(), ConnectEvent::Reconnected));
    conn
}

fn poll_now<'a>(conn: &'a mut Conn<'_>) -> Result<Option<InboundPublish<'a>>, Error<ErrorKind>> {
    match block_on(with_timeout(Duration::from_millis(0), conn.poll())) {
        Ok(Ok(event)) => Ok(event),
        Ok(Err(err)) => Err(err),
        Err(_) => Ok(None),
    }
}

fn expect_disconnected(conn: &mut Conn<'_>) {
    for _ in 0..WAIT_STEPS {
        match poll_now(conn) {
            Err(Error::Disconnected) => return,
            Ok(None) => {}
            other => panic!("unexpected poll result while waiting for disconnect: {other:?}"),
        }
    }
    panic!("timed out waiting for disconnect");
}

fn with_inbound<T>(conn: &mut Conn<'_>, f: impl FnOnce(InboundPublish<'_>) -> T) -> T {
    f(block_on(conn.recv()).unwrap())
}

fn expect_poll_error(conn: &mut Conn<'_>, want: impl Fn(&Error<ErrorKind>) -> bool) {
    for _ in 0..WAIT_STEPS {
        match poll_now(conn) {
            Ok(None) => {}
            Err(err) if want(&err) => return,
            other => panic!("unexpected poll result while waiting for error: {other:?}"),
        }
    }
    panic!("timed out waiting for poll error");
}

fn wait_for_tx_frame(conn: &mut Conn<'_>, inspect: &MockConnection, expected: &[u8]) {
    if inspect
        .tx()
        .iter()
        .any(|frame| frame.as_slice() == expected)
    {
        return;
    }

    for _ in 0..WAIT_STEPS {
        match poll_now(conn) {
            Ok(None) | Err(Error::Disconnected) => {}
            other => panic!("unexpected poll result while waiting for tx frame: {other:?}"),
        }
        if inspect
            .tx()
            .iter()
            .any(|frame| frame.as_slice() == expected)
        {
            return;
        }
    }

    panic!("timed out waiting for tx frame");
}

fn fill_inflight_publish_slots(conn: &mut Conn<'_>) -> usize {
    let mut count = 0;
    loop {
        match publish_qos1(conn, "data", b"x") {
            Ok(Some(_)) => count += 1,
            Ok(None) => unreachable!("QoS1 publish must return an op handle"),
            Err(PubError::Session(Error::Resource(ResourceError::InflightExhausted))) => {
                return count;
            }
            other => panic!("unexpected publish result while filling inflight slots: {other:?}"),
        }
    }
}

fn publish_qos1(
    conn: &mut Conn<'_>,
    topic: &str,
    payload: &[u8],
) -> Result<Option<Op>, PubError<(), ErrorKind>> {
    block_on(conn.publish(Publication::bytes(topic, payload).qos(QoS::AtLeastOnce)))
}

fn publish_qos1_ok(conn: &mut Conn<'_>, topic: &str, payload: &[u8]) {
    publish_qos1(conn, topic, payload).unwrap();
}

fn publish_qos2(
    conn: &mut Conn<'_>,
    topic: &str,
    payload: &[u8],
) -> Result<Option<Op>, PubError<(), ErrorKind>> {
    block_on(conn.publish(Publication::bytes(topic, payload).qos(QoS::ExactlyOnce)))
}

fn publish_qos2_ok(conn: &mut Conn<'_>, topic: &str, payload: &[u8]) {
    publish_qos2(conn, topic, payload).unwrap();
}

#[test]
fn fragmented_connack_still_establishes_session() {
    let mut connection = MockConnection::default();
    connection.push_rx_fragmented(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();

    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn fragmented_inbound_publish_is_assembled_and_acked() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    connection.push_rx_fragmented(&inbound_publish_qos1(7, "data", b"payload"));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    with_inbound(&mut conn, |message| {
        assert_eq!(message.topic(), "data");
        assert_eq!(message.payload(), b"payload");
    });

    wait_for_tx_frame(&mut conn, &inspect, &outbound_puback(7));
}

#[test]
fn publish_requires_connected_session() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();

    // With the handle-based API, a publish is only reachable through a `Connection`,
    // so "publish requires a connected session" is now a compile-time guarantee:
    // there is no `Session::publish` to call before `connect`. Verify publishing
    // works once connected.
    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"payload");
}

#[test]
fn publish_survives_cancellation_during_pending_write() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack());
    connection.push_rx(&puback(1));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    inspect.pend_writes(1);
    let mut future = Box::pin(conn.publish(Publication::bytes("data", b"x").qos(QoS::AtLeastOnce)));
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    assert_eq!(inspect.tx().len(), 1);
    assert!(poll_now(&mut conn).unwrap().is_none());
    publish_qos1_ok(&mut conn, "data", b"y");
}

#[test]
fn cancelled_publish_still_holds_receive_max_quota() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack_receive_max(1));
    connection.push_rx(&puback(1));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    inspect.pend_writes(1);
    let mut future = Box::pin(conn.publish(Publication::bytes("data", b"x").qos(QoS::AtLeastOnce)));
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    let result = publish_qos1(&mut conn, "data", b"y");
    assert!(matches!(result, Err(PubError::Session(Error::NotReady))));
    for _ in 0..WAIT_STEPS {
        match publish_qos1(&mut conn, "data", b"z") {
            Ok(Some(_)) => return,
            Ok(None) => unreachable!("QoS1 publish must return an op handle"),
            Err(PubError::Session(Error::NotReady)) => {
                assert!(poll_now(&mut conn).unwrap().is_none());
            }
            other => panic!("unexpected publish result while waiting for quota: {other:?}"),
        }
    }
    panic!("timed out waiting for send quota to recover");
}

#[test]
fn subscribe_survives_cancellation_during_pending_flush() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack());
    connection.push_rx(&suback(1, 0x01));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    inspect.pend_flushes(1);
    let topics = [TopicFilter::new("data")];
    let mut future = Box::pin(conn.subscribe(&topics, &[]));
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    assert_eq!(inspect.tx().len(), 2);
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert_eq!(inspect.tx().len(), 2);
}

#[test]
fn poll_survives_cancellation_during_pending_read() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    inspect.pend_reads(1);
    let mut future = Box::pin(conn.poll());
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    assert!(poll_now(&mut conn).unwrap().is_none());
}

#[test]
fn qos2_pubrel_survives_cancellation_during_pending_write() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack());
    connection.push_rx(&pubrec(1));
    connection.push_rx(&pubcomp(1));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos2_ok(&mut conn, "data", b"x");
    assert!(poll_now(&mut conn).unwrap().is_none());

    inspect.pend_writes(1);
    let mut sent_pubrel = false;
    for _ in 0..WAIT_STEPS {
        match poll_now(&mut conn).unwrap() {
            None => {
                if inspect
                    .tx()
                    .iter()
                    .any(|frame| frame.as_slice() == outbound_pubrel(1))
                {
                    sent_pubrel = true;
                    break;
                }
            }
            Some(_) => panic!("unexpected inbound event while waiting for PUBREL"),
        }
    }
    assert!(sent_pubrel);

    assert_eq!(inspect.tx().len(), 3);
    assert_eq!(inspect.tx().last().unwrap(), &outbound_pubrel(1));
}

#[test]
fn inflight_packets_are_not_replayed_during_normal_poll() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos1_ok(&mut conn, "data", b"x");
    let tx_after_publish = connector.connections.borrow().front().is_none();
    assert!(tx_after_publish);

    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(poll_now(&mut conn).unwrap().is_none());
}

#[test]
fn broker_disconnect_marks_inflight_for_replay_on_resume() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());
    let second = {
        let mut second = MockConnection::default();
        second.push_rx(&connack_session_present());
        second
    };
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");
    expect_disconnected(&mut conn);
    drop(conn);
    let _conn = expect_reconnected(&mut session, &connector);
}

#[test]
fn broker_disconnect_without_session_resume_reports_connected() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    second.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    expect_disconnected(&mut conn);
    drop(conn);
    let _conn = expect_connected(&mut session, &connector);
}

/// The CONNECT flags of the first frame written to `connection`.
fn connect_flags(connection: &MockConnection) -> u8 {
    let frames = connection.tx();
    let connect = frames.concat();
    assert_eq!(connect.first(), Some(&0x10), "a CONNECT was written");
    // Fixed header (type, one length byte), protocol name (6 bytes), version: the flags.
    connect[2 + 6 + 1]
}

#[test]
fn resume_session_asks_the_broker_on_the_first_connect() {
    let mut first = MockConnection::default();
    first.push_rx(&connack_session_present());
    let first_inspect = first.clone();
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let second_inspect = second.clone();
    let connector = MockConnector::with_connections([first, second]);

    // A broker that kept the session resumes it.
    let mut resuming = Session::new(config().resume_session());
    let conn = expect_reconnected(&mut resuming, &connector);
    drop(conn);
    assert_eq!(connect_flags(&first_inspect) & 0x02, 0, "Clean Start = 0");

    // Without the option a new session starts clean.
    let mut fresh = session();
    let _conn = expect_connected(&mut fresh, &connector);
    assert_eq!(connect_flags(&second_inspect) & 0x02, 0x02, "Clean Start = 1");
}

#[test]
fn resume_session_keeps_asking_until_a_connack_answers() {
    let mut first = MockConnection::default();
    first.push_rx(&disconnect());
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let second_inspect = second.clone();
    let connector = MockConnector::with_connections([first, second]);

    let mut session = Session::new(config().resume_session());
    assert!(block_on(session.connect(connector.connect().unwrap())).is_err());
    // The broker kept no session: a fresh one, reported as such.
    let _conn = expect_connected(&mut session, &connector);
    assert_eq!(connect_flags(&second_inspect) & 0x02, 0, "Clean Start = 0");
}

#[test]
fn handle_latches_disconnect_and_fails_fast() {
    // A disconnect observed *while the user still holds the handle* must be latched, so
    // `is_connected()` reflects it and further operations fail fast instead of driving the dead
    // transport.
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&disconnect());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(conn.is_connected());
    expect_disconnected(&mut conn);

    // The broker DISCONNECT is now latched on the handle.
    assert!(!conn.is_connected());
    assert!(matches!(block_on(conn.poll()), Err(Error::Disconnected)));
    assert!(matches!(
        publish_qos1(&mut conn, "data", b"x"),
        Err(PubError::Session(Error::Disconnected))
    ));
}

#[test]
fn dropping_a_live_connection_sends_no_disconnect_and_resumes() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    let first_inspect = first.clone();
    let mut second = MockConnection::default();
    second.push_rx(&connack_session_present());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    // A healthy, connected session dropped WITHOUT a graceful disconnect.
    let conn = expect_connected(&mut session, &connector);
    drop(conn);

    // A bare drop is an ungraceful MQTT close: no DISCONNECT (0xE0) packet is written.
    assert!(
        !first_inspect
            .tx()
            .iter()
            .any(|frame| frame.first() == Some(&0xE0)),
        "dropping the handle must not emit a DISCONNECT packet"
    );

    // Reconnecting resumes the existing broker session.
    let _conn = expect_reconnected(&mut session, &connector);
}

#[test]
fn failed_connack_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.push_rx(&[0x20, 0x03, 0x00, 0x87, 0x00]);
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Peer(PeerError::Rejected(ReasonCode::NotAuthorized)))
    ));
    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn broker_disconnect_during_connect_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.push_rx(&disconnect());
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Disconnected)
    ));
    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn zero_receive_maximum_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.push_rx(&connack_receive_max(0));
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Peer(PeerError::InvalidPacket))
    ));
    expect_connected(&mut session, &connector);
}

#[test]
fn oversized_assigned_client_id_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.push_rx(&connack_assigned_client_id(&"a".repeat(65)));
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Peer(PeerError::InvalidPacket))
    ));
    expect_connected(&mut session, &connector);
}

#[test]
fn timed_out_connack_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.fail_read(ErrorKind::TimedOut);
    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Transport(ErrorKind::TimedOut))
    ));
    expect_connected(&mut session, &connector);
}

#[test]
fn malformed_inbound_packet_disconnects_session_and_allows_reconnect() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&[0x20, 0xFF, 0xFF, 0xFF, 0xFF]);

    let mut second = MockConnection::default();
    second.push_rx(&connack());
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    expect_poll_error(&mut conn, |err| {
        matches!(err, Error::Peer(PeerError::InvalidPacket))
    });
    drop(conn);
    expect_connected(&mut session, &connector);
}

#[test]
fn inflight_metadata_exhaustion_is_reported() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let capacity = fill_inflight_publish_slots(&mut conn);
    assert!(capacity > 0);
}

#[test]
fn outbound_qos_acks_can_arrive_out_of_order() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&puback(2));
    connection.push_rx(&puback(1));
    connection.push_rx(&puback(3));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    for _ in 0..3 {
        publish_qos1_ok(&mut conn, "data", b"x");
    }
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(poll_now(&mut conn).unwrap().is_none());
}

#[test]
fn acknowledgement_kind_must_match_operation() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&puback(1));
    connection.push_rx(&suback(1, 0x00));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let op = block_on(conn.subscribe(&[TopicFilter::new("data")], &[])).unwrap();
    assert!(conn.is_pending(&op));

    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(conn.is_pending(&op));

    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(conn.is_complete(&op));
}

#[test]
fn subscribe_is_replayed_after_disconnect_until_suback() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let inspect = second.clone();
    second.push_rx(&connack_session_present());
    second.push_rx(&suback(1, 0x01));

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    block_on(conn.subscribe(&[TopicFilter::new("data")], &[])).unwrap();
    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    wait_for_tx_frame(
        &mut conn,
        &inspect,
        &[
            0x82, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x04, b'd', b'a', b't', b'a', 0x00,
        ],
    );

    assert_eq!(
        inspect.tx().last().unwrap(),
        &vec![
            0x82, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x04, b'd', b'a', b't', b'a', 0x00
        ]
    );
}

#[test]
fn subscribe_reports_inflight_metadata_exhaustion_before_send() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let capacity = fill_inflight_publish_slots(&mut conn);

    let result = block_on(conn.subscribe(&[TopicFilter::new("data")], &[]));
    assert!(matches!(
        result,
        Err(Error::Resource(ResourceError::InflightExhausted))
    ));
    assert_eq!(inspect.tx().len(), capacity + 1);
}

#[test]
fn subscribe_rejects_empty_topic_list() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(matches!(
        block_on(conn.subscribe(&[], &[])),
        Err(Error::InvalidRequest)
    ));
}

#[test]
fn unsubscribe_rejects_empty_topic_list() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(matches!(
        block_on(conn.unsubscribe(&[], &[])),
        Err(Error::InvalidRequest)
    ));
}

#[test]
fn outbound_qos2_flow_allows_out_of_order_pubrec_and_pubcomp() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&pubrec(2));
    connection.push_rx(&pubrec(1));
    connection.push_rx(&pubcomp(2));
    connection.push_rx(&pubcomp(1));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    for _ in 0..2 {
        publish_qos2_ok(&mut conn, "data", b"x");
    }

    for _ in 0..4 {
        assert!(poll_now(&mut conn).unwrap().is_none());
    }
}

#[test]
fn inbound_qos2_marks_pending_until_pubrel() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&inbound_publish_qos2(9, "data", b"x"));
    connection.push_rx(&pubrel(9));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    with_inbound(&mut conn, |message| {
        assert_eq!(message.topic(), "data");
    });

    assert!(poll_now(&mut conn).unwrap().is_none());
}

#[test]
fn resumed_session_suppresses_duplicate_inbound_qos2_publish() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&inbound_publish_qos2(9, "data", b"x"));
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack_session_present());
    second.push_rx(&inbound_publish_qos2(9, "data", b"x"));
    second.push_rx(&pubrel(9));

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    with_inbound(&mut conn, |message| assert_eq!(message.topic(), "data"));

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    wait_for_tx_frame(&mut conn, &second_inspect, &outbound_pubcomp(9, 0x00));

    let tx = second_inspect.tx();
    assert_eq!(
        tx.iter()
            .filter(|frame| frame.as_slice() == outbound_pubrec(9))
            .count(),
        1
    );
    assert!(
        tx.iter()
            .any(|frame| frame.as_slice() == outbound_pubcomp(9, 0x00))
    );
}

#[test]
fn fresh_session_clears_pending_inbound_qos2_state() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&inbound_publish_qos2(9, "data", b"x"));
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack());
    second.push_rx(&pubrel(9));

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    with_inbound(&mut conn, |message| assert_eq!(message.topic(), "data"));

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_connected(&mut session, &connector);
    wait_for_tx_frame(&mut conn, &second_inspect, &outbound_pubcomp(9, 0x92));

    assert!(
        second_inspect
            .tx()
            .iter()
            .any(|frame| frame.as_slice() == outbound_pubcomp(9, 0x92))
    );
}

#[test]
fn rejected_publish_drains_queued_puback() {
    let oversized = [0; 1152];
    for (ack, inflight, payload, expected) in [
        (
            connack().to_vec(),
            None,
            b"x".as_slice(),
            PubError::Session(Error::Resource(ResourceError::InflightExhausted)),
        ),
        (
            connack_receive_max(2).to_vec(),
            Some(2),
            b"x".as_slice(),
            PubError::Session(Error::NotReady),
        ),
        (
            connack().to_vec(),
            Some(0),
            oversized.as_slice(),
            PubError::Payload(()),
        ),
        (
            connack_max_packet_size(8).to_vec(),
            Some(0),
            b"x".as_slice(),
            PubError::Session(Error::Resource(ResourceError::PacketTooLarge)),
        ),
    ] {
        let mut connection = MockConnection::default();
        let inspect = connection.clone();
        connection.push_rx(&ack);
        connection.push_rx(&inbound_publish_qos1(9, "data", b"x"));
        let connector = MockConnector::new(connection);
        let mut session = session();
        let mut conn = expect_connected(&mut session, &connector);

        if let Some(count) = inflight {
            for _ in 0..count {
                publish_qos1_ok(&mut conn, "data", b"x");
            }
        } else {
            assert!(fill_inflight_publish_slots(&mut conn) > 0);
        }
        with_inbound(&mut conn, |message| assert_eq!(message.topic(), "data"));
        let before = inspect.tx();
        assert!(!before.iter().any(|frame| frame == &outbound_puback(9)));

        assert_eq!(publish_qos1(&mut conn, "data", payload), Err(expected));
        assert_eq!(
            &inspect.tx()[before.len()..],
            &[outbound_puback(9).to_vec()]
        );
        assert_eq!(
            inspect.inner.borrow().flush_groups.last().unwrap(),
            &outbound_puback(9)
        );
    }
}

#[test]
fn full_retained_outbound_still_sends_pubrec() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    connection.push_rx(&inbound_publish_qos2(9, "data", b"x"));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let capacity = fill_inflight_publish_slots(&mut conn);
    assert!(capacity > 0);

    with_inbound(&mut conn, |message| assert_eq!(message.topic(), "data"));

    wait_for_tx_frame(&mut conn, &inspect, &outbound_pubrec(9));
}

#[test]
fn connack_receive_maximum_clamps_local_quota() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack_receive_max(2));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos1_ok(&mut conn, "data", b"x");
    publish_qos1_ok(&mut conn, "data", b"x");

    let result = publish_qos1(&mut conn, "data", b"x");
    assert!(matches!(result, Err(PubError::Session(Error::NotReady))));
}

#[test]
fn publish_above_broker_maximum_qos_fails_before_send() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_qos(QoS::AtMostOnce));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(matches!(
        publish_qos1(&mut conn, "data", b"x"),
        Err(PubError::Session(Error::InvalidRequest))
    ));
    assert_eq!(inspect.tx().len(), 1);
}

#[test]
fn publish_can_downgrade_to_broker_maximum_qos() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_qos(QoS::AtMostOnce));
    let connector = MockConnector::new(connection);
    let mut session = Session::new(config().autodowngrade_qos());
    let mut conn = expect_connected(&mut session, &connector);

    assert!(publish_qos1(&mut conn, "data", b"x").unwrap().is_none());
    assert_eq!(inspect.tx().last().unwrap()[0], 0x30);
}

#[test]
fn session_allows_publish_after_message_borrow_is_dropped() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&inbound_publish_qos1(7, "cmd", b"payload"));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    {
        with_inbound(&mut conn, |message| {
            assert_eq!(message.topic(), "cmd");
            assert_eq!(message.payload(), b"payload");
        });
    }

    publish_qos1_ok(&mut conn, "reply", b"ok");
}

#[test]
fn session_reconnects_after_write_error() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.fail_write_after(1, ErrorKind::ConnectionReset);

    let mut second = MockConnection::default();
    second.push_rx(&connack_session_present());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    let error = publish_qos1(&mut conn, "reply", b"ok").unwrap_err();
    assert!(matches!(
        error,
        PubError::Session(Error::Transport(ErrorKind::ConnectionReset))
    ));
    drop(conn);

    let mut conn = expect_reconnected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "reply", b"ok");
}

#[test]
fn qos0_write_zero_kills_connection() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.zero_write_after(1);

    let mut second = MockConnection::default();
    second.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(matches!(
        block_on(conn.publish(Publication::bytes("data", b"x"))),
        Err(PubError::Session(Error::WriteZero))
    ));
    assert!(matches!(
        block_on(conn.publish(Publication::bytes("data", b"x"))),
        Err(PubError::Session(Error::Disconnected))
    ));

    drop(conn);
    expect_connected(&mut session, &connector);
}

#[test]
fn retained_write_zero_kills_connection() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.zero_write_after(1);

    let mut second = MockConnection::default();
    second.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    assert!(matches!(
        publish_qos1(&mut conn, "data", b"x"),
        Err(PubError::Session(Error::WriteZero))
    ));
    assert!(matches!(
        publish_qos1(&mut conn, "data", b"x"),
        Err(PubError::Session(Error::Disconnected))
    ));

    drop(conn);
    expect_connected(&mut session, &connector);
}

#[test]
fn puback_failure_is_reported_and_clears_inflight() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&puback_reason(1, 0x87));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos1_ok(&mut conn, "data", b"x");
    expect_poll_error(&mut conn, |err| {
        matches!(
            err,
            Error::Peer(PeerError::Rejected(ReasonCode::NotAuthorized))
        )
    });
    publish_qos1_ok(&mut conn, "data", b"y");
}

#[test]
fn pubrec_failure_is_reported_and_clears_inflight() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&pubrec_reason(1, 0x97));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos2_ok(&mut conn, "data", b"x");
    expect_poll_error(&mut conn, |err| {
        matches!(
            err,
            Error::Peer(PeerError::Rejected(ReasonCode::QuotaExceeded))
        )
    });
    publish_qos2_ok(&mut conn, "data", b"y");
}

#[test]
fn pubcomp_failure_is_reported_and_clears_release_state() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&pubrec(1));
    connection.push_rx(&pubcomp_reason(1, 0x83));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    publish_qos2_ok(&mut conn, "data", b"x");
    expect_poll_error(&mut conn, |err| {
        matches!(
            err,
            Error::Peer(PeerError::Rejected(ReasonCode::ImplementationError))
        )
    });
    publish_qos2_ok(&mut conn, "data", b"y");
}

#[test]
fn poll_requires_connected_session() {
    // Polling is only possible through the `Conn` handle returned by `session.connect(..)`;
    // a fresh `session()` has no handle, so there is nothing to poll. This verifies that
    // connecting yields a usable handle.
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();

    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn connect_retries_cleanly_after_cancellation_during_pending_write() {
    let mut first = MockConnection::default();
    first.pend_writes(1);
    first.push_rx(&connack());
    let second = {
        let mut connection = MockConnection::default();
        connection.push_rx(&connack());
        connection
    };
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut future = Box::pin(session.connect(connector.connect().unwrap()));
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    // After cancellation the session is not connected (no Conn handle exists).
    // A subsequent connect with the second mock IO must succeed.
    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn connect_retries_cleanly_after_cancellation_during_pending_connack() {
    let mut first = MockConnection::default();
    first.pend_reads(1);
    first.push_rx(&connack());
    let second = {
        let mut connection = MockConnection::default();
        connection.push_rx(&connack());
        connection
    };
    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut future = Box::pin(session.connect(connector.connect().unwrap()));
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    // After cancellation the session is not connected (no Conn handle exists).
    // A subsequent connect with the second mock IO must succeed.
    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn disconnect_sends_disconnect_packet_and_marks_handle_dead() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    // `disconnect` marks the handle dead; dropping it releases the session borrow.
    block_on(conn.disconnect()).unwrap();

    assert_eq!(inspect.tx().last().unwrap(), &disconnect_req());
}

#[test]
fn disconnect_with_sends_reason_and_marks_handle_dead() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    // `disconnect_with` marks the handle dead.
    block_on(conn.disconnect_with(Disconnect::with_will())).unwrap();

    assert_eq!(inspect.tx().last().unwrap(), &disconnect_with_will());
}

#[test]
fn disconnect_uses_dedicated_control_storage_when_tx_scratch_is_full() {
    let rx = Box::leak(Box::new([0; 128]));
    let tx = Box::leak(Box::new([0; 96]));
    let config = ConfigBuilder::new(Buffers::new(rx, tx))
        .client_id("test")
        .unwrap();
    let mut session = Session::new(config);

    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut conn = expect_connected(&mut session, &connector);

    let payload = [0u8; 40];
    block_on(conn.publish(Publication::bytes("data", &payload).qos(QoS::AtLeastOnce))).unwrap();

    // `disconnect` marks the handle dead.
    block_on(conn.disconnect()).unwrap();

    assert_eq!(inspect.tx().last().unwrap(), &disconnect_req());
}

#[test]
fn outbound_operations_reject_invalid_property_contexts() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let publish_props = [Property::ServerReference("server")];
    assert_eq!(
        block_on(conn.publish(Publication::bytes("data", b"x").properties(&publish_props))),
        Err(PubError::Session(Error::InvalidRequest))
    );

    let subscribe_props = [Property::ResponseTopic("reply")];
    assert_eq!(
        block_on(conn.subscribe(&[TopicFilter::new("data")], &subscribe_props)),
        Err(Error::InvalidRequest)
    );

    let disconnect_props = [Property::PayloadFormatIndicator(1)];
    assert_eq!(
        block_on(conn.disconnect_with(Disconnect::success().with_properties(&disconnect_props))),
        Err(Error::InvalidRequest)
    );
}

#[test]
fn disconnect_retries_when_cancelled_before_writing() {
    let mut connection = MockConnection::default();
    let mut inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    inspect.pend_writes(1);
    let mut future = Box::pin(conn.disconnect());
    assert!(matches!(poll_once(future.as_mut()), Poll::Pending));
    drop(future);

    block_on(conn.disconnect()).unwrap();
    assert_eq!(inspect.tx().last().unwrap(), &disconnect_req());
}

#[test]
fn session_reconnects_after_replay_write_error() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    second.push_rx(&connack_session_present());
    second.fail_write_after(1, ErrorKind::ConnectionReset);

    let mut third = MockConnection::default();
    third.push_rx(&connack_session_present());

    let connector = MockConnector::with_connections([first, second, third]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    assert!(matches!(
        block_on(conn.poll()),
        Err(Error::Transport(ErrorKind::ConnectionReset))
    ));
    drop(conn);
    let _conn = expect_reconnected(&mut session, &connector);
}

#[test]
fn qos1_publish_replays_across_multiple_resumed_reconnects() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack_session_present());
    second.push_rx(&disconnect());

    let mut third = MockConnection::default();
    let third_inspect = third.clone();
    third.push_rx(&connack_session_present());
    third.push_rx(&puback(1));

    let connector = MockConnector::with_connections([first, second, third]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());

    assert!(
        second_inspect
            .tx()
            .iter()
            .any(|frame| frame.first() == Some(&QOS1_DUP_PUBLISH_HEADER))
    );
    assert!(
        third_inspect
            .tx()
            .iter()
            .any(|frame| frame.first() == Some(&QOS1_DUP_PUBLISH_HEADER))
    );
}

#[test]
fn admitted_qos1_publish_leaves_space_to_reconnect() {
    const TX_LEN: usize = 256;
    // This payload fits the transient encode space, but not retained state plus the next CONNECT.
    const TOO_LARGE_PAYLOAD_LEN: usize = 240;
    // MQTT PUBLISH type (3), QoS 1, with and without the DUP flag.
    const PUBLISH_QOS1: u8 = 0b0011_0010;

    let mut first = MockConnection::default();
    let first_inspect = first.clone();
    first.push_rx(&connack_assigned_client_id("assigned-client"));

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack_session_present());

    let connector = MockConnector::with_connections([first, second]);
    let config = ConfigBuilder::new(Buffers::new(
        Box::leak(Box::new([0; 64])),
        Box::leak(Box::new([0; TX_LEN])),
    ))
    .session_expiry_interval(60);
    let mut session = Session::new(config);

    let mut conn = expect_connected(&mut session, &connector);
    assert_eq!(
        publish_qos1(&mut conn, "x", &[0; TOO_LARGE_PAYLOAD_LEN]),
        Err(PubError::Payload(()))
    );
    assert!(conn.is_connected());
    // QoS0 may still use transient space reserved against retained packets.
    block_on(conn.publish(Publication::bytes("x", &[0; TOO_LARGE_PAYLOAD_LEN]))).unwrap();
    let publication = Publication::new("x", |buffer: &mut [u8]| {
        buffer.fill(0x55);
        Ok::<_, ()>(buffer.len())
    })
    .qos(QoS::AtLeastOnce);
    block_on(conn.publish(publication)).unwrap();

    let mut replay = first_inspect.tx().last().unwrap().clone();
    assert_eq!(replay[0], PUBLISH_QOS1);
    replay[0] = QOS1_DUP_PUBLISH_HEADER;
    drop(conn);

    let mut conn = expect_reconnected(&mut session, &connector);
    wait_for_tx_frame(&mut conn, &second_inspect, &replay);
}

#[test]
fn qos2_pubrel_replays_across_multiple_resumed_reconnects() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&pubrec(1));
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack_session_present());
    second.push_rx(&disconnect());

    let mut third = MockConnection::default();
    let third_inspect = third.clone();
    third.push_rx(&connack_session_present());
    third.push_rx(&pubcomp(1));

    let connector = MockConnector::with_connections([first, second, third]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos2_ok(&mut conn, "data", b"x");

    let already_disconnected = match poll_now(&mut conn) {
        Ok(None) => false,
        Err(Error::Disconnected) => true,
        other => panic!("unexpected poll result before disconnect: {other:?}"),
    };
    if !already_disconnected {
        expect_disconnected(&mut conn);
    }
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());

    assert!(
        second_inspect
            .tx()
            .iter()
            .any(|frame| frame.as_slice() == outbound_pubrel(1))
    );
    assert!(
        third_inspect
            .tx()
            .iter()
            .any(|frame| frame.as_slice() == outbound_pubrel(1))
    );
}

#[test]
fn fresh_session_after_reconnect_drops_stale_replay_state() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let second_inspect = second.clone();
    second.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_connected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());

    assert!(
        second_inspect
            .tx()
            .iter()
            .all(|frame| frame.first() != Some(&QOS1_DUP_PUBLISH_HEADER))
    );
}

#[test]
fn fresh_session_failed_connack_still_drops_stale_replay_state() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    second.push_rx(&connack_receive_max(0));

    let mut third = MockConnection::default();
    let third_inspect = third.clone();
    third.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second, third]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");

    expect_disconnected(&mut conn);
    drop(conn);
    // second connect fails with InvalidPacket (zero receive_max); no conn is bound
    assert!(matches!(
        block_on(session.connect(connector.connect().unwrap())),
        Err(Error::Peer(PeerError::InvalidPacket))
    ));
    let mut conn = expect_connected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());

    assert!(
        third_inspect
            .tx()
            .iter()
            .all(|frame| frame.first() != Some(&QOS1_DUP_PUBLISH_HEADER))
    );
}

#[test]
fn stale_puback_after_resumed_replay_is_ignored() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    second.push_rx(&connack_session_present());
    second.push_rx(&puback(1));
    second.push_rx(&puback(1));

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    publish_qos1_ok(&mut conn, "data", b"x");

    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(poll_now(&mut conn).unwrap().is_none());
}

#[test]
fn connect_uses_configured_session_expiry_interval() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack());
    let connector = MockConnector::new(connection);
    let mut session = Session::new(
        ConfigBuilder::new(Buffers::new(
            Box::leak(Box::new([0; 128])),
            Box::leak(Box::new([0; 1152])),
        ))
        .client_id("test")
        .unwrap()
        .session_expiry_interval(7),
    );

    let conn = block_on(session.connect(connector.connect().unwrap())).unwrap();
    assert!(matches!(conn.connect_event(), ConnectEvent::Connected));
    assert!(
        inspect
            .tx()
            .first()
            .unwrap()
            .windows(5)
            .any(|window| window == [0x11, 0x00, 0x00, 0x00, 0x07])
    );
}

#[test]
fn publish_rejects_packets_larger_than_broker_maximum() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_packet_size(8));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let result = block_on(conn.publish(Publication::bytes("data", b"x")));
    assert!(matches!(
        result,
        Err(PubError::Session(Error::Resource(
            ResourceError::PacketTooLarge
        )))
    ));
    assert_eq!(inspect.tx().len(), 1);
}

#[test]
fn oversized_required_ack_disconnects_session() {
    let mut first = MockConnection::default();
    first.push_rx(&connack_max_packet_size(4));
    first.push_rx(&inbound_publish_qos1(9, "data", b"x"));

    let mut second = MockConnection::default();
    second.push_rx(&connack());

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    expect_poll_error(&mut conn, |err| {
        matches!(err, Error::Resource(ResourceError::PacketTooLarge))
    });
    drop(conn);
    let _conn = expect_connected(&mut session, &connector);
}

#[test]
fn successful_required_ack_fits_small_broker_maximum_packet_size() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_packet_size(5));
    connection.push_rx(&inbound_publish_qos1(9, "data", b"x"));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    with_inbound(&mut conn, |message| {
        assert_eq!(message.topic(), "data");
        assert_eq!(message.payload(), b"x");
    });
    wait_for_tx_frame(&mut conn, &inspect, &outbound_puback(9));
}

#[test]
fn unsubscribe_replays_until_unsuback() {
    let mut first = MockConnection::default();
    first.push_rx(&connack());
    first.push_rx(&disconnect());

    let mut second = MockConnection::default();
    let inspect = second.clone();
    second.push_rx(&connack_session_present());
    second.push_rx(&unsuback(1, 0x00));

    let connector = MockConnector::with_connections([first, second]);
    let mut session = session();

    let mut conn = expect_connected(&mut session, &connector);
    block_on(conn.unsubscribe(&["data"], &[])).unwrap();
    expect_disconnected(&mut conn);
    drop(conn);
    let mut conn = expect_reconnected(&mut session, &connector);
    assert!(poll_now(&mut conn).unwrap().is_none());

    assert_eq!(
        inspect.tx().last().unwrap(),
        &vec![
            0xA2, 0x09, 0x00, 0x01, 0x00, 0x00, 0x04, b'd', b'a', b't', b'a'
        ]
    );
}

#[test]
fn unsubscribe_rejects_packets_larger_than_broker_maximum() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_packet_size(8));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let result = block_on(conn.unsubscribe(&["data"], &[]));
    assert!(matches!(
        result,
        Err(Error::Resource(ResourceError::PacketTooLarge))
    ));
    assert_eq!(inspect.tx().len(), 1);
}

#[test]
fn subscribe_rejects_packets_larger_than_broker_maximum() {
    let mut connection = MockConnection::default();
    let inspect = connection.clone();
    connection.push_rx(&connack_max_packet_size(8));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);

    let result = block_on(conn.subscribe(&[TopicFilter::new("data")], &[]));
    assert!(matches!(
        result,
        Err(Error::Resource(ResourceError::PacketTooLarge))
    ));
    assert_eq!(inspect.tx().len(), 1);
}

#[test]
fn inbound_publish_exposes_response_helpers() {
    let mut connection = MockConnection::default();
    connection.push_rx(&connack());
    connection.push_rx(&inbound_publish_with_response(
        "cmd",
        b"payload",
        "reply/topic",
        b"abc",
    ));
    let connector = MockConnector::new(connection);
    let mut session = session();
    let mut conn = expect_connected(&mut session, &connector);
    with_inbound(&mut conn, |message| {
        assert_eq!(message.response_topic(), Some("reply/topic"));
        assert_eq!(message.correlation_data(), Some(&b"abc"[..]));
        let owned_via_message = message.reply_owned::<64, 8>().unwrap().unwrap();
        assert_eq!(owned_via_message.topic(), "reply/topic");
        assert_eq!(owned_via_message.correlation_data(), Some(&b"abc"[..]));

        let follow_up = owned_via_message.publication("next");

        assert_eq!(owned_via_message.topic(), "reply/topic");
        let _ = message.reply("ok").unwrap().qos(QoS::AtLeastOnce);
        let _ = follow_up;
    });
}

#[test]
fn publish_flushes_inbound_ack_and_publication_together() {
    let mut io = MockConnection::default();
    let mut inspect = io.clone();
    io.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(io)).unwrap();
    inspect.push_rx(&inbound_publish_qos1(9, "set", b"x"));
    assert_eq!(block_on(conn.recv()).unwrap().payload(), b"x");
    let op = publish_qos1(&mut conn, "data", b"y").unwrap().unwrap();
    let expected = [
        outbound_puback(9).as_slice(),
        &inbound_publish_qos1(1, "data", b"y"),
    ]
    .concat();
    assert_eq!(inspect.inner.borrow().flush_groups[1..], [expected]);
    assert!(conn.is_pending(&op));
    inspect.push_rx(&puback(1));
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(conn.is_complete(&op));
}

#[test]
fn resumed_replay_flushes_eight_publications_once() {
    let mut first = MockConnection::default();
    let inspect_first = first.clone();
    first.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(first)).unwrap();
    for value in 0..8 {
        publish_qos1_ok(&mut conn, "data", &[value]);
    }
    let mut expected = inspect_first.tx()[1..].to_vec();
    for packet in &mut expected {
        packet[0] |= 0x08;
    }
    drop(conn);
    let mut second = MockConnection::default();
    let inspect_second = second.clone();
    second.push_rx(&connack_session_present());
    let mut conn = block_on(session.connect(second)).unwrap();
    assert!(block_on(conn.drive()).unwrap().is_none());
    assert_eq!(
        inspect_second.inner.borrow().flush_groups[1..],
        [expected.concat()]
    );
    assert_eq!(inspect_second.tx()[1..], expected);
}

#[test]
fn cancelled_flush_finishes_before_new_publication_writes() {
    let mut io = MockConnection::default();
    let mut inspect = io.clone();
    io.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(io)).unwrap();
    inspect.inner.borrow_mut().write_limit = Some(3);
    inspect.pend_flushes(2);
    assert!(
        poll_once(
            Box::pin(conn.publish(Publication::bytes("first", b"one").qos(QoS::AtLeastOnce)))
                .as_mut()
        )
        .is_pending()
    );
    let first = inspect.tx();
    assert!(
        poll_once(
            Box::pin(conn.publish(Publication::bytes("second", b"two").qos(QoS::AtLeastOnce)))
                .as_mut()
        )
        .is_pending()
    );
    assert_eq!(inspect.tx(), first);
    assert!(block_on(conn.drive()).unwrap().is_none());
    let expected = [
        inbound_publish_qos1(1, "first", b"one"),
        inbound_publish_qos1(2, "second", b"two"),
    ];
    assert_eq!(inspect.inner.borrow().flush_groups[1..], expected);
    assert_eq!(inspect.tx()[1..].concat(), expected.concat());
}

#[test]
fn disconnect_finishes_a_cancelled_publication_before_terminal_packet() {
    let mut io = MockConnection::default();
    let mut inspect = io.clone();
    io.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(io)).unwrap();
    inspect.pend_flushes(1);
    assert!(
        poll_once(
            Box::pin(conn.publish(Publication::bytes("data", b"x").qos(QoS::AtLeastOnce),))
                .as_mut()
        )
        .is_pending()
    );
    block_on(conn.disconnect()).unwrap();
    let expected = [
        inbound_publish_qos1(1, "data", b"x"),
        disconnect_req().to_vec(),
    ];
    assert_eq!(inspect.tx()[1..].concat(), expected.concat());
    assert_eq!(inspect.inner.borrow().flush_groups[1..], expected);
}

#[test]
fn flush_failure_disconnects_and_replays_retained_publication() {
    let mut first = MockConnection::default();
    let inspect_first = first.clone();
    first.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(first)).unwrap();
    inspect_first.inner.borrow_mut().flush_error = Some(ErrorKind::ConnectionReset);
    assert!(matches!(
        publish_qos1(&mut conn, "data", b"x"),
        Err(PubError::Session(Error::Transport(
            ErrorKind::ConnectionReset
        )))
    ));
    assert!(!conn.is_connected());
    drop(conn);
    let mut second = MockConnection::default();
    let mut inspect_second = second.clone();
    second.push_rx(&connack_session_present());
    let mut conn = block_on(session.connect(second)).unwrap();
    assert!(block_on(conn.drive()).unwrap().is_none());
    let mut expected = inbound_publish_qos1(1, "data", b"x");
    expected[0] |= 0x08;
    assert_eq!(inspect_second.inner.borrow().flush_groups[1..], [expected]);
    inspect_second.push_rx(&puback(1));
    assert!(poll_now(&mut conn).unwrap().is_none());
    assert!(conn.session().is_publish_quiescent());
}

#[test]
fn streaming_buffer_can_fill_partway_through_a_burst() {
    let mut io = MockConnection::default();
    let mut inspect = io.clone();
    io.push_rx(&connack());
    let mut session = session();
    let mut conn = block_on(session.connect(io)).unwrap();
    inspect.inner.borrow_mut().buffer_capacity = Some(12);
    inspect.push_rx(&inbound_publish_qos1(9, "set", b"x"));
    assert_eq!(block_on(conn.recv()).unwrap().payload(), b"x");
    publish_qos1_ok(&mut conn, "data", b"y");
    let expected = [
        outbound_puback(9).as_slice(),
        &inbound_publish_qos1(1, "data", b"y"),
    ]
    .concat();
    assert_eq!(inspect.tx()[1..].concat(), expected);
    let inner = inspect.inner.borrow();
    assert_eq!(inner.automatic_flushes, 1);
    assert_eq!(inner.flush_groups.len(), 2); // CONNECT, then the whole MQTT burst.
    assert!(inner.buffered.is_empty());
}
