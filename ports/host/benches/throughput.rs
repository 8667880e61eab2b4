//! Publish and receive rates through the AT interface beside the same workload run
//! directly on minimq in this process, against one mosquitto on loopback; then the rates
//! `at-host --baud N` reaches as a fraction of what the UART's wire allows.
//!
//! Prints Markdown tables (with a `## ` heading before each); `scripts/bench.sh` writes
//! them to BENCHMARKS.md. The AT path with the target is [`InProcess`]: at-host's modem
//! (`modem::serve`, as the binary runs it) on this thread over an in-memory serial line,
//! echo off, so the ratio is what the engine, the commands and the runner add; the
//! workloads of every path run as a task beside it ([`run_as_task`]). The same
//! workloads also run through the `at-host` process over its TCP serial line, as a
//! reference that adds the socket hops.
//!
//! Beside minimq, a publish is done when the broker has acknowledged it as far as its
//! QoS asks AND the benchmark's own subscriber (an MQTT peer on the same broker) has
//! received it; publishes are sequential (the next starts when the previous is done),
//! measured the same way on every path. Through AT, the acknowledgement is the result
//! (`OK` / `+MQTTPUBRAW:OK`, which the modem writes once the message is written (QoS 0),
//! PUBACK'd or PUBCOMP'd); on minimq it is the publish call returning (QoS 0) or the
//! operation no longer pending. So all paths pay the same broker round trip and
//! delivery. The paths take turns in blocks of [`PUBLISHES`] / [`ROUNDS`] publishes, so
//! that all run under the same load of the machine, each block on a fresh broker
//! connection and each round starting with another path's block. The wire fractions
//! time the serial line alone: the in-process modem's line paced as `at-host --baud N` paces it, a
//! publish done at its result; the `at-host --baud N` process over TCP is the reference.

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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use at_core::Profile;
use at_host::credentials::HostCredentials;
use at_host::line_rate::LineRate;
use at_host::modem::{self, Board, Uplink};
use at_host::network::{HostNetwork, HostStream};
use at_host::serial::memory::{self, HostEnd};
use at_host::task::run_as_task;
use at_mqtt::Network as _;
use e2e_tests::at::{self, OK};
use e2e_tests::{Broker, Modem, Peer};
use memchr::memmem;
use minimq::{ConfigBuilder, Connection, Publication, QoS, Session, TopicFilter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Publishes per measured workload and path.
const PUBLISHES: usize = 6000;
/// Blocks the publishes of a workload are split into, alternating the paths. One block's
/// round trips can run a third faster or slower than the next one's, on any path; a
/// ratio averages that over its blocks, so four times the blocks of 30 halve how far it
/// moves from run to run.
const ROUNDS: usize = 120;
/// Seconds of traffic in each wire workload at its wire limit, either direction.
const WIRE_SECONDS: f64 = 3.0;
/// Messages per inbound flood.
const INBOUND: usize = 20_000;
/// Inbound floods per path, the paths taking turns; each path's figure is its median.
const INBOUND_ROUNDS: usize = 21;
/// The inbound payload size.
const INBOUND_BYTES: usize = 64;
const PAYLOADS: [usize; 3] = [16, 128, 512];
const WAIT: Duration = Duration::from_secs(60);
/// Target: the AT path reaches this fraction of direct minimq (shown to three decimals, so
/// that a ratio just under it does not read as equal to it).
const RATIO_TARGET: f64 = 0.9;
/// Target: QoS 0 reaches this fraction of the wire limit.
const WIRE_TARGET: f64 = 0.95;
const TOPIC: &str = "bench/out";
const INBOUND_TOPIC: &str = "bench/in";
/// The in-process modem's client ID in the side-by-side workloads.
const IN_PROCESS_ID: &str = "bench-at-in";
/// The at-host process's client ID in the side-by-side workloads.
const PROCESS_ID: &str = "bench-at";
/// The last inbound message: its arrival ends a run (a positive end marker).
const SENTINEL: &[u8] = b"end-of-run";

/// Reads and deliveries done so far on every path: the [`watchdog`]'s sign of progress.
static PROGRESS: AtomicUsize = AtomicUsize::new(0);

/// Notes one step of progress for the [`watchdog`].
fn progress() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

/// Ends the benchmark with an error when no path has made progress for [`WAIT`]. The
/// in-process modem's reads carry no timer of their own, as direct minimq's do not: a
/// timeout on each read would add a timer wheel entry per read to the AT path alone.
fn watchdog() {
    std::thread::spawn(|| {
        let mut seen = PROGRESS.load(Ordering::Relaxed);
        loop {
            std::thread::sleep(WAIT);
            let now = PROGRESS.load(Ordering::Relaxed);
            if now == seen {
                eprintln!("throughput: no read or delivery for {WAIT:?}: a path hung");
                std::process::exit(1);
            }
            seen = now;
        }
    });
}

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

/// `n` with its digits grouped by thousands, as the tables print counts: 20,000.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `value` (a ratio or a fraction with a target) to three decimals, rounded down: a
/// value under its target never prints as the target itself (0.9496 as 0.949, not 0.950).
fn three_decimals(value: f64) -> String {
    format!("{:.3}", (value * 1000.0).floor() / 1000.0)
}

fn verdict(value: f64, target: f64) -> &'static str {
    if value >= target { "met" } else { "**missed**" }
}

