//! Provisioning end to end: certificates uploaded over AT to `at-host` stay stored across
//! `AT+RST` and, with `--state-dir`, across a restart of the simulator, as the boards'
//! flash keeps them across resets and power loss; uploaded in PEM, then `AT+RST` and a
//! restart, they serve a scheme 5 connect to a mosquitto TLS listener that requires the
//! client certificate.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use e2e_tests::at::{CONNECTED, OK, PROMPT, echoed};
use e2e_tests::pki::Pki;
use e2e_tests::{Broker, Modem, TIMEOUT};

const CA_PEM: &[u8] = include_bytes!("../../at-mqtt/tests/fixtures/client.crt.pem");
const CA_DER: &[u8] = include_bytes!("../../at-mqtt/tests/fixtures/client.crt.der");
const KEY_PKCS8_PEM: &[u8] = include_bytes!("../../at-mqtt/tests/fixtures/client.key.pkcs8.pem");
/// What the PKCS#8 key is stored as: the SEC1 key inside it.
const KEY_STORED_BYTES: usize = 109;

/// A modem with `args`, echo off.
fn modem(args: &[&str]) -> Modem {
    let mut modem = Modem::ready(args);
    modem.exchange("ATE0", &echoed("ATE0", OK));
    modem
}

/// `AT+MQTTCERT=<kind>,<index>,<length>`, its prompt, the data, and `OK`.
fn upload(modem: &mut Modem, kind: &str, index: u8, data: &[u8]) {
    let line = format!("AT+MQTTCERT=\"{kind}\",{index},{}", data.len());
    modem.send_line(&line);
    modem.expect(PROMPT, TIMEOUT);
    modem.send(data);
    modem.expect(OK, TIMEOUT);
}

/// `AT+MQTTCERT?` answers exactly `lines` (each with CR LF), then `OK`.
fn lists(modem: &mut Modem, lines: &str) {
    modem.send_line("AT+MQTTCERT?");
    modem.expect(&[lines.as_bytes(), OK].concat(), TIMEOUT);
}

/// What `AT+MQTTCERT?` lists after the two uploads.
fn both_items() -> String {
    format!(
        "+MQTTCERT:\"ca\",0,{}\r\n+MQTTCERT:\"key\",3,{KEY_STORED_BYTES}\r\n",
        CA_DER.len()
    )
}

/// Restarts the modem: `AT+RST` and its `ready`, echo off again.
fn reset(modem: &mut Modem) {
    modem.send_line("AT+RST");
    modem.expect(b"\r\nOK\r\n\r\nready\r\n", TIMEOUT);
    modem.exchange("ATE0", &echoed("ATE0", OK));
}

fn state_dir_arg(dir: &Path) -> String {
    dir.to_str()
        .unwrap_or_else(|| panic!("temporary directory {dir:?} is not UTF-8"))
        .to_owned()
}

