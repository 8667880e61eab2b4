//! The broker link over time: the last will after a power cut (and not after
//! `AT+MQTTCLEAN`), keepalive pings on an idle link, losses with and without automatic
//! reconnection, and persistent sessions (SPEC.md sections 5 and 6, docs/PROTOCOL.md
//! section 6).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use e2e_tests::at::{
    CONNECTED, DISCONNECTED, OK, READY, conn, echoed, mqtt_error, subrecv, user_cfg,
};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

/// Long enough for a few reconnect back-off steps (1 s, 2 s, 4 s...).
const RECONNECT_BOUND: Duration = Duration::from_secs(30);

/// Configures `client_id` with `conncfg_tail` (the parameters after the link ID) and
/// connects to `port` with `reconnect`.
fn connect_with(modem: &mut Modem, client_id: &str, conncfg_tail: &str, port: u16, reconnect: u8) {
    let user = user_cfg(client_id);
    modem.exchange(&user, &echoed(&user, OK));
    let line = format!("AT+MQTTCONNCFG=0,{conncfg_tail}");
    modem.exchange(&line, &echoed(&line, OK));
    let line = conn(port, reconnect);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
}

/// `AT+MQTTCONN?` and its exact answer `+MQTTCONN:<fields>`.
fn query(modem: &mut Modem, fields: &str) {
    let answer = format!("AT+MQTTCONN?\r\n+MQTTCONN:{fields}\r\n\r\nOK\r\n");
    modem.exchange("AT+MQTTCONN?", answer.as_bytes());
}

#[test]
fn the_will_is_published_when_the_host_connection_drops() {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("will/#", 2);
    let mut modem = Modem::ready(&[]);
    connect_with(
        &mut modem,
        "will-drop",
        "60,0,\"will/drop\",\"good bye\",1,0",
        broker.port(),
        0,
    );
    // A new host connection powers the modem off and on: the broker link is cut
    // without DISCONNECT.
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("will/drop".to_owned(), b"good bye".to_vec(), 1, false)
    );
}

#[test]
fn a_retained_will_is_published_when_the_simulator_is_killed() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    connect_with(
        &mut modem,
        "will-kill",
        "60,0,\"will/kill\",\"killed\",2,1",
        broker.port(),
        0,
    );
    // SIGKILL to the at-host process.
    drop(modem);
    broker.wait_for_log("Client will-kill closed its connection.", 1, TIMEOUT);
    // Retained: a subscriber that comes later still gets it.
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("will/kill", 2);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("will/kill".to_owned(), b"killed".to_vec(), 2, true)
    );
}

#[test]
fn the_will_is_not_published_after_clean() {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("will/#", 1);
    let mut modem = Modem::ready(&[]);
    connect_with(
        &mut modem,
        "will-clean",
        "60,0,\"will/clean\",\"must not arrive\",1,0",
        broker.port(),
        0,
    );
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    // DISCONNECT reached the broker (which then drops the will), then power off.
    broker.wait_for_log("Client will-clean disconnected.", 1, TIMEOUT);
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    // A will would have been routed before this later message.
    peer.publish("will/marker", b"after", 1, false);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("will/marker".to_owned(), b"after".to_vec(), 1, false)
    );
}

#[test]
fn keepalive_pings_keep_an_idle_link_up() {
    let broker = Broker::with_config(&["log_type all"]);
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("idle/#", 1);
    let mut modem = Modem::ready(&[]);
    connect_with(&mut modem, "idle", "2,0,\"\",\"\",0,0", broker.port(), 0);
    // The broker drops a client silent for 1.5 keepalives (3 s); three pings take at
    // least 4 s of idling, and the link must still be up after them.
    broker.wait_for_log("Received PINGREQ from idle", 3, Duration::from_secs(20));
    modem.expect_silence(Duration::from_secs(2));
    query(
        &mut modem,
        &format!("0,connected,1,\"127.0.0.1\",{},0", broker.port()),
    );
    let line = "AT+MQTTPUB=0,\"idle/after\",\"still here\",1,0";
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("idle/after".to_owned(), b"still here".to_vec(), 1, false)
    );
    let log = broker.log();
    assert!(!log.contains("exceeded timeout"), "{log}");
}

