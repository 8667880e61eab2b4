//! The modem under test, reached as a host reaches a board: over its serial line.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::text::{diff, escape, render};
use crate::{FirmwareLog, Process, at, at_host};

/// A generous default wait for one response of the modem.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// How long `at-host` may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The receive buffer (`SO_RCVBUF`) of the host's end of the serial line, set before it
/// connects. A host reading a UART has a FIFO of some bytes, not the kernel's default
/// 128 KiB socket buffer: with the simulator's own 2 KiB buffers this keeps a host that
/// reads slowly (or not at all) pushing back on the modem within a few KiB, as a UART
/// does. Linux doubles the value for its bookkeeping.
pub const HOST_RECEIVE_BUFFER: usize = 2048;

/// A 115200-baud UART's bytes a second (10 bits a byte, 8N1): the pace a host of the
/// serial line reads at in the tests that model one.
pub const UART_BYTES_PER_SECOND: u32 = 11_520;

/// Who wrote a part of the transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Host,
    Modem,
}

/// The modem's process (`at-host --serial tcp:127.0.0.1:0`, or the emulated board's
/// harness) and the host's connection to its serial line.
///
/// Every byte sent and received is kept in a transcript that failure messages show.
/// Received bytes are consumed in order by [`expect`](Self::expect) and
/// [`read_until`](Self::read_until).
pub struct Modem {
    process: Process,
    /// What the process is called in messages.
    name: String,
    /// The firmware's own log, for an emulated board.
    firmware_log: Option<FirmwareLog>,
    addr: SocketAddr,
    stream: TcpStream,
    /// Received and not yet consumed.
    pending: Vec<u8>,
    transcript: Vec<(Side, Vec<u8>)>,
}

impl Modem {
    /// Starts `at-host --serial tcp:127.0.0.1:0 ARGS...` and connects to it, reading
    /// nothing yet (the modem's `ready` is the first thing to arrive).
    pub fn start(args: &[&str]) -> Self {
        let mut command = Command::new(at_host());
        command.args(["--serial", "tcp:127.0.0.1:0"]).args(args);
        Self::spawn("at-host", command, "at-host: listening on ", None)
    }