/// A payload of `size` bytes that needs no escaping.
fn payload(size: usize) -> Vec<u8> {
    (b'a'..=b'z').cycle().take(size).collect()
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
        progress();
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

/// A serial line to a modem under test: the in-process modem's, or the at-host
/// process's over TCP. The latter blocks the runtime's thread while it waits, which is
/// fine: the benchmark waits on one path at a time.
trait AtLine {
    async fn send(&mut self, bytes: &[u8]);
    /// The bytes up to and including the next `marker`; fails on an `ERROR` before it.
    async fn read_until(&mut self, marker: &[u8]) -> Vec<u8>;

    /// Reads past the next `marker`, failing on an `ERROR` before it, and keeps nothing.
    async fn skip_until(&mut self, marker: &[u8]) {
        self.read_until(marker).await;
    }
}

impl AtLine for Modem {
    async fn send(&mut self, bytes: &[u8]) {
        Modem::send(self, bytes);
    }

    async fn read_until(&mut self, marker: &[u8]) -> Vec<u8> {
        let seen = refuse_errors(Modem::read_until(self, marker, WAIT));
        progress();
        seen
    }
}

/// `seen`, unless the modem answered `ERROR` in it.
fn refuse_errors(seen: Vec<u8>) -> Vec<u8> {
    refuse_errors_in(&seen);
    seen
}

/// Fails if the modem answered `ERROR` in `seen`.
fn refuse_errors_in(seen: &[u8]) {
    assert!(
        !seen.windows(7).any(|w| w == b"ERROR\r\n"),
        "the modem refused: {}",
        String::from_utf8_lossy(seen)
    );
}

/// Sends `command` to the modem behind `line` and waits for its `OK`.
async fn command(line: &mut impl AtLine, command: &str) {
    line.send(format!("{command}\r\n").as_bytes()).await;
    line.skip_until(OK).await;
}

/// Configures the modem behind `line` as `client_id` and connects it to the broker on
/// `port`.
async fn open_link(line: &mut impl AtLine, client_id: &str, port: u16) {
    command(line, &at::user_cfg(client_id)).await;
    command(line, &at::conn(port, 0)).await;
}

/// [`open_link`], then echo off: how both AT paths start.
async fn connect(line: &mut impl AtLine, client_id: &str, port: u16) {
    open_link(line, client_id, port).await;
    command(line, "ATE0").await;
}

/// Closes the broker connection of the modem behind `line` (`AT+MQTTCLEAN`) and opens a
/// fresh one ([`open_link`]).
async fn reconnect(line: &mut impl AtLine, client_id: &str, port: u16) {
    command(line, "AT+MQTTCLEAN=0").await;
    open_link(line, client_id, port).await;
}

/// `count` sequential `AT+MQTTPUB` (or `AT+MQTTPUBRAW`) of `size` bytes at `qos`, each
/// done at its result and, with a `peer`, once the peer has it.
#[allow(clippy::too_many_arguments)]
async fn at_publish(
    modem: &mut impl AtLine,
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
            modem.send(raw_line.as_bytes()).await;
            modem.skip_until(b">").await;
            modem.send(&data).await;
            modem.skip_until(b"+MQTTPUBRAW:OK\r\n").await;
        } else {
            modem.send(line.as_bytes()).await;
            modem.skip_until(b"OK\r\n").await;
        }
        delivered(peer.as_deref_mut(), size);
        samples.each.push(begin.elapsed());
    }
    samples.total += start.elapsed();
}

