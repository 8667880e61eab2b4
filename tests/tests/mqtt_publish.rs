//! `AT+MQTTPUB` and `AT+MQTTPUBRAW`: what a peer on the broker receives (QoS, retain flag,
//! exact payload bytes), every error path with its code, and the raw data mode (SPEC.md
//! sections 4 and 6, docs/PROTOCOL.md sections 4 and 6).

use std::time::Duration;

use e2e_tests::at::{PROMPT, echoed, error_code, mqtt_error, user_cfg};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

/// The seed profile's PUBRAW result lines.
const PUBRAW_OK: &[u8] = b"+MQTTPUBRAW:OK\r\n";
const PUBRAW_FAIL: &[u8] = b"+MQTTPUBRAW:FAIL\r\n";
const OK: &[u8] = e2e_tests::at::OK;

/// A broker, a peer subscribed to `filter` with QoS 2, and a modem connected as
/// `client_id` with syslog on.
fn setup(client_id: &str, filter: &str) -> (Broker, Peer, Modem) {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe(filter, 2);
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect(client_id, broker.port());
    (broker, peer, modem)
}

/// Sends `AT+MQTTPUBRAW` and checks its echo and prompt.
fn pubraw_prompt(modem: &mut Modem, topic: &str, length: usize, qos: u8, retain: u8) {
    let line = format!("AT+MQTTPUBRAW=0,\"{topic}\",{length},{qos},{retain}");
    modem.exchange(&line, &echoed(&line, PROMPT));
}

#[test]
fn pub_delivers_at_each_qos_with_the_exact_payload() {
    let (_broker, mut peer, mut modem) = setup("pub-qos", "qos/#");
    for qos in 0..=2u8 {
        let line = format!("AT+MQTTPUB=0,\"qos/{qos}\",\"payload {qos}\",{qos},0");
        modem.exchange(&line, &echoed(&line, OK));
        assert_eq!(
            peer.recv(TIMEOUT),
            (
                format!("qos/{qos}"),
                format!("payload {qos}").into_bytes(),
                qos,
                false
            )
        );
    }
    // Escapes are undone and bare strings are taken as they are.
    let line = r#"AT+MQTTPUB=0,"qos/esc","a\,b\"c\\d",1,0"#;
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("qos/esc".to_owned(), br#"a,b"c\d"#.to_vec(), 1, false)
    );
    let line = "AT+MQTTPUB=0,qos/bare, two words ,1,0";
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("qos/bare".to_owned(), b" two words ".to_vec(), 1, false)
    );
}

#[test]
fn retained_publication_reaches_a_later_subscriber() {
    let (broker, _peer, mut modem) = setup("pub-retain", "unrelated");
    let line = "AT+MQTTPUB=0,\"retained/state\",\"on\",1,1";
    modem.exchange(line, &echoed(line, OK));
    pubraw_prompt(&mut modem, "retained/raw", 4, 2, 1);
    modem.send(b"r\r\na");
    modem.expect(PUBRAW_OK, TIMEOUT);
    let mut late = Peer::connect(broker.port());
    late.subscribe("retained/state", 1);
    assert_eq!(
        late.recv(TIMEOUT),
        ("retained/state".to_owned(), b"on".to_vec(), 1, true)
    );
    late.subscribe("retained/raw", 2);
    assert_eq!(
        late.recv(TIMEOUT),
        ("retained/raw".to_owned(), b"r\r\na".to_vec(), 2, true)
    );
}

#[test]
fn pub_refuses_each_wrong_parameter_with_its_code() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let long_topic = format!("AT+MQTTPUB=0,\"{}\",\"d\",0,0", "t".repeat(129));
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTPUB=1,\"t\",\"d\",0,0", 0x6011),
        ("AT+MQTTPUB=0,\"\",\"d\",0,0", 0x6042),
        (&long_topic, 0x6043),
        ("AT+MQTTPUB=0,\"a/+\",\"d\",0,0", 0x6041),
        ("AT+MQTTPUB=0,\"a/#\",\"d\",0,0", 0x6041),
        ("AT+MQTTPUB=0,\"t\",\"\",0,0", 0x6045),
        ("AT+MQTTPUB=0,\"t\",\"d\",3,0", 0x6048),
        ("AT+MQTTPUB=0,\"t\",\"d\",0,2", 0x604A),
        // Well-formed, but there was never a client.
        ("AT+MQTTPUB=0,\"t\",\"d\",0,0", 0x6006),
    ];
    for &(line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(code)));
    }
    let counts = [
        ("AT+MQTTPUB=0,\"t\",\"d\",0", 0x0106_0504),
        ("AT+MQTTPUB=0,\"t\",\"d\",0,0,15000", 0x0106_0506),
    ];
    for (line, code) in counts {
        modem.exchange(line, &echoed(line, &error_code(code)));
    }
    // Configured but not connected.
    let user = user_cfg("pub-errors");
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTPUB=0,\"t\",\"d\",0,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6051)));
}

