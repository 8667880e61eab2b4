//! End-to-end latency and throughput of the simulated modem: `at-host` (release) over its
//! TCP serial line, a real mosquitto on loopback, and an MQTT peer.
//!
//! Prints a Markdown table; `scripts/bench.sh` writes it to BENCHMARKS.md. Figures are
//! wall-clock on the machine that runs it: they show the modem's own overhead on a fast
//! link, not what a board on a 115200-baud UART achieves.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use e2e_tests::at::{OK, subrecv};
use e2e_tests::{Broker, Modem, Peer};

const ROUNDS: usize = 200;
const INBOUND: usize = 1000;
const WAIT: Duration = Duration::from_secs(30);

/// Median and 95th percentile of `samples`.
fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    // Nearest-rank percentiles.
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    (at(50), at(95))
}

fn row(name: &str, samples: Vec<Duration>) {
    let n = samples.len();
    let (median, p95) = summary(samples);
    println!(
        "| {name} | {n} | {:.0} µs | {:.0} µs |",
        median.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6
    );
}

/// Times `AT+MQTTPUB` at `qos` from sending the line to its `OK`, and to the message
/// coming back as `+MQTTSUBRECV` (the modem subscribes to its own topic).
fn publish_rounds(modem: &mut Modem, qos: u8) -> (Vec<Duration>, Vec<Duration>) {
    let mut to_ok = Vec::with_capacity(ROUNDS);
    let mut to_urc = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let payload = format!("m{round}");
        let urc = subrecv("bench/echo", payload.as_bytes());
        let start = Instant::now();
        modem.send_line(&format!(
            "AT+MQTTPUB=0,\"bench/echo\",\"{payload}\",{qos},0"
        ));
        // The URC and the OK may come in either order.
        let mut ok_at = None;
        let mut urc_at = None;
        while ok_at.is_none() || urc_at.is_none() {
            let chunk = modem.read_until(b"\r\n", WAIT);
            if chunk.ends_with(b"OK\r\n") {
                ok_at = Some(start.elapsed());
            } else if urc.ends_with(&chunk) || chunk.ends_with(&urc) {
                urc_at = Some(start.elapsed());
            }
        }
        to_ok.push(ok_at.unwrap());
        to_urc.push(urc_at.unwrap());
    }
    (to_ok, to_urc)
}

fn main() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("bench-modem", broker.port());
    modem.exchange("ATE0", b"ATE0\r\n\r\nOK\r\n");
    modem.send_line("AT+MQTTSUB=0,\"bench/#\",1");
    modem.read_until(OK, WAIT);

    println!("| measurement | samples | median | 95th percentile |");
    println!("|---|---|---|---|");
    for qos in [0, 1, 2] {
        let (to_ok, to_urc) = publish_rounds(&mut modem, qos);
        row(&format!("`AT+MQTTPUB` QoS {qos}: line sent -> `OK`"), to_ok);
        row(
            &format!("`AT+MQTTPUB` QoS {qos}: line sent -> own `+MQTTSUBRECV`"),
            to_urc,
        );
    }

    let mut peer = Peer::connect(broker.port());
    let payload = [0x42u8; 64];
    let last = subrecv("bench/in", &payload);
    let start = Instant::now();
    for _ in 0..INBOUND {
        peer.publish("bench/in", &payload, 0, false);
    }
    let mut received = 0;
    while received < INBOUND {
        modem.read_until(&last, WAIT);
        received += 1;
    }
    let elapsed = start.elapsed();
    println!(
        "| inbound QoS 0, 64-byte payloads: {INBOUND} messages as URCs | {INBOUND} | {:.0} messages/s | - |",
        INBOUND as f64 / elapsed.as_secs_f64()
    );
}
