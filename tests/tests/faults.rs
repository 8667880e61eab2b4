//! Faults a deployed modem meets, against a real mosquitto: a broker that hangs and then
//! dies while a command waits for its acknowledgement, and inbound messages faster than
//! the UART carries them. SPEC.md section 3 (every accepted command ends with exactly
//! one result within its bound; no fault leaves the modem `busy p...` past it) and
//! section 5 (reading input never waits for the URC queue).
//!
//! Each test measures what it checks and reports the figures on failure (and the flood
//! test prints its latencies with `--nocapture`).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use e2e_tests::at::{CONNECTED, DISCONNECTED, ERROR, OK, echoed, subrecv};
use e2e_tests::{Broker, Flood, Modem, Peer, TIMEOUT, UART_BYTES_PER_SECOND, escape};

/// `AT+MQTTPUB`'s bound for its PUBACK (SPEC.md section 6).
const PUBLISH_BOUND: Duration = Duration::from_secs(15);
/// The bound with a margin for scheduling, counted from sending the command.
const PUBLISH_DEADLINE: Duration = Duration::from_secs(17);
/// How long past the deadline a late result is still waited for, so that a failure
/// says when (or whether) it came.
const LATE: Duration = Duration::from_secs(13);
const BUSY: &[u8] = b"busy p...\r\n";

/// The identity and key the PSK listener knows.
const IDENTITY: &str = "modem-psk";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

/// The transport of the fault tests' broker connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Tcp,
    TlsPsk,
}

/// A broker with a TLS-PSK listener beside its plain one; returns the PSK port and the
/// directory holding the key file.
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

/// Removes every disconnect URC from `bytes`: what is left must be the expected output.
fn without_disconnect_urcs(bytes: &[u8]) -> Vec<u8> {
    let mut rest = bytes.to_vec();
    while let Some(at) = rest
        .windows(DISCONNECTED.len())
        .position(|w| w == DISCONNECTED)
    {
        rest.drain(at..at + DISCONNECTED.len());
    }
    rest
}

/// Connects, freezes the broker (SIGSTOP) right before `AT+MQTTPUB` at QoS 1, kills it
/// (SIGKILL) a second later, and checks exactly one `ERROR` within the bound, then `OK`
/// for `AT`.
fn broker_frozen_then_killed_while_publish_waits(scheme: Scheme) {
    let (mut broker, port, _dir) = match scheme {
        Scheme::Tcp => {
            let broker = Broker::start();
            let port = broker.port();
            (broker, port, None)
        }
        Scheme::TlsPsk => {
            let (broker, port, dir) = psk_broker();
            (broker, port, Some(dir))
        }
    };
    let mut modem = Modem::ready(&[]);
    match scheme {
        Scheme::Tcp => modem.mqtt_connect("fault-frozen", port),
        Scheme::TlsPsk => {
            let user = "AT+MQTTUSERCFG=0,2,\"fault-frozen\",\"\",\"\",0,0,\"\"";
            modem.exchange(user, &echoed(user, OK));
            let psk = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
            modem.exchange(&psk, &echoed(&psk, OK));
            let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},0");
            modem.exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
        }
    }

    let line = "AT+MQTTPUB=0,\"x/y\",\"hello\",1,0";
    broker.freeze();
    let sent = Instant::now();
    modem.send_line(line);
    modem.expect(&echoed(line, b""), TIMEOUT);
    // A second of a hung broker (the kernel still takes the PUBLISH), then it dies.
    let early = modem.wait_for_any(
        &[ERROR, OK],
        Duration::from_secs(1).saturating_sub(sent.elapsed()),
    );
    broker.stop();
    let killed = sent.elapsed();
    let result = match early {
        Ok(found) => Ok(found),
        Err(_) => modem.wait_for_any(
            &[ERROR, OK],
            (PUBLISH_DEADLINE + LATE).saturating_sub(sent.elapsed()),
        ),
    };
    let took = sent.elapsed();
    let mut failures = Vec::new();
    match result {
        Ok((0, bytes)) => {
            let before = without_disconnect_urcs(&bytes);
            if before != ERROR {
                failures.push(format!(
                    "{scheme:?}: the publish ended with ERROR after {took:.3?}, but before it \
                     came {} (only +MQTTDISCONNECTED:0 may precede the result)",
                    escape(&bytes)
                ));
            }
            if took > PUBLISH_DEADLINE {
                failures.push(format!(
                    "{scheme:?}: the publish's ERROR came {took:.3?} after the command \
                     (broker frozen at 0 s, killed at {killed:.3?}); the bound is \
                     {PUBLISH_BOUND:?} (+ margin: {PUBLISH_DEADLINE:?})"
                ));
            }
        }
        Ok((_, bytes)) => failures.push(format!(
            "{scheme:?}: the publish answered OK ({}) {took:.3?} after the command (broker \
             frozen at 0 s, killed at {killed:.3?}), though the broker could not have \
             acknowledged it; expected ERROR",
            escape(&bytes)
        )),
        Err(why) => failures.push(format!(
            "{scheme:?}: the publish got no result within {:?} of the command (broker frozen \
             at 0 s, killed at {killed:.3?}); expected exactly one ERROR within \
             {PUBLISH_DEADLINE:?}: {why}",
            PUBLISH_DEADLINE + LATE
        )),
    }

    // Exactly one result: nothing but the disconnect URC follows.
    if let Ok((_, bytes)) = modem.wait_for_any(&[ERROR, OK, BUSY], Duration::from_secs(1)) {
        failures.push(format!(
            "{scheme:?}: a second result followed the publish's first: {}",
            escape(&bytes)
        ));
    }
    let rest = modem.take_pending();
    if !without_disconnect_urcs(&rest).is_empty() {
        failures.push(format!(
            "{scheme:?}: after the publish's result came {} (only +MQTTDISCONNECTED:0 may)",
            escape(&rest)
        ));
    }

    // The modem is free again.
    let asked = Instant::now();
    modem.send_line("AT");
    match modem.wait_for_any(&[OK, BUSY, ERROR], Duration::from_secs(5)) {
        Ok((0, bytes)) if without_disconnect_urcs(&bytes) == echoed("AT", OK) => {}
        Ok((_, bytes)) => failures.push(format!(
            "{scheme:?}: after the publish's result, AT was answered {} after {:.1?}; \
             expected AT\\r\\n\\r\\nOK\\r\\n",
            escape(&bytes),
            asked.elapsed()
        )),
        Err(why) => failures.push(format!(
            "{scheme:?}: after the publish's result, AT got no answer within 5 s: {why}"
        )),
    }
    if !failures.is_empty() {
        modem.fail(&failures.join("\n"));
    }
}