#[test]
fn pubraw_refused_before_the_prompt_never_shows_it() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTPUBRAW=0,\"t\",0,0,0", 0x604C),
        ("AT+MQTTPUBRAW=0,\"t\",513,0,0", 0x604C),
        ("AT+MQTTPUBRAW=0,\"t\",-1,0,0", 0x604C),
        ("AT+MQTTPUBRAW=0,\"\",5,0,0", 0x6042),
        ("AT+MQTTPUBRAW=0,\"a/#\",5,0,0", 0x6041),
        ("AT+MQTTPUBRAW=0,\"t\",5,3,0", 0x6048),
        ("AT+MQTTPUBRAW=0,\"t\",5,0,2", 0x604A),
        // Not connected: no prompt either.
        ("AT+MQTTPUBRAW=0,\"t\",5,0,0", 0x6006),
    ];
    for &(line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(code)));
    }
    let user = user_cfg("pubraw-errors");
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTPUBRAW=0,\"t\",5,0,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6051)));
    modem.expect_silence(Duration::from_millis(300));
    modem.exchange("AT", &echoed("AT", OK));
}

/// 512 bytes holding every byte value, and CR, LF, NUL, `"`, `,` and `+++` as data.
fn awkward_payload() -> Vec<u8> {
    let mut payload: Vec<u8> = b"\r\n\0\",+++AT\r\n".to_vec();
    payload.extend((0..=255u8).cycle().take(512 - payload.len()));
    payload
}

#[test]
fn pubraw_512_bytes_arrive_exactly() {
    let (_broker, mut peer, mut modem) = setup("pubraw-512", "raw/#");
    let payload = awkward_payload();
    assert_eq!(payload.len(), 512);
    for qos in 0..=2u8 {
        pubraw_prompt(&mut modem, "raw/big", 512, qos, 0);
        modem.send(&payload);
        modem.expect(PUBRAW_OK, TIMEOUT);
        assert_eq!(
            peer.recv(TIMEOUT),
            ("raw/big".to_owned(), payload.clone(), qos, false)
        );
    }
    modem.expect_silence(Duration::from_millis(200));
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn pubraw_data_split_into_small_writes_arrives_exactly() {
    let (_broker, mut peer, mut modem) = setup("pubraw-split", "raw/#");
    let payload = awkward_payload();
    pubraw_prompt(&mut modem, "raw/split", 300, 1, 0);
    for piece in payload.get(..300).unwrap_or_default().chunks(7) {
        modem.send(piece);
    }
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(peer.recv(TIMEOUT).1, payload.get(..300).unwrap_or_default());
}

#[test]
fn the_lf_ending_the_command_line_is_not_raw_data() {
    let (_broker, mut peer, mut modem) = setup("pubraw-lf", "raw/#");
    // The command line ends with a bare CR; its LF arrives after the prompt.
    let line = "AT+MQTTPUBRAW=0,\"raw/lf\",3,1,0";
    modem.send(format!("{line}\r").as_bytes());
    modem.expect(&echoed(line, PROMPT), TIMEOUT);
    modem.send(b"\nxyz");
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("raw/lf".to_owned(), b"xyz".to_vec(), 1, false)
    );
}

