//! Publish and receive rates through the AT interface beside the same workload run
//! directly on minimq in this process, against one mosquitto on loopback; then the rates
//! `at-host --baud N` reaches as a fraction of what the UART's wire allows.
//!
//! Prints Markdown tables (with a `## ` heading before each); `scripts/bench.sh` writes
//! them to BENCHMARKS.md. `at-host` runs in release with echo off, as a host MCU drives
//! it.
//!
//! Beside minimq, a publish is done when the broker has acknowledged it as far as its
//! QoS asks AND the benchmark's own subscriber (an MQTT peer on the same broker) has
//! received it; publishes are sequential (the next starts when the previous is done),
//! measured the same way on both paths. Through AT, the acknowledgement is the result
//! (`OK` / `+MQTTPUBRAW:OK`, which the modem writes once the message is written (QoS 0),
//! PUBACK'd or PUBCOMP'd); on minimq it is the publish call returning (QoS 0) or the
//! operation no longer pending. So both sides pay the same broker round trip and
//! delivery, and the ratio is what the AT interface adds. The two paths take turns in
//! blocks of [`PUBLISHES`] / [`ROUNDS`] publishes, so that both run under the same load
//! of the machine. The wire fractions time the serial line alone: there a publish is
//! done at its result.

#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e_tests::at::{OK, echoed};
use e2e_tests::{Broker, Modem, Peer};
use embedded_io_adapters::tokio_1::FromTokio;
use minimq::{ConfigBuilder, Publication, QoS, Session, TopicFilter};
use tokio::net::TcpStream;

/// Publishes per measured workload and path.
const PUBLISHES: usize = 300;
/// Blocks the publishes of a workload are split into, alternating the paths.
const ROUNDS: usize = 10;
/// Messages per inbound workload.
const INBOUND: usize = 2000;
/// The inbound payload size.
const INBOUND_BYTES: usize = 64;
const PAYLOADS: [usize; 3] = [16, 128, 512];
const WAIT: Duration = Duration::from_secs(60);
/// Target: the AT path reaches this fraction of direct minimq.
const RATIO_TARGET: f64 = 0.9;
/// Target: QoS 0 reaches this fraction of the wire limit.
const WIRE_TARGET: f64 = 0.95;
const TOPIC: &str = "bench/out";
const INBOUND_TOPIC: &str = "bench/in";
/// The last inbound message: its arrival ends a run (a positive end marker).
const SENTINEL: &[u8] = b"end-of-run";

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

