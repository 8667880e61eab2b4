//! The board-level scenarios, written once and run against each modem target: the host
//! simulator (`at-host --tap`) and the RP2040 port's real firmware in the emulator
//! (`tests/emulator/`; the image has `tls-cert`, its credential store in the emulated
//! flash). Each scenario gets its own [`Testbed`]: a private network with dnsmasq handing
//! out the modem's address and mosquitto (plain and TLS-PSK, and for the certificate
//! scenario a listener with a server certificate from a PKI made at test time) in a
//! namespace, with an SNTP server there where the scenario needs the time. The emulated
//! board's scenarios run one at a time and alone ([`Target::exclusive`]); when one
//! fails, the firmware's defmt log is printed decoded.
//!
//! Needs root, `ip`, `/dev/net/tun`, dnsmasq, mosquitto and its clients, openssl and
//! python3, and for the emulated board Node.js, the harness's `npm ci`, `defmt-print` and
//! the release ELF (`scripts/build-firmware.sh --emulator`); without them a test fails
//! saying what to do.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::time::{Duration, Instant};

use e2e_tests::at::{
    self, CONNECTED, DISCONNECTED, OK, PROMPT, echoed, error_code, mqtt_error, subrecv,
};
use e2e_tests::emulator::{Ethernet, start_rp2040};
use e2e_tests::figures::Figures;
use e2e_tests::{
    Modem, NamespaceBroker, SntpServer, SntpTime, TIMEOUT, Target, Testbed, UART_BYTES_PER_SECOND,
    escape,
};
use nix::sys::signal::Signal;

/// The bound of a TLS 1.3-PSK handshake on the emulated board (4-7 s of wall time when
/// idle, up to 30 s beside a parallel build on 2 cores), with a margin.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(90);
/// The bound of a TLS 1.3 handshake that verifies the server's certificate against a
/// stored CA (scheme 3) on the emulated board: ECDHE and two ECDSA P-256 signature
/// checks, about 3.3 s of the chip's time and 9-18 s of wall time beside a parallel
/// build on 2 cores, with a margin.
const CERT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the modem may take to notice the broker's loss and to reconnect.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The seed profile's `AT+MQTTPUBRAW` result.
const PUBRAW_OK: &[u8] = b"+MQTTPUBRAW:OK\r\n";

/// The scenarios for one target, as a module of tests named after it.
macro_rules! scenarios {
    ($module:ident, $target:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn boots_ready_and_answers_at_and_gmr() {
                super::boots_ready_and_answers_at_and_gmr($target);
            }

            #[test]
            fn gets_its_address_from_dhcp() {
                super::gets_its_address_from_dhcp($target);
            }

            #[test]
            fn mqtt_session_both_ways_at_each_qos() {
                super::mqtt_session_both_ways_at_each_qos($target);
            }

            #[test]
            fn tls_psk_connect_and_publish() {
                super::tls_psk_connect_and_publish($target);
            }

            #[test]
            fn tls_scheme_3_with_a_stored_ca_survives_restart() {
                super::tls_scheme_3_with_a_stored_ca_survives_restart($target);
            }

            #[test]
            fn restart_answers_ok_then_ready() {
                super::restart_answers_ok_then_ready($target);
            }

            #[test]
            fn broker_restart_with_reconnect() {
                super::broker_restart_with_reconnect($target);
            }

            #[test]
            fn inbound_flood_leaves_room_for_the_host() {
                super::inbound_flood_leaves_room_for_the_host($target);
            }
        }
    };
}

scenarios!(host_simulator, Target::HostSimulator);
scenarios!(emulated_rp2040, Target::EmulatedRp2040);

/// The name of `target`'s figures.
fn figures(target: Target, scenario: &str, title: &str) -> Figures {
    let name = match target {
        Target::HostSimulator => "host_simulator",
        Target::EmulatedRp2040 => "emulated_rp2040",
    };
    Figures::new(&format!("{name}_{scenario}"), title)
}

