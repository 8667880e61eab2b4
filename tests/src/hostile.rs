//! Tools for feeding a modem hostile input: a seeded pseudo-random generator (so a
//! failing run is reproduced from its seed) and [`HostLine`], a host connection to
//! `at-host` whose reader thread splits the modem's output into answers while the test
//! writes, so that any amount of input can be pushed in chunks of any size without the
//! two ends of the line blocking each other.
//!
//! [`HostLine`] expects echo off (`ATE0`, sent by [`HostLine::start`]): the output is
//! then nothing but information lines and final results, and every final result ends one
//! [`Answer`].

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::modem::connect;
use crate::text::escape;
use crate::{Process, at, at_host};

/// A xorshift64* generator: small, fast and the same on every machine, so a seed names a
/// run exactly.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator started from `seed` (0 is replaced by a fixed non-zero value).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        let span = (high.saturating_sub(low) as u64).saturating_add(1);
        #[allow(
            clippy::cast_possible_truncation,
            reason = "the value is below span, which came from a usize"
        )]
        let offset = (self.next_u64() % span) as usize;
        low + offset
    }

    /// True with a probability of `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }

    /// One of `choices` (which must not be empty).
    pub fn pick<'a, T>(&mut self, choices: &'a [T]) -> &'a T {
        let index = self.range(0, choices.len().saturating_sub(1));
        choices
            .get(index)
            .unwrap_or_else(|| panic!("pick from an empty list"))
    }
}

/// The seed of a randomised test: the environment variable `var` when set (decimal or
/// `0x` hexadecimal, to reproduce a run), otherwise taken from the clock and the process
/// id. Tests print it.
pub fn seed_from_env(var: &str) -> u64 {
    if let Ok(text) = std::env::var(var) {
        let text = text.trim();
        let parsed = match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse(),
        };
        return parsed.unwrap_or_else(|e| panic!("{var}={text:?} is not a seed: {e}"));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    #[allow(
        clippy::cast_possible_truncation,
        reason = "any 64 bits of the clock make a seed"
    )]
    let seed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    seed
}

/// How an answer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Final {
    /// `\r\nOK\r\n`
    Ok,
    /// `\r\nERROR\r\n`
    Error,
    /// `busy p...\r\n`
    Busy,
    /// `\r\nOK\r\n\r\n>`: the raw data prompt.
    Prompt,
    /// `+MQTTPUBRAW:OK\r\n`
    RawOk,
    /// `+MQTTPUBRAW:FAIL\r\n`
    RawFail,
}

/// One answer of the modem: the information lines before a final result (without their
/// CR LF), and the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Information lines, in order.
    pub info: Vec<Vec<u8>>,
    /// The final result.
    pub end: Final,
}

impl Answer {
    /// An answer of `end` alone.
    pub fn bare(end: Final) -> Self {
        Self {
            info: Vec::new(),
            end,
        }
    }

    /// The answer as the modem writes it, escaped for messages.
    pub fn render(&self) -> String {
        let mut bytes = Vec::new();
        for line in &self.info {
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(match self.end {
            Final::Ok => at::OK,
            Final::Error => at::ERROR,
            Final::Busy => b"busy p...\r\n",
            Final::Prompt => at::PROMPT,
            Final::RawOk => b"+MQTTPUBRAW:OK\r\n",
            Final::RawFail => b"+MQTTPUBRAW:FAIL\r\n",
        });
        escape(&bytes)
    }
}

/// What the reader thread shares with the test.
#[derive(Default)]
struct Shared {
    /// Received and not yet split into answers.
    unparsed: Vec<u8>,
    /// Information lines of the answer being received.
    info: Vec<Vec<u8>>,
    answers: Vec<Answer>,
    /// Whether a raw data prompt may come: then a trailing `\r\nOK\r\n` waits for the
    /// bytes that tell it from the prompt.
    prompt_possible: bool,
    received: usize,
    /// Why the reader stopped, if it did.
    closed: Option<String>,
}

impl Shared {
    /// Splits what has arrived into answers, leaving an incomplete tail.
    fn parse(&mut self) {
        const BUSY: &[u8] = b"busy p...";
        let mut at = 0;
        loop {
            let rest = self.unparsed.get(at..).unwrap_or_default();
            if rest.is_empty() {
                break;
            }
            let (end, used) = if rest.starts_with(at::PROMPT) {
                (Some(Final::Prompt), at::PROMPT.len())
            } else if rest.starts_with(at::OK) {
                let after = rest.get(at::OK.len()..).unwrap_or_default();
                if self.prompt_possible && b"\r\n>".starts_with(after) {
                    break;
                }
                (Some(Final::Ok), at::OK.len())
            } else if rest.starts_with(at::ERROR) {
                (Some(Final::Error), at::ERROR.len())
            } else if [at::OK, at::ERROR, at::PROMPT]
                .iter()
                .any(|fixed| fixed.starts_with(rest))
            {
                break;
            } else if let Some(cr) = rest.windows(2).position(|w| w == b"\r\n") {
                let line = rest.get(..cr).unwrap_or_default();
                let end = match line {
                    BUSY => Some(Final::Busy),
                    b"+MQTTPUBRAW:OK" => Some(Final::RawOk),
                    b"+MQTTPUBRAW:FAIL" => Some(Final::RawFail),
                    _ => {
                        self.info.push(line.to_vec());
                        None
                    }
                };
                (end, cr + 2)
            } else {
                break;
            };
            at += used;
            if let Some(end) = end {
                let info = std::mem::take(&mut self.info);
                self.answers.push(Answer { info, end });
            }
        }
        self.unparsed.drain(..at);
    }
}

type SharedState = Arc<(Mutex<Shared>, Condvar)>;

/// A host on `at-host`'s TCP serial line (its receive buffer [`HOST_RECEIVE_BUFFER`](crate::HOST_RECEIVE_BUFFER), as
/// [`Modem`](crate::Modem)'s), with echo off and a thread splitting the output into
/// [`Answer`]s as it arrives. The simulator is killed when this is dropped.
pub struct HostLine {
    process: Process,
    stream: TcpStream,
    shared: SharedState,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    sent: usize,
}

impl HostLine {
    /// Starts `at-host --serial tcp:127.0.0.1:0 ARGS...`, connects, checks `ready`, turns
    /// echo off (checking `ATE0`'s exact answer), then starts splitting answers.
    pub fn start(args: &[&str]) -> Self {
        let mut command = Command::new(at_host());
        command.args(["--serial", "tcp:127.0.0.1:0"]).args(args);
        let mut process = Process::spawn("at-host", command);
        let addr = process.wait_for_line("at-host: listening on ", Duration::from_secs(30));
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|e| panic!("at-host printed a bad address {addr:?}: {e}"));
        let mut stream = connect(addr);
        let log = || process.log();
        expect_exact(&mut stream, at::READY, &log);
        stream
            .write_all(b"ATE0\r\n")
            .unwrap_or_else(|e| panic!("cannot send ATE0: {e}"));
        expect_exact(&mut stream, &at::echoed("ATE0", at::OK), &log);

