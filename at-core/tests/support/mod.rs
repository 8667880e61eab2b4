//! Shared test support: a command set that exercises every service of the [`Context`],
//! a blocking mock UART, and helpers that run the engine over them. The async mock UART
//! and byte helpers are at-core's own (`at_core::mock`, feature `mock`), re-exported.

#![allow(
    dead_code,
    unused_imports,
    reason = "each test crate uses a different part of the support module"
)]

use std::collections::VecDeque;

use at_core::{
    Args, CommandSet, Config, Context, Engine, ErrorCode, Form, Outcome, RawDataTimeout, Stop,
    UrcQueue,
};
use embassy_futures::yield_now;
use embassy_time::Duration;
use embedded_io_async::ErrorKind;

pub use at_core::mock::{Gate, Item, MockRx, MockTx, assert_bytes, block_on, cat, data, show};

pub use at_core::wire::{BUSY, ERROR, OK, PROMPT, READY};

/// `ERR CODE:0x%08x\r\n` followed by `\r\nERROR\r\n`.
pub fn err(code: u32) -> Vec<u8> {
    let mut out = format!("ERR CODE:0x{code:08x}\r\n").into_bytes();
    out.extend_from_slice(ERROR);
    out
}

/// A blocking UART reader over fixed bytes, reporting readiness like a real UART.
#[derive(Debug)]
pub struct BlockingRx {
    input: VecDeque<u8>,
    chunk: usize,
    /// How many times `read_ready` answered `false` before the next byte (simulates gaps).
    pub not_ready: usize,
    pending_not_ready: usize,
}

impl BlockingRx {
    /// A reader over `input`, `chunk` bytes per read, with `not_ready` idle polls between
    /// reads.
    pub fn new(input: &[u8], chunk: usize, not_ready: usize) -> Self {
        Self {
            input: input.iter().copied().collect(),
            chunk: chunk.max(1),
            not_ready,
            pending_not_ready: not_ready,
        }
    }
}

impl embedded_io::ErrorType for BlockingRx {
    type Error = ErrorKind;
}

impl embedded_io::ReadReady for BlockingRx {
    fn read_ready(&mut self) -> Result<bool, ErrorKind> {
        if self.pending_not_ready > 0 {
            self.pending_not_ready -= 1;
            return Ok(false);
        }
        Ok(true)
    }
}