#[test]
fn reconnect_1_restores_the_link_and_its_subscriptions() {
    let mut broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    connect_with(&mut modem, "auto", "0,0,\"\",\"\",0,0", port, 1);
    let line = "AT+MQTTSUB=0,\"auto/+\",1";
    modem.exchange(line, &echoed(line, OK));

    broker.stop();
    modem.expect(DISCONNECTED, TIMEOUT);
    // While the modem reconnects: no link for PUB and SUB, no second CONN, no new
    // configuration.
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{port},1"),
    );
    let refused = [
        ("AT+MQTTPUB=0,\"auto/x\",\"d\",0,0".to_owned(), 0x6051),
        ("AT+MQTTSUB=0,\"other\",0".to_owned(), 0x6051),
        (conn(port, 1), 0x6004),
        (user_cfg("other"), 0x6004),
    ];
    for (line, code) in &refused {
        modem.exchange(line, &echoed(line, &mqtt_error(*code)));
    }

    broker.restart();
    modem.expect(CONNECTED, RECONNECT_BOUND);
    query(&mut modem, &format!("0,connected,1,\"127.0.0.1\",{port},1"));
    modem.exchange(
        "AT+MQTTSUB?",
        b"AT+MQTTSUB?\r\n+MQTTSUB:0,connected,\"auto/+\",1\r\n\r\nOK\r\n",
    );
    // The restarted broker kept no session: the modem subscribed again.
    let mut peer = Peer::connect(port);
    peer.publish("auto/back", b"restored", 1, false);
    modem.expect(&subrecv("auto/back", b"restored"), TIMEOUT);
}

#[test]
fn reconnect_0_reports_the_loss_and_waits_for_the_host() {
    let mut broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect("manual", port);
    let line = "AT+MQTTSUB=0,\"manual/t\",0";
    modem.exchange(line, &echoed(line, OK));

    broker.stop();
    modem.expect(DISCONNECTED, TIMEOUT);
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{port},0"),
    );
    let line = "AT+MQTTPUB=0,\"manual/t\",\"d\",0,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6051)));

    broker.restart();
    // Nothing happens on its own.
    modem.expect_silence(Duration::from_millis(1500));
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{port},0"),
    );
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    // The kept subscription list was restored by the new connect.
    let mut peer = Peer::connect(port);
    peer.publish("manual/t", b"again", 0, false);
    modem.expect(&subrecv("manual/t", b"again"), TIMEOUT);
}

#[test]
fn a_persistent_session_delivers_what_was_queued_while_the_modem_was_off() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    connect_with(&mut modem, "persist", "60,1,\"\",\"\",0,0", port, 0);
    let line = "AT+MQTTSUB=0,\"persist/in\",1";
    modem.exchange(line, &echoed(line, OK));

    // Power off: the broker keeps the session and queues QoS 1 messages for it.
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    broker.wait_for_log("Client persist closed its connection.", 1, TIMEOUT);
    let mut peer = Peer::connect(port);
    peer.publish("persist/in", b"while away", 1, false);

    // Power on with the same client ID, without subscribing.
    connect_with(&mut modem, "persist", "60,1,\"\",\"\",0,0", port, 0);
    modem.expect(&subrecv("persist/in", b"while away"), TIMEOUT);
    // The broker's session goes on delivering.
    peer.publish("persist/in", b"live", 1, false);
    modem.expect(&subrecv("persist/in", b"live"), TIMEOUT);
}

#[test]
fn a_clean_session_drops_what_was_queued_while_the_modem_was_off() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    connect_with(&mut modem, "fresh", "60,1,\"\",\"\",0,0", port, 0);
    let line = "AT+MQTTSUB=0,\"fresh/in\",1";
    modem.exchange(line, &echoed(line, OK));
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    broker.wait_for_log("Client fresh closed its connection.", 1, TIMEOUT);
    let mut peer = Peer::connect(port);
    peer.publish("fresh/in", b"while away", 1, false);

    // disable_clean_session=0: the broker discards the old session.
    connect_with(&mut modem, "fresh", "60,0,\"\",\"\",0,0", port, 0);
    let line = "AT+MQTTSUB=0,\"fresh/in\",1";
    modem.exchange(line, &echoed(line, OK));
    peer.publish("fresh/in", b"new", 1, false);
    modem.expect(&subrecv("fresh/in", b"new"), TIMEOUT);
}