/// Bytes the in-memory serial line holds each way.
const LINE_BUFFER: usize = 4096;

/// The modem run in this process by at-host's library (the same `modem::serve` the
/// binary runs), over an in-memory serial line: its task runs on the benchmark's
/// thread beside the workload, so the AT path pays the engine, the commands and the
/// runner, and no socket or thread switch that the direct path does not.
struct InProcess {
    host: HostEnd,
    /// Bytes read and not yet matched.
    pending: Vec<u8>,
}

impl InProcess {
    /// Powers the modem on as a task of the current `LocalSet` (see [`run_as_task`]), its
    /// serial line paced at `baud` (0: unpaced) as `at-host --baud` paces it, and connects
    /// it to the broker on `port` as `client_id`, echo off.
    async fn start(port: u16, client_id: &str, baud: u32) -> Self {
        let (host, mut line) = memory::open(LINE_BUFFER);
        tokio::task::spawn_local(async move {
            let mut board = Board {
                profile: Profile::Seed,
                uplink: Uplink::Host,
                wifi: None,
                line_rate: LineRate::new(baud),
                credentials: HostCredentials::open(None).unwrap(),
            };
            modem::serve(&mut line.rx, &mut line.tx, &mut board)
                .await
                .unwrap();
        });
        let mut modem = Self {
            host,
            pending: Vec::new(),
        };
        modem.read_until(b"ready\r\n").await;
        connect(&mut modem, client_id, port).await;
        modem
    }

    /// Reads until `pending` holds `marker`; returns the end of its first match.
    async fn matched(&mut self, marker: &[u8]) -> usize {
        // Where the search resumes: bytes before it cannot start a match.
        let mut searched = 0;
        loop {
            if let Some(at) = memmem::find(&self.pending[searched..], marker) {
                return searched + at + marker.len();
            }
            searched = self.pending.len().saturating_sub(marker.len() - 1);
            // Straight into the spare capacity: the host's side of the line costs no
            // zeroing or copying that the direct path does not pay.
            self.pending.reserve(LINE_BUFFER);
            let read = self.host.read_buf(&mut self.pending).await.unwrap();
            assert!(read > 0, "the in-process modem ended its output");
            progress();
        }
    }
}

impl AtLine for InProcess {
    async fn send(&mut self, bytes: &[u8]) {
        self.host.write_all(bytes).await.unwrap();
    }

    async fn read_until(&mut self, marker: &[u8]) -> Vec<u8> {
        let end = self.matched(marker).await;
        let rest = self.pending.split_off(end);
        refuse_errors(std::mem::replace(&mut self.pending, rest))
    }

    /// Without an allocation per answer (the direct path makes none): the matched
    /// bytes are dropped from the front of `pending`.
    async fn skip_until(&mut self, marker: &[u8]) {
        let end = self.matched(marker).await;
        refuse_errors_in(&self.pending[..end]);
        self.pending.drain(..end);
    }
}

