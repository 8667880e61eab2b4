//! Throughput of the engine's hot paths, printed as a Markdown table.
//!
//! `scripts/bench.sh` runs this in release mode and writes the table to BENCHMARKS.md.
//! Timings are wall-clock on the machine that runs it; compare rows, not machines.

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use at_core::fuzzing::parse_line;
use at_core::{Args, Config, Engine, UrcQueue};
use embedded_io_async::{ErrorType, Read, Write};

/// A UART that replays `input` in chunks of `chunk` bytes, then reports end of input.
struct Replay<'a> {
    input: &'a [u8],
    chunk: usize,
}

impl ErrorType for Replay<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Replay<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.input.len().min(buf.len()).min(self.chunk);
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

/// A UART transmitter that counts bytes.
struct Count(usize);

impl ErrorType for Count {
    type Error = core::convert::Infallible;
}

impl Write for Count {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Runs `op` repeatedly for about half a second; returns iterations and time per op.
fn measure(mut op: impl FnMut()) -> (u64, Duration) {
    let budget = Duration::from_millis(500);
    let start = Instant::now();
    let mut iterations = 0u64;
    while start.elapsed() < budget {
        op();
        iterations += 1;
    }
    (
        iterations,
        start.elapsed() / u32::try_from(iterations).unwrap_or(u32::MAX),
    )
}

fn row(name: &str, bytes_per_op: usize, (iterations, per_op): (u64, Duration)) {
    let mib_s = bytes_per_op as f64 / per_op.as_secs_f64() / (1024.0 * 1024.0);
    println!(
        "| {name} | {iterations} | {:.2} µs | {mib_s:.1} MiB/s |",
        per_op.as_secs_f64() * 1e6
    );
}

fn engine_over(input: &[u8], chunk: usize) -> usize {
    let urcs = UrcQueue::<1024>::new();
    let mut engine = Engine::new(Config::new("bench"), &urcs);
    let mut rx = Replay { input, chunk };
    let mut tx = Count(0);
    embassy_futures::block_on(engine.run(&mut rx, &mut tx, &mut ())).unwrap();
    tx.0
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters nothing.
    let lines: Vec<u8> = b"AT\r\n".repeat(1000);
    let long: Vec<u8> = {
        let mut line = b"AT+SYSLOG=".to_vec();
        line.extend(std::iter::repeat_n(b'1', 240));
        line.extend_from_slice(b"\r\n");
        line.repeat(100)
    };
    let publish = br#"0,"sensors/room-12/temperature","{\"t\":21.5\,\"unit\":\"C\"}",1,0"#;

    println!("| benchmark | iterations | time per op | throughput |");
    println!("|---|---|---|---|");
    row(
        "engine: 1000 x `AT` (64-byte reads)",
        lines.len(),
        measure(|| {
            black_box(engine_over(black_box(&lines), 64));
        }),
    );
    row(
        "engine: 1000 x `AT` (1-byte reads)",
        lines.len(),
        measure(|| {
            black_box(engine_over(black_box(&lines), 1));
        }),
    );
    row(
        "engine: 100 x 252-byte set line",
        long.len(),
        measure(|| {
            black_box(engine_over(black_box(&long), 64));
        }),
    );
    row(
        "parse: AT+MQTTPUB line with escapes",
        publish.len() + 12,
        measure(|| {
            let mut line = *b"AT+MQTTPUB=";
            let mut params = *publish;
            let parsed = parse_line(black_box(&mut line)).unwrap();
            black_box(parsed.form);
            let mut args = Args::new(black_box(&mut params)).unwrap();
            black_box(args.int(0u8..=0).unwrap());
            black_box(args.str().unwrap());
            black_box(args.str().unwrap());
            black_box(args.int(0u8..=2).unwrap());
            black_box(args.int(0u8..=1).unwrap());
        }),
    );
    let payload = vec![0x5A; 1024];
    let queue = UrcQueue::<4096>::new();
    let mut out = [0u8; 64];
    row(
        "URC queue: push and drain a 1 KiB record",
        payload.len(),
        measure(|| {
            assert!(
                queue
                    .try_push(&[b"+MQTTSUBRECV:0,\"t\",1024,", &payload])
                    .unwrap()
            );
            let len = queue.front_len().unwrap();
            let mut offset = 0;
            while offset < len {
                offset += queue.peek(offset, &mut out);
            }
            queue.pop();
        }),
    );
}