#[test]
fn bytes_after_the_raw_data_are_the_next_command_line() {
    let (_broker, mut peer, mut modem) = setup("pubraw-after", "raw/#");
    pubraw_prompt(&mut modem, "raw/after", 10, 1, 0);
    // The publish still waits for PUBACK when the line completes: it is busy.
    modem.send(b"0123456789AT\r\n");
    modem.expect(
        &[
            &b"AT\r\nERR CODE:0x010b0000\r\nbusy p...\r\n"[..],
            PUBRAW_OK,
        ]
        .concat(),
        TIMEOUT,
    );
    assert_eq!(
        peer.recv(TIMEOUT),
        ("raw/after".to_owned(), b"0123456789".to_vec(), 1, false)
    );
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn slow_pubraw_data_that_stops_short_fails_after_10_s() {
    let (_broker, mut peer, mut modem) = setup("pubraw-short", "raw/#");
    pubraw_prompt(&mut modem, "raw/short", 20, 1, 0);
    modem.send(b"only ten\r\n");
    // No echo, nothing at all until the raw data timeout (10 s after the prompt).
    modem.expect_silence(Duration::from_secs(2));
    modem.expect(PUBRAW_FAIL, Duration::from_secs(20));
    // The partial data was discarded, and the modem is usable.
    modem.exchange("AT", &echoed("AT", OK));
    let line = "AT+MQTTPUB=0,\"raw/short\",\"next\",1,0";
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("raw/short".to_owned(), b"next".to_vec(), 1, false)
    );
}

#[test]
fn raw_data_may_start_with_lf_or_cr_after_a_complete_terminator() {
    let (_broker, mut peer, mut modem) = setup("pubraw-first", "raw/#");
    // The line's CR LF is complete before the prompt: a leading LF is data.
    pubraw_prompt(&mut modem, "raw/first", 3, 1, 0);
    modem.send(b"\nab");
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(peer.recv(TIMEOUT).1, b"\nab");
    // A bare LF ended the line: an LF after the prompt is data.
    let line = "AT+MQTTPUBRAW=0,\"raw/first\",3,1,0";
    modem.send(format!("{line}\n").as_bytes());
    modem.expect(&echoed(line, PROMPT), TIMEOUT);
    modem.send(b"\ncd");
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(peer.recv(TIMEOUT).1, b"\ncd");
    // A bare CR ended the line: a CR after the prompt is data.
    modem.send(format!("{line}\r").as_bytes());
    modem.expect(&echoed(line, PROMPT), TIMEOUT);
    modem.send(b"\ref");
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(peer.recv(TIMEOUT).1, b"\ref");
    // CR LF in one write, then data starting with LF in the same write.
    modem.send(format!("{line}\r\n").as_bytes());
    modem.expect(&echoed(line, PROMPT), TIMEOUT);
    modem.send(b"\n\r\n");
    modem.expect(PUBRAW_OK, TIMEOUT);
    assert_eq!(peer.recv(TIMEOUT).1, b"\n\r\n");
}

#[test]
fn topic_lengths_are_counted_in_bytes() {
    let (_broker, mut peer, mut modem) = setup("pub-utf8", "#");
    // 64 two-byte characters: 128 bytes, the limit.
    let topic = "é".repeat(64);
    let line = format!("AT+MQTTPUB=0,\"{topic}\",\"ü\",1,0");
    modem.exchange(&line, &echoed(&line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        (topic.clone(), "ü".as_bytes().to_vec(), 1, false)
    );
    let line = format!("AT+MQTTPUB=0,\"{topic}a\",\"x\",1,0");
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x6043)));
    // Bytes that are not UTF-8 cannot be a topic.
    let mut bad = b"AT+MQTTPUB=0,\"t\xff\",\"x\",1,0".to_vec();
    modem.send(&[&bad[..], b"\r\n"].concat());
    bad.extend_from_slice(b"\r\n");
    modem.expect(&[&bad[..], &mqtt_error(0x6041)].concat(), TIMEOUT);
}

#[test]
fn pub_data_fills_a_254_byte_line() {
    let (_broker, mut peer, mut modem) = setup("pub-long", "long/#");
    let prefix = "AT+MQTTPUB=0,\"long/t\",\"";
    let suffix = "\",1,0";
    let data = "d".repeat(254 - prefix.len() - suffix.len());
    let line = format!("{prefix}{data}{suffix}");
    assert_eq!(line.len(), 254);
    modem.exchange(&line, &echoed(&line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("long/t".to_owned(), data.clone().into_bytes(), 1, false)
    );
    let line = format!("{prefix}{data}d{suffix}");
    modem.exchange(&line, &echoed(&line, &error_code(0x0104_0000)));
}
