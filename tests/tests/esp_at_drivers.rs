//! Public ESP-AT host drivers' initialisation sequences and ESP-AT's own MQTT examples,
//! replayed byte for byte against `at-host --profile esp-at` (SPEC.md section 8: every
//! set-up command a driver sends before MQTT gets `OK`).
//!
//! The drivers' lines are copied from their sources (named on each test); the modem
//! echoes them, as ESP-AT does with its default `ATE1`, until the driver's own `ATE0`.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use e2e_tests::at::{OK, PROMPT, READY, echoed, subrecv};
use e2e_tests::{Broker, Modem, TIMEOUT};

const ESP_AT: &[&str] = &["--profile", "esp-at"];

/// Sends `line` and expects `answer` after its echo (with echo on) or alone.
fn answered(modem: &mut Modem, echo: bool, line: &str, answer: &[u8]) {
    if echo {
        modem.exchange(line, &echoed(line, answer));
    } else {
        modem.exchange(line, answer);
    }
}

/// `AT+RST` (or `AT+RESTORE`): `OK`, then the restart's `ready`.
fn restart(modem: &mut Modem, line: &str) {
    answered(modem, true, line, &[OK, READY].concat());
}

/// Shows the exchange on the test's standard error (`--nocapture` prints it).
fn show(name: &str, modem: &Modem) {
    eprintln!("--- {name} ---\n{}", modem.transcript());
}

/// WiFiEspAT (Arduino library by Juraj Andrassy, github.com/JAndrassy/WiFiEspAT),
/// `src/utility/EspAtDrv.cpp`, `EspAtDrvClass::init` (commit 93f504b): soft reset,
/// then `ATE0`, `AT+CIPMUX=1`, `AT+CIPRECVMODE=1`, `AT+SYSSTORE=0` and `AT+CWMODE?`,
/// each line ended by Arduino's `println` (CR LF). Any `ERROR` stops its `init`.
#[test]
fn wifiespat_init_sequence_is_answered_ok() {
    let mut modem = Modem::ready(ESP_AT);
    restart(&mut modem, "AT+RST");
    answered(&mut modem, true, "ATE0", OK);
    answered(&mut modem, false, "AT+CIPMUX=1", OK);
    answered(&mut modem, false, "AT+CIPRECVMODE=1", OK);
    answered(&mut modem, false, "AT+SYSSTORE=0", OK);
    answered(
        &mut modem,
        false,
        "AT+CWMODE?",
        &[b"+CWMODE:1\r\n", OK].concat(),
    );
    // What the settings read back as.
    answered(
        &mut modem,
        false,
        "AT+CIPMUX?",
        &[b"+CIPMUX:1\r\n", OK].concat(),
    );
    answered(
        &mut modem,
        false,
        "AT+SYSSTORE?",
        &[b"+SYSSTORE:0\r\n", OK].concat(),
    );
    show("WiFiEspAT init", &modem);
}

/// WiFiEsp (Arduino library by Bruno Portaluri, github.com/bportaluri/WiFiEsp),
/// `src/utility/EspDrv.cpp`, `EspDrv::reset` (commit 9997f65): `AT+RST`, `ATE0`,
/// `AT+CWMODE=1`, `AT+CIPMUX=1`, `AT+CIPDINFO=1`, `AT+CWAUTOCONN=0`, `AT+CWDHCP=1,1`.
#[test]
fn wifiesp_init_sequence_is_answered_ok() {
    let mut modem = Modem::ready(ESP_AT);
    restart(&mut modem, "AT+RST");
    answered(&mut modem, true, "ATE0", OK);
    for line in [
        "AT+CWMODE=1",
        "AT+CIPMUX=1",
        "AT+CIPDINFO=1",
        "AT+CWAUTOCONN=0",
        "AT+CWDHCP=1,1",
    ] {
        answered(&mut modem, false, line, OK);
    }
    answered(
        &mut modem,
        false,
        "AT+CIPDINFO?",
        &[b"+CIPDINFO:true\r\n", OK].concat(),
    );
    answered(
        &mut modem,
        false,
        "AT+CWAUTOCONN?",
        &[b"+CWAUTOCONN:0\r\n", OK].concat(),
    );
    answered(
        &mut modem,
        false,
        "AT+CWDHCP?",
        &[b"+CWDHCP:1\r\n", OK].concat(),
    );
    show("WiFiEsp init", &modem);
}