#[test]
fn tls_broker_frozen_then_killed_while_publish_waits() {
    broker_frozen_then_killed_while_publish_waits(Scheme::TlsPsk);
}

#[test]
fn tcp_broker_frozen_then_killed_while_publish_waits() {
    broker_frozen_then_killed_while_publish_waits(Scheme::Tcp);
}

/// The flood: 64-byte QoS 0 messages at 400 a second, about 40 KB/s of URCs: three and
/// a half times what the UART carries.
const FLOOD_PER_SECOND: u32 = 400;
const FLOOD_PAYLOAD: usize = 64;
const FLOOD_TOPIC: &str = "flood/data";
const SENTINEL_TOPIC: &str = "flood/sentinel";

fn flood_payload(n: usize) -> Vec<u8> {
    let mut bytes = format!("flood {n:06} ").into_bytes();
    bytes.resize(FLOOD_PAYLOAD, b'.');
    bytes
}

/// The last `n` characters of `text`.
fn tail(text: &str, n: usize) -> &str {
    let start = text.char_indices().rev().nth(n).map_or(0, |(at, _)| at);
    text.get(start..).unwrap_or(text)
}

#[test]
fn flood_does_not_lock_the_host_out() {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("fault-flood", broker.port());
    // Without echo a result is the only `\r\nOK\r\n` on the line (payloads hold none).
    modem.exchange("ATE0", &echoed("ATE0", OK));
    modem.exchange("AT", OK);
    for filter in [FLOOD_TOPIC, SENTINEL_TOPIC] {
        modem.exchange(&format!("AT+MQTTSUB=0,\"{filter}\",0"), OK);
    }

    let flood = Flood::start(
        broker.port(),
        FLOOD_TOPIC,
        flood_payload,
        FLOOD_PER_SECOND,
        20_000,
        Duration::from_secs(45),
    );
    // Three seconds of a saturated line, read at the UART's pace.
    let saturation = Duration::from_secs(3);
    let read = modem.read_paced_for(UART_BYTES_PER_SECOND, saturation);
    let budget = UART_BYTES_PER_SECOND as usize * 3;
    let flooding = modem.take_pending();
    let mut failures = Vec::new();
    if read * 10 < budget * 8 {
        failures.push(format!(
            "the flood did not saturate the line: {read} bytes in {saturation:?} at \
             {UART_BYTES_PER_SECOND} B/s (budget {budget}); {} messages published",
            flood.sent()
        ));
    }

    // AT must overtake the URCs still queued in the modem.
    let sent = Instant::now();
    modem.send_line("AT");
    let limit = Duration::from_secs(8);
    match modem.read_paced_until(OK, UART_BYTES_PER_SECOND, limit) {
        Ok(bytes) => {
            let latency = sent.elapsed();
            eprintln!(
                "flood: AT -> OK in {latency:.3?} ({} bytes of URCs before it, {} messages \
                 published so far)",
                bytes.len() - OK.len(),
                flood.sent()
            );
            if latency > Duration::from_secs(1) {
                failures.push(format!(
                    "AT was answered OK {latency:.3?} after it was sent, with {} bytes before \
                     it; expected within 1 s",
                    bytes.len() - OK.len()
                ));
            }
        }
        Err(bytes) => failures.push(format!(
            "AT was not answered within {limit:?} while the host read at {UART_BYTES_PER_SECOND} \
             B/s; {} bytes came meanwhile{}",
            bytes.len(),
            if bytes.windows(BUSY.len()).any(|w| w == BUSY) {
                " (busy p... among them)"
            } else {
                ""
            }
        )),
    }

    // The host gets its unsubscribe through, acknowledged by the broker.
    let unsub = format!("AT+MQTTUNSUB=0,\"{FLOOD_TOPIC}\"");
    let sent = Instant::now();
    modem.send_line(&unsub);
    let mut unsubscribed = false;
    // The UNSUBACK queues behind the messages the broker already sent, which reach the
    // serial line at its pace: the command's own 15 s bound applies (SPEC section 5).
    match modem.read_paced_until(OK, UART_BYTES_PER_SECOND, PUBLISH_DEADLINE) {
        Ok(bytes) => {
            let latency = sent.elapsed();
            eprintln!("flood: AT+MQTTUNSUB -> OK in {latency:.3?}");
            let refused = [&b"NO UNSUBSCRIBE"[..], b"ERROR", b"busy p..."]
                .into_iter()
                .find(|word| bytes.windows(word.len()).any(|w| w == *word));
            if let Some(word) = refused {
                failures.push(format!(
                    "AT+MQTTUNSUB was answered with {} before its OK",
                    escape(word)
                ));
            } else {
                unsubscribed = true;
            }
            if latency > PUBLISH_DEADLINE {
                failures.push(format!(
                    "AT+MQTTUNSUB was answered OK {latency:.3?} after it was sent; expected \
                     within its bound ({PUBLISH_BOUND:?})"
                ));
            }
        }
        Err(bytes) => failures.push(format!(
            "AT+MQTTUNSUB was not answered within {PUBLISH_DEADLINE:?}; {} bytes came meanwhile",
            bytes.len()
        )),
    }

    // Positive marker: once what was queued before the unsubscribe has drained, the flood
    // (still publishing) no longer reaches the modem: the second sentinel is the very
    // next URC after the first.
    if unsubscribed {
        peer.publish(SENTINEL_TOPIC, b"one", 1, false);
        let first = subrecv(SENTINEL_TOPIC, b"one");
        match modem.wait_for_any(&[&first], limit) {
            Ok(_) => {
                peer.publish(SENTINEL_TOPIC, b"two", 1, false);
                let second = subrecv(SENTINEL_TOPIC, b"two");
                match modem.wait_for_any(&[&second], TIMEOUT) {
                    Ok((_, bytes)) if bytes == second => {}
                    Ok((_, bytes)) => failures.push(format!(
                        "messages still flowed after AT+MQTTUNSUB's OK: between the two \
                         sentinels came {} bytes: {}",
                        bytes.len() - second.len(),
                        tail(&escape(&bytes), 300)
                    )),
                    Err(why) => failures.push(format!("the second sentinel did not arrive: {why}")),
                }
            }
            Err(why) => failures.push(format!(
                "the first sentinel did not arrive within {limit:?} of the unsubscribe: {}",
                tail(&why, 300)
            )),
        }
    }
    let published = flood.sent();
    let still_flooding = flood.running();
    drop(flood);
    assert!(
        failures.is_empty(),
        "{}\n({published} flood messages published, flood still running at the end: \
         {still_flooding}; the first {} bytes read while saturating began {})\n\
         --- end of the transcript ---\n{}",
        failures.join("\n"),
        flooding.len(),
        escape(flooding.get(..120).unwrap_or(&flooding)),
        tail(&modem.transcript(), 3000)
    );
}
