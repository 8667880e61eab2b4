//! `AT+MQTTCONN` (set and query) and `AT+MQTTCLEAN` against a real broker: success, every
//! error path with its code, failures that leave the modem usable, and `busy p...` while
//! the command waits for CONNACK (SPEC.md sections 3 and 6, docs/PROTOCOL.md section 6).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use e2e_tests::at::{CONNECTED, OK, conn, echoed, error_code, mqtt_error, user_cfg};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

/// Long enough for AT+MQTTCONN's 15 s bound and then some.
const CONNECT_BOUND: Duration = Duration::from_secs(25);

/// `AT+MQTTCONN?` and its exact answer `+MQTTCONN:<fields>`.
fn query(modem: &mut Modem, fields: &str) {
    let answer = format!("AT+MQTTCONN?\r\n+MQTTCONN:{fields}\r\n\r\nOK\r\n");
    modem.exchange("AT+MQTTCONN?", answer.as_bytes());
}

/// A loopback port that nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("no local address: {e}"))
        .port()
}

#[test]
fn query_shows_nothing_before_configuration_then_the_scheme_then_the_link() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    query(&mut modem, "0,disconnect,0,\"\",0,0");
    let user = user_cfg("query");
    modem.exchange(&user, &echoed(&user, OK));
    query(&mut modem, "0,disconnect,1,\"\",0,0");
    let line = conn(port, 1);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    query(&mut modem, &format!("0,connected,1,\"127.0.0.1\",{port},1"));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    query(&mut modem, "0,disconnect,0,\"\",0,0");
}

#[test]
fn conn_refuses_each_wrong_parameter_with_its_code() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    // Parameters are checked before the state.
    let long_host = format!("AT+MQTTCONN=0,\"{}\",1883,0", "h".repeat(65));
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTCONN=1,\"127.0.0.1\",1883,0", 0x6011),
        ("AT+MQTTCONN=0,\"\",1883,0", 0x603B),
        (&long_host, 0x603C),
        ("AT+MQTTCONN=0,\"127.0.0.1\",0,0", 0x603E),
        ("AT+MQTTCONN=0,\"127.0.0.1\",65536,0", 0x603E),
        ("AT+MQTTCONN=0,\"127.0.0.1\",1883,2", 0x6040),
        // Well-formed, but AT+MQTTUSERCFG was never sent.
        ("AT+MQTTCONN=0,\"127.0.0.1\",1883,0", 0x6001),
    ];
    for &(line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(code)));
    }
    let counts = [
        ("AT+MQTTCONN=0,\"127.0.0.1\",1883", 0x0106_0403),
        ("AT+MQTTCONN=0,\"127.0.0.1\",1883,0,5", 0x0106_0405),
    ];
    for (line, code) in counts {
        modem.exchange(line, &echoed(line, &error_code(code)));
    }
    query(&mut modem, "0,disconnect,0,\"\",0,0");
}

#[test]
fn conn_accepts_a_64_byte_host_name() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("host64");
    modem.exchange(&user, &echoed(&user, OK));
    // 64 bytes is the limit; the name does not resolve, so the connect itself fails.
    let host = format!("{}.invalid", "h".repeat(56));
    assert_eq!(host.len(), 64);
    let line = format!("AT+MQTTCONN=0,\"{host}\",1883,0");
    modem.send_line(&line);
    modem.expect(&echoed(&line, &mqtt_error(0x600B)), CONNECT_BOUND);
    query(&mut modem, &format!("0,disconnect,1,\"{host}\",1883,0"));
}

#[test]
fn conn_to_a_closed_port_fails_and_the_modem_stays_usable() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("closed");
    modem.exchange(&user, &echoed(&user, OK));
    let closed = closed_port();
    let line = conn(closed, 0);
    modem.send_line(&line);
    modem.expect(&echoed(&line, &mqtt_error(0x600B)), CONNECT_BOUND);
    // The attempt's target is shown.
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{closed},0"),
    );
    modem.exchange("AT", &echoed("AT", OK));
    // And the real broker is reached afterwards.
    let line = conn(broker.port(), 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
}