#[test]
fn at_rst_cuts_the_link_like_a_power_cut() {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("will/rst", 1);
    let mut modem = Modem::ready(&[]);
    connect_with(
        &mut modem,
        "will-rst",
        "60,0,\"will/rst\",\"restarted\",1,0",
        broker.port(),
        0,
    );
    modem.exchange("AT+RST", &echoed("AT+RST", &[OK, READY].concat()));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("will/rst".to_owned(), b"restarted".to_vec(), 1, false)
    );
    // Power-on state: nothing configured.
    query(&mut modem, "0,disconnect,0,\"\",0,0");
}

#[test]
fn clean_during_automatic_reconnection_stops_it() {
    let mut broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    connect_with(&mut modem, "stop-auto", "0,0,\"\",\"\",0,0", port, 1);
    broker.stop();
    modem.expect(DISCONNECTED, TIMEOUT);
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    query(&mut modem, "0,disconnect,0,\"\",0,0");
    broker.restart();
    // No reconnection: the broker never sees the client again.
    modem.expect_silence(Duration::from_secs(3));
    assert!(!broker.log().contains("stop-auto"), "{}", broker.log());
    modem.mqtt_connect("stop-auto-2", port);
}

#[test]
fn unsubscribing_while_the_link_is_down_keeps_the_filter_from_being_restored() {
    let mut broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("offline-unsub", port);
    for filter in ["keep/me", "drop/me"] {
        let line = format!("AT+MQTTSUB=0,\"{filter}\",1");
        modem.exchange(&line, &echoed(&line, OK));
    }
    broker.restart();
    modem.expect(DISCONNECTED, TIMEOUT);
    let line = "AT+MQTTUNSUB=0,\"drop/me\"";
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
    modem.exchange(
        "AT+MQTTSUB?",
        b"AT+MQTTSUB?\r\n+MQTTSUB:0,disconnect,\"keep/me\",1\r\n\r\nOK\r\n",
    );
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    let mut peer = Peer::connect(port);
    peer.publish("drop/me", b"no", 1, false);
    peer.publish("keep/me", b"yes", 1, false);
    modem.expect(&subrecv("keep/me", b"yes"), TIMEOUT);
}

#[test]
fn a_session_taken_over_by_another_client_is_reported_lost() {
    let broker = Broker::start();
    let port = broker.port();
    let mut first = Modem::ready(&[]);
    first.mqtt_connect("same-id", port);
    let mut second = Modem::ready(&[]);
    second.mqtt_connect("same-id", port);
    // The broker sends DISCONNECT (session taken over) to the first modem.
    first.expect(DISCONNECTED, TIMEOUT);
    query(
        &mut first,
        &format!("0,disconnect,1,\"127.0.0.1\",{port},0"),
    );
    query(
        &mut second,
        &format!("0,connected,1,\"127.0.0.1\",{port},0"),
    );
    let line = "AT+MQTTPUB=0,\"same/t\",\"second\",1,0";
    second.exchange(line, &echoed(line, OK));
}

#[test]
fn a_broker_that_stops_answering_pings_is_reported_lost() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("no local address: {e}"))
        .port();
    let mut modem = Modem::ready(&[]);
    let user = user_cfg("unanswered");
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTCONNCFG=0,1,0,\"\",\"\",0,0";
    modem.exchange(line, &echoed(line, OK));
    let line = conn(port, 0);
    modem.send_line(&line);
    modem.expect(&echoed(&line, b""), TIMEOUT);
    let (mut stream, _) = listener.accept().unwrap_or_else(|e| panic!("accept: {e}"));
    let mut first = [0u8; 1];
    stream
        .read_exact(&mut first)
        .unwrap_or_else(|e| panic!("no CONNECT: {e}"));
    // CONNACK, then silence: the TCP connection stays open but PINGREQ goes unanswered.
    stream
        .write_all(&[0x20, 0x03, 0x00, 0x00, 0x00])
        .unwrap_or_else(|e| panic!("cannot send CONNACK: {e}"));
    modem.expect(&[CONNECTED, OK].concat(), TIMEOUT);
    modem.expect(DISCONNECTED, Duration::from_secs(20));
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{port},0"),
    );
    drop(stream);
}