        let shared: SharedState = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let reader_stream = stream
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the host's socket: {e}"));
        let (state, flag) = (Arc::clone(&shared), Arc::clone(&stop));
        let reader = std::thread::spawn(move || read_answers(reader_stream, &state, &flag));
        Self {
            process,
            stream,
            shared,
            stop,
            reader: Some(reader),
            sent: at::echoed("ATE0", b"").len(),
        }
    }

    /// The simulator's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The simulator's standard error so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// How the simulator exited, if it has.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exited()
    }

    /// Sends `bytes` as they are (the reader keeps draining the line meanwhile).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.sent += bytes.len();
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("cannot send {} bytes to the modem: {e}", bytes.len()))
    }

    /// Bytes sent so far (the set-up's included).
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Bytes received so far after the set-up.
    pub fn received(&self) -> usize {
        self.lock().received
    }

    /// Says whether a raw data prompt may come next (see [`Final::Prompt`]); while it
    /// may, a trailing `\r\nOK\r\n` is not taken for an answer until the next bytes
    /// tell it from the prompt.
    pub fn prompt_possible(&self, possible: bool) {
        let (lock, signal) = &*self.shared;
        let mut shared = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.prompt_possible = possible;
        shared.parse();
        signal.notify_all();
    }

    /// How many answers have arrived.
    pub fn answer_count(&self) -> usize {
        self.lock().answers.len()
    }

    /// The answers from index `start` on.
    pub fn answers_from(&self, start: usize) -> Vec<Answer> {
        self.lock()
            .answers
            .get(start..)
            .map(<[Answer]>::to_vec)
            .unwrap_or_default()
    }

    /// Bytes received and not (yet) part of an answer: an incomplete tail, or
    /// information lines with no final result after them.
    pub fn unanswered(&self) -> String {
        let shared = self.lock();
        let mut text: String = shared
            .info
            .iter()
            .map(|line| format!("{}\\r\\n", escape(line)))
            .collect();
        text.push_str(&escape(&shared.unparsed));
        text
    }

    /// Waits until at least `count` answers have arrived, up to `timeout`.
    pub fn wait_answers(&self, count: usize, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let (lock, signal) = &*self.shared;
        let mut shared = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if shared.answers.len() >= count {
                return Ok(());
            }
            if let Some(why) = &shared.closed {
                return Err(format!(
                    "the line closed ({why}) with {} of {count} answers",
                    shared.answers.len()
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{} of {count} answers within {timeout:?}",
                    shared.answers.len()
                ));
            }
            shared = signal
                .wait_timeout(shared, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for HostLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The reader thread: reads until `stop` or the end of the line, splitting answers.
fn read_answers(mut stream: TcpStream, shared: &SharedState, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut chunk = [0u8; 4096];
    let why = loop {
        if stop.load(Ordering::Relaxed) {
            break "stopped".to_owned();
        }
        match stream.read(&mut chunk) {
            Ok(0) => break "the modem closed the connection".to_owned(),
            Ok(n) => {
                let (lock, signal) = &**shared;
                let mut state = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.received += n;
                state
                    .unparsed
                    .extend_from_slice(chunk.get(..n).unwrap_or_default());
                state.parse();
                signal.notify_all();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => break format!("reading failed: {e}"),
        }
    };
    let (lock, signal) = &**shared;
    let mut state = lock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.closed = Some(why);
    signal.notify_all();
}

/// Reads exactly `expected.len()` bytes within 5 s and fails unless they are `expected`.
fn expect_exact(stream: &mut TcpStream, expected: &[u8], log: &dyn Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut chunk = [0u8; 256];
    while got.len() < expected.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = stream.set_read_timeout(Some(left));
        let want = (expected.len() - got.len()).min(chunk.len());
        match stream.read(chunk.get_mut(..want).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    assert!(
        got == expected,
        "the modem's set-up answer differs: expected {}, received {}\n--- at-host standard \
         error ---\n{}",
        escape(expected),
        escape(&got),
        log()
    );
}
