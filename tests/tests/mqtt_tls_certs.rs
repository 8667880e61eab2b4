//! The certificate schemes against mosquitto (SPEC.md sections 6 and 8, docs/PROTOCOL.md
//! section 6): a test PKI made by the `openssl` command, mosquitto TLS 1.3 listeners with
//! `cafile`/`certfile`/`keyfile` (one with `require_certificate true`), the modem's
//! credentials in at-host's `--state-dir`. Every refusal is one `ERROR` with its code
//! (`AT+SYSLOG=1`), and the modem connects afterwards. SNI and ALPN are checked by a
//! Python `ssl` server that records them.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use e2e_tests::at::{CONNECTED, OK, PROMPT, echoed, mqtt_error, subrecv};
use e2e_tests::pki::Pki;
use e2e_tests::{Broker, Modem, Peer, Process, TIMEOUT};

/// The listeners of one mosquitto, by what their server certificate is.
struct Listeners {
    good: u16,
    foreign: u16,
    expired: u16,
    wrong_name: u16,
    client_required: u16,
    /// A chain of Let's Encrypt's ECDSA shape (P-384 root and intermediate).
    lets_encrypt: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|e| panic!("a free port: {e}"))
        .port()
}

/// A mosquitto with its plain listener (for the peer) and one TLS listener per server
/// certificate of `pki`.
fn broker(pki: &Pki) -> (Broker, Listeners) {
    let ports = Listeners {
        good: free_port(),
        foreign: free_port(),
        expired: free_port(),
        wrong_name: free_port(),
        client_required: free_port(),
        lets_encrypt: free_port(),
    };
    let mut lines = Vec::new();
    lines.extend(pki.listener(ports.good, "server", false));
    lines.extend(pki.listener(ports.foreign, "foreign", false));
    lines.extend(pki.listener(ports.expired, "expired", false));
    lines.extend(pki.listener(ports.wrong_name, "wrong-name", false));
    lines.extend(pki.listener(ports.client_required, "server", true));
    lines.extend(pki.listener(ports.lets_encrypt, "le-server", false));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    (Broker::with_config(&lines), ports)
}

/// An at-host with the PKI's credentials in its state directory, the time set from the
/// host clock through SNTP (as a host driver does before a certificate scheme), and the
/// code lines on.
fn modem(pki: &Pki, state: &Path, extra: &[&str]) -> Modem {
    pki.write_store(state);
    let state = state.to_str().unwrap_or_else(|| panic!("a UTF-8 path"));
    let mut args = vec!["--state-dir", state];
    args.extend_from_slice(extra);
    let mut modem = Modem::ready(&args);
    modem.syslog_on();
    let sntp = "AT+CIPSNTPCFG=1,0";
    modem.exchange(sntp, &echoed(sntp, OK));
    modem.send_line("AT+CIPSNTPTIME?");
    let time = modem.read_until(OK, TIMEOUT);
    assert!(
        !String::from_utf8_lossy(&time).contains("1970"),
        "the clock is set: {}",
        String::from_utf8_lossy(&time)
    );
    modem
}

fn user_cfg(modem: &mut Modem, scheme: u8, cert_key_id: u8, ca_id: u8) {
    let line = format!(
        "AT+MQTTUSERCFG=0,{scheme},\"certs-{scheme}\",\"\",\"\",{cert_key_id},{ca_id},\"\""
    );
    modem.exchange(&line, &echoed(&line, OK));
}

fn conn_line(host: &str, port: u16) -> String {
    format!("AT+MQTTCONN=0,\"{host}\",{port},0")
}

fn connects(modem: &mut Modem, host: &str, port: u16) {
    let line = conn_line(host, port);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
}

/// `AT+MQTTCONN` ends in one `ERROR` with `code`; then the modem still answers.
fn refused(modem: &mut Modem, host: &str, port: u16, code: u16) {
    let line = conn_line(host, port);
    modem.exchange(&line, &echoed(&line, &mqtt_error(code)));
    modem.exchange("AT", &echoed("AT", OK));
}

/// `AT+MQTTCERT` uploads `data` as `kind` at `index`; the answer after the data is
/// `result`.
fn upload(modem: &mut Modem, kind: &str, index: u8, data: &[u8], result: &[u8]) {
    let line = format!("AT+MQTTCERT=\"{kind}\",{index},{}", data.len());
    modem.send_line(&line);
    modem.expect(&echoed(&line, PROMPT), TIMEOUT);
    modem.send(data);
    modem.expect(result, TIMEOUT);
}