/// `AT+MQTTUSERCFG` for `scheme` (1 TCP, 2 TLS-PSK) and `client_id`.
fn user_cfg(scheme: u8, client_id: &str) -> String {
    format!("AT+MQTTUSERCFG=0,{scheme},\"{client_id}\",\"\",\"\",0,0,\"\"")
}

/// `AT+MQTTCONN` to the namespace's broker on `port`.
fn conn(bed: &Testbed, port: u16, reconnect: u8) -> String {
    format!(
        "AT+MQTTCONN=0,\"{}\",{port},{reconnect}",
        bed.broker.address()
    )
}

/// Waits for a lease, configures MQTT over TCP and connects (echo on).
fn connect(bed: &mut Testbed, client_id: &str, reconnect: u8) {
    let ip = bed.wait_for_lease();
    let user = user_cfg(1, client_id);
    bed.modem.exchange(&user, &echoed(&user, OK));
    let conn = conn(bed, NamespaceBroker::PORT, reconnect);
    bed.modem
        .exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
    bed.broker
        .wait_for_log(&format!("New client connected from {ip}:"), TIMEOUT);
}

/// Sends `line` (echo on) and expects its `OK` and `urc`, in either order (SPEC section 5
/// lets a URC come before or after a result).
fn exchange_with_urc(modem: &mut Modem, line: &str, urc: &[u8], timeout: Duration) {
    modem.send_line(line);
    modem.expect_result_and_urc(&echoed(line, b""), OK, urc, timeout);
}

/// Subscribes to `prefix/#`, publishes `up` to `prefix/up` and sees it come back, then
/// receives `to the board` that the broker publishes to `prefix/down` (QoS 1 throughout),
/// and ends the session with `AT+MQTTCLEAN`.
fn both_ways_then_clean(bed: &mut Testbed, prefix: &str, up: &str) {
    let sub = format!("AT+MQTTSUB=0,\"{prefix}/#\",1");
    bed.modem.exchange(&sub, &echoed(&sub, OK));
    let line = format!("AT+MQTTPUB=0,\"{prefix}/up\",\"{up}\",1,0");
    exchange_with_urc(
        &mut bed.modem,
        &line,
        &subrecv(&format!("{prefix}/up"), up.as_bytes()),
        TIMEOUT,
    );
    let down = format!("{prefix}/down");
    bed.broker.publish(&down, "to the board", 1);
    bed.modem.expect(&subrecv(&down, b"to the board"), TIMEOUT);
    bed.modem
        .exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
}

/// The emulator's figures at one moment.
struct EmulatorStats {
    /// The simulated time the core spent executing (not waiting) so far, in ms: at the
    /// chip's clock, what the real RP2040 spends computing.
    busy_simulated_ms: f64,
    /// The emulated clock rate while executing, in MHz.
    mhz: f64,
}

/// For the emulated board, the harness's figures line asked for with SIGUSR1.
fn emulator_stats(modem: &mut Modem) -> Option<EmulatorStats> {
    modem.firmware_log()?;
    modem.process().signal(Signal::SIGUSR1);
    let stats = modem
        .process()
        .wait_for_line("emulator: stats ", Duration::from_secs(10));
    let field = |name: &str| -> Option<f64> {
        stats
            .split_whitespace()
            .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse().ok())
    };
    Some(EmulatorStats {
        busy_simulated_ms: field("busy_simulated_ms")?,
        mhz: field("mhz")?,
    })
}

/// Sends `conn` (echo on) and waits up to `timeout` for `+MQTTCONNECTED` and `OK`;
/// returns the wall time it took and, on the emulated board, the simulated time its core
/// spent executing meanwhile (ms).
fn timed_connect(modem: &mut Modem, conn: &str, timeout: Duration) -> (Duration, Option<f64>) {
    let before = emulator_stats(modem);
    let sent = Instant::now();
    modem.send_line(conn);
    modem.expect(&echoed(conn, &[CONNECTED, OK].concat()), timeout);
    let wall = sent.elapsed();
    let simulated = before
        .zip(emulator_stats(modem))
        .map(|(before, after)| after.busy_simulated_ms - before.busy_simulated_ms);
    (wall, simulated)
}