    /// Starts `command` (called `name` in messages), waits for the standard error line
    /// starting with `listening` that gives the serial line's TCP address, and connects
    /// to it. `firmware_log` is the firmware's log, shown decoded on failure.
    pub fn spawn(
        name: &str,
        command: Command,
        listening: &str,
        firmware_log: Option<FirmwareLog>,
    ) -> Self {
        let mut process = Process::spawn(name, command);
        let addr = process.wait_for_line(listening, START_TIMEOUT);
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|e| panic!("{name} printed a bad address {addr:?}: {e}"));
        let stream = connect(addr);
        Self {
            process,
            name: name.to_owned(),
            firmware_log,
            addr,
            stream,
            pending: Vec::new(),
            transcript: Vec::new(),
        }
    }

    /// The firmware's log (an emulated board's defmt RTT output), if there is one.
    pub fn firmware_log(&self) -> Option<&FirmwareLog> {
        self.firmware_log.as_ref()
    }

    /// Starts a modem with `args` and checks that it powers on with `\r\nready\r\n`.
    pub fn ready(args: &[&str]) -> Self {
        let mut modem = Self::start(args);
        modem.expect(b"\r\nready\r\n", TIMEOUT);
        modem
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The host's own address on the serial connection (its local end).
    pub fn host_addr(&self) -> SocketAddr {
        self.stream
            .local_addr()
            .unwrap_or_else(|e| self.fail(&format!("the host's address is unknown: {e}")))
    }

    /// The simulator's process.
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.record(Side::Host, bytes);
        if let Err(e) = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
        {
            self.fail(&format!("cannot send {}: {e}", escape(bytes)));
        }
    }

    /// Sends `line` followed by CR LF.
    pub fn send_line(&mut self, line: &str) {
        self.send(&[line.as_bytes(), b"\r\n"].concat());
    }

    /// Checks that the next bytes from the modem are exactly `expected`, waiting up to
    /// `timeout` for them. Fails as soon as a byte differs, with a diff and the
    /// transcript. Bytes after `expected` stay for the next call.
    pub fn expect(&mut self, expected: &[u8], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.pending.len().min(expected.len());
            if self.pending.get(..n) != expected.get(..n) {
                let message = format!(
                    "the modem's output differs from what was expected:\n{}",
                    diff(expected, &self.pending)
                );
                self.fail(&message);
            }
            if n == expected.len() {
                self.pending.drain(..n);
                return;
            }
            if let Err(why) = self.receive(deadline) {
                let message = format!(
                    "{why} while waiting for the expected bytes:\n{}",
                    diff(expected, &self.pending)
                );
                self.fail(&message);
            }
        }
    }

    /// Sends `line` with CR LF and checks the whole answer (with echo on, the echo first),
    /// waiting up to [`TIMEOUT`].
    pub fn exchange(&mut self, line: &str, answer: &[u8]) {
        self.send_line(line);
        self.expect(answer, TIMEOUT);
    }

    /// Turns on `ERR CODE` lines (`AT+SYSLOG=1`, echo on).
    pub fn syslog_on(&mut self) {
        self.exchange("AT+SYSLOG=1", &at::echoed("AT+SYSLOG=1", at::OK));
    }

    /// Configures MQTT over TCP with `client_id` and connects to the broker on loopback
    /// `port` without automatic reconnection, checking the seed profile's exact bytes
    /// (echo on).
    pub fn mqtt_connect(&mut self, client_id: &str, port: u16) {
        let user = at::user_cfg(client_id);
        self.exchange(&user, &at::echoed(&user, at::OK));
        let conn = at::conn(port, 0);
        let connected = [at::CONNECTED, at::OK].concat();
        self.exchange(&conn, &at::echoed(&conn, &connected));
    }

    /// Checks that the next bytes are `result` and `urc` in either order (SPEC section 5:
    /// a URC may come before a command's result), after `prefix` (e.g. the echo).
    pub fn expect_result_and_urc(
        &mut self,
        prefix: &[u8],
        result: &[u8],
        urc: &[u8],
        timeout: Duration,
    ) {
        self.expect_one_of(
            &[
                &[prefix, urc, result].concat(),
                &[prefix, result, urc].concat(),
            ],
            timeout,
        );
    }

    /// Checks that the next bytes from the modem are exactly one of `choices` (for
    /// output whose order the protocol leaves open, e.g. a URC before or after a
    /// result), waiting up to `timeout`; returns the index of the one received.
    pub fn expect_one_of(&mut self, choices: &[&[u8]], timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let mut possible = false;
            for (index, choice) in choices.iter().enumerate() {
                let n = self.pending.len().min(choice.len());
                if self.pending.get(..n) == choice.get(..n) {
                    if n == choice.len() {
                        self.pending.drain(..n);
                        return index;
                    }
                    possible = true;
                }
            }
            let why = if possible {
                self.receive(deadline).err()
            } else {
                Some("no choice matches".to_owned())
            };
            if let Some(why) = why {
                let expected: String = choices
                    .iter()
                    .map(|choice| format!("  one of:   {}\n", escape(choice)))
                    .collect();
                let message = format!(
                    "{why} while waiting for one of the expected outputs:\n{expected}  received: {}",
                    escape(&self.pending)
                );
                self.fail(&message);
            }
        }
    }

    /// Reads until `pattern` arrives, waiting up to `timeout`, and returns everything up
    /// to and including it. Bytes after it stay for the next call.
    pub fn read_until(&mut self, pattern: &[u8], timeout: Duration) -> Vec<u8> {
        let deadline = Instant::now() + timeout;
        // Where the search resumes: bytes before it were searched already (linear in
        // what arrives, however long the wait).
        let mut searched = 0;
        loop {
            let unsearched = self.pending.get(searched..).unwrap_or_default();
            if let Some(at) = find(unsearched, pattern) {
                return self
                    .pending
                    .drain(..searched + at + pattern.len())
                    .collect();
            }
            searched = (self.pending.len() + 1).saturating_sub(pattern.len().max(1));
            if let Err(why) = self.receive(deadline) {
                let message = format!(
                    "{why} while waiting for {}; received meanwhile: {}",
                    escape(pattern),
                    escape(&self.pending)
                );
                self.fail(&message);
            }
        }
    }

    /// Checks that the modem sends nothing for `quiet`.
    pub fn expect_silence(&mut self, quiet: Duration) {
        let deadline = Instant::now() + quiet;
        while self.pending.is_empty() {
            if self.receive(deadline).is_err() {
                break;
            }
        }
        if !self.pending.is_empty() {
            let message = format!(
                "expected {quiet:?} of silence, but the modem sent {}",
                escape(&self.pending)
            );
            self.fail(&message);
        }
    }

    /// Reads until one of `patterns` has arrived, waiting up to `timeout`, and returns
    /// the index of the first one found (the one ending earliest) with everything up to
    /// and including it; bytes after it stay for the next call. On timeout (or when the
    /// modem closes the line) returns `Err` with what arrived meanwhile, which stays
    /// unconsumed too, and does not fail the test.
    pub fn wait_for_any(
        &mut self,
        patterns: &[&[u8]],
        timeout: Duration,
    ) -> Result<(usize, Vec<u8>), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = patterns
                .iter()
                .enumerate()
                .filter_map(|(index, pattern)| {
                    find(&self.pending, pattern).map(|at| (at + pattern.len(), index))
                })
                .min();
            if let Some((end, index)) = found {
                return Ok((index, self.pending.drain(..end).collect()));
            }
            if let Err(why) = self.receive(deadline) {
                return Err(format!(
                    "{why}; received meanwhile: {}",
                    escape(&self.pending)
                ));
            }
        }
    }

    /// Reads for at most `limit`, like a host reading a UART of `bytes_per_second`
    /// (a token bucket holding a tenth of a second), until `pattern` has arrived; returns
    /// everything read up to and including it, or `Err` with what arrived on timeout.
    /// Bytes after the pattern stay for the next call. The host never reads ahead of its
    /// rate, so what it has not read stays in the line and pushes back on the modem.
    pub fn read_paced_until(
        &mut self,
        pattern: &[u8],
        bytes_per_second: u32,
        limit: Duration,
    ) -> Result<Vec<u8>, Vec<u8>> {
        let mut bucket = TokenBucket::new(bytes_per_second);
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = find(&self.pending, pattern) {
                return Ok(self.pending.drain(..at + pattern.len()).collect());
            }
            if Instant::now() >= deadline {
                return Err(std::mem::take(&mut self.pending));
            }
            let allowed = bucket.take(deadline);
            if allowed > 0 && self.receive_at_most(allowed, deadline).is_err() {
                return Err(std::mem::take(&mut self.pending));
            }
        }
    }

    /// Reads like [`read_paced_until`](Self::read_paced_until) for `duration` and
    /// returns how many bytes it read; they stay unconsumed for later calls.
    pub fn read_paced_for(&mut self, bytes_per_second: u32, duration: Duration) -> usize {
        let mut bucket = TokenBucket::new(bytes_per_second);
        let deadline = Instant::now() + duration;
        let before = self.pending.len();
        while Instant::now() < deadline {
            let allowed = bucket.take(deadline);
            if allowed > 0 && self.receive_at_most(allowed, deadline).is_err() {
                break;
            }
        }
        self.pending.len() - before
    }

    /// Sets the host's receive buffer on the open connection to `bytes` (as Linux counts
    /// them, before it doubles the value): the window the host offers shrinks below
    /// what it announced when the connection was made.
    pub fn set_receive_buffer(&self, bytes: usize) {
        nix::sys::socket::setsockopt(&self.stream, nix::sys::socket::sockopt::RcvBuf, &bytes)
            .unwrap_or_else(|e| panic!("cannot set SO_RCVBUF on the host's socket: {e}"));
    }

    /// Takes every received byte that no call has consumed yet (they stay in the
    /// transcript).
    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }

    /// Fails the test with `message`, the transcript and the process's log (an emulated
    /// board's decoded firmware log follows when the modem drops, after any failure).
    pub fn fail(&self, message: &str) -> ! {
        panic!(
            "{message}\n--- transcript ---\n{}--- {} standard error ---\n{}",
            self.transcript(),
            self.name,
            self.process.log()
        )
    }

    /// Closes the host's connection and opens a new one (a new power-on of the
    /// simulated board). Unread bytes are dropped; the new `ready` is not read.
    pub fn reconnect(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        self.pending.clear();
        self.stream = connect(self.addr);
        self.transcript
            .push((Side::Host, b"(reconnect)\n".to_vec()));
    }

    /// The exchange so far: lines starting with `> ` were sent by the host, `< ` by the
    /// modem; bytes escaped as by [`escape`](crate::escape), one serial line per line.
    pub fn transcript(&self) -> String {
        self.transcript
            .iter()
            .map(|(side, bytes)| match side {
                Side::Host => render("> ", bytes),
                Side::Modem => render("< ", bytes),
            })
            .collect()
    }

    fn record(&mut self, side: Side, bytes: &[u8]) {
        match self.transcript.last_mut() {
            Some((last, chunk)) if *last == side => chunk.extend_from_slice(bytes),
            _ => self.transcript.push((side, bytes.to_vec())),
        }
    }

    /// Reads what is available before `deadline` into `pending`.
    fn receive(&mut self, deadline: Instant) -> Result<(), String> {
        self.receive_at_most(1024, deadline)
    }

    /// Reads at most `limit` bytes of what is available before `deadline` into `pending`.
    fn receive_at_most(&mut self, limit: usize, deadline: Instant) -> Result<(), String> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out".into());
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("cannot set a read timeout: {e}"))?;
        let mut chunk = [0u8; 1024];
        let chunk = chunk.get_mut(..limit.clamp(1, 1024)).unwrap_or_default();
        match self.stream.read(chunk) {
            Ok(0) => Err("the modem closed the connection".into()),
            Ok(n) => {
                let bytes = chunk.get(..n).unwrap_or_default();
                self.pending.extend_from_slice(bytes);
                self.record(Side::Modem, bytes);
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err("timed out".into())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(format!("reading from the modem failed: {e}")),
        }
    }
}

