//! The engine: configuration, session settings, buffered input and the byte-level state
//! machine shared by the drivers. It does no I/O; [`Engine::run`] runs it over a UART.

use embassy_time::{Duration, Instant};

use crate::basic::{self, AtOnce, Basic, BasicReply};
use crate::command::is_at_prefix;
use crate::line::{LineAssembler, MAX_LINE_CONTENT, Step, find_terminator};
use crate::{Profile, UrcQueue};

/// How the engine is set up by the firmware author: start from [`Config::new`] and
/// change fields with the `with_*` methods.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The protocol profile.
    pub profile: Profile,
    /// The board name shown by `AT+GMR`.
    pub board: &'static str,
    /// The firmware version shown by `AT+GMR`.
    pub firmware_version: &'static str,
    /// How long raw data may take to arrive in full (SPEC.md section 4; default 10 s;
    /// `Duration::MAX` waits for ever).
    pub raw_data_timeout: Duration,
    /// How long a partial line may wait for its next byte before it is discarded
    /// (default 10 s; `Duration::MAX` waits for ever).
    pub partial_line_timeout: Duration,
}

impl Config {
    /// Defaults for `board`: seed profile, 10 s timeouts.
    pub const fn new(board: &'static str) -> Self {
        Self {
            profile: Profile::Seed,
            board,
            firmware_version: env!("CARGO_PKG_VERSION"),
            raw_data_timeout: Duration::from_secs(10),
            partial_line_timeout: Duration::from_secs(10),
        }
    }

    /// The same configuration with another profile.
    pub const fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The same configuration with another raw-data timeout (`Duration::MAX`: never).
    pub const fn with_raw_data_timeout(mut self, timeout: Duration) -> Self {
        self.raw_data_timeout = timeout;
        self
    }

    /// The same configuration with another partial-line timeout (`Duration::MAX`:
    /// never).
    pub const fn with_partial_line_timeout(mut self, timeout: Duration) -> Self {
        self.partial_line_timeout = timeout;
        self
    }

    /// The same configuration with another firmware version for `AT+GMR`.
    pub const fn with_firmware_version(mut self, version: &'static str) -> Self {
        self.firmware_version = version;
        self
    }
}

/// Why [`Engine::run`](crate::Engine::run) returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Stop {
    /// `AT+RST` was answered with `OK`: the port should restart the board.
    Restart,
    /// The UART reported end of input (e.g. a TCP serial client went away).
    EndOfInput,
    /// A command (`AT+UART_CUR`) asked for this UART baud rate; its `OK` has been
    /// written and flushed at the old rate. The port applies the rate and runs the
    /// engine again, which goes on with its buffered input.
    BaudRate(u32),
}

/// Settings the basic commands change: echo (`ATE0`/`ATE1`) and `AT+SYSLOG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Echo received command bytes.
    pub echo: bool,
    /// Print `ERR CODE:0x%08x` before `ERROR`.
    pub syslog: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            echo: true,
            syslog: false,
        }
    }
}

/// What a byte of command-line input completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A line is ready in the assembler.
    Line,
    /// An overlong line ended.
    Overflow,
}

/// Bytes read from the UART at a time.
pub(crate) const READ_CHUNK: usize = 64;

/// Echo bytes waiting to be written: at most two per input byte of one read.
pub(crate) type EchoBuf = heapless::Vec<u8, { 2 * READ_CHUNK }>;

/// UART input read but not yet consumed, and its echo not yet written. The engine keeps
/// it, so a port that calls [`Engine::run`] again after it returned loses no input.
pub(crate) struct Inbox {
    /// The last chunk read; `chunk[start..end]` is still to be consumed.
    pub(crate) chunk: [u8; READ_CHUNK],
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) echo: EchoBuf,
    /// When bytes last arrived: the partial-line timeout counts from here.
    pub(crate) last_input: Instant,
    /// Whether a waiting URC goes before the next look at the input: set by every
    /// completed read, cleared by every URC written (SPEC.md section 5, fairness).
    pub(crate) urc_turn: bool,
}

impl Inbox {
    const fn new() -> Self {
        Self {
            chunk: [0; READ_CHUNK],
            start: 0,
            end: 0,
            echo: EchoBuf::new(),
            last_input: Instant::from_ticks(0),
            urc_turn: true,
        }
    }

    /// Takes the next unconsumed byte.
    pub(crate) fn next_byte(&mut self) -> Option<u8> {
        let byte = *self.chunk.get(self.start..self.end)?.first()?;
        self.start += 1;
        Some(byte)
    }

    /// Takes up to `max` unconsumed bytes at once.
    pub(crate) fn take(&mut self, max: usize) -> &[u8] {
        let start = self.start;
        let n = self.end.saturating_sub(start).min(max);
        self.start = start + n;
        self.chunk.get(start..start + n).unwrap_or_default()
    }
}