fn figures(mut samples: Vec<Duration>, total: Duration) -> Figures {
    samples.sort();
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    Figures {
        rate: samples.len() as f64 / total.as_secs_f64(),
        p50: at(50),
        p99: at(99),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn verdict(value: f64, target: f64) -> &'static str {
    if value >= target { "met" } else { "**missed**" }
}

/// A payload of `size` bytes that needs no escaping.
fn payload(size: usize) -> Vec<u8> {
    (b'a'..=b'z').cycle().take(size).collect()
}

/// A modem with echo off, connected to the broker on `port` as `client_id`.
fn modem(args: &[&str], client_id: &str, port: u16) -> Modem {
    let mut modem = Modem::ready(args);
    modem.mqtt_connect(client_id, port);
    modem.exchange("ATE0", &echoed("ATE0", OK));
    modem
}

/// The longest command line the engine takes, with its CR LF.
const MAX_LINE: usize = 256;

/// Whether `AT+MQTTPUB` can carry `size` bytes in one command line.
fn fits_a_line(size: usize) -> bool {
    pub_line(0, &payload(size)).len() <= MAX_LINE
}

fn raw_line(qos: u8, size: usize) -> String {
    format!("AT+MQTTPUBRAW=0,\"{TOPIC}\",{size},{qos},0\r\n")
}

fn pub_line(qos: u8, data: &[u8]) -> String {
    format!(
        "AT+MQTTPUB=0,\"{TOPIC}\",\"{}\",{qos},0\r\n",
        String::from_utf8_lossy(data)
    )
}

/// Waits for `peer` (if any) to receive the publish of `size` bytes just acknowledged.
fn delivered(peer: Option<&mut Peer>, size: usize) {
    if let Some(peer) = peer {
        let (topic, payload, _, _) = peer.recv(WAIT);
        assert_eq!(
            (topic.as_str(), payload.len()),
            (TOPIC, size),
            "the subscriber's message"
        );
    }
}

/// Publish timings of one path: each publish's time, and the time of all blocks.
#[derive(Default)]
struct Samples {
    each: Vec<Duration>,
    total: Duration,
}

impl Samples {
    fn figures(self) -> Figures {
        figures(self.each, self.total)
    }
}

/// `count` sequential `AT+MQTTPUB` (or `AT+MQTTPUBRAW`) of `size` bytes at `qos`, each
/// done at its result and, with a `peer`, once the peer has it.
fn at_publish(
    modem: &mut Modem,
    qos: u8,
    size: usize,
    raw: bool,
    count: usize,
    mut peer: Option<&mut Peer>,
    samples: &mut Samples,
) {
    let data = payload(size);
    let line = pub_line(qos, &data);
    let raw_line = raw_line(qos, size);
    let start = Instant::now();
    for _ in 0..count {
        let begin = Instant::now();
        if raw {
            modem.send(raw_line.as_bytes());
            modem.read_until(b">", WAIT);
            modem.send(&data);
            modem.read_until(b"+MQTTPUBRAW:OK\r\n", WAIT);
        } else {
            modem.send(line.as_bytes());
            modem.read_until(b"OK\r\n", WAIT);
        }
        delivered(peer.as_deref_mut(), size);
        samples.each.push(begin.elapsed());
    }
    samples.total += start.elapsed();
}

fn qos_of(qos: u8) -> QoS {
    match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// One workload on both paths, in [`ROUNDS`] rounds that alternate a block of minimq
/// publishes (over a tokio TCP stream, each done once acknowledged as its QoS asks and
/// `peer` has it) with a block through AT for each of `variants` (`false`:
/// `AT+MQTTPUB`, `true`: `AT+MQTTPUBRAW`), so that both paths run under the same load
/// of the machine. Returns minimq's figures and each variant's.
async fn side_by_side_publish(
    port: u16,
    modem: &mut Modem,
    peer: &mut Peer,
    qos: u8,
    size: usize,
    variants: &[bool],
) -> (Figures, Vec<Figures>) {
    let data = payload(size);
    let mut storage = vec![0u8; 16 * 1024];
    let client_id = format!("bench-direct-pub-{qos}-{size}");
    let config = ConfigBuilder::from_buffer(&mut storage, 8 * 1024)
        .unwrap()
        .client_id(&client_id)
        .unwrap();
    let mut session = Session::new(config);
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut conn = session.connect(FromTokio::new(stream)).await.unwrap();
    let mut direct = Samples::default();
    let mut at: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
    let block = PUBLISHES / ROUNDS;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..block {
            let begin = Instant::now();
            let op = conn
                .publish(Publication::new(TOPIC, &data[..]).qos(qos_of(qos)))
                .await
                .unwrap();
            if let Some(op) = op {
                while conn.is_pending(&op) {
                    conn.poll().await.unwrap();
                }
            }
            delivered(Some(peer), size);
            direct.each.push(begin.elapsed());
        }
        direct.total += start.elapsed();
        for (&raw, samples) in variants.iter().zip(&mut at) {
            at_publish(modem, qos, size, raw, block, Some(peer), samples);
        }
    }
    let _ = conn.disconnect().await;
    (
        direct.figures(),
        at.into_iter().map(Samples::figures).collect(),
    )
}

/// Publishes `count` QoS 0 messages of `size` bytes and then the sentinel on
/// `INBOUND_TOPIC` with `mosquitto_pub -l` (one message per line of its input).
fn flood(port: u16, count: usize, size: usize) {
    let mut child = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            INBOUND_TOPIC,
        ])
        .args(["-q", "0", "-l"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("mosquitto_pub (Debian package mosquitto-clients; scripts/setup.sh)");
    let line = payload(size);
    let mut input = Vec::with_capacity(count * (size + 1));
    for _ in 0..count {
        input.extend_from_slice(&line);
        input.push(b'\n');
    }
    input.extend_from_slice(SENTINEL);
    input.push(b'\n');
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&input).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "mosquitto_pub failed: {status}");
}

