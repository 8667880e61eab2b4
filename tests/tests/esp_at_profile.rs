//! `at-host --profile esp-at`: the bytes current ESP-AT host drivers expect (SPEC.md
//! section 8, docs/PROTOCOL.md sections 4 to 6).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use e2e_tests::at::{DISCONNECTED, OK, PROMPT, echoed, error_code, mqtt_error, subrecv};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

const ESP_AT: &[&str] = &["--profile", "esp-at"];

/// A modem in the esp-at profile with syslog on.
fn esp_modem() -> Modem {
    let mut modem = Modem::ready(ESP_AT);
    modem.syslog_on();
    modem
}

/// `AT+MQTTCONN?` and its exact answer `+MQTTCONN:<fields>`.
fn query(modem: &mut Modem, fields: &str) {
    let answer = format!("AT+MQTTCONN?\r\n+MQTTCONN:{fields}\r\n\r\nOK\r\n");
    modem.exchange("AT+MQTTCONN?", answer.as_bytes());
}

/// `AT+MQTTSUB?` and its exact answer lines.
fn sub_query(modem: &mut Modem, lines: &str) {
    let answer = format!("AT+MQTTSUB?\r\n{lines}\r\nOK\r\n");
    modem.exchange("AT+MQTTSUB?", answer.as_bytes());
}

/// The esp-at connect URC for loopback `port`.
fn connected(port: u16, path: &str, reconnect: u8) -> Vec<u8> {
    format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"{path}\",{reconnect}\r\n").into_bytes()
}

#[test]
fn conn_query_shows_the_numeric_states() {
    let mut broker = Broker::start();
    let port = broker.port();
    let mut modem = esp_modem();
    query(&mut modem, "0,0,0,\"\",\"\",\"\",0");
    sub_query(&mut modem, "+MQTTSUB:0,0,\"\",0\r\n");
    let user = "AT+MQTTUSERCFG=0,1,\"esp\",\"\",\"\",0,0,\"/mqtt\"";
    modem.exchange(user, &echoed(user, OK));
    query(&mut modem, "0,1,1,\"\",\"\",\"/mqtt\",0");
    let cfg = "AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0";
    modem.exchange(cfg, &echoed(cfg, OK));
    query(&mut modem, "0,2,1,\"\",\"\",\"/mqtt\",0");
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1");
    modem.exchange(
        &line,
        &echoed(&line, &[&connected(port, "/mqtt", 1), OK].concat()),
    );
    query(
        &mut modem,
        &format!("0,5,1,\"127.0.0.1\",\"{port}\",\"/mqtt\",1"),
    );
    sub_query(&mut modem, "+MQTTSUB:0,5,\"\",0\r\n");
    let line = "AT+MQTTSUB=0,\"esp/+\",1";
    modem.exchange(line, &echoed(line, OK));
    query(
        &mut modem,
        &format!("0,6,1,\"127.0.0.1\",\"{port}\",\"/mqtt\",1"),
    );
    sub_query(&mut modem, "+MQTTSUB:0,6,\"esp/+\",1\r\n");

    broker.stop();
    modem.expect(DISCONNECTED, TIMEOUT);
    query(
        &mut modem,
        &format!("0,3,1,\"127.0.0.1\",\"{port}\",\"/mqtt\",1"),
    );
    broker.restart();
    modem.expect(&connected(port, "/mqtt", 1), Duration::from_secs(30));
    query(
        &mut modem,
        &format!("0,6,1,\"127.0.0.1\",\"{port}\",\"/mqtt\",1"),
    );

    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    query(&mut modem, "0,0,0,\"\",\"\",\"\",0");
}

#[test]
fn pub_sub_and_pubraw_with_esp_at_results() {
    let broker = Broker::start();
    let port = broker.port();
    let mut peer = Peer::connect(port);
    peer.subscribe("esp/#", 2);
    let mut modem = esp_modem();
    let user = "AT+MQTTUSERCFG=0,1,\"esp-pub\",\"\",\"\",0,0,\"\"";
    modem.exchange(user, &echoed(user, OK));
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0");
    modem.exchange(
        &line,
        &echoed(&line, &[&connected(port, "", 0), OK].concat()),
    );

    let line = "AT+MQTTPUB=0,\"esp/pub\",\"hello\",1,0";
    modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        peer.recv(TIMEOUT),
        ("esp/pub".to_owned(), b"hello".to_vec(), 1, false)
    );
    // PUBRAW takes up to 1024 bytes and answers +MQTTPUB:OK.
    let payload: Vec<u8> = (0..1024u32)
        .map(|i| u8::try_from(i % 256).unwrap_or(0))
        .collect();
    let line = "AT+MQTTPUBRAW=0,\"esp/raw\",1024,2,0";
    modem.exchange(line, &echoed(line, PROMPT));
    modem.send(&payload);
    modem.expect(b"+MQTTPUB:OK\r\n", TIMEOUT);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("esp/raw".to_owned(), payload, 2, false)
    );
    let line = "AT+MQTTPUBRAW=0,\"esp/raw\",1025,0,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x604C)));

    let line = "AT+MQTTSUB=0,\"esp/in\",2";
    modem.exchange(line, &echoed(line, OK));
    peer.publish("esp/in", b"to the modem", 2, false);
    modem.expect(&subrecv("esp/in", b"to the modem"), TIMEOUT);
    let line = "AT+MQTTUNSUB=0,\"esp/in\"";
    modem.exchange(line, &echoed(line, OK));
    let line = "AT+MQTTUNSUB=0,\"esp/in\"";
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
}

