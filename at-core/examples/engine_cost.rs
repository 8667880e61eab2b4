//! A fixed, deterministic workload for counting the engine's instructions under
//! `valgrind --tool=callgrind` (`scripts/engine-cost.py` runs it and computes the
//! instructions per byte).
//!
//! Usage: `engine_cost <workload> <count>`, where workload is one of
//! - `at`: `count` lines `AT`;
//! - `pub`: `count` lines `AT+MQTTPUB=0,"<topic>","<data>",1,0` whose data is 100 bytes
//!   after unescaping, with escaped quotes and commas in it;
//! - `sub`: `count` lines `AT+MQTTSUB=0,"sensors/+/temperature/#",1`;
//! - `urc`: `count` URCs of 512 bytes queued and written to the UART (no input);
//! - `copy`: `count` times two copies of 512 bytes (the URC's reference cost).
//!
//! Echo is off, as a host MCU runs the modem. The command handlers for `AT+MQTTPUB` and
//! `AT+MQTTSUB` read every parameter as at-mqtt's do (link, topic, data unescaped, QoS,
//! retain) and answer `OK`; what the MQTT client does with them is not part of the
//! engine. A run with `count` 0 is the baseline (start-up and set-up) to subtract.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used, clippy::panic)]

use core::future::poll_fn;
use core::task::Poll;
use std::hint::black_box;

use at_core::{
    Args, CommandInfo, CommandSet, Config, Context, Engine, ErrorCode, Form, Forms, Outcome,
    UrcQueue,
};
use embedded_io_async::{ErrorType, Read, Write};

/// The URC payload size of the `urc` workload.
const URC_BYTES: usize = 512;

/// A UART that replays `input` in 64-byte reads; with `urcs` left, it queues one URC
/// whenever the queue is empty and waits for the engine to write it.
struct Replay<'a> {
    input: &'a [u8],
    urcs: usize,
    queue: &'a UrcQueue<1024>,
    record: &'a [u8],
}

impl ErrorType for Replay<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Replay<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        poll_fn(|cx| {
            if self.urcs > 0 || !self.queue.is_empty() {
                if self.queue.is_empty() {
                    self.urcs -= 1;
                    let _ = self.queue.try_push(&[self.record]);
                }
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let n = self.input.len().min(buf.len()).min(64);
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Poll::Ready(Ok(n))
        })
        .await
    }
}

/// A UART transmitter that keeps only a count.
struct Count(usize);

impl ErrorType for Count {
    type Error = core::convert::Infallible;
}

impl Write for Count {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0 += black_box(buf).len();
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

static COMMANDS: [CommandInfo; 2] = [
    CommandInfo::new("+MQTTPUB", Forms::SET),
    CommandInfo::new("+MQTTSUB", Forms::SET),
];

/// `AT+MQTTPUB` and `AT+MQTTSUB` reading their parameters as at-mqtt does.
struct Workload {
    /// Bytes of parameters read, so that nothing is optimised away.
    read: usize,
}

impl CommandSet for Workload {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        COMMANDS.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        _form: Form,
        mut args: Args<'_>,
        _cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let bad = |_| ErrorCode::INVALID_PARAMETER;
        args.int::<u8>(0..=0).map_err(bad)?;
        let topic = args.str().map_err(bad)?;
        self.read += topic.len();
        if index == 0 {
            let data = args.str().map_err(bad)?;
            self.read += data.len();
        }
        args.int::<u8>(0..=2).map_err(bad)?;
        if index == 0 {
            args.int::<u8>(0..=1).map_err(bad)?;
        }
        args.finish().map_err(bad)?;
        Ok(Outcome::Ok)
    }
}

/// Copies `record` twice, `count` times: the URC's reference cost, counted as
/// [`run_engine`] is.
#[inline(never)]
fn copy_twice(record: &[u8], count: usize) {
    let mut first = [0u8; URC_BYTES];
    let mut second = [0u8; URC_BYTES];
    for _ in 0..count {
        first.copy_from_slice(black_box(record));
        second.copy_from_slice(black_box(&first));
        black_box(&second);
    }
}

/// The 100-byte payload, escaped for a quoted AT parameter.
fn escaped_payload() -> Vec<u8> {
    let mut data = Vec::new();
    while data.len() < 100 {
        data.extend_from_slice(b"{\"t\":21.5,\"h\":40}");
    }
    data.truncate(100);
    let mut out = vec![0; 300];
    let n = at_core::escape_into(&data, &mut out).unwrap();
    out.truncate(n);
    out
}

/// The input bytes of `count` lines of `workload` (empty for `urc` and `copy`).
fn input(workload: &str, count: usize) -> Vec<u8> {
    let line: Vec<u8> = match workload {
        "at" => b"AT\r\n".to_vec(),
        "pub" => [
            &b"AT+MQTTPUB=0,\"sensors/kitchen/climate\",\""[..],
            &escaped_payload(),
            b"\",1,0\r\n",
        ]
        .concat(),
        "sub" => b"AT+MQTTSUB=0,\"sensors/+/temperature/#\",1\r\n".to_vec(),
        "urc" | "copy" => Vec::new(),
        other => panic!("unknown workload {other}"),
    };
    let mut all = b"ATE0\r\n".to_vec();
    for _ in 0..count {
        all.extend_from_slice(&line);
    }
    all
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let workload = argv.next().unwrap_or_default();
    let count: usize = argv.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let input = input(&workload, count);
    let record: Vec<u8> = (0..URC_BYTES)
        .map(|i| b"0123456789abcdef"[i % 16])
        .collect();

    if workload == "copy" {
        copy_twice(&record, count);
        println!("copied {} bytes", count * 2 * URC_BYTES);
        return;
    }

    let urcs = if workload == "urc" { count } else { 0 };
    let (written, read) = run_engine(&input, urcs, &record);
    println!(
        "{workload} x {count}: {} bytes in, {written} bytes out, {read} parameter bytes",
        input.len(),
    );
}

/// Runs the engine over `input` with `urcs` URCs of `record` to write; returns the bytes
/// written and the parameter bytes the handlers read. `scripts/engine-cost.py` counts
/// the instructions of this function alone (`--toggle-collect`), so building the input
/// is not counted.
#[inline(never)]
fn run_engine(input: &[u8], urcs: usize, record: &[u8]) -> (usize, usize) {
    let queue = UrcQueue::<1024>::new();
    let mut engine = Engine::new(Config::new("bench"), &queue);
    let mut rx = Replay {
        input,
        urcs,
        queue: &queue,
        record,
    };
    let mut tx = Count(0);
    let mut commands = Workload { read: 0 };
    embassy_futures::block_on(engine.run(&mut rx, &mut tx, &mut commands)).unwrap();
    (tx.0, commands.read)
}