impl Drop for Modem {
    fn drop(&mut self) {
        // Whatever failed the test, an emulated board's own account of it is printed.
        if std::thread::panicking()
            && let Some(log) = &self.firmware_log
        {
            eprintln!(
                "--- {} firmware log (defmt-print) at failure ---\n{}--- end of firmware log ---",
                self.name,
                log.decoded()
            );
        }
    }
}

/// A token bucket: `rate` bytes per second, holding at most a tenth of a second's worth.
struct TokenBucket {
    rate: u32,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: u32) -> Self {
        Self {
            rate,
            tokens: 0.0,
            last: Instant::now(),
        }
    }

    /// Waits (not past `deadline`) until at least one byte may be read and returns how
    /// many, taking them from the bucket.
    fn take(&mut self, deadline: Instant) -> usize {
        let rate = f64::from(self.rate);
        loop {
            let now = Instant::now();
            let elapsed = now.duration_since(self.last).as_secs_f64();
            self.last = now;
            self.tokens = (self.tokens + elapsed * rate).min(rate / 10.0);
            if self.tokens >= 1.0 {
                let whole = self.tokens.floor();
                self.tokens -= whole;
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "a whole number of at most rate / 10 bytes"
                )]
                return whole as usize;
            }
            if now >= deadline {
                return 0;
            }
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / rate);
            std::thread::sleep(wait.min(deadline - now));
        }
    }
}

/// Connects the host's end of the serial line, with a receive buffer of
/// [`HOST_RECEIVE_BUFFER`] set before the connection is made (so that the window the
/// host offers follows it from the start).
pub(crate) fn connect(addr: SocketAddr) -> TcpStream {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrStorage, setsockopt, socket, sockopt,
    };
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let socket = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
        .unwrap_or_else(|e| panic!("cannot open a socket for the host: {e}"));
    setsockopt(&socket, sockopt::RcvBuf, &HOST_RECEIVE_BUFFER)
        .unwrap_or_else(|e| panic!("cannot set SO_RCVBUF on the host's socket: {e}"));
    nix::sys::socket::connect(
        std::os::fd::AsRawFd::as_raw_fd(&socket),
        &SockaddrStorage::from(addr),
    )
    .unwrap_or_else(|e| panic!("cannot connect to at-host on {addr}: {e}"));
    let stream = TcpStream::from(socket);
    stream
        .set_nodelay(true)
        .unwrap_or_else(|e| panic!("cannot set TCP_NODELAY: {e}"));
    stream
}

/// The offset of the first `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