/// The state the drivers share while a command runs.
pub(crate) struct State<'q, const URC: usize> {
    pub(crate) config: Config,
    pub(crate) settings: Settings,
    pub(crate) assembler: LineAssembler,
    pub(crate) urcs: &'q UrcQueue<URC>,
    /// The rest of a line damaged by a receive error is dropped up to its terminator.
    pub(crate) discarding: bool,
    /// Receive errors (framing, parity, overrun, ...) seen so far, saturating.
    pub(crate) rx_errors: u32,
}

impl<const URC: usize> State<'_, URC> {
    /// Feeds one command-line byte, queueing its echo.
    pub(crate) fn feed(&mut self, byte: u8, echo: &mut EchoBuf) -> Option<Input> {
        if byte == b'\r' || byte == b'\n' {
            return self.feed_terminator(byte, echo);
        }
        if !self.discarding {
            let _ = self.assembler.push(byte);
            if self.settings.echo {
                // Capacity covers two bytes per input byte of one read chunk.
                let _ = echo.push(byte);
            }
        }
        None
    }

    /// Feeds a CR or LF, queueing its echo: the same as [`feed`](Self::feed) with it.
    fn feed_terminator(&mut self, byte: u8, echo: &mut EchoBuf) -> Option<Input> {
        if core::mem::take(&mut self.discarding) {
            // The assembler is empty: this ends an empty line, which keeps CR LF
            // pairing right and echoes nothing.
            let _ = self.assembler.push_terminator(byte);
            return None;
        }
        let input = match self.assembler.push_terminator(byte) {
            Step::Line => Input::Line,
            Step::Overflow => Input::Overflow,
            Step::Byte | Step::Swallowed | Step::Empty => return None,
        };
        if self.settings.echo {
            let _ = echo.extend_from_slice(b"\r\n");
        }
        Some(input)
    }

    /// Consumes the bytes of `inbox` up to the end of the next line and returns what
    /// ended it, or `None` once they are used up: the same as [`feed`](Self::feed) byte
    /// by byte, but the bytes between terminators go into the line (and the echo) in
    /// one copy each.
    pub(crate) fn next_input(&mut self, inbox: &mut Inbox) -> Option<Input> {
        let Inbox {
            chunk,
            start,
            end,
            echo,
            ..
        } = inbox;
        let mut rest = chunk.get(*start..*end).unwrap_or_default();
        let input = loop {
            let Some(at) = find_terminator(rest) else {
                self.take_run(rest, echo);
                rest = &[];
                break None;
            };
            let (run, tail) = rest.split_at(at);
            self.take_run(run, echo);
            let Some((&terminator, tail)) = tail.split_first() else {
                rest = tail;
                break None;
            };
            rest = tail;
            if let Some(input) = self.feed_terminator(terminator, echo) {
                break Some(input);
            }
        };
        *start = end.saturating_sub(rest.len());
        input
    }

    /// Takes a run of bytes none of which is CR or LF into the line and the echo.
    #[inline]
    fn take_run(&mut self, run: &[u8], echo: &mut EchoBuf) {
        if run.is_empty() || self.discarding {
            return;
        }
        self.assembler.push_run(run);
        if self.settings.echo {
            // Capacity covers two bytes per input byte of one read chunk.
            let _ = echo.extend_from_slice(run);
        }
    }

    /// Runs the completed line at once if it is a basic command that writes nothing
    /// (`AT`, `ATE0`, `ATE1`, `AT+RST`, in any case), as dispatching it would, and
    /// clears it; `None` (the line kept) for any other line.
    pub(crate) fn run_at_once(&mut self, input: Input) -> Option<(Basic, BasicReply)> {
        if input != Input::Line {
            return None;
        }
        let command = at_once_command(self.assembler.line())?;
        let reply = basic::execute_at_once(command, &mut self.settings)?;
        self.assembler.clear();
        Some((command, reply))
    }

    /// The next line of `inbox` when [`run_in_place`](Self::run_in_place) can run it: no
    /// partial line is held, the chunk holds the whole line, and it is one that
    /// [`run_at_once`](Self::run_at_once) runs. Terminators before it (the LF of the last
    /// line's CR LF, empty lines) are taken as the assembler takes them, echoing nothing;
    /// the line itself is not consumed.
    #[inline]
    pub(crate) fn next_at_once(&mut self, inbox: &mut Inbox) -> Option<AtOnceLine> {
        if self.discarding || self.assembler.has_partial() {
            return None;
        }
        let mut rest = inbox.chunk.get(inbox.start..inbox.end)?;
        while let Some((&byte, tail)) = rest.split_first()
            && (byte == b'\r' || byte == b'\n')
        {
            let _ = self.assembler.push_terminator(byte);
            inbox.start += 1;
            rest = tail;
        }
        let window = rest.get(..rest.len().min(AT_ONCE_LONGEST + 1))?;
        // Every such line starts with `AT`: its terminator is looked for after that.
        let len = 2 + window
            .get(2..)?
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')?;
        let terminator = *window.get(len)?;
        let command = at_once_command(window.get(..len)?)?;
        Some(AtOnceLine {
            command,
            len,
            terminator,
        })
    }

    /// Runs `line` from [`next_at_once`](Self::next_at_once) in place: the same framing,
    /// echo and reply as [`next_input`](Self::next_input) then
    /// [`run_at_once`](Self::run_at_once), without assembling it. The LF of a CR LF is
    /// taken with it when it is in the chunk.
    #[inline]
    pub(crate) fn run_in_place(&mut self, inbox: &mut Inbox, line: AtOnceLine) -> BasicReply {
        // The line is echoed as it arrived, before `ATE0`/`ATE1` changes the setting.
        if self.settings.echo {
            // Room: two bytes per input byte of the chunk.
            let bytes = inbox.chunk.get(inbox.start..inbox.start + line.len);
            let _ = inbox.echo.extend_from_slice(bytes.unwrap_or_default());
            let _ = inbox.echo.extend_from_slice(b"\r\n");
        }
        // `next_at_once` found only commands that run at once.
        let reply = basic::execute_at_once(line.command, &mut self.settings)
            .unwrap_or(BasicReply::Outcome(crate::Outcome::Ok));
        self.assembler.pass_line(line.terminator);
        let mut taken = line.len + 1;
        if line.terminator == b'\r' && inbox.chunk.get(inbox.start + taken) == Some(&b'\n') {
            let _ = self.assembler.push_terminator(b'\n');
            taken += 1;
        }
        inbox.start = (inbox.start + taken).min(inbox.end);
        reply
    }

    /// Whether a line is partly received (or being discarded after a receive error).
    pub(crate) fn has_partial(&self) -> bool {
        self.assembler.has_partial() || self.discarding
    }

    /// Forgets the partial line, if any.
    pub(crate) fn clear_partial(&mut self) {
        self.assembler.clear();
        self.discarding = false;
    }

    /// A receive error (not one that means the line is gone): counts it, and discards
    /// the partial line, if any, up to its terminator without echoing more of it.
    pub(crate) fn rx_fault(&mut self) {
        self.rx_errors = self.rx_errors.saturating_add(1);
        if self.assembler.has_partial() {
            self.assembler.clear();
            self.discarding = true;
        }
    }

    /// Whether a URC may be written now as far as line input is concerned: not while an
    /// echoed line is partly received.
    pub(crate) fn urc_allowed(&self) -> bool {
        !(self.settings.echo && self.has_partial())
    }
}