fn disconnect(modem: &mut Modem) {
    let clean = "AT+MQTTCLEAN=0";
    modem.send_line(clean);
    modem.read_until(OK, TIMEOUT);
}

#[test]
fn scheme_3_connects_and_carries_every_qos_both_ways() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (broker, ports) = broker(&pki);
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("certs/up/#", 2);
    let mut modem = modem(&pki, state.path(), &[]);
    user_cfg(&mut modem, 3, 0, 0);
    connects(&mut modem, "localhost", ports.good);
    for qos in 0..=2u8 {
        let sub = format!("AT+MQTTSUB=0,\"certs/down/{qos}\",{qos}");
        modem.exchange(&sub, &echoed(&sub, OK));
        let publish = format!("AT+MQTTPUB=0,\"certs/up/{qos}\",\"up{qos}\",{qos},0");
        modem.exchange(&publish, &echoed(&publish, OK));
        let (topic, payload, got_qos, _) = peer.recv(TIMEOUT);
        assert_eq!(
            (topic.as_str(), &payload[..], got_qos),
            (
                format!("certs/up/{qos}").as_str(),
                format!("up{qos}").as_bytes(),
                qos
            )
        );
        peer.publish(
            &format!("certs/down/{qos}"),
            format!("down{qos}").as_bytes(),
            qos,
            false,
        );
        modem.expect(
            &subrecv(
                &format!("certs/down/{qos}"),
                format!("down{qos}").as_bytes(),
            ),
            TIMEOUT,
        );
    }
}

#[test]
fn scheme_3_refusals_have_their_codes_and_the_modem_connects_afterwards() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (_broker, ports) = broker(&pki);
    let mut modem = modem(&pki, state.path(), &[]);
    user_cfg(&mut modem, 3, 0, 0);
    refused(&mut modem, "localhost", ports.foreign, 0x6060);
    refused(&mut modem, "localhost", ports.expired, 0x6061);
    refused(&mut modem, "localhost", ports.wrong_name, 0x6052);
    // A CA index with nothing stored.
    user_cfg(&mut modem, 3, 0, 2);
    refused(&mut modem, "localhost", ports.good, 0x6022);
    // The other CA (index 1) trusts the foreign server.
    user_cfg(&mut modem, 3, 0, 1);
    connects(&mut modem, "localhost", ports.foreign);
    disconnect(&mut modem);
    // The address: the certificate carries 127.0.0.1 as an iPAddress name.
    user_cfg(&mut modem, 3, 0, 0);
    connects(&mut modem, "127.0.0.1", ports.good);
}

/// Feature `tls-p384`: the P-384 root is uploaded over AT (a P-384 client certificate
/// is not), and a chain of Let's Encrypt's ECDSA shape from mosquitto verifies against
/// it and carries messages; another P-384 root of the same name is refused.
#[test]
fn scheme_3_verifies_a_lets_encrypt_shaped_p384_chain() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (broker, ports) = broker(&pki);
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("p384/up", 1);
    let mut modem = modem(&pki, state.path(), &[]);
    upload(&mut modem, "ca", 3, &pki.read("root-x2.pem"), OK);
    upload(&mut modem, "ca", 2, &pki.read("other-x2.der"), OK);
    upload(
        &mut modem,
        "cert",
        3,
        &pki.read("e5.pem"),
        &mqtt_error(0x6024),
    );
    user_cfg(&mut modem, 3, 0, 2);
    refused(&mut modem, "localhost", ports.lets_encrypt, 0x6060);
    user_cfg(&mut modem, 3, 0, 3);
    connects(&mut modem, "localhost", ports.lets_encrypt);
    let publish = "AT+MQTTPUB=0,\"p384/up\",\"le\",1,0";
    modem.exchange(publish, &echoed(publish, OK));
    let (topic, payload, qos, _) = peer.recv(TIMEOUT);
    assert_eq!(
        (topic.as_str(), &payload[..], qos),
        ("p384/up", &b"le"[..], 1)
    );
}

