//! Scheme 2: MQTT over TLS 1.3 with an external pre-shared key (`AT+MQTTPSK`), against
//! mosquitto's `psk_file` listener (SPEC.md section 6, docs/PROTOCOL.md section 6).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::TcpListener;

use e2e_tests::at::{CONNECTED, OK, echoed, mqtt_error, subrecv};
use e2e_tests::tls_records::{APPLICATION_DATA, RecordRelay};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

/// The identity and key the broker knows.
const IDENTITY: &str = "modem-psk";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

/// A mosquitto with its plain listener (for the peer) and a TLS-PSK listener; returns
/// the broker and the PSK port.
fn psk_broker() -> (Broker, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let psk_file = dir.path().join("psk.txt");
    std::fs::write(&psk_file, format!("{IDENTITY}:{KEY_HEX}\n"))
        .unwrap_or_else(|e| panic!("psk file: {e}"));
    let psk_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
        .port();
    let listener = format!("listener {psk_port} 127.0.0.1");
    let file = format!("psk_file {}", psk_file.display());
    let broker = Broker::with_config(&[
        &listener,
        "psk_hint at-mqtt-modem",
        &file,
        "tls_version tlsv1.3",
    ]);
    (broker, psk_port, dir)
}

fn user_cfg_tls(client_id: &str) -> String {
    format!("AT+MQTTUSERCFG=0,2,\"{client_id}\",\"\",\"\",0,0,\"\"")
}

fn conn(port: u16) -> String {
    format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0")
}

#[test]
fn psk_connection_carries_both_directions() {
    let (broker, psk_port, _dir) = psk_broker();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("tls/up", 1);
    let mut modem = Modem::ready(&[]);
    let user = user_cfg_tls("tls-modem");
    modem.exchange(&user, &echoed(&user, OK));
    let psk = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
    modem.exchange(&psk, &echoed(&psk, OK));
    let line = conn(psk_port);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    let sub = "AT+MQTTSUB=0,\"tls/down\",1";
    modem.exchange(sub, &echoed(sub, OK));

    let publish = "AT+MQTTPUB=0,\"tls/up\",\"sealed\",1,0";
    modem.exchange(publish, &echoed(publish, OK));
    let (topic, payload, qos, retain) = peer.recv(TIMEOUT);
    assert_eq!(
        (topic.as_str(), &payload[..], qos, retain),
        ("tls/up", &b"sealed"[..], 1, false)
    );

    peer.publish("tls/down", b"opened", 1, false);
    modem.expect(&subrecv("tls/down", b"opened"), TIMEOUT);
}

#[test]
fn wrong_key_or_identity_fails_and_the_modem_recovers() {
    let (_broker, psk_port, _dir) = psk_broker();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg_tls("tls-wrong");
    modem.exchange(&user, &echoed(&user, OK));
    let line = conn(psk_port);
    for psk in [
        format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"ffffffff445566778899aabbccddeeff\""),
        format!("AT+MQTTPSK=0,\"stranger\",\"{KEY_HEX}\""),
    ] {
        modem.exchange(&psk, &echoed(&psk, OK));
        modem.exchange(&line, &echoed(&line, &mqtt_error(0x600B)));
    }
    let psk = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
    modem.exchange(&psk, &echoed(&psk, OK));
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
}

#[test]
fn scheme_2_without_a_key_is_refused() {
    let (_broker, psk_port, _dir) = psk_broker();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg_tls("tls-nokey");
    modem.exchange(&user, &echoed(&user, OK));
    let line = conn(psk_port);
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x6009)));
}

#[test]
fn psk_parameters_are_checked() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let long_identity = format!("AT+MQTTPSK=0,\"{}\",\"00ff\"", "i".repeat(65));
    let long_key = format!("AT+MQTTPSK=0,\"id\",\"{}\"", "a".repeat(130));
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTPSK=1,\"id\",\"00ff\"", 0x6011),
        ("AT+MQTTPSK=0,\"\",\"00ff\"", 0x6025),
        (&long_identity, 0x6025),
        ("AT+MQTTPSK=0,\"id\",\"0\"", 0x6025),
        ("AT+MQTTPSK=0,\"id\",\"abc\"", 0x6025),
        (&long_key, 0x6025),
        ("AT+MQTTPSK=0,\"id\",\"zz\"", 0x6026),
    ];
    for (line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(*code)));
    }
    modem.exchange(
        "AT+MQTTPSK=0,\"id\",\"00ff\",1",
        &echoed(
            "AT+MQTTPSK=0,\"id\",\"00ff\",1",
            &e2e_tests::at::error_code(0x0106_0304),
        ),
    );
    let ok = format!("AT+MQTTPSK=0,\"id\",\"{}\"", "A".repeat(128));
    modem.exchange(&ok, &echoed(&ok, OK));
}

/// The modem asks for records of at most 4,096 plaintext bytes (`max_fragment_length`,
/// RFC 6066) and mosquitto (OpenSSL) honours it: a 6,000-byte message arrives as two
/// records, the first a full 4,096-byte fragment, none larger. Without the extension the
/// broker sends the whole packet in one record, which the modem's 4,357-byte record
/// buffer could not hold.
#[test]
fn the_broker_honours_the_requested_fragment_length() {
    // A TLS 1.3 record's body: the plaintext, one content-type byte and a 16-byte tag
    // (OpenSSL adds no padding).
    const FULL_FRAGMENT_RECORD: usize = 4096 + 1 + 16;
    let (broker, psk_port, _dir) = psk_broker();
    let relay = RecordRelay::start(psk_port);
    let mut peer = Peer::connect(broker.port());
    let mut modem = Modem::ready(&[]);
    let user = user_cfg_tls("tls-fragments");
    modem.exchange(&user, &echoed(&user, OK));
    let psk = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
    modem.exchange(&psk, &echoed(&psk, OK));
    let line = conn(relay.port());
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    let sub = "AT+MQTTSUB=0,\"tls/big\",0";
    modem.exchange(sub, &echoed(sub, OK));

    let payload: Vec<u8> = (b'a'..=b'z').cycle().take(6000).collect();
    peer.publish("tls/big", &payload, 0, false);
    modem.expect(&subrecv("tls/big", &payload), TIMEOUT);

    let data: Vec<usize> = relay
        .from_broker()
        .iter()
        .filter(|r| r.content_type == APPLICATION_DATA)
        .map(|r| r.length)
        .collect();
    let largest = data.iter().copied().max().unwrap_or(0);
    assert_eq!(
        largest, FULL_FRAGMENT_RECORD,
        "application data records from the broker: {data:?}"
    );
}