/// ESP8266_IoT (MakeCode extension by ELECFREAKS, github.com/elecfreaks/pxt-esp8266iot),
/// `ESP8266.ts`, `initWIFI` (commit b2a06d5): `AT+RESTORE` and `AT+RST` (each waiting
/// for `ready`), `AT+CWMODE=1`, `AT+CIPSNTPCFG=1,8,...` with three servers; then its
/// MQTT blocks: `AT+MQTTUSERCFG`, `AT+MQTTCONN`, `AT+MQTTSUB`, `AT+MQTTPUB`,
/// `AT+MQTTCLEAN`, with its own `\u000D\u000A` line ends and echo left on.
#[test]
fn elecfreaks_iot_init_and_mqtt_blocks_are_answered_ok() {
    let broker = Broker::start();
    let port = broker.port();
    let mut modem = Modem::ready(ESP_AT);
    restart(&mut modem, "AT+RESTORE");
    restart(&mut modem, "AT+RST");
    answered(&mut modem, true, "AT+CWMODE=1", OK);
    let sntp = r#"AT+CIPSNTPCFG=1,8,"ntp1.aliyun.com","0.pool.ntp.org","time.google.com""#;
    answered(&mut modem, true, sntp, OK);
    let user = r#"AT+MQTTUSERCFG=0,1,"microbit","","",0,0,"""#;
    answered(&mut modem, true, user, OK);
    // Its `reconnect` block argument is inverted on the wire (`reconnect ? 0 : 1`).
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1");
    let connected = format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n");
    answered(
        &mut modem,
        true,
        &conn,
        &[connected.as_bytes(), OK].concat(),
    );
    let sub = r#"AT+MQTTSUB=0,"microbit/in",1"#;
    answered(&mut modem, true, sub, OK);
    let publish = r#"AT+MQTTPUB=0,"microbit/in","hello",1,0"#;
    // The modem's own subscription may deliver before the PUBACK (SPEC section 5).
    modem.send_line(publish);
    modem.expect_result_and_urc(
        &echoed(publish, b""),
        OK,
        &subrecv("microbit/in", b"hello"),
        TIMEOUT,
    );
    answered(&mut modem, true, "AT+MQTTCLEAN=0", OK);
    show("ELECFREAKS ESP8266_IoT init and MQTT", &modem);
}

/// The 427-byte message of ESP-AT's "MQTT over TCP (suitable for large amounts of
/// data)" example.
const LARGE_EXAMPLE: &str = concat!(
    r#"{"headers": {"Accept": "application/json","Accept-Encoding": "gzip, deflate","#,
    r#""Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.8,zh;q=0.7","Content-Length": "0","#,
    r#""Host": "httpbin.org","Origin": "http://httpbin.org","Referer": "http://httpbin.org/","#,
    r#""User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "#,
    r#"Chrome/91.0.4472.114 Safari/537.36","X-Amzn-Trace-Id": "#,
    r#""Root=1-6150581e-1ad4bd5254b4bf5218070413"}}"#
);

/// Publisher and subscriber of ESP-AT's MQTT AT Examples page
/// (`docs/en/AT_Command_Examples/MQTT_AT_Examples.rst`), "MQTT over TCP": the same
/// commands and answers, with the local broker's address and port in place of the
/// page's `192.168.3.102` and `8883`.
fn example_pair(broker: &Broker) -> (Modem, Modem) {
    let port = broker.port();
    let mut publisher = Modem::ready(ESP_AT);
    let mut subscriber = Modem::ready(ESP_AT);
    let user = r#"AT+MQTTUSERCFG=0,1,"publisher","espressif","123456789",0,0,"""#;
    answered(&mut publisher, true, user, OK);
    let user = r#"AT+MQTTUSERCFG=0,1,"subscriber","espressif","123456789",0,0,"""#;
    answered(&mut subscriber, true, user, OK);
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1");
    let connected = format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",1\r\n");
    for modem in [&mut publisher, &mut subscriber] {
        answered(modem, true, &conn, &[connected.as_bytes(), OK].concat());
    }
    answered(&mut subscriber, true, r#"AT+MQTTSUB=0,"topic",1"#, OK);
    (publisher, subscriber)
}