#[test]
fn scheme_4_and_5_present_the_client_certificate_where_it_is_required() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (_broker, ports) = broker(&pki);
    let mut modem = modem(&pki, state.path(), &[]);
    // Without a client certificate the listener refuses (after the modem's handshake,
    // as TLS 1.3 has it: the link closes before CONNACK).
    user_cfg(&mut modem, 3, 0, 0);
    refused(&mut modem, "localhost", ports.client_required, 0x600B);
    user_cfg(&mut modem, 4, 0, 0);
    connects(&mut modem, "localhost", ports.client_required);
    disconnect(&mut modem);
    user_cfg(&mut modem, 5, 0, 0);
    connects(&mut modem, "localhost", ports.client_required);
    disconnect(&mut modem);
    // Scheme 5 still verifies the server (AT+MQTTCLEAN forgot the configuration).
    user_cfg(&mut modem, 5, 0, 0);
    refused(&mut modem, "localhost", ports.wrong_name, 0x6052);
    // A client certificate index with nothing stored.
    user_cfg(&mut modem, 4, 1, 0);
    refused(&mut modem, "localhost", ports.client_required, 0x6024);
}

#[test]
fn esp_at_scheme_2_connects_without_verifying_the_server() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (_broker, ports) = broker(&pki);
    let mut modem = modem(&pki, state.path(), &["--profile", "esp-at"]);
    user_cfg(&mut modem, 2, 0, 0);
    let line = conn_line("localhost", ports.expired);
    modem.send_line(&line);
    let reply = modem.read_until(OK, TIMEOUT);
    assert!(
        String::from_utf8_lossy(&reply).contains("+MQTTCONNECTED:0,2,"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
}

#[test]
fn without_the_time_verifying_a_server_is_refused() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    pki.write_store(state.path());
    let (_broker, ports) = broker(&pki);
    let dir = state
        .path()
        .to_str()
        .unwrap_or_else(|| panic!("a UTF-8 path"));
    let mut modem = Modem::ready(&["--state-dir", dir]);
    modem.syslog_on();
    user_cfg(&mut modem, 3, 0, 0);
    refused(&mut modem, "localhost", ports.good, 0x6062);
}

/// The Python server that records the SNI and the ALPN protocol it selected.
fn hello_server(pki: &Pki, alpn: &[&str]) -> (Process, u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tls_hello_server.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg(pki.path("server.pem"))
        .arg(pki.path("server.key"))
        .args(alpn);
    let mut server = Process::spawn("tls_hello_server.py", command);
    let port = server.wait_for_line("listening on ", TIMEOUT);
    let port = port
        .parse()
        .unwrap_or_else(|e| panic!("a port, not {port:?}: {e}"));
    (server, port)
}

#[test]
fn sni_and_alpn_reach_the_server() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("state directory: {e}"));
    let (mut server, port) = hello_server(&pki, &["x-amzn-mqtt-ca"]);
    let mut modem = modem(&pki, state.path(), &["--profile", "esp-at"]);
    user_cfg(&mut modem, 3, 0, 0);
    // No SNI set: the connect host is the server name; no ALPN offered.
    let line = conn_line("localhost", port);
    modem.send_line(&line);
    modem.read_until(b"ERROR\r\n", TIMEOUT);
    assert_eq!(
        server.wait_for_line("hello ", TIMEOUT),
        "sni=localhost alpn=-"
    );
    // An address: no server name (RFC 6066).
    let line = conn_line("127.0.0.1", port);
    modem.send_line(&line);
    modem.read_until(b"ERROR\r\n", TIMEOUT);
    assert_eq!(server.wait_for_line("hello ", TIMEOUT), "sni=- alpn=-");
    // SNI and ALPN set: both are sent (the certificate is checked against the SNI).
    let sni = "AT+MQTTSNI=0,\"localhost\"";
    modem.exchange(sni, &echoed(sni, OK));
    let alpn = "AT+MQTTALPN=0,2,\"mqtt\",\"x-amzn-mqtt-ca\"";
    modem.exchange(alpn, &echoed(alpn, OK));
    modem.send_line(&line);
    modem.read_until(b"ERROR\r\n", TIMEOUT);
    assert_eq!(
        server.wait_for_line("hello ", TIMEOUT),
        "sni=localhost alpn=x-amzn-mqtt-ca"
    );
    modem.exchange("AT", &echoed("AT", OK));
}