impl embedded_io::Read for BlockingRx {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.pending_not_ready = self.not_ready;
        let n = self.input.len().min(buf.len()).min(self.chunk);
        for (slot, byte) in buf.iter_mut().zip(self.input.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

/// A blocking UART writer that records every byte.
#[derive(Debug, Default)]
pub struct BlockingTx {
    /// Everything written.
    pub out: Vec<u8>,
}

impl embedded_io::ErrorType for BlockingTx {
    type Error = ErrorKind;
}

impl embedded_io::Write for BlockingTx {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        // Accept at most 5 bytes at a time to exercise `write_all`.
        let n = buf.len().min(5);
        self.out.extend_from_slice(buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

at_core::command_table! {
    /// Commands that exercise the engine's services.
    pub enum TestCommand {
        /// `AT+ECHO` in every form: prints the form and, for set, each field.
        Echo = "+ECHO": TEST | QUERY | SET | EXECUTE,
        /// `AT+ARGS=<0..9>,<str>[,<-5..5>]`: typed parameters, then `finish`.
        Args = "+ARGS": SET,
        /// `AT+FAIL=<0..65535>`: fails with `ErrorCode::execution(n)`.
        Fail = "+FAIL": SET,
        /// `AT+WAIT`: signals `started`, waits for `release`, answers `OK`.
        Wait = "+WAIT": EXECUTE,
        /// `AT+WWAIT`: writes `+WWAIT:1`, signals `started`, waits for `release`, `OK`.
        WriteWait = "+WWAIT": EXECUTE,
        /// `AT+RAW=<0..512>`: raw data, then `+RAW:<len>,<data>` or `+RAW:FAIL`.
        Raw = "+RAW": SET,
        /// `AT+RAWWAIT=<1..512>`: raw data, signal `started`, wait for `release`, then
        /// `+RAWWAIT:<data>`.
        RawWait = "+RAWWAIT": SET,
        /// `AT+PROF?`: the profile name.
        Prof = "+PROF": QUERY,
        /// `AT+DONE`: writes its own result line.
        Done = "+DONE": EXECUTE,
        /// `AT+FLUSH=<0|1>`: with 1 writes `+FLUSH:1` first; queues `+FLUSHED` in the
        /// set's URC queue, calls `flush_urcs`, answers `OK`.
        Flush = "+FLUSH": SET,
    }
}

/// The events the waiting commands use.
#[derive(Clone, Copy)]
pub struct Gates<'a> {
    /// Signalled by a waiting command when it starts waiting.
    pub started: &'a Gate,
    /// Ends a waiting command's wait.
    pub release: &'a Gate,
    /// Signalled by `AT+RAW` when its raw data completed or failed.
    pub raw_done: &'a Gate,
}

/// The test command set. Without gates, waits complete at once.
#[derive(Default)]
pub struct TestSet<'a> {
    /// The events; `None` makes every wait complete immediately.
    pub gates: Option<Gates<'a>>,
    /// How many commands of this set ran.
    pub executed: usize,
    /// The URC queue `AT+FLUSH` pushes to.
    pub urcs: Option<&'a UrcQueue<512>>,
}

impl<'a> TestSet<'a> {
    /// A set whose waits complete at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set whose waits use `gates`.
    pub fn with_gates(gates: Gates<'a>) -> Self {
        Self {
            gates: Some(gates),
            ..Self::default()
        }
    }

    async fn pause<C: Context>(&self, cx: &mut C) {
        match self.gates {
            Some(gates) => {
                gates.started.signal(());
                cx.wait(gates.release.wait()).await;
            }
            None => cx.wait(core::future::ready(())).await,
        }
    }
}

fn form_name(form: Form) -> &'static str {
    match form {
        Form::Test => "TEST",
        Form::Query => "QUERY",
        Form::Set => "SET",
        Form::Execute => "EXEC",
        _ => "OTHER",
    }
}

impl CommandSet for TestSet<'_> {
    fn command(&self, index: usize) -> Option<&'static at_core::CommandInfo> {
        TestCommand::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        self.executed += 1;
        let command = TestCommand::from_index(index).ok_or(ErrorCode::UNKNOWN_COMMAND)?;
        match command {
            TestCommand::Echo => {
                let mut line = format!("+ECHO:{}", form_name(form)).into_bytes();
                if form == Form::Set {
                    while args.position() < args.len() {
                        match args.opt_str()? {
                            Some(value) => {
                                line.extend_from_slice(b",[");
                                line.extend_from_slice(value);
                                line.push(b']');
                            }
                            None => line.extend_from_slice(b",-"),
                        }
                    }
                }
                cx.write_line(&line).await;
            }
            TestCommand::Args => {
                let digit = args.int(0u8..=9)?;
                let text = args.str()?.to_vec();
                let extra = args.opt_int(-5i8..=5)?;
                args.finish()?;
                let mut line = format!("+ARGS:{digit},").into_bytes();
                line.extend_from_slice(&text);
                match extra {
                    Some(n) => line.extend_from_slice(format!(",{n}").as_bytes()),
                    None => line.extend_from_slice(b",-"),
                }
                cx.write_line(&line).await;
            }
            TestCommand::Fail => {
                args.expect_count(1..=1)?;
                let code = args.int(0u16..=u16::MAX)?;
                return Err(ErrorCode::execution(code));
            }
            TestCommand::Wait => self.pause(cx).await,
            TestCommand::WriteWait => {
                cx.write_line(b"+WWAIT:1").await;
                self.pause(cx).await;
            }
            TestCommand::Raw => {
                args.expect_count(1..=1)?;
                let len = usize::from(args.int(0u16..=512)?);
                let mut buf = [0u8; 512];
                let dest = buf.get_mut(..len).ok_or(ErrorCode::INVALID_PARAMETER)?;
                let result = cx.raw_data(dest).await;
                if let Some(gates) = self.gates {
                    gates.raw_done.signal(());
                }
                match result {
                    Ok(()) => {
                        let mut line = format!("+RAW:{len},").into_bytes();
                        line.extend_from_slice(dest);
                        cx.write_line(&line).await;
                    }
                    Err(RawDataTimeout) => cx.write_line(b"+RAW:FAIL").await,
                }
                return Ok(Outcome::Done);
            }
            TestCommand::RawWait => {
                args.expect_count(1..=1)?;
                let len = usize::from(args.int(1u16..=512)?);
                let mut buf = [0u8; 512];
                let dest = buf.get_mut(..len).ok_or(ErrorCode::INVALID_PARAMETER)?;
                if cx.raw_data(dest).await.is_err() {
                    cx.write_line(b"+RAWWAIT:FAIL").await;
                    return Ok(Outcome::Done);
                }
                self.pause(cx).await;
                let mut line = b"+RAWWAIT:".to_vec();
                line.extend_from_slice(dest);
                cx.write_line(&line).await;
                return Ok(Outcome::Done);
            }
            TestCommand::Prof => {
                let line = format!("+PROF:{}", cx.profile().name());
                cx.write_line(line.as_bytes()).await;
            }
            TestCommand::Flush => {
                args.expect_count(1..=1)?;
                if args.int(0u8..=1)? == 1 {
                    cx.write_line(b"+FLUSH:1").await;
                }
                let urcs = self.urcs.ok_or(ErrorCode::INVALID_PARAMETER)?;
                urcs.try_push(&[b"+FLUSHED\r\n"])
                    .map_err(|_| ErrorCode::INVALID_PARAMETER)?;
                cx.flush_urcs(usize::MAX).await;
            }
            TestCommand::Done => {
                cx.write_line(b"+DONE:OK").await;
                return Ok(Outcome::Done);
            }
        }
        Ok(Outcome::Ok)
    }
}

