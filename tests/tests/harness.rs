//! The harness's broker and MQTT peer, checked against each other so that a fault in
//! them is not mistaken for a fault of the modem.

use e2e_tests::{Broker, Peer, TIMEOUT};
use std::time::Duration;

#[test]
fn peer_messages_go_through_the_broker_with_their_qos_and_retain_flag() {
    let broker = Broker::start();
    let mut subscriber = Peer::connect(broker.port());
    subscriber.subscribe("e2e/+/x", 1);
    let mut publisher = Peer::connect(broker.port());

    publisher.publish("e2e/a/x", b"one\r\n\0two", 1, false);
    assert_eq!(
        subscriber.recv(TIMEOUT),
        ("e2e/a/x".to_owned(), b"one\r\n\0two".to_vec(), 1, false)
    );
    publisher.publish("e2e/b/x", b"at most once", 0, false);
    assert_eq!(
        subscriber.recv(TIMEOUT),
        ("e2e/b/x".to_owned(), b"at most once".to_vec(), 0, false)
    );
    // Delivered at the subscription's QoS when that is lower.
    publisher.publish("e2e/c/x", b"exactly once", 2, false);
    assert_eq!(
        subscriber.recv(TIMEOUT),
        ("e2e/c/x".to_owned(), b"exactly once".to_vec(), 1, false)
    );
    publisher.publish("e2e/other", b"not matched", 1, false);

    publisher.publish("e2e/retained", b"kept", 1, true);
    let mut late = Peer::connect(broker.port());
    late.subscribe("e2e/retained", 2);
    assert_eq!(
        late.recv(TIMEOUT),
        ("e2e/retained".to_owned(), b"kept".to_vec(), 1, true)
    );

    subscriber.unsubscribe("e2e/+/x");
    publisher.publish("e2e/d/x", b"after unsubscribe", 1, false);
    assert_eq!(subscriber.try_recv(Duration::from_millis(300)), None);
}

#[test]
fn broker_stops_and_restarts_on_the_same_port() {
    let mut broker = Broker::start();
    let port = broker.port();
    broker.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    broker.restart();
    assert_eq!(broker.port(), port);
    let mut peer = Peer::connect(port);
    peer.subscribe("e2e/restart", 0);
    peer.publish("e2e/restart", b"back", 0, false);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("e2e/restart".to_owned(), b"back".to_vec(), 0, false)
    );
    assert!(broker.log().contains("running"), "{}", broker.log());
}

#[test]
fn extra_configuration_lines_reach_the_broker() {
    let broker = Broker::with_config(&["max_packet_size 64"]);
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("e2e/size", 0);
    peer.publish("e2e/size", b"small", 0, false);
    assert_eq!(peer.recv(TIMEOUT).1, b"small".to_vec());
    // Larger than the broker accepts: it drops the client instead of routing it.
    peer.publish("e2e/size", &[b'x'; 200], 0, false);
    assert_eq!(peer.try_recv(Duration::from_millis(500)), None);
}
