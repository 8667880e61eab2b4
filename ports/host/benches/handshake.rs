//! The cost of each scheme's connect on the simulator: `AT+MQTTCONN` from sending the
//! line to its `OK` (TCP, TLS handshake, CONNECT, CONNACK), against a real mosquitto on
//! loopback with TLS 1.3 listeners (a PSK, and P-256 certificates the `openssl` command
//! makes for the run, one listener requiring a client certificate).
//!
//! Prints a Markdown table; `scripts/bench.sh` writes it to BENCHMARKS.md. Wall clock on
//! the machine that runs it (at-host in release): the modem's own cost, not a board's.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use e2e_tests::at::OK;
use e2e_tests::pki::Pki;
use e2e_tests::{Broker, Modem};

const ROUNDS: usize = 20;
const WAIT: Duration = Duration::from_secs(30);
const IDENTITY: &str = "bench";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Median and 95th percentile (nearest rank).
fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    (at(50), at(95))
}

/// Times `ROUNDS` connects with `setup` sent first each time (echo off).
fn connects(modem: &mut Modem, setup: &[String], host: &str, port: u16) -> Vec<Duration> {
    (0..ROUNDS)
        .map(|_| {
            for line in setup {
                modem.send_line(line);
                modem.read_until(OK, WAIT);
            }
            modem.send_line(&format!("AT+MQTTCONN=0,\"{host}\",{port},0"));
            let start = Instant::now();
            let reply = modem.read_until(OK, WAIT);
            let took = start.elapsed();
            assert!(
                !reply.windows(5).any(|w| w == b"ERROR"),
                "{}",
                String::from_utf8_lossy(&reply)
            );
            modem.send_line("AT+MQTTCLEAN=0");
            modem.read_until(OK, WAIT);
            took
        })
        .collect()
}

fn main() {
    let pki = Pki::generate();
    let state = tempfile::tempdir().unwrap();
    pki.write_store(state.path());
    let psk_dir = tempfile::tempdir().unwrap();
    let psk_file = psk_dir.path().join("psk.txt");
    std::fs::write(&psk_file, format!("{IDENTITY}:{KEY_HEX}\n")).unwrap();
    let (psk, cert, client) = (free_port(), free_port(), free_port());
    let mut lines = vec![
        format!("listener {psk} 127.0.0.1"),
        "psk_hint bench".to_owned(),
        format!("psk_file {}", psk_file.display()),
        "tls_version tlsv1.3".to_owned(),
    ];
    lines.extend(pki.listener(cert, "server", false));
    lines.extend(pki.listener(client, "server", true));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let broker = Broker::with_config(&lines);
    let mut modem = Modem::ready(&["--state-dir", state.path().to_str().unwrap()]);
    for line in ["ATE0", "AT+CIPSNTPCFG=1,0", "AT+CIPSNTPTIME?"] {
        modem.send_line(line);
        modem.read_until(OK, WAIT);
    }
    let user =
        |scheme: u8| format!("AT+MQTTUSERCFG=0,{scheme},\"bench-{scheme}\",\"\",\"\",0,0,\"\"");
    let psk_line = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
    let runs = [
        ("scheme 1 (TCP)", vec![user(1)], broker.port()),
        ("scheme 2 (TLS-PSK)", vec![user(2), psk_line], psk),
        ("scheme 3 (verify the server, P-256)", vec![user(3)], cert),
        (
            "scheme 4 (client certificate, P-256)",
            vec![user(4)],
            client,
        ),
        ("scheme 5 (both)", vec![user(5)], client),
    ];
    println!("| connect | rounds | median | 95th percentile |");
    println!("|---|---:|---:|---:|");
    for (name, setup, port) in runs {
        let (median, p95) = summary(connects(&mut modem, &setup, "localhost", port));
        println!(
            "| {name} | {ROUNDS} | {:.1} ms | {:.1} ms |",
            median.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
}