fn qos_of(qos: u8) -> QoS {
    match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// The figures of one publish workload: direct minimq's, and each variant's through the
/// in-process modem and through the at-host process.
struct PublishFigures {
    direct: Figures,
    in_process: Vec<Figures>,
    process: Vec<Figures>,
}

/// A new connection of `session` to the broker on `port`, over the same transport as the
/// modems' connections: at-host's `HostStream` (tokio TCP without Nagle's delay, reads
/// through its receive buffer).
async fn minimq_connect<'s, 'buf>(
    session: &'s mut Session<'buf>,
    port: u16,
) -> Connection<'s, 'buf, HostStream> {
    let stream = HostNetwork.connect("127.0.0.1", port).await.unwrap();
    session.connect(stream).await.unwrap()
}

/// `count` sequential minimq publishes of `data` at `qos` on a fresh broker connection
/// of `session` (to the broker on `port`), each done once acknowledged as its QoS asks
/// and `peer` has it. A fresh connection for each block, on every path: how fast the
/// round trips run differs from one connection (and one stretch of time) to the next,
/// so that no path's figure rests on the one connection it happened to get.
#[allow(clippy::too_many_arguments)]
async fn minimq_block(
    session: &mut Session<'_>,
    port: u16,
    qos: u8,
    data: &[u8],
    count: usize,
    peer: &mut Peer,
    samples: &mut Samples,
) {
    let mut conn = minimq_connect(session, port).await;
    let start = Instant::now();
    for _ in 0..count {
        let begin = Instant::now();
        let op = conn
            .publish(Publication::new(TOPIC, data).qos(qos_of(qos)))
            .await
            .unwrap();
        if let Some(op) = op {
            while conn.is_pending(&op) {
                conn.poll().await.unwrap();
            }
        }
        delivered(Some(peer), data.len());
        samples.each.push(begin.elapsed());
    }
    samples.total += start.elapsed();
    conn.disconnect().await.unwrap();
}

/// One workload on every path, in [`ROUNDS`] rounds that alternate a block of minimq
/// publishes (over a tokio TCP stream, each done once acknowledged as its QoS asks and
/// `peer` has it) with a block through AT for each of `variants` (`false`:
/// `AT+MQTTPUB`, `true`: `AT+MQTTPUBRAW`), on the in-process modem and on the at-host
/// process, so that all paths run under the same load of the machine; each round starts
/// with another block.
#[allow(clippy::too_many_arguments)]
async fn side_by_side_publish(
    port: u16,
    in_process: &mut InProcess,
    process: &mut Modem,
    peer: &mut Peer,
    qos: u8,
    size: usize,
    variants: &[bool],
) -> PublishFigures {
    let data = payload(size);
    let mut storage = vec![0u8; 16 * 1024];
    let client_id = format!("bench-direct-pub-{qos}-{size}");
    let config = ConfigBuilder::from_buffer(&mut storage, 8 * 1024)
        .unwrap()
        .client_id(&client_id)
        .unwrap();
    let mut session = Session::new(config);
    let mut direct = Samples::default();
    let per_variant = || -> Vec<Samples> { variants.iter().map(|_| Samples::default()).collect() };
    let (mut inside, mut outside) = (per_variant(), per_variant());
    let block = PUBLISHES / ROUNDS;
    // Minimq's block, then the in-process modem's and the at-host process's for each variant.
    let blocks = 1 + 2 * variants.len();
    for round in 0..ROUNDS {
        // Each round starts with another block, so that no path always runs first or
        // right after the same one.
        for turn in 0..blocks {
            let step = (round + turn) % blocks;
            let Some(at_step) = step.checked_sub(1) else {
                minimq_block(&mut session, port, qos, &data, block, peer, &mut direct).await;
                continue;
            };
            let (variant, raw) = (at_step / 2, variants[at_step / 2]);
            // A fresh broker connection for each block, on every path (as minimq_block's).
            if at_step % 2 == 0 {
                reconnect(in_process, IN_PROCESS_ID, port).await;
                let samples = &mut inside[variant];
                at_publish(in_process, qos, size, raw, block, Some(peer), samples).await;
            } else {
                reconnect(process, PROCESS_ID, port).await;
                let samples = &mut outside[variant];
                at_publish(process, qos, size, raw, block, Some(peer), samples).await;
            }
        }
    }
    let figures = |all: Vec<Samples>| all.into_iter().map(Samples::figures).collect();
    PublishFigures {
        direct: direct.figures(),
        in_process: figures(inside),
        process: figures(outside),
    }
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

/// The sentinel's `+MQTTSUBRECV` URC.
fn sentinel_urc() -> Vec<u8> {
    [
        format!("+MQTTSUBRECV:0,\"{INBOUND_TOPIC}\",{},", SENTINEL.len()).as_bytes(),
        SENTINEL,
        b"\r\n",
    ]
    .concat()
}

/// The `+MQTTSUBRECV` URCs in `bytes`.
fn urcs(bytes: &[u8]) -> usize {
    memmem::find_iter(bytes, b"+MQTTSUBRECV:").count()
}

/// Subscribes `modem` to the inbound topic, floods it, counts `+MQTTSUBRECV` URCs until
/// the sentinel's, and returns them and messages per second (from the first URC to the
/// sentinel's).
async fn at_inbound(modem: &mut impl AtLine, port: u16, count: usize, size: usize) -> (usize, f64) {
    let sub = format!("AT+MQTTSUB=0,\"{INBOUND_TOPIC}\",0\r\n");
    modem.send(sub.as_bytes()).await;
    modem.read_until(b"OK\r\n").await;
    let feeder = tokio::task::spawn_blocking(move || flood(port, count, size));
    let first = modem.read_until(b"+MQTTSUBRECV:").await;
    let start = Instant::now();
    let rest = modem.read_until(&sentinel_urc()).await;
    let elapsed = start.elapsed();
    feeder.await.unwrap();
    let unsub = format!("AT+MQTTUNSUB=0,\"{INBOUND_TOPIC}\"\r\n");
    modem.send(unsub.as_bytes()).await;
    modem.read_until(b"OK\r\n").await;
    let received = urcs(&[first, rest].concat()) - 1;
    (
        received,
        received.saturating_sub(1) as f64 / elapsed.as_secs_f64(),
    )
}

/// One path's floods as (messages received in all, median messages per second).
fn floods(mut rounds: Vec<(usize, f64)>) -> (usize, f64) {
    let received = rounds.iter().map(|&(count, _)| count).sum();
    rounds.sort_by(|a, b| a.1.total_cmp(&b.1));
    (received, rounds[rounds.len() / 2].1)
}

/// The same flood received directly on minimq.
async fn minimq_inbound(port: u16, count: usize, size: usize) -> (usize, f64) {
    let mut storage = vec![0u8; 16 * 1024];
    let config = ConfigBuilder::from_buffer(&mut storage, 8 * 1024)
        .unwrap()
        .client_id("bench-direct-sub")
        .unwrap();
    let mut session = Session::new(config);
    let mut conn = minimq_connect(&mut session, port).await;
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
        progress();
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

fn ratio_row(workload: &str, at: &Figures, direct: &Figures) -> String {
    let ratio = at.rate / direct.rate;
    format!(
        "| {workload} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {} |",
        at.rate,
        micros(at.p50),
        micros(at.p99),
        direct.rate,
        micros(direct.p50),
        micros(direct.p99),
        three_decimals(ratio),
        verdict(ratio, RATIO_TARGET)
    )
}

fn reference_row(workload: &str, at: &Figures, direct: &Figures) -> String {
    format!(
        "| {workload} | {:.0} | {} | {} | {:.2} |",
        at.rate,
        micros(at.p50),
        micros(at.p99),
        at.rate / direct.rate
    )
}

async fn side_by_side(port: u16) {
    let mut in_process = InProcess::start(port, IN_PROCESS_ID, 0).await;
    let mut process = Modem::ready(&[]);
    connect(&mut process, PROCESS_ID, port).await;
    let mut peer = Peer::connect(port);
    peer.subscribe(TOPIC, 0);
    let mut ratios = Vec::new();
    let mut references = Vec::new();
    for qos in 0..=2u8 {
        for size in PAYLOADS {
            let variants: Vec<bool> = [false, true]
                .into_iter()
                .filter(|&raw| raw || fits_a_line(size))
                .collect();
            let figures = side_by_side_publish(
                port,
                &mut in_process,
                &mut process,
                &mut peer,
                qos,
                size,
                &variants,
            )
            .await;
            if !fits_a_line(size) {
                ratios.push(format!(
                    "| PUB QoS {qos}, {size} B | - | - | - | - | - | - | - | does not fit \
                     a {MAX_LINE}-byte command line: PUBRAW's row |"
                ));
            }
            for ((&raw, inside), outside) in variants
                .iter()
                .zip(&figures.in_process)
                .zip(&figures.process)
            {
                let command = if raw { "PUBRAW" } else { "PUB" };
                let workload = format!("{command} QoS {qos}, {size} B");
                ratios.push(ratio_row(&workload, inside, &figures.direct));
                references.push(reference_row(&workload, outside, &figures.direct));
            }
        }
    }
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    let mut direct = Vec::new();
    for round in 0..INBOUND_ROUNDS {
        // Each round starts with another path, so that no path always follows the same one.
        for turn in 0..3 {
            match (round + turn) % 3 {
                0 => inside.push(at_inbound(&mut in_process, port, INBOUND, INBOUND_BYTES).await),
                1 => outside.push(at_inbound(&mut process, port, INBOUND, INBOUND_BYTES).await),
                _ => direct.push(minimq_inbound(port, INBOUND, INBOUND_BYTES).await),
            }
        }
    }
    let ((inside_count, inside_rate), (outside_count, outside_rate), (direct_count, direct_rate)) =
        (floods(inside), floods(outside), floods(direct));
    let sent = INBOUND * INBOUND_ROUNDS;
    let ratio = inside_rate / direct_rate;
    ratios.push(format!(
        "| inbound QoS 0, {INBOUND_BYTES} B (`+MQTTSUBRECV`; {inside_count} and {direct_count} \
         of {sent} arrived) | {inside_rate:.0} | - | - | {direct_rate:.0} | - | - \
         | {} | {} |",
        three_decimals(ratio),
        verdict(ratio, RATIO_TARGET)
    ));
    references.push(format!(
        "| inbound QoS 0, {INBOUND_BYTES} B ({outside_count} of {sent} arrived) \
         | {outside_rate:.0} | - | - | {:.2} |",
        outside_rate / direct_rate
    ));
    println!("## AT interface beside direct minimq");
    println!();
    println!(
        "The paths take turns in blocks of {} publishes ({} each), under the same load of \
         the machine, each block on a fresh broker connection (minimq's reconnected, the \
         modems' by `AT+MQTTCLEAN` and `AT+MQTTCONN`), each round starting with another \
         path's block: how fast the round trips run differs from one connection (and one \
         stretch of time) to the next, so no path's figure rests on one connection or one \
         place in the order. Each inbound flood ({} messages) comes from `mosquitto_pub -l` and ends \
         with a sentinel; its rate runs from the first message to the sentinel. Each path \
         takes {INBOUND_ROUNDS} floods, the paths taking turns (each round starting with \
         another), and its figure is the median of its {INBOUND_ROUNDS}.",
        grouped(PUBLISHES / ROUNDS),
        grouped(PUBLISHES),
        grouped(INBOUND),
    );
    println!();
    println!(
        "| workload | AT msgs/s | AT p50 | AT p99 | minimq msgs/s | minimq p50 | minimq p99 \
         | AT / minimq | target >= {RATIO_TARGET} |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for row in ratios {
        println!("{row}");
    }
    println!();
    println!(
        "The same workloads, in the same rounds, through the at-host process over its TCP \
         serial line (a reference without a target: the ratio adds two loopback socket \
         hops and two processes' wake-ups per publish):"
    );
    println!();
    println!("| workload | at-host msgs/s | at-host p50 | at-host p99 | at-host / minimq |");
    println!("|---|---:|---:|---:|---:|");
    for row in references {
        println!("{row}");
    }
    println!();
}

/// Bytes of one `+MQTTSUBRECV` URC for `size` bytes of payload on `INBOUND_TOPIC`.
fn urc_bytes(size: usize) -> usize {
    format!("+MQTTSUBRECV:0,\"{INBOUND_TOPIC}\",{size},\r\n").len() + size
}

/// One wire workload: `size` bytes of QoS 0 payload at `baud`.
struct WireWorkload {
    baud: u32,
    size: usize,
}

impl WireWorkload {
    fn bytes_per_second(&self) -> f64 {
        f64::from(self.baud) / 10.0
    }

    /// Whether the publish is `AT+MQTTPUBRAW` (the payload does not fit a line).
    fn raw(&self) -> bool {
        !fits_a_line(self.size)
    }

    /// Outbound messages/s the wire allows: each publish is its line to the modem and
    /// `\r\nOK\r\n` back (with PUBRAW: line, `\r\nOK\r\n\r\n>`, data, result line), one
    /// after the other, so the limit counts both directions' bytes; but not the line's
    /// LF: a line ends at its CR, and the answer may go out while the LF comes in (the
    /// lines are full duplex), as at-core's does.
    fn outbound_limit(&self) -> f64 {
        let line = if self.raw() {
            raw_line(0, self.size).len()
        } else {
            pub_line(0, &payload(self.size)).len()
        };
        let answer = if self.raw() {
            b"\r\nOK\r\n\r\n>".len() + self.size + b"+MQTTPUBRAW:OK\r\n".len()
        } else {
            OK.len()
        };
        let overlapped = b"\n".len();
        self.bytes_per_second() / (line - overlapped + answer) as f64
    }

    /// Inbound messages/s the wire allows: URCs back to back.
    fn inbound_limit(&self) -> f64 {
        self.bytes_per_second() / urc_bytes(self.size) as f64
    }

    /// Publishes of an outbound run: [`WIRE_SECONDS`]' worth at the wire limit.
    fn outbound_count(&self) -> usize {
        wire_run(self.outbound_limit())
    }

    /// Messages of an inbound run: [`WIRE_SECONDS`]' worth at the wire limit.
    fn inbound_count(&self) -> usize {
        wire_run(self.inbound_limit())
    }

    fn outbound_row(&self, rate: f64) -> String {
        let (baud, size, limit) = (self.baud, self.size, self.outbound_limit());
        let fraction = rate / limit;
        let command = if self.raw() {
            "AT+MQTTPUBRAW"
        } else {
            "AT+MQTTPUB"
        };
        format!(
            "| {baud} | {size} B | host -> broker (`{command}`, {} publishes) | {limit:.1} \
             | {rate:.1} | {} | {} |",
            self.outbound_count(),
            three_decimals(fraction),
            verdict(fraction, WIRE_TARGET)
        )
    }

    fn inbound_row(&self, received: usize, rate: f64) -> String {
        let (baud, size, limit) = (self.baud, self.size, self.inbound_limit());
        let fraction = rate / limit;
        format!(
            "| {baud} | {size} B | broker -> host (`+MQTTSUBRECV`, {received} of {}) \
             | {limit:.1} | {rate:.1} | {} | {} |",
            self.inbound_count(),
            three_decimals(fraction),
            verdict(fraction, WIRE_TARGET)
        )
    }
}

/// Messages that fill [`WIRE_SECONDS`] at `limit` messages per second (at least 20).
fn wire_run(limit: f64) -> usize {
    ((limit * WIRE_SECONDS) as usize).max(20)
}

const BAUDS: [u32; 2] = [115_200, 921_600];

fn wire_header() {
    println!(
        "| baud | payload | direction | wire limit msgs/s | achieved msgs/s | fraction \
         | target >= {WIRE_TARGET} |"
    );
    println!("|---|---:|---|---:|---:|---:|---|");
}

/// The wire workloads at `baud` through `modem`, a row each.
async fn wire_rows(modem: &mut impl AtLine, baud: u32, port: u16, rows: &mut Vec<String>) {
    for size in PAYLOADS {
        let workload = WireWorkload { baud, size };
        let mut samples = Samples::default();
        at_publish(
            modem,
            0,
            size,
            workload.raw(),
            workload.outbound_count(),
            None,
            &mut samples,
        )
        .await;
        rows.push(workload.outbound_row(samples.figures().rate));
        let (received, rate) = at_inbound(modem, port, workload.inbound_count(), size).await;
        rows.push(workload.inbound_row(received, rate));
    }
}

async fn wire(port: u16) {
    let (mut rows, mut references) = (Vec::new(), Vec::new());
    for baud in BAUDS {
        let client_id = format!("bench-wire-in-{baud}");
        let mut modem = InProcess::start(port, &client_id, baud).await;
        wire_rows(&mut modem, baud, port, &mut rows).await;
    }
    for baud in BAUDS {
        let baud_arg = baud.to_string();
        let mut modem = Modem::ready(&["--baud", &baud_arg]);
        let client_id = format!("bench-wire-{baud}");
        connect(&mut modem, &client_id, port).await;
        wire_rows(&mut modem, baud, port, &mut references).await;
    }
    println!("## UART wire fractions (QoS 0)");
    println!();
    println!(
        "Each run, either direction, is {WIRE_SECONDS} s of traffic at its wire limit: the \
         publishes or messages that fill it."
    );
    println!();
    wire_header();
    for row in rows {
        println!("{row}");
    }
    println!();
    println!(
        "The same workloads through the `at-host --baud N` process over its TCP serial line \
         (a reference: each publish also waits for the socket hops to the benchmark and back):"
    );
    println!();
    wire_header();
    for row in references {
        println!("{row}");
    }
    println!();
}

fn main() {
    // Small messages leave the broker at once rather than wait for the ACK of the one
    // before (Nagle's algorithm, mosquitto's default): otherwise an occasional 40 ms
    // stall of the subscriber's delivery, on either path, decides a workload's rate.
    let broker = Broker::with_config(&["set_tcp_nodelay true"]);
    watchdog();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    run_as_task(&runtime, side_by_side(broker.port()));
    run_as_task(&runtime, wire(broker.port()));
}