/// Counts `+MQTTSUBRECV` URCs until the sentinel's; returns (messages, seconds from the
/// first URC to the sentinel's).
fn at_receive(modem: &mut Modem) -> (usize, Duration) {
    let end = [
        format!("+MQTTSUBRECV:0,\"{INBOUND_TOPIC}\",{},", SENTINEL.len()).as_bytes(),
        SENTINEL,
        b"\r\n",
    ]
    .concat();
    let first = modem.read_until(b"+MQTTSUBRECV:", WAIT);
    let start = Instant::now();
    let rest = modem.read_until(&end, WAIT);
    let all = [first, rest].concat();
    let count = all
        .windows(b"+MQTTSUBRECV:".len())
        .filter(|w| w == b"+MQTTSUBRECV:")
        .count();
    (count - 1, start.elapsed())
}

/// Subscribes `modem` to the inbound topic, floods it, and returns messages per second.
fn at_inbound(modem: &mut Modem, port: u16, count: usize, size: usize) -> (usize, f64) {
    let sub = format!("AT+MQTTSUB=0,\"{INBOUND_TOPIC}\",0\r\n");
    modem.send(sub.as_bytes());
    modem.read_until(b"OK\r\n", WAIT);
    let feeder = std::thread::spawn(move || flood(port, count, size));
    let (received, elapsed) = at_receive(modem);
    feeder.join().unwrap();
    let unsub = format!("AT+MQTTUNSUB=0,\"{INBOUND_TOPIC}\"\r\n");
    modem.send(unsub.as_bytes());
    modem.read_until(b"OK\r\n", WAIT);
    (
        received,
        received.saturating_sub(1) as f64 / elapsed.as_secs_f64(),
    )
}

/// The same flood received directly on minimq.
async fn minimq_inbound(port: u16, count: usize, size: usize) -> (usize, f64) {
    let mut storage = vec![0u8; 16 * 1024];
    let config = ConfigBuilder::from_buffer(&mut storage, 8 * 1024)
        .unwrap()
        .client_id("bench-direct-sub")
        .unwrap();
    let mut session = Session::new(config);
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut conn = session.connect(FromTokio::new(stream)).await.unwrap();
    let op = conn
        .subscribe(&[TopicFilter::new(INBOUND_TOPIC)], &[])
        .await
        .unwrap();
    while conn.is_pending(&op) {
        conn.poll().await.unwrap();
    }
    let feeder = tokio::task::spawn_blocking(move || flood(port, count, size));
    let mut received = 0usize;
    let mut start = None;
    loop {
        let message = conn.recv().await.unwrap();
        start.get_or_insert_with(Instant::now);
        if message.payload() == SENTINEL {
            break;
        }
        received += 1;
    }
    let elapsed = start.unwrap().elapsed();
    feeder.await.unwrap();
    let _ = conn.disconnect().await;
    (
        received,
        received.saturating_sub(1) as f64 / elapsed.as_secs_f64(),
    )
}