/// The configuration most tests use: defaults for the board `test-board`.
pub fn config() -> Config {
    Config::new("test-board")
}

/// [`config`] with a 50 ms raw-data timeout.
pub fn short_raw_timeout() -> Config {
    config().with_raw_data_timeout(Duration::from_millis(50))
}

/// [`config`] with a 50 ms partial-line timeout.
pub fn short_partial_timeout() -> Config {
    config().with_partial_line_timeout(Duration::from_millis(50))
}

/// Runs an engine with `config` and a gate-less [`TestSet`] over `rx` to its end.
pub fn run_with(config: Config, mut rx: MockRx<'_>) -> (Result<Stop, ErrorKind>, Vec<u8>) {
    let urcs = UrcQueue::<512>::new();
    let mut engine = Engine::new(config, &urcs);
    let mut tx = MockTx::new();
    let mut set = TestSet::new();
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut set));
    (stop, tx.out)
}

/// Runs `input` as one block, as single bytes, and in 3-byte reads; asserts that all
/// three end at end of input with the same output, and returns it.
#[track_caller]
pub fn transcript(input: &[u8]) -> Vec<u8> {
    transcript_with(config(), input)
}

/// [`transcript`] with a configuration.
#[track_caller]
pub fn transcript_with(config: Config, input: &[u8]) -> Vec<u8> {
    let (stop, whole) = run_with(config, MockRx::bytes(input));
    assert_eq!(stop, Ok(Stop::EndOfInput), "input {}", show(input));
    for sizes in [vec![1], vec![3], vec![64, 1, 7]] {
        let (stop, out) = run_with(config, MockRx::bytes(input).chunked(sizes.clone()));
        assert_eq!(stop, Ok(Stop::EndOfInput), "chunks {sizes:?}");
        assert!(
            out == whole,
            "chunks {sizes:?} changed the output\n   whole: {}\n chunked: {}",
            show(&whole),
            show(&out)
        );
    }
    whole
}

/// Yields to the other joined futures `n` times.
pub async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// Waits until the engine has written every queued URC.
pub async fn until_empty<const N: usize>(urcs: &UrcQueue<N>) {
    while !urcs.is_empty() {
        yield_now().await;
    }
}