#[test]
fn uploads_survive_at_rst_and_a_simulator_restart_with_a_state_dir() {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let dir = state_dir_arg(state.path());
    let mut first = modem(&["--state-dir", &dir]);
    lists(&mut first, "");
    upload(&mut first, "ca", 0, CA_PEM);
    upload(&mut first, "key", 3, KEY_PKCS8_PEM);
    lists(&mut first, &both_items());
    reset(&mut first);
    lists(&mut first, &both_items());
    first.process().terminate(Duration::from_secs(5));
    drop(first);

    let stored = std::fs::read(state.path().join("credentials/mqtt_ca.0.der"))
        .unwrap_or_else(|e| panic!("the CA's file: {e}"));
    assert_eq!(stored, CA_DER, "the file holds the DER of the PEM upload");

    // A new simulator process on the same directory, in the esp-at profile: ESP-AT's
    // AT+SYSMFG reads the same bytes back.
    let mut second = modem(&["--state-dir", &dir, "--profile", "esp-at"]);
    lists(&mut second, &both_items());
    second.send_line(r#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca.0""#);
    let header = format!("+SYSMFG:\"mqtt_ca\",\"mqtt_ca.0\",8,{},", CA_DER.len());
    second.expect(&[header.as_bytes(), CA_DER, b"\r\n", OK].concat(), TIMEOUT);
    // Erased there, it is gone for the next process too.
    second.exchange(r#"AT+SYSMFG=0,"mqtt_ca""#, OK);
    second.process().terminate(Duration::from_secs(5));
    drop(second);
    let mut third = modem(&["--state-dir", &dir]);
    lists(
        &mut third,
        &format!("+MQTTCERT:\"key\",3,{KEY_STORED_BYTES}\r\n"),
    );
}

#[test]
fn without_a_state_dir_uploads_survive_at_rst_only() {
    let mut first = modem(&[]);
    upload(&mut first, "ca", 0, CA_PEM);
    reset(&mut first);
    lists(
        &mut first,
        &format!("+MQTTCERT:\"ca\",0,{}\r\n", CA_DER.len()),
    );
    first.process().terminate(Duration::from_secs(5));
    drop(first);
    let mut second = modem(&[]);
    lists(&mut second, "");
}

#[test]
fn a_refused_upload_leaves_the_stored_item_on_disk() {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let dir = state_dir_arg(state.path());
    let mut modem = modem(&["--state-dir", &dir]);
    modem.exchange("AT+SYSLOG=1", OK);
    upload(&mut modem, "ca", 1, CA_PEM);
    let garbage = b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    let line = format!("AT+MQTTCERT=\"ca\",1,{}", garbage.len());
    modem.send_line(&line);
    modem.expect(PROMPT, TIMEOUT);
    modem.send(garbage);
    modem.expect(b"ERR CODE:0x010a6022\r\n\r\nERROR\r\n", TIMEOUT);
    lists(
        &mut modem,
        &format!("+MQTTCERT:\"ca\",1,{}\r\n", CA_DER.len()),
    );
    let stored = std::fs::read(state.path().join("credentials/mqtt_ca.1.der"))
        .unwrap_or_else(|e| panic!("the CA's file: {e}"));
    assert_eq!(stored, CA_DER);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
        .port()
}

#[test]
fn certificates_uploaded_over_at_serve_a_tls_connect_after_a_restart() {
    let pki = Pki::generate();
    let port = free_port();
    let listener = pki.listener(port, "server", true);
    let listener: Vec<&str> = listener.iter().map(String::as_str).collect();
    let _broker = Broker::with_config(&listener);
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let dir = state_dir_arg(state.path());

    // Provisioning: the CA, the client certificate and its key, as openssl wrote them
    // (PEM; the key SEC1), at index 2.
    let mut first = modem(&["--state-dir", &dir]);
    first.exchange("AT+SYSLOG=1", OK);
    upload(&mut first, "ca", 2, &pki.read("ca.pem"));
    upload(&mut first, "cert", 2, &pki.read("client.pem"));
    upload(&mut first, "key", 2, &pki.read("client.key"));
    reset(&mut first);
    let provisioning = first.transcript();
    first.process().terminate(Duration::from_secs(5));
    drop(first);

    // A new power-on of the simulator: the time from SNTP, scheme 5 with index 2.
    let mut second = modem(&["--state-dir", &dir]);
    second.exchange("AT+SYSLOG=1", OK);
    second.exchange("AT+CIPSNTPCFG=1,0", OK);
    second.send_line("AT+CIPSNTPTIME?");
    let time = second.read_until(OK, TIMEOUT);
    assert!(
        !String::from_utf8_lossy(&time).contains("1970"),
        "the clock is set: {}",
        String::from_utf8_lossy(&time)
    );
    second.exchange(r#"AT+MQTTUSERCFG=0,5,"provisioned","","",2,2,"""#, OK);
    second.exchange(
        &format!("AT+MQTTCONN=0,\"localhost\",{port},0"),
        &[CONNECTED, OK].concat(),
    );
    second.exchange(r#"AT+MQTTPUB=0,"provisioned/hello","over TLS",1,0"#, OK);
    eprintln!(
        "--- provisioning ---\n{provisioning}\n--- after the restart ---\n{}",
        second.transcript()
    );
}