/// The AT engine: owns line assembly, settings and input read but not yet consumed; run
/// it with [`run`](Self::run).
pub struct Engine<'q, const URC: usize> {
    pub(crate) state: State<'q, URC>,
    /// Whether `ready` was written since creation or the last [`reset`](Self::reset).
    pub(crate) booted: bool,
    pub(crate) command: [u8; MAX_LINE_CONTENT],
    pub(crate) inbox: Inbox,
}

impl<'q, const URC: usize> Engine<'q, URC> {
    /// An engine with `config`, writing URCs from `urcs`.
    pub fn new(config: Config, urcs: &'q UrcQueue<URC>) -> Self {
        Self {
            state: State {
                config,
                settings: Settings::default(),
                assembler: LineAssembler::new(),
                urcs,
                discarding: false,
                rx_errors: 0,
            },
            command: [0; MAX_LINE_CONTENT],
            booted: false,
            inbox: Inbox::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// How many UART receive errors (framing, parity, overrun, ...) `run` has survived
    /// since creation, saturating at `u32::MAX`. Each one discarded the partial line.
    pub fn rx_errors(&self) -> u32 {
        self.state.rx_errors
    }

    /// The current echo and syslog settings.
    #[doc(hidden)]
    pub fn settings(&self) -> Settings {
        self.state.settings
    }

    /// Back to power-on state: echo on, syslog off, no partial line, no buffered input,
    /// and `ready` is written again by the next [`run`](Self::run).
    pub fn reset(&mut self) {
        self.booted = false;
        self.state.settings = Settings::default();
        self.state.assembler = LineAssembler::new();
        self.state.discarding = false;
        self.inbox = Inbox::new();
    }
}

/// A line that runs at once, found in place by [`State::next_at_once`].
#[derive(Clone, Copy)]
pub(crate) struct AtOnceLine {
    /// Its command.
    pub(crate) command: Basic,
    /// Its bytes before the terminator.
    len: usize,
    /// The CR or LF that ends it.
    terminator: u8,
}

/// The longest line that runs at once: `AT+RST`.
const AT_ONCE_LONGEST: usize = b"AT+RST".len();

/// The command of `line` (without terminator) if it is a basic command that runs at
/// once ([`AtOnce::of`], in any case); `None` for any other line.
#[inline]
fn at_once_command(line: &[u8]) -> Option<Basic> {
    // Longer lines are rejected before a look.
    if line.len() > AT_ONCE_LONGEST {
        return None;
    }
    let (prefix, name) = line.split_at_checked(2)?;
    if !is_at_prefix(prefix) || name.iter().any(|&b| b == b'=' || b == b'?') {
        return None;
    }
    let index = Basic::TABLE.iter().position(|info| info.matches(name))?;
    let command = Basic::from_index(index)?;
    AtOnce::of(command).map(|_| command)
}