/// The first `emulator: ready S ms simulated, W ms wall` line: (S, W).
fn emulated_boot(modem: &mut Modem) -> Option<(f64, f64)> {
    modem.firmware_log()?;
    let log = modem.process().log();
    let line = log
        .lines()
        .find_map(|line| line.strip_prefix("emulator: ready "))?;
    let mut numbers = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|word| word.parse::<f64>().ok());
    Some((numbers.next()?, numbers.next()?))
}

/// `AT+GMR`'s answer (after its echo) on `target`.
fn gmr_answer(target: Target) -> Vec<u8> {
    format!(
        "AT version:{}(at-mqtt-modem)\r\nProtocol profile:seed\r\nBuild profile:{}\r\n\
         Board:{}\r\n\r\nOK\r\n",
        env!("CARGO_PKG_VERSION"),
        target.build_profile(),
        target.board()
    )
    .into_bytes()
}

fn boots_ready_and_answers_at_and_gmr(target: Target) {
    let mut bed = Testbed::start(target);
    let boot = bed.boot;
    bed.modem.exchange("AT", &echoed("AT", OK));
    bed.modem
        .exchange("AT+GMR", &echoed("AT+GMR", &gmr_answer(target)));
    let mut figures = figures(target, "boot", "Power-on to ready");
    figures.record("start_to_ready_wall_ms", boot.as_millis());
    if let Some((simulated, wall)) = emulated_boot(&mut bed.modem) {
        figures.record("boot_ready_simulated_ms", simulated);
        figures.record("boot_ready_wall_ms", wall);
    }
}

fn gets_its_address_from_dhcp(target: Target) {
    let mut bed = Testbed::start(target);
    let ip = bed.wait_for_lease();
    let took = bed.started.elapsed();
    // The address is the stack's own: the broker sees the connection come from it.
    let user = user_cfg(1, "board-dhcp");
    bed.modem.exchange(&user, &echoed(&user, OK));
    let conn = conn(&bed, NamespaceBroker::PORT, 0);
    bed.modem
        .exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
    bed.broker
        .wait_for_log(&format!("New client connected from {ip}:"), TIMEOUT);
    figures(target, "dhcp", "First DHCP lease").record("start_to_lease_ms", took.as_millis());
}

fn mqtt_session_both_ways_at_each_qos(target: Target) {
    let mut bed = Testbed::start(target);
    let started = Instant::now();
    connect(&mut bed, "board-session", 0);
    let sub = "AT+MQTTSUB=0,\"board/#\",2";
    bed.modem.exchange(sub, &echoed(sub, OK));

    for qos in 0..=2u8 {
        // The modem's own message comes back through the broker at its QoS...
        let topic = format!("board/echo/{qos}");
        let payload = format!("up at qos {qos}");
        let line = format!("AT+MQTTPUB=0,\"{topic}\",\"{payload}\",{qos},0");
        exchange_with_urc(
            &mut bed.modem,
            &line,
            &subrecv(&topic, payload.as_bytes()),
            TIMEOUT,
        );
        // ...and a peer in the namespace reaches the modem at each QoS.
        let topic = format!("board/down/{qos}");
        let payload = format!("down at qos {qos}");
        bed.broker.publish(&topic, &payload, qos);
        bed.modem
            .expect(&subrecv(&topic, payload.as_bytes()), TIMEOUT);
    }

    // An independent subscriber gets what the modem publishes (retained, so that it may
    // subscribe after the publish).
    let retained = "AT+MQTTPUB=0,\"state/board\",\"online\",1,1";
    bed.modem.exchange(retained, &echoed(retained, OK));
    assert_eq!(
        bed.broker.receive_one("state/board", TIMEOUT),
        "state/board online"
    );

    // A 3,000-byte message arrives as one URC.
    let big: Vec<u8> = (b'a'..=b'z').cycle().take(3000).collect();
    bed.broker.publish_bytes("board/down/big", &big, 1);
    bed.modem.expect(&subrecv("board/down/big", &big), TIMEOUT);

    // AT+MQTTPUBRAW carries every byte value; its echo through the broker is exact.
    let raw: Vec<u8> = (0..=255u8).collect();
    let line = format!("AT+MQTTPUBRAW=0,\"board/raw\",{},1,0", raw.len());
    bed.modem.exchange(&line, &echoed(&line, PROMPT));
    bed.modem.send(&raw);
    bed.modem.expect_one_of(
        &[
            &[PUBRAW_OK, &subrecv("board/raw", &raw)].concat(),
            &[&subrecv("board/raw", &raw), PUBRAW_OK].concat(),
        ],
        TIMEOUT,
    );

    bed.modem
        .exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    bed.broker
        .wait_for_log("Client board-session disconnected", TIMEOUT);
    // Positive marker: the modem is idle and answers.
    bed.modem.exchange("AT", &echoed("AT", OK));
    figures(target, "session", "MQTT session scenario")
        .record("lease_to_clean_ms", started.elapsed().as_millis());
}

