//! The whole modem: the real `at_mqtt::Modem` (engine, MQTT commands and runner) over
//! at-mqtt's unit-test mock network and host line (`at-mqtt/tests/support`), fuzzing
//! both what the host types and what the broker sends.
//!
//! A fixed prologue configures and connects the modem (`ATE0`, `AT+MQTTUSERCFG`,
//! `AT+MQTTCONN` to the mock broker with reconnection on, `AT+MQTTSUB`), so every input
//! reaches the runner. The input is then a sequence of records `[tag, len, len bytes]`:
//!
//! * tag bit 0: `0` the bytes are typed by the host, `1` the broker sends them;
//! * tag bits 1-3: after the record, yield `2^n` times (1..128) so the modem works on it;
//! * tag bit 4: then sleep (real time) 1, 5, 20 or 60 ms (tag bits 6-7), at most 300 ms
//!   per input, so that time-outs fire;
//! * tag bit 5 (broker records): the bytes are `[header, body...]` and the remaining
//!   length is encoded here, so well-formed packets of any content are easy to reach;
//!   without it the bytes go out as they are (malformed lengths, split packets).
//!
//! Broker bytes are handed to the modem before whatever the mock broker queued itself
//! (it still answers CONNECT, PUBLISH, SUBSCRIBE, PINGREQ... on its own).
//!
//! Then the modem must still be usable: after a blank line and once its output has gone
//! quiet, `AT` is sent until one is answered `OK` without `busy p...` (within 3 s, above
//! the 2 s bound of `AT+MQTTCLEAN`), and then a final `AT` must be answered `OK` with no
//! `busy p...` after it. Nothing may panic, and the whole run is bounded (6 s real time;
//! command, raw-data and partial-line time-outs are 30 ms).

#![no_main]

#[path = "../../at-mqtt/tests/support/mod.rs"]
#[allow(clippy::all, reason = "test support code of at-mqtt")]
mod support;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::task::{Poll, Waker};

use at_core::mock::show;
use at_core::{Config, Profile};
use at_mqtt::{ConnectError, Modem, ModemResources, Network, Options, SplitStream};
use embassy_futures::select::{Either, select};
use embassy_futures::yield_now;
use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use libfuzzer_sys::fuzz_target;
use support::{Broker, Half, HostLine, MockNetwork};

/// Command, raw-data and partial-line time-out: short, so waits end fast.
const SHORT: Duration = Duration::from_millis(30);
/// Real time allowed for the modem to become usable after the input.
const SETTLE: Duration = Duration::from_secs(3);
/// Real time allowed for one whole run (a hang otherwise).
const HANG: Duration = Duration::from_secs(6);
/// Real time one `AT` may take to be answered (a line eaten as raw data gets none).
const TRY: Duration = Duration::from_millis(100);
/// Real time all the records' sleeps may add up to.
const SLEEP_BUDGET_MS: u64 = 300;

const OK: &[u8] = b"\r\nOK\r\n";
const BUSY: &[u8] = b"busy p...";

const PROLOGUE: [&str; 4] = [
    "ATE0",
    r#"AT+MQTTUSERCFG=0,1,"fuzz","user","pass",0,0,"""#,
    r#"AT+MQTTCONN=0,"broker",1883,1"#,
    r#"AT+MQTTSUB=0,"t/#",1"#,
];

fuzz_target!(|data: &[u8]| run(data));

/// Bytes the fuzzer makes the broker send, ahead of the mock broker's own.
#[derive(Default)]
struct Injected {
    bytes: VecDeque<u8>,
    reader: Option<Waker>,
}

#[derive(Clone, Default)]
struct Injector(Rc<RefCell<Injected>>);

impl Injector {
    fn push(&self, bytes: &[u8]) {
        let mut s = self.0.borrow_mut();
        s.bytes.extend(bytes);
        if let Some(waker) = s.reader.take() {
            waker.wake();
        }
    }

    fn clear(&self) {
        self.0.borrow_mut().bytes.clear();
    }

    fn take(&self, buf: &mut [u8]) -> usize {
        let mut s = self.0.borrow_mut();
        let n = buf.len().min(s.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(s.bytes.drain(..n)) {
            *slot = byte;
        }
        n
    }

    async fn ready(&self) {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.bytes.is_empty() {
                s.reader = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
    }

    /// Injected bytes first, else the mock broker's (cancel-safe: the mock's read
    /// takes nothing unless it completes).
    async fn read<R: Read<Error = ErrorKind>>(
        &self,
        inner: &mut R,
        buf: &mut [u8],
    ) -> Result<usize, ErrorKind> {
        loop {
            let n = self.take(buf);
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match select(inner.read(buf), self.ready()).await {
                Either::First(result) => return result,
                Either::Second(()) => {}
            }
        }
    }
}

/// The mock network, with the fuzzer's bytes mixed into every connection's stream.
struct FuzzNetwork {
    inner: MockNetwork,
    injector: Injector,
}

struct FuzzStream {
    inner: support::Stream,
    injector: Injector,
}

struct FuzzHalf {
    inner: Half,
    injector: Injector,
}

impl Network for FuzzNetwork {
    type Stream<'a> = FuzzStream;

    async fn connect(&mut self, host: &str, port: u16) -> Result<FuzzStream, ConnectError> {
        let inner = self.inner.connect(host, port).await?;
        // A fresh connection: what was meant for the last one is gone.
        self.injector.clear();
        Ok(FuzzStream {
            inner,
            injector: self.injector.clone(),
        })
    }
}

impl ErrorType for FuzzStream {
    type Error = ErrorKind;
}

impl Read for FuzzStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.injector.read(&mut self.inner, buf).await
    }
}

impl Write for FuzzStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.inner.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.inner.flush().await
    }
}