#[test]
fn conn_to_an_unresolvable_name_fails_and_the_modem_stays_usable() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("unresolvable");
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTCONN=0,\"nonexistent.invalid\",1883,1";
    modem.send_line(line);
    modem.expect(&echoed(line, &mqtt_error(0x600B)), CONNECT_BOUND);
    // reconnect=1 does not retry a failed first connect: nothing more is written.
    modem.expect_silence(Duration::from_millis(1500));
    query(&mut modem, "0,disconnect,1,\"nonexistent.invalid\",1883,1");
    let line = conn(broker.port(), 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
}

#[test]
fn conn_while_connected_is_refused_and_the_link_stays() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect("twice", port);
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x6004)));
    query(&mut modem, &format!("0,connected,1,\"127.0.0.1\",{port},0"));
    let line = "AT+MQTTPUB=0,\"twice/t\",\"still\",1,0";
    modem.exchange(line, &echoed(line, OK));
}

#[test]
fn clean_answers_ok_also_when_nothing_is_configured() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    let user = user_cfg("clean");
    modem.exchange(&user, &echoed(&user, OK));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    query(&mut modem, "0,disconnect,0,\"\",0,0");
    let refused = [
        ("AT+MQTTCLEAN=1", mqtt_error(0x6011)),
        ("AT+MQTTCLEAN=0,0", error_code(0x0106_0102)),
        ("AT+MQTTCLEAN", error_code(0x010C_0000)),
        ("AT+MQTTCLEAN?", error_code(0x010C_0000)),
    ];
    for (line, answer) in refused {
        modem.exchange(line, &echoed(line, &answer));
    }
}

#[test]
fn clean_disconnects_forgets_everything_and_a_new_configuration_connects() {
    let broker = Broker::start();
    let port = broker.port();
    let mut peer = Peer::connect(port);
    peer.subscribe("again/#", 1);
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect("clean-first", port);
    let line = "AT+MQTTSUB=0,\"again/in\",1";
    modem.exchange(line, &echoed(line, OK));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    broker.wait_for_log("Client clean-first disconnected.", 1, TIMEOUT);
    // Configuration and subscriptions are gone.
    let line = "AT+MQTTPUB=0,\"again/out\",\"x\",0,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6006)));
    modem.exchange("AT+MQTTSUB?", b"AT+MQTTSUB?\r\n\r\nOK\r\n");
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x6001)));
    // Reconfigure and reconnect with another client ID.
    modem.mqtt_connect("clean-second", port);
    broker.wait_for_log("as clean-second", 1, TIMEOUT);
    let line = "AT+MQTTPUB=0,\"again/out\",\"second\",1,0";
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("again/out".to_owned(), b"second".to_vec(), 1, false)
    );
    // The old subscription was not restored.
    peer.publish("again/in", b"nobody", 1, false);
    modem.expect_silence(Duration::from_millis(500));
}

/// A listener that accepts one MQTT client and answers only when told to.
struct SilentBroker {
    listener: TcpListener,
}

impl SilentBroker {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        Self { listener }
    }

    fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .unwrap_or_else(|e| panic!("no local address: {e}"))
            .port()
    }

    /// Accepts the client and reads the first bytes of its CONNECT.
    fn accept_connect(&self) -> std::net::TcpStream {
        let (mut stream, _) = self
            .listener
            .accept()
            .unwrap_or_else(|e| panic!("accept: {e}"));
        stream
            .set_read_timeout(Some(TIMEOUT))
            .unwrap_or_else(|e| panic!("read timeout: {e}"));
        let mut first = [0u8; 1];
        stream
            .read_exact(&mut first)
            .unwrap_or_else(|e| panic!("no CONNECT from the modem: {e}"));
        assert_eq!(first[0], 0x10, "the first packet is not CONNECT");
        stream
    }
}