fn tls_psk_connect_and_publish(target: Target) {
    let mut bed = Testbed::start(target);
    bed.wait_for_lease();
    bed.modem.syslog_on();
    let user = user_cfg(2, "board-tls");
    bed.modem.exchange(&user, &echoed(&user, OK));
    let psk = format!(
        "AT+MQTTPSK=0,\"{}\",\"{}\"",
        NamespaceBroker::PSK_IDENTITY,
        NamespaceBroker::PSK_KEY_HEX
    );
    bed.modem.exchange(&psk, &echoed(&psk, OK));
    let conn = conn(&bed, NamespaceBroker::PSK_PORT, 0);
    let (handshake, simulated) = timed_connect(&mut bed.modem, &conn, HANDSHAKE_TIMEOUT);
    let mhz = emulator_stats(&mut bed.modem).map(|stats| stats.mhz);

    both_ways_then_clean(&mut bed, "sealed", "over tls-psk");

    let mut figures = figures(target, "tls", "TLS 1.3-PSK connect");
    figures.record("handshake_wall_ms", handshake.as_millis());
    if let Some(simulated) = simulated {
        figures.record("handshake_busy_simulated_ms", format!("{simulated:.0}"));
    }
    if let Some(mhz) = mhz {
        figures.record("emulated_mhz", format!("{mhz:.1}"));
    }
}

/// `AT+MQTTCERT="<kind>",<index>,<length>` (echo on): its prompt, the data, `OK`.
fn upload(modem: &mut Modem, kind: &str, index: u8, data: &[u8]) {
    let line = format!("AT+MQTTCERT=\"{kind}\",{index},{}", data.len());
    modem.exchange(&line, &echoed(&line, PROMPT));
    modem.send(data);
    modem.expect(OK, TIMEOUT);
}

/// SNTP on with the namespace's server (`AT+CIPSNTPCFG`), then `AT+CIPSNTPTIME?`, which
/// asks it when the clock wants the time; fails if the answer is still the epoch.
fn set_clock(bed: &mut Testbed) {
    let config = format!("AT+CIPSNTPCFG=1,0,\"{}\"", bed.broker.address());
    bed.modem.exchange(&config, &echoed(&config, OK));
    bed.modem.send_line("AT+CIPSNTPTIME?");
    let answer = bed.modem.read_until(OK, TIMEOUT);
    let text = String::from_utf8_lossy(&answer);
    if !text.starts_with("AT+CIPSNTPTIME?\r\n+CIPSNTPTIME:") || text.contains("1970") {
        bed.modem
            .fail(&format!("AT+CIPSNTPTIME? answered {}", escape(&answer)));
    }
}

/// `AT+MQTTUSERCFG` for scheme 3 (TLS, the server verified against the CA at `ca_id`).
fn scheme_3_cfg(client_id: &str, ca_id: u8) -> String {
    format!("AT+MQTTUSERCFG=0,3,\"{client_id}\",\"\",\"\",0,{ca_id},\"\"")
}