impl ErrorType for FuzzHalf {
    type Error = ErrorKind;
}

impl Read for FuzzHalf {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.injector.read(&mut self.inner, buf).await
    }
}

impl SplitStream for FuzzStream {
    type Reader<'s> = FuzzHalf;
    type Writer<'s> = Half;

    fn split(&mut self) -> (FuzzHalf, Half) {
        let (reader, writer) = self.inner.split();
        let reader = FuzzHalf {
            inner: reader,
            injector: self.injector.clone(),
        };
        (reader, writer)
    }
}

fn contains(bytes: &[u8], pattern: &[u8]) -> bool {
    bytes.windows(pattern.len()).any(|w| w == pattern)
}

/// One MQTT packet: `header`, the remaining length, `body`.
fn frame(header: u8, body: &[u8]) -> Vec<u8> {
    let mut packet = vec![header];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        packet.push(byte);
        if len == 0 {
            break;
        }
    }
    packet.extend_from_slice(body);
    packet
}

fn run(data: &[u8]) {
    let host = HostLine::new();
    let broker = Broker::new();
    let injector = Injector::default();
    let network = FuzzNetwork {
        inner: MockNetwork(broker.clone()),
        injector: injector.clone(),
    };
    let config = Config::new("mock")
        .with_raw_data_timeout(SHORT)
        .with_partial_line_timeout(SHORT);
    let options = Options::new(Profile::Seed)
        .with_command_timeout(SHORT)
        .with_reconnect_delays(Duration::from_millis(2), Duration::from_millis(10));
    let mut resources = Box::new(ModemResources::<2048, 1024, 2048, 512, 4>::new());
    let mut modem = Modem::with_options(&mut resources, config, options, network, ());
    let (mut rx, mut tx) = host.uart();
    embassy_futures::block_on(async {
        let modem = async {
            loop {
                // `AT+RST` ends a run; the board would restart, here the engine starts
                // again (the link survives, as documented for `run_once`).
                if let Err(error) = modem.run_once(&mut rx, &mut tx, pending()).await {
                    panic!("UART error from the mock host line: {error:?}");
                }
            }
        };
        let script = script(&host, &injector, data);
        match select(select(modem, script), Timer::after(HANG)).await {
            Either::First(Either::First(never)) => never,
            Either::First(Either::Second(())) => {}
            Either::Second(()) => panic!("hang: the run took over {HANG:?}\n{}", transcript(&host)),
        }
    });
}

fn transcript(host: &HostLine) -> String {
    format!("--- modem output ---\n{}", show(&host.output()))
}

async fn script(host: &HostLine, injector: &Injector, mut data: &[u8]) {
    for line in PROLOGUE {
        host.exchange(line, OK).await;
    }

    let mut slept = 0;
    while let Some((&tag, rest)) = data.split_first() {
        let (&len, rest) = rest.split_first().unwrap_or((&0, &[]));
        let (body, rest) = rest.split_at(rest.len().min(usize::from(len)));
        data = rest;
        if tag & 1 == 0 {
            host.send_bytes(body);
        } else if tag & 0x20 != 0 {
            if let Some((&header, body)) = body.split_first() {
                injector.push(&frame(header, body));
            }
        } else {
            injector.push(body);
        }
        for _ in 0..1u32 << ((tag >> 1) & 7) {
            yield_now().await;
        }
        if tag & 0x10 != 0 {
            let ms = [1, 5, 20, 60][usize::from(tag >> 6)];
            if slept + ms <= SLEEP_BUDGET_MS {
                slept += ms;
                Timer::after_millis(ms).await;
            }
        }
    }

    usable(host).await;
}

/// Yields until the output has not grown for `quiet` yields in a row, or `deadline`.
async fn quiet(host: &HostLine, quiet: usize, deadline: Instant) {
    let mut len = host.output().len();
    let mut still = 0;
    while still < quiet && Instant::now() < deadline {
        yield_now().await;
        let now = host.output().len();
        if now == len {
            still += 1;
        } else {
            (len, still) = (now, 0);
        }
    }
}

/// Sends `AT` and waits (until `deadline`) for `OK` after it; the output since the line.
async fn at(host: &HostLine, deadline: Instant) -> Vec<u8> {
    let mark = host.output().len();
    host.send("AT");
    while !contains(&host.output()[mark..], OK) && Instant::now() < deadline {
        yield_now().await;
    }
    // Whatever the line gets (`busy p...` comes at once) is in by now.
    quiet(host, 100, deadline).await;
    host.output()[mark..].to_vec()
}

/// The modem answers `AT` with `OK`, and with nothing busy after.
async fn usable(host: &HostLine) {
    let deadline = Instant::now() + SETTLE;
    // End any partial line, then let queued URCs drain.
    host.send_bytes(b"\r\n");
    quiet(host, 200, deadline).await;
    // Commands still running answer `busy p...` until their result: retry until idle.
    loop {
        let reply = at(host, deadline.min(Instant::now() + TRY)).await;
        if contains(&reply, OK) && !contains(&reply, BUSY) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not usable {SETTLE:?} after the input: AT never answered OK alone\n{}",
            transcript(host)
        );
        Timer::after_millis(5).await;
    }
    // The final `AT`: `OK`, and no `busy p...` from it on.
    let mark = host.output().len();
    let reply = at(host, Instant::now() + Duration::from_millis(500)).await;
    assert!(
        contains(&reply, OK),
        "the final AT was not answered OK\n{}",
        transcript(host)
    );
    Timer::after_millis(1).await;
    quiet(host, 100, Instant::now() + Duration::from_millis(100)).await;
    assert!(
        !contains(&host.output()[mark..], BUSY),
        "busy p... after the final AT was answered\n{}",
        transcript(host)
    );
}
