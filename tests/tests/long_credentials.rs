//! `AT+MQTTLONGCLIENTID`, `AT+MQTTLONGUSERNAME` and `AT+MQTTLONGPASSWORD` end to end, in
//! both profiles: credentials longer than `AT+MQTTUSERCFG`'s line allows reach mosquitto.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::path::Path;
use std::time::Duration;

use e2e_tests::at::{OK, PROMPT, echoed, mqtt_error, user_cfg};
use e2e_tests::{Broker, Modem, TIMEOUT};

const PROFILES: [&[&str]; 2] = [&["--profile", "seed"], &["--profile", "esp-at"]];

/// A 300-byte client ID: printable, distinct per profile, no byte the parser would see.
fn long_id(tag: &str) -> String {
    let mut id = format!("long-{tag}-");
    while id.len() < 300 {
        id.push(char::from(b'a' + u8::try_from(id.len() % 26).unwrap_or(0)));
    }
    id
}

/// Sends a long-credential command and its raw data; expects the prompt and `OK`.
fn send_long(modem: &mut Modem, command: &str, value: &[u8]) {
    let line = format!("AT+{command}=0,{}", value.len());
    modem.exchange(&line, &echoed(&line, PROMPT));
    modem.send(value);
    modem.expect(OK, TIMEOUT);
}

/// `AT+MQTTCONN` to `port` and its success, in either profile.
fn connect(modem: &mut Modem, port: u16, esp_at: bool) {
    let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0");
    let urc = if esp_at {
        format!("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{port}\",\"\",0\r\n")
    } else {
        "+MQTTCONNECTED:0\r\n".to_owned()
    };
    modem.exchange(&line, &echoed(&line, &[urc.as_bytes(), OK].concat()));
}

#[test]
fn a_300_byte_client_id_reaches_the_broker_in_both_profiles() {
    let broker = Broker::start();
    for (profile, tag) in PROFILES.into_iter().zip(["seed", "espat"]) {
        let id = long_id(tag);
        let mut modem = Modem::ready(profile);
        let user = user_cfg("short");
        modem.exchange(&user, &echoed(&user, OK));
        send_long(&mut modem, "MQTTLONGCLIENTID", id.as_bytes());
        connect(&mut modem, broker.port(), tag == "espat");
        let needle = format!(" as {id} ");
        broker.wait_for_log(&needle, 1, TIMEOUT);
        let log = broker.log();
        let line = log
            .lines()
            .find(|line| line.contains(&needle))
            .unwrap_or_else(|| panic!("no log line with the ID"));
        eprintln!("mosquitto ({tag}): {line}");
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
}

fn make_password_file(path: &Path, user: &str, password: &str) {
    let status = std::process::Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(path)
        .args([user, password])
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run mosquitto_passwd (install mosquitto: scripts/setup.sh): {e}")
        });
    assert!(status.success(), "mosquitto_passwd failed: {status}");
}

#[test]
fn a_long_username_and_password_log_in_and_a_wrong_one_does_not() {
    let user = "u".repeat(200) + "-long-user";
    let password = "p".repeat(500) + ",\"\r\n-binary-safe";
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let passwords = dir.path().join("passwords");
    make_password_file(&passwords, &user, &password);
    let password_file = format!("password_file {}", passwords.display());
    let broker = Broker::with_config(&["allow_anonymous false", &password_file]);
    for (profile, esp_at) in PROFILES.into_iter().zip([false, true]) {
        let mut modem = Modem::ready(profile);
        modem.syslog_on();
        let cfg = user_cfg("long-login");
        modem.exchange(&cfg, &echoed(&cfg, OK));
        send_long(&mut modem, "MQTTLONGUSERNAME", user.as_bytes());
        send_long(&mut modem, "MQTTLONGPASSWORD", b"wrong");
        let line = format!("AT+MQTTCONN=0,\"127.0.0.1\",{},0", broker.port());
        modem.send_line(&line);
        let answer = modem.read_until(b"ERROR\r\n", Duration::from_secs(20));
        assert!(
            answer.ends_with(b"\r\nERROR\r\n"),
            "a wrong password connects: {}",
            String::from_utf8_lossy(&answer)
        );
        send_long(&mut modem, "MQTTLONGPASSWORD", password.as_bytes());
        connect(&mut modem, broker.port(), esp_at);
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
}

#[test]
fn long_credentials_are_refused_before_usercfg_out_of_range_and_while_connected() {
    let broker = Broker::start();
    for (profile, esp_at) in PROFILES.into_iter().zip([false, true]) {
        let mut modem = Modem::ready(profile);
        modem.syslog_on();
        let refused = [
            ("AT+MQTTLONGCLIENTID=0,10", mqtt_error(0x6001)),
            ("AT+MQTTLONGUSERNAME=0,10", mqtt_error(0x6001)),
        ];
        for (line, answer) in &refused {
            modem.exchange(line, &echoed(line, answer));
        }
        let cfg = user_cfg("range");
        modem.exchange(&cfg, &echoed(&cfg, OK));
        let refused = [
            ("AT+MQTTLONGCLIENTID=0,0", mqtt_error(0x6016)),
            ("AT+MQTTLONGCLIENTID=0,1025", mqtt_error(0x6016)),
            ("AT+MQTTLONGUSERNAME=0,1025", mqtt_error(0x6019)),
            ("AT+MQTTLONGPASSWORD=0,1025", mqtt_error(0x601C)),
            ("AT+MQTTLONGPASSWORD=1,10", mqtt_error(0x6011)),
            ("AT+MQTTLONGPASSWORD=0,\"10\"", mqtt_error(0x601A)),
        ];
        for (line, answer) in &refused {
            modem.exchange(line, &echoed(line, answer));
        }
        // 1024 bytes is the most; the sentinel `AT` after it shows nothing was left over.
        send_long(&mut modem, "MQTTLONGPASSWORD", &[b'x'; 1024]);
        modem.exchange("AT", &echoed("AT", OK));
        connect(&mut modem, broker.port(), esp_at);
        let line = "AT+MQTTLONGCLIENTID=0,10";
        modem.exchange(line, &echoed(line, &mqtt_error(0x6004)));
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
}

#[test]
fn long_credentials_share_2048_bytes_and_one_past_them_is_refused() {
    let broker = Broker::start();
    for (profile, esp_at) in PROFILES.into_iter().zip([false, true]) {
        let mut modem = Modem::ready(profile);
        modem.syslog_on();
        let cfg = user_cfg("shared");
        modem.exchange(&cfg, &echoed(&cfg, OK));
        let id = long_id(if esp_at { "esp" } else { "seed" });
        send_long(&mut modem, "MQTTLONGCLIENTID", id.as_bytes());
        send_long(&mut modem, "MQTTLONGUSERNAME", &[b'u'; 1024]);
        // Within its own 1..1024, but the three would need 2,049 bytes.
        let over = 2048 - id.len() - 1024 + 1;
        let line = format!("AT+MQTTLONGPASSWORD=0,{over}");
        modem.exchange(&line, &echoed(&line, PROMPT));
        modem.send(&vec![b'p'; over]);
        modem.expect(&mqtt_error(0x601C), TIMEOUT);
        // Exactly 2,048 bytes are taken; the sentinel `AT` shows nothing was left over.
        send_long(&mut modem, "MQTTLONGPASSWORD", &vec![b'p'; over - 1]);
        modem.exchange("AT", &echoed("AT", OK));
        // The simulator's transmit buffer holds the 2,048-byte CONNECT.
        connect(&mut modem, broker.port(), esp_at);
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
}