/// Certificate TLS from the credential store: the CA (PEM) and another CA (DER) uploaded
/// with `AT+MQTTCERT`, the time from SNTP (the machine's clock: the PKI was made just
/// now), a scheme 3 connect to the broker's certificate listener with QoS 1 both ways;
/// refusals for a CA index with nothing stored and for the wrong CA, each with its code;
/// then `AT+RST`, and the stored CA serves a second connect without a new upload.
fn tls_scheme_3_with_a_stored_ca_survives_restart(target: Target) {
    let mut bed = Testbed::start_with_certificates(target);
    let mut sntp = SntpServer::start(&bed.network, SntpTime::Now);
    let pki = bed
        .broker
        .pki()
        .unwrap_or_else(|| panic!("the testbed has no PKI"));
    let (ca_pem, other_ca_der) = (pki.read("ca.pem"), pki.read("other-ca.der"));
    let stored = format!(
        "+MQTTCERT:\"ca\",0,{}\r\n+MQTTCERT:\"ca\",1,{}\r\n",
        pki.read("ca.der").len(),
        other_ca_der.len()
    );
    let ip = bed.wait_for_lease();
    bed.modem.syslog_on();
    upload(&mut bed.modem, "ca", 0, &ca_pem);
    upload(&mut bed.modem, "ca", 1, &other_ca_der);
    let list = "AT+MQTTCERT?";
    bed.modem
        .exchange(list, &echoed(list, &[stored.as_bytes(), OK].concat()));
    set_clock(&mut bed);
    let asked = sntp.wait_for_answer(TIMEOUT);
    assert_eq!(
        asked,
        ip.to_string(),
        "the SNTP server answered another host"
    );

    let user = scheme_3_cfg("board-cert", 0);
    bed.modem.exchange(&user, &echoed(&user, OK));
    let conn = conn(&bed, NamespaceBroker::CERT_PORT, 0);
    let (handshake, simulated) = timed_connect(&mut bed.modem, &conn, CERT_HANDSHAKE_TIMEOUT);
    let mhz = emulator_stats(&mut bed.modem).map(|stats| stats.mhz);
    both_ways_then_clean(&mut bed, "certified", "verified server");
    bed.broker
        .wait_for_log("Client board-cert disconnected", TIMEOUT);

    // Refusals, each with its code, and the modem answers after them: nothing stored
    // at CA index 2 (CA_READ_FAILED), and the other CA, which did not sign the broker's
    // certificate (CERT_NOT_TRUSTED).
    for (ca_id, code) in [(2, 0x6022), (1, 0x6060)] {
        let user = scheme_3_cfg("board-refused", ca_id);
        bed.modem.exchange(&user, &echoed(&user, OK));
        bed.modem.send_line(&conn);
        bed.modem
            .expect(&echoed(&conn, &mqtt_error(code)), CERT_HANDSHAKE_TIMEOUT);
        bed.modem.exchange("AT", &echoed("AT", OK));
    }

    // After AT+RST the store still holds both CAs: no new upload.
    bed.restart();
    bed.wait_for_lease();
    bed.modem
        .exchange(list, &echoed(list, &[stored.as_bytes(), OK].concat()));
    set_clock(&mut bed);
    let user = scheme_3_cfg("board-cert-again", 0);
    bed.modem.exchange(&user, &echoed(&user, OK));
    let (again, _) = timed_connect(&mut bed.modem, &conn, CERT_HANDSHAKE_TIMEOUT);
    let line = "AT+MQTTPUB=0,\"certified/again\",\"after the restart\",1,1";
    bed.modem.exchange(line, &echoed(line, OK));
    assert_eq!(
        bed.broker.receive_one("certified/again", TIMEOUT),
        "certified/again after the restart"
    );
    bed.modem
        .exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));

    let mut figures = figures(target, "tls_cert", "TLS 1.3 scheme 3 connect (stored CA)");
    figures.record("handshake_wall_ms", handshake.as_millis());
    if let Some(simulated) = simulated {
        figures.record("handshake_busy_simulated_ms", format!("{simulated:.0}"));
    }
    figures.record("after_restart_handshake_wall_ms", again.as_millis());
    if let Some(mhz) = mhz {
        figures.record("emulated_mhz", format!("{mhz:.1}"));
    }
}

