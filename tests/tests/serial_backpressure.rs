//! The simulator's TCP serial line pushes back like a UART: a host that stops reading
//! stops the modem's output within a few KiB, instead of the kernel soaking up
//! megabytes of it (SPEC.md sections 3 and 5; `at-host --help`, `--serial tcp:`).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use e2e_tests::at::{OK, echoed, subrecv};
use e2e_tests::{Broker, Flood, Modem, Peer, TIMEOUT, UART_BYTES_PER_SECOND};

/// The most the line may hold between the modem and a host that does not read.
const LIMIT: usize = 64 * 1024;
/// Messages published while the host does not read, and their payload size: together
/// far more than [`LIMIT`] plus the modem's own URC queue, so the line must fill up.
const MESSAGES: usize = 320;
const PAYLOAD: usize = 1000;

fn payload(n: usize) -> Vec<u8> {
    let mut bytes = format!("message {n:05} ").into_bytes();
    bytes.resize(PAYLOAD, b'a' + u8::try_from(n % 26).unwrap_or(0));
    bytes
}

/// An IPv4 socket address as `/proc/net/tcp` writes it (`0100007F:1F90`).
fn proc_address(addr: SocketAddr) -> String {
    let SocketAddr::V4(v4) = addr else {
        panic!("{addr} is not IPv4");
    };
    format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(v4.ip().octets()),
        v4.port()
    )
}

/// The kernel's queues of the serial connection: bytes the modem has written that are
/// not yet acknowledged by the host's side (the simulator's send queue), and bytes the
/// host's side received that the host has not read (its receive queue). Their sum is
/// everything the modem wrote and the host did not read.
fn line_queues(modem: &Modem) -> (usize, usize) {
    let (host, simulator) = (proc_address(modem.host_addr()), proc_address(modem.addr()));
    let table = std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_else(|e| panic!("cannot read /proc/net/tcp: {e}"));
    let mut send = None;
    let mut receive = None;
    for row in table.lines().skip(1) {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let [_, local, remote, _, queues, ..] = fields.as_slice() else {
            continue;
        };
        let Some((tx, rx)) = queues.split_once(':') else {
            continue;
        };
        let hex = |text: &str| usize::from_str_radix(text, 16).unwrap_or(0);
        if *local == simulator && *remote == host {
            send = Some(hex(tx));
        } else if *local == host && *remote == simulator {
            receive = Some(hex(rx));
        }
    }
    match (send, receive) {
        (Some(send), Some(receive)) => (send, receive),
        _ => {
            panic!("the serial connection {host} <-> {simulator} is not in /proc/net/tcp:\n{table}")
        }
    }
}

#[test]
fn a_host_that_does_not_read_stops_the_modem_within_64_kib() {
    // The broker queues everything for the modem (its default would stop at 1000).
    let broker = Broker::with_config(&["max_queued_messages 100000"]);
    let mut peer = Peer::connect(broker.port());
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("backpressure", broker.port());
    let sub = "AT+MQTTSUB=0,\"bulk/+\",1";
    modem.exchange(sub, &echoed(sub, OK));

    // From here the host reads nothing until the line has stopped moving.
    for n in 0..MESSAGES {
        peer.publish(&format!("bulk/{n}"), &payload(n), 1, false);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = line_queues(&modem);
    let mut stable_since = Instant::now();
    let mut largest = last.0 + last.1;
    while stable_since.elapsed() < Duration::from_secs(1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let now = line_queues(&modem);
        largest = largest.max(now.0 + now.1);
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    let (send, receive) = last;
    let held = send + receive;
    eprintln!(
        "serial line held {held} bytes while the host did not read \
         (simulator send queue {send}, host receive queue {receive}; largest seen {largest})"
    );

    // Everything arrives once the host reads: the modem had far more to write than the
    // line held, so it was blocked by the line, not idle.
    let expected: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|n| subrecv(&format!("bulk/{n}"), &payload(n)))
        .collect();
    let total: usize = expected.iter().map(Vec::len).sum();
    for urc in &expected {
        modem.expect(urc, TIMEOUT);
    }
    assert!(
        held >= expected.first().map_or(0, Vec::len),
        "the line held only {held} bytes: the host's reads did not stop, or the \
         connection was not found (the test would measure nothing)"
    );
    assert!(
        largest <= LIMIT,
        "the serial line buffered up to {largest} bytes (at rest {held}: simulator {send}, \
         host {receive}) of the {total} the modem had to write while the host did not \
         read; a UART pushes back at once, the limit is {LIMIT}"
    );
    assert!(
        total > 4 * LIMIT,
        "the test must offer far more than it allows"
    );
}

/// The host's receive buffer after connecting in the narrow-window test: its window
/// closes below the 1024-byte segments the kernel would pick for a 2 KiB one.
const NARROW_RECEIVE_BUFFER: usize = 1024;

/// A host whose receive window has shrunk after the connection was made still reads at
/// its own pace. With segments sized at the handshake (half the window then seen) larger
/// than the window now offered, Linux sends only when its persist timer probes: about a
/// third of a 115200-baud line, seen in the inbound flood test. at-host's small segments
/// fit the narrower window.
#[test]
fn a_host_with_a_narrowed_window_still_reads_at_its_pace() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("narrow-window", broker.port());
    let ate0 = "ATE0";
    modem.exchange(ate0, &echoed(ate0, OK));
    modem.exchange("AT+MQTTSUB=0,\"narrow/#\",0", OK);
    modem.set_receive_buffer(NARROW_RECEIVE_BUFFER);
    // About 36 KB/s of URCs: three times what the host reads.
    let flood = Flood::start(
        broker.port(),
        "narrow/flood",
        |n| format!("{n:06} {}", "x".repeat(53)).into_bytes(),
        400,
        20_000,
        Duration::from_secs(30),
    );
    // The first second fills the line; the next four are measured.
    modem.read_paced_for(UART_BYTES_PER_SECOND, Duration::from_secs(1));
    modem.take_pending();
    let seconds = 4;
    let measured = Duration::from_secs(u64::from(seconds));
    let read = modem.read_paced_for(UART_BYTES_PER_SECOND, measured);
    modem.take_pending();
    let budget = (UART_BYTES_PER_SECOND * seconds) as usize;
    eprintln!(
        "narrowed window: {read} of {budget} bytes in {measured:?} ({} messages published)",
        flood.sent()
    );
    assert!(
        flood.running(),
        "the flood ended before the measurement did ({} messages published)",
        flood.sent()
    );
    assert!(
        read * 10 >= budget * 9,
        "the host read {read} bytes in {measured:?}, under 90 % of the {budget} its pace \
         allows, while the modem had more to send"
    );
}