#[test]
fn esp_at_example_mqtt_over_tcp_small_data() {
    let broker = Broker::start();
    let (mut publisher, mut subscriber) = example_pair(&broker);
    answered(
        &mut publisher,
        true,
        r#"AT+MQTTPUB=0,"topic","test",1,0"#,
        OK,
    );
    subscriber.expect(b"+MQTTSUBRECV:0,\"topic\",4,test\r\n", TIMEOUT);
    for modem in [&mut publisher, &mut subscriber] {
        answered(modem, true, "AT+MQTTCLEAN=0", OK);
    }
    show("ESP-AT example, publisher", &publisher);
    show("ESP-AT example, subscriber", &subscriber);
}

#[test]
fn esp_at_example_mqtt_over_tcp_large_data_with_pubraw() {
    assert_eq!(LARGE_EXAMPLE.len(), 427, "the example's message");
    let broker = Broker::start();
    let (mut publisher, mut subscriber) = example_pair(&broker);
    let line = r#"AT+MQTTPUBRAW=0,"topic",427,0,0"#;
    publisher.exchange(line, &echoed(line, PROMPT));
    publisher.send(LARGE_EXAMPLE.as_bytes());
    publisher.expect(b"+MQTTPUB:OK\r\n", TIMEOUT);
    subscriber.expect(&subrecv("topic", LARGE_EXAMPLE.as_bytes()), TIMEOUT);
    for modem in [&mut publisher, &mut subscriber] {
        answered(modem, true, "AT+MQTTCLEAN=0", OK);
    }
    show("ESP-AT example PUBRAW, publisher", &publisher);
}

/// The SNTP steps of the page's TLS examples: `AT+CIPSNTPCFG=1,8,"ntp1.aliyun.com"`,
/// then `AT+CIPSNTPTIME?` with a real time, not 1970 (on the host's network the
/// simulator's SNTP answer is the host clock).
#[test]
fn esp_at_example_sntp_steps() {
    let mut modem = Modem::ready(ESP_AT);
    let unset = b"+CIPSNTPTIME:Thu Jan 01 00:00:00 1970\r\n";
    answered(
        &mut modem,
        true,
        "AT+CIPSNTPTIME?",
        &[unset.as_slice(), OK].concat(),
    );
    answered(
        &mut modem,
        true,
        r#"AT+CIPSNTPCFG=1,8,"ntp1.aliyun.com""#,
        OK,
    );
    modem.send_line("AT+CIPSNTPTIME?");
    let answer = modem.read_until(b"\r\nOK\r\n", TIMEOUT);
    let text = String::from_utf8_lossy(&answer);
    let time = text
        .strip_prefix("AT+CIPSNTPTIME?\r\n+CIPSNTPTIME:")
        .and_then(|rest| rest.strip_suffix("\r\n\r\nOK\r\n"))
        .unwrap_or_else(|| modem.fail("no +CIPSNTPTIME line"));
    // `Www Mmm dd hh:mm:ss yyyy`, in UTC+8 by the host clock.
    let expected = std::process::Command::new("date")
        .args(["-u", "-d", "+8 hours", "+%a %b %d %Y"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default();
    let (date, year) = expected.rsplit_once(' ').unwrap_or(("", ""));
    assert!(
        time.len() == 24 && time.starts_with(date) && time.ends_with(year),
        "{time:?} is not today ({expected:?}) in UTC+8"
    );
    show("ESP-AT example SNTP", &modem);
}