fn restart_answers_ok_then_ready(target: Target) {
    let mut bed = Testbed::start(target);
    let first = bed.wait_for_lease();
    bed.restart();
    bed.modem.exchange("AT", &echoed("AT", OK));
    // The restarted stack asks for an address again (dnsmasq gives it the same one).
    let again = bed.wait_for_lease();
    assert_eq!(again, first, "the lease after AT+RST differs");
}

fn broker_restart_with_reconnect(target: Target) {
    let mut bed = Testbed::start(target);
    connect(&mut bed, "board-reconnect", 1);
    let sub = "AT+MQTTSUB=0,\"back/#\",1";
    bed.modem.exchange(sub, &echoed(sub, OK));

    bed.broker.stop();
    bed.modem.expect(DISCONNECTED, RECONNECT_TIMEOUT);
    // While the broker is down a publish is refused.
    bed.modem.syslog_on();
    let line = "AT+MQTTPUB=0,\"back/lost\",\"x\",1,0";
    bed.modem.send_line(line);
    let refused = bed.modem.read_until(b"ERROR\r\n", TIMEOUT);
    let expected_tail = &echoed(line, b"")[..];
    assert!(
        refused.starts_with(expected_tail) && refused.ends_with(at::ERROR),
        "a publish with the broker down answered {}",
        escape(&refused)
    );

    let down = Instant::now();
    bed.broker.restart();
    bed.modem.expect(CONNECTED, RECONNECT_TIMEOUT);
    let reconnected = down.elapsed();
    // The subscription is restored: a message on it arrives.
    let line = "AT+MQTTPUB=0,\"back/again\",\"after the restart\",1,0";
    exchange_with_urc(
        &mut bed.modem,
        line,
        &subrecv("back/again", b"after the restart"),
        TIMEOUT,
    );
    bed.modem
        .exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    figures(target, "reconnect", "Broker restart with reconnect=1")
        .record("restart_to_connected_ms", reconnected.as_millis());
}

/// The flood: 64-byte QoS 0 messages, 400 a second (3.5 times what the line carries).
const FLOOD_PER_SECOND: u32 = 400;
const FLOOD_TOPIC: &str = "flood/data";
const SENTINEL_TOPIC: &str = "flood/sentinel";
/// `AT+MQTTUNSUB`'s bound (SPEC section 5) with a margin for scheduling.
const UNSUBSCRIBE_DEADLINE: Duration = Duration::from_secs(17);

fn flood_payload(n: u32) -> String {
    let mut text = format!("flood {n:06} ");
    text.extend(std::iter::repeat_n('.', 64 - text.len()));
    text
}