#[test]
fn timeout_ms_is_optional_and_ranges_from_3000_to_60000() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = esp_modem();
    let user = "AT+MQTTUSERCFG=0,1,\"esp-timeout\",\"\",\"\",0,0,\"\"";
    modem.exchange(user, &echoed(user, OK));
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0,2999");
    modem.exchange(&line, &echoed(&line, &error_code(0x0107_0000)));
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0,60001");
    modem.exchange(&line, &echoed(&line, &error_code(0x0107_0000)));
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0,60000");
    modem.exchange(
        &line,
        &echoed(&line, &[&connected(port, "", 0), OK].concat()),
    );
    let accepted = [
        "AT+MQTTPUB=0,\"t\",\"d\",1,0,3000",
        "AT+MQTTPUB=0,\"t\",\"d\",1,0,",
        "AT+MQTTSUB=0,\"t\",1,60000",
        "AT+MQTTUNSUB=0,\"t\",3000",
    ];
    for line in accepted {
        modem.exchange(line, &echoed(line, OK));
    }
    let refused = [
        ("AT+MQTTPUB=0,\"t\",\"d\",1,0,2999", error_code(0x0107_0000)),
        ("AT+MQTTSUB=0,\"t\",1,60001", error_code(0x0107_0000)),
        ("AT+MQTTUNSUB=0,\"t\",2999", error_code(0x0107_0000)),
        ("AT+MQTTPUBRAW=0,\"t\",5,0,0,2999", error_code(0x0107_0000)),
        (
            "AT+MQTTPUB=0,\"t\",\"d\",1,0,3000,1",
            error_code(0x0106_0607),
        ),
    ];
    for (line, answer) in refused {
        modem.exchange(line, &echoed(line, &answer));
    }
    let line = "AT+MQTTPUBRAW=0,\"t\",2,0,0,3000";
    modem.exchange(line, &echoed(line, PROMPT));
    modem.send(b"ok");
    modem.expect(b"+MQTTPUB:OK\r\n", TIMEOUT);
}

#[test]
fn conn_with_a_3_s_timeout_gives_up_on_a_silent_broker() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("no local address: {e}"))
        .port();
    let mut modem = esp_modem();
    let user = "AT+MQTTUSERCFG=0,1,\"esp-silent\",\"\",\"\",0,0,\"\"";
    modem.exchange(user, &echoed(user, OK));
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0,3000");
    modem.send_line(&line);
    modem.expect(&echoed(&line, b""), TIMEOUT);
    let (mut stream, _) = listener.accept().unwrap_or_else(|e| panic!("accept: {e}"));
    let mut first = [0u8; 1];
    stream
        .read_exact(&mut first)
        .unwrap_or_else(|e| panic!("no CONNECT: {e}"));
    // ESP-AT reports a failed connect with the disconnect URC before ERROR.
    modem.expect(
        &[DISCONNECTED, &mqtt_error(0x600B)].concat(),
        Duration::from_secs(15),
    );
    // State 3 after a failed connect, as ESP-AT's disconnect event leaves it.
    query(
        &mut modem,
        &format!("0,3,1,\"127.0.0.1\",\"{port}\",\"\",0"),
    );
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn esp_at_caps_lwt_msg_and_host_at_128_bytes() {
    let mut modem = esp_modem();
    let user = "AT+MQTTUSERCFG=0,1,\"esp-caps\",\"\",\"\",0,0,\"\"";
    modem.exchange(user, &echoed(user, OK));
    let line = format!("AT+MQTTCONNCFG=0,60,0,\"w\",\"{}\",0,0", "m".repeat(128));
    modem.exchange(&line, &echoed(&line, OK));
    let line = format!("AT+MQTTCONNCFG=0,60,0,\"w\",\"{}\",0,0", "m".repeat(129));
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x6035)));
    let line = format!("AT+MQTTCONN=0,\"{}\",1883,0", "h".repeat(129));
    modem.exchange(&line, &echoed(&line, &mqtt_error(0x603C)));
    // 128 bytes are accepted; the name does not resolve, so the connect fails.
    let host = format!("{}.{}.invalid", "h".repeat(60), "h".repeat(59));
    assert_eq!(host.len(), 128);
    let line = format!("AT+MQTTCONN=0,\"{host}\",1883,0");
    modem.send_line(&line);
    modem.expect(
        &echoed(&line, &[DISCONNECTED, &mqtt_error(0x600B)].concat()),
        Duration::from_secs(25),
    );
    query(&mut modem, &format!("0,3,1,\"{host}\",\"1883\",\"\",0"));
}