fn side_by_side(broker: &Broker, runtime: &tokio::runtime::Runtime) {
    let port = broker.port();
    let mut modem = modem(&[], "bench-at", port);
    let mut peer = Peer::connect(port);
    peer.subscribe(TOPIC, 0);
    println!("## AT interface beside direct minimq");
    println!();
    println!(
        "| workload | AT msgs/s | AT p50 | AT p99 | minimq msgs/s | minimq p50 | minimq p99 \
         | AT / minimq | target >= {RATIO_TARGET} |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for qos in 0..=2u8 {
        for size in PAYLOADS {
            let variants: Vec<bool> = [false, true]
                .into_iter()
                .filter(|&raw| raw || fits_a_line(size))
                .collect();
            let (direct, at) = runtime.block_on(side_by_side_publish(
                port, &mut modem, &mut peer, qos, size, &variants,
            ));
            if !fits_a_line(size) {
                println!(
                    "| PUB QoS {qos}, {size} B | - | - | - | - | - | - | - | does not fit \
                     a {MAX_LINE}-byte command line: PUBRAW's row |"
                );
            }
            for (&raw, at) in variants.iter().zip(at) {
                let ratio = at.rate / direct.rate;
                let command = if raw { "PUBRAW" } else { "PUB" };
                println!(
                    "| {command} QoS {qos}, {size} B | {:.0} | {} | {} | {:.0} | {} | {} \
                     | {ratio:.2} | {} |",
                    at.rate,
                    micros(at.p50),
                    micros(at.p99),
                    direct.rate,
                    micros(direct.p50),
                    micros(direct.p99),
                    verdict(ratio, RATIO_TARGET)
                );
            }
        }
    }
    let (at_count, at_rate) = at_inbound(&mut modem, port, INBOUND, INBOUND_BYTES);
    let (direct_count, direct_rate) =
        runtime.block_on(minimq_inbound(port, INBOUND, INBOUND_BYTES));
    let ratio = at_rate / direct_rate;
    println!(
        "| inbound QoS 0, {INBOUND_BYTES} B (`+MQTTSUBRECV`; {at_count} and {direct_count} of \
         {INBOUND} arrived) | {at_rate:.0} | - | - | {direct_rate:.0} | - | - | {ratio:.2} | {} |",
        verdict(ratio, RATIO_TARGET)
    );
    println!();
}

/// Bytes of one `+MQTTSUBRECV` URC for `size` bytes of payload on `INBOUND_TOPIC`.
fn urc_bytes(size: usize) -> usize {
    format!("+MQTTSUBRECV:0,\"{INBOUND_TOPIC}\",{size},\r\n").len() + size
}

fn wire(broker: &Broker) {
    let port = broker.port();
    println!("## UART wire fractions (QoS 0)");
    println!();
    println!(
        "| baud | payload | direction | wire limit msgs/s | achieved msgs/s | fraction \
         | target >= {WIRE_TARGET} |"
    );
    println!("|---|---:|---|---:|---:|---:|---|");
    for baud in [115_200u32, 921_600] {
        let bytes_per_second = f64::from(baud) / 10.0;
        let baud_arg = baud.to_string();
        let mut modem = modem(&["--baud", &baud_arg], &format!("bench-wire-{baud}"), port);
        for size in PAYLOADS {
            // Outbound: each publish is its line to the modem and `\r\nOK\r\n` back
            // (with PUBRAW: line, `\r\nOK\r\n\r\n>`, data, result line), one after the
            // other: the wire limit counts both directions' bytes.
            let raw = !fits_a_line(size);
            let wire_bytes = if raw {
                raw_line(0, size).len()
                    + b"\r\nOK\r\n\r\n>".len()
                    + size
                    + b"+MQTTPUBRAW:OK\r\n".len()
            } else {
                pub_line(0, &payload(size)).len() + OK.len()
            };
            let limit = bytes_per_second / wire_bytes as f64;
            let mut samples = Samples::default();
            at_publish(&mut modem, 0, size, raw, PUBLISHES, None, &mut samples);
            let at = samples.figures();
            let fraction = at.rate / limit;
            let command = if raw { "AT+MQTTPUBRAW" } else { "AT+MQTTPUB" };
            println!(
                "| {baud} | {size} B | host -> broker (`{command}`) | {limit:.1} | {:.1} \
                 | {fraction:.3} | {} |",
                at.rate,
                verdict(fraction, WIRE_TARGET)
            );
            // Inbound: URCs back to back.
            let limit = bytes_per_second / urc_bytes(size) as f64;
            let seconds = 3.0;
            let count = ((limit * seconds) as usize).max(20);
            let (received, rate) = at_inbound(&mut modem, port, count, size);
            let fraction = rate / limit;
            println!(
                "| {baud} | {size} B | broker -> host (`+MQTTSUBRECV`, {received} of {count}) \
                 | {limit:.1} | {rate:.1} | {fraction:.3} | {} |",
                verdict(fraction, WIRE_TARGET)
            );
        }
    }
    println!();
}

fn main() {
    let broker = Broker::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    side_by_side(&broker, &runtime);
    wire(&broker);
}