/// The hand-off issue's fairness scenario: under an inbound flood that saturates the
/// serial line, `AT` is answered within 1 s and `AT+MQTTUNSUB` within its bound, after
/// which the flood no longer reaches the host (two sentinels arrive back to back).
fn inbound_flood_leaves_room_for_the_host(target: Target) {
    let mut bed = Testbed::start(target);
    connect(&mut bed, "board-flood", 0);
    // Without echo a result is the only `\r\nOK\r\n` on the line (payloads hold none).
    bed.modem.exchange("ATE0", &echoed("ATE0", OK));
    for filter in [FLOOD_TOPIC, SENTINEL_TOPIC] {
        bed.modem
            .exchange(&format!("AT+MQTTSUB=0,\"{filter}\",0"), OK);
    }
    let flood = bed
        .broker
        .flood(FLOOD_TOPIC, flood_payload, FLOOD_PER_SECOND, 40_000);
    let saturation = Duration::from_secs(3);
    let read = bed.modem.read_paced_for(UART_BYTES_PER_SECOND, saturation);
    let budget = UART_BYTES_PER_SECOND as usize * 3;
    bed.modem.take_pending();
    assert!(
        read * 10 >= budget * 7,
        "the flood did not saturate the line: {read} bytes in {saturation:?} (budget \
         {budget}); {} messages published",
        flood.sent()
    );

    let sent = Instant::now();
    bed.modem.send_line("AT");
    let answered = bed
        .modem
        .read_paced_until(OK, UART_BYTES_PER_SECOND, Duration::from_secs(8));
    let latency = sent.elapsed();
    if answered.is_err() || latency > Duration::from_secs(1) {
        bed.modem.fail(&format!(
            "AT under the flood: answered {}, {latency:.3?} after it was sent (bound 1 s)",
            answered.is_ok()
        ));
    }

    let unsub = format!("AT+MQTTUNSUB=0,\"{FLOOD_TOPIC}\"");
    bed.modem.send_line(&unsub);
    match bed
        .modem
        .read_paced_until(OK, UART_BYTES_PER_SECOND, UNSUBSCRIBE_DEADLINE)
    {
        Ok(bytes) => {
            let refused = [&b"NO UNSUBSCRIBE"[..], b"ERROR", b"busy p..."]
                .into_iter()
                .find(|word| bytes.windows(word.len()).any(|w| w == *word));
            if let Some(word) = refused {
                bed.modem.fail(&format!(
                    "AT+MQTTUNSUB was answered with {} before its OK",
                    escape(word)
                ));
            }
        }
        Err(_) => bed.modem.fail(&format!(
            "AT+MQTTUNSUB was not answered within {UNSUBSCRIBE_DEADLINE:?}"
        )),
    }

    // Positive marker: once what was queued before the unsubscribe has drained, the
    // flood (still publishing) no longer reaches the modem.
    bed.broker.publish(SENTINEL_TOPIC, "one", 1);
    let first = subrecv(SENTINEL_TOPIC, b"one");
    if let Err(why) = bed.modem.wait_for_any(&[&first], Duration::from_secs(20)) {
        bed.modem
            .fail(&format!("the first sentinel did not arrive: {why}"));
    }
    bed.broker.publish(SENTINEL_TOPIC, "two", 1);
    let second = subrecv(SENTINEL_TOPIC, b"two");
    match bed.modem.wait_for_any(&[&second], TIMEOUT) {
        Ok((_, bytes)) if bytes == second => {}
        Ok((_, bytes)) => bed.modem.fail(&format!(
            "messages still flowed after AT+MQTTUNSUB's OK: {} bytes between the sentinels",
            bytes.len() - second.len()
        )),
        Err(why) => bed
            .modem
            .fail(&format!("the second sentinel did not arrive: {why}")),
    }
    assert!(flood.sent() > 0, "the flood published nothing");
    drop(flood);
    figures(target, "flood", "Inbound flood fairness").record("at_latency_ms", latency.as_millis());
}

/// The emulated board without its W5500 (nothing answers on SPI0): it must not panic at
/// boot. It answers AT, network commands answer `ERROR` with a code, and the firmware's
/// log says why.
#[test]
fn emulated_rp2040_without_w5500_keeps_answering() {
    let _exclusive = Target::EmulatedRp2040.exclusive();
    let mut modem = start_rp2040(Ethernet::Unplugged);
    modem.expect(at::READY, Duration::from_secs(30));
    modem.exchange("AT", &echoed("AT", OK));
    modem.syslog_on();
    let user = user_cfg(1, "no-network");
    modem.exchange(&user, &echoed(&user, OK));
    let conn = "AT+MQTTCONN=0,\"10.213.0.1\",1883,0";
    modem.exchange(conn, &echoed(conn, &at::mqtt_error(0x600B)));
    modem.exchange(
        "AT+CIPSTA?",
        &echoed("AT+CIPSTA?", &error_code(0x010A_0003)),
    );
    modem.exchange(
        "AT+GMR",
        &echoed("AT+GMR", &gmr_answer(Target::EmulatedRp2040)),
    );
    let log = modem
        .firmware_log()
        .map(e2e_tests::FirmwareLog::decoded)
        .unwrap_or_default();
    assert!(
        log.contains("W5500") && !log.contains("panicked"),
        "the firmware log does not say the W5500 is missing (or shows a panic):\n{log}"
    );
}