#[test]
fn a_line_sent_while_conn_waits_for_connack_is_answered_busy() {
    let silent = SilentBroker::new();
    let mut modem = Modem::ready(&[]);
    let user = user_cfg("busy");
    modem.exchange(&user, &echoed(&user, OK));
    let line = conn(silent.port(), 0);
    modem.send_line(&line);
    modem.expect(&echoed(&line, b""), TIMEOUT);
    let mut stream = silent.accept_connect();
    // The command waits for CONNACK: a new line is echoed and answered busy.
    modem.exchange("AT", b"AT\r\nbusy p...\r\n");
    // A busy line is dropped, not run later.
    modem.exchange("AT+SYSLOG=1", b"AT+SYSLOG=1\r\nbusy p...\r\n");
    // MQTT v5 CONNACK: no session present, success, no properties.
    stream
        .write_all(&[0x20, 0x03, 0x00, 0x00, 0x00])
        .unwrap_or_else(|e| panic!("cannot send CONNACK: {e}"));
    modem.expect(&[CONNECTED, OK].concat(), TIMEOUT);
    modem.exchange("AT+SYSLOG?", b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n");
}

#[test]
fn slow_conn_without_connack_fails_after_15_s_and_the_modem_stays_usable() {
    let silent = SilentBroker::new();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("no-connack");
    modem.exchange(&user, &echoed(&user, OK));
    let line = conn(silent.port(), 0);
    modem.send_line(&line);
    modem.expect(&echoed(&line, b""), TIMEOUT);
    let _stream = silent.accept_connect();
    modem.exchange("AT", b"AT\r\nERR CODE:0x010b0000\r\nbusy p...\r\n");
    modem.expect(&mqtt_error(0x600B), CONNECT_BOUND);
    query(
        &mut modem,
        &format!("0,disconnect,1,\"127.0.0.1\",{},0", silent.port()),
    );
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn conn_resolves_host_names_and_takes_a_bare_host() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    let user = user_cfg("names");
    modem.exchange(&user, &echoed(&user, OK));
    let line = format!("AT+MQTTCONN=0,\"localhost\",{port},0");
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    query(&mut modem, &format!("0,connected,1,\"localhost\",{port},0"));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    // The seed's own example writes the host unquoted.
    modem.exchange(&user, &echoed(&user, OK));
    let line = format!("AT+MQTTCONN=0,127.0.0.1,{port},1");
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    query(&mut modem, &format!("0,connected,1,\"127.0.0.1\",{port},1"));
}

#[test]
fn the_configuration_reaches_the_broker_in_connect() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    let cases = [
        // keepalive 0 means 120 s; clean start by default.
        (
            "AT+MQTTCONNCFG=0,0,0,\"\",\"\",0,0",
            "as cfg-a (p5, c1, k120).",
        ),
        (
            "AT+MQTTCONNCFG=0,7200,1,\"\",\"\",0,0",
            "as cfg-a (p5, c0, k7200).",
        ),
    ];
    for (conncfg, logged) in cases {
        let user = user_cfg("cfg-a");
        modem.exchange(&user, &echoed(&user, OK));
        modem.exchange(conncfg, &echoed(conncfg, OK));
        let line = conn(port, 0);
        modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
        broker.wait_for_log(logged, 1, TIMEOUT);
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
    // Without AT+MQTTCONNCFG: the defaults.
    modem.mqtt_connect("cfg-b", port);
    broker.wait_for_log("as cfg-b (p5, c1, k120).", 1, TIMEOUT);
}

#[test]
fn credentials_are_checked_by_the_broker_and_a_refusal_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let passwords = dir.path().join("passwords");
    let status = std::process::Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(&passwords)
        .args(["espressif", "1234567890"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run mosquitto_passwd (package mosquitto): {e}"));
    assert!(status.success(), "mosquitto_passwd failed: {status}");
    let password_file = format!("password_file {}", passwords.display());
    let broker = Broker::with_config(&["allow_anonymous false", &password_file]);
    let port = broker.port();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let refused = [
        user_cfg("anonymous"),
        "AT+MQTTUSERCFG=0,1,\"wrong\",\"espressif\",\"123456789\",0,0,\"\"".to_owned(),
    ];
    for user in &refused {
        modem.exchange(user, &echoed(user, OK));
        let line = conn(port, 0);
        modem.exchange(&line, &echoed(&line, &mqtt_error(0x600B)));
    }
    let user = "AT+MQTTUSERCFG=0,1,\"right\",\"espressif\",\"1234567890\",0,0,\"\"";
    modem.exchange(user, &echoed(user, OK));
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    broker.wait_for_log("as right (p5, c1, k120, u'espressif').", 1, TIMEOUT);
}
