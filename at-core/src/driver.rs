//! The async driver: runs the [`Engine`] over `embedded_io_async` UART halves, and owns
//! what one run needs besides the engine (the UART halves and their errors).
//!
//! One loop owns the UART writer, so echo, responses and URCs never interleave. Reads
//! must be cancel-safe (a read that is dropped must not lose bytes it already took):
//! the driver selects between UART input, URCs and timers, and all partial-line state
//! lives in the engine, not in the read future.

use core::future::{Future, pending, ready};
use core::pin::pin;

use embassy_futures::select::{Either, Either3, select, select3};
use embassy_time::{Instant, Timer, with_deadline};
use embedded_io_async::{ErrorKind, Read, Write};

use crate::basic::{self, Basic, BasicReply};
use crate::command::{longest_name, parse_line};
use crate::engine::{Inbox, Input, State};
use crate::line::MAX_LINE_CONTENT;
use crate::wire::{BUSY, ERROR, OK, PROMPT, READY};
use crate::{
    Args, CommandSet, Context, Engine, ErrorCode, Form, Outcome, Profile, RawDataTimeout, Stop,
};

/// The UART halves of one [`Engine::run`] call, over the engine's [`Inbox`], plus what
/// went wrong with them.
struct Port<'p, R, W> {
    rx: &'p mut R,
    tx: &'p mut W,
    inbox: &'p mut Inbox,
    /// The first error that ends `run`: the line is gone, or a write failed.
    ended: Option<ErrorKind>,
    /// A write failed: nothing more is written.
    tx_failed: bool,
    /// A receive error that only damaged input, not yet handled.
    fault: Option<ErrorKind>,
    eof: bool,
    /// Bytes were written since the last flush: only then does a flush reach the UART.
    unflushed: bool,
    /// `OK`s of plain `AT` lines not yet written: with echo off, a read chunk's worth
    /// goes out in one write, before anything else is written.
    pending_oks: usize,
}

/// Whether a read error means the line is gone (rather than a damaged byte).
fn line_gone(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::BrokenPipe
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
    )
}

impl<R: Read, W: Write> Port<'_, R, W> {
    fn next_byte(&mut self) -> Option<u8> {
        self.inbox.next_byte()
    }

    fn closed(&self) -> bool {
        self.eof || self.ended.is_some()
    }

    /// Reads more input into the inbox; cancel-safe.
    async fn fill(&mut self) {
        if self.closed() {
            return pending().await;
        }
        let read = self.rx.read(&mut self.inbox.chunk).await;
        let n = self.took(read.map_err(|e| embedded_io_async::Error::kind(&e)));
        if n > 0 {
            self.inbox.start = 0;
            self.inbox.end = n;
        }
    }

    /// Reads input straight into `dest` (not empty), past the inbox, which the caller
    /// has emptied; returns the bytes read (0 at end of input or on an error, which it
    /// records). Cancel-safe.
    async fn read_into(&mut self, dest: &mut [u8]) -> usize {
        if self.closed() {
            return pending().await;
        }
        let read = self.rx.read(dest).await;
        self.took(read.map_err(|e| embedded_io_async::Error::kind(&e)))
    }

    /// Books what a read brought: its byte count, or 0 at end of input or on an error
    /// (a line gone ends the run; any other only damaged input).
    fn took(&mut self, read: Result<usize, ErrorKind>) -> usize {
        self.inbox.urc_turn = true;
        match read {
            Ok(0) => self.eof = true,
            Ok(n) => {
                self.inbox.last_input = Instant::now();
                return n;
            }
            Err(kind) if line_gone(kind) => {
                warn!("UART line gone ({:?}): the run ends", kind);
                self.ended.get_or_insert(kind);
            }
            Err(kind) => self.fault = Some(kind),
        }
        0
    }

    fn write_failed(&mut self, kind: ErrorKind) {
        warn!("UART write error ({:?}): the run ends", kind);
        self.tx_failed = true;
        self.ended.get_or_insert(kind);
    }

    /// Writes all of `bytes`; returns whether they were written.
    async fn write(&mut self, bytes: &[u8]) -> bool {
        if self.tx_failed {
            return false;
        }
        if bytes.is_empty() {
            return true;
        }
        self.unflushed = true;
        match write_all(self.tx, bytes).await {
            Ok(()) => true,
            Err(kind) => {
                self.write_failed(kind);
                false
            }
        }
    }

    /// Writes the pending `OK`s of plain `AT` lines.
    async fn write_pending_oks(&mut self) {
        while self.pending_oks > 0 && !self.tx_failed {
            let count = self.pending_oks.min(OK_BATCH);
            self.pending_oks -= count;
            self.unflushed = true;
            let oks = OKS.get(..count * OK.len()).unwrap_or_default();
            if let Err(kind) = write_all(self.tx, oks).await {
                self.write_failed(kind);
            }
        }
        self.pending_oks = 0;
    }

    /// Whether [`flush`](Self::flush) has anything to do (checked before it on the
    /// line's path, which mostly has not).
    fn needs_flush(&self) -> bool {
        self.unflushed || self.pending_oks > 0 || !self.inbox.echo.is_empty()
    }

    /// Writes the pending echo, if any (it goes before the response to its line).
    async fn write_echo(&mut self) {
        if self.inbox.echo.is_empty() {
            return;
        }
        if self.tx_failed {
            // Not delivered, as the rest of the output.
            self.inbox.echo.clear();
            return;
        }
        self.unflushed = true;
        let written = write_all(self.tx, &self.inbox.echo).await;
        self.inbox.echo.clear();
        if let Err(kind) = written {
            self.write_failed(kind);
        }
    }

    /// Writes the pending echo, then flushes the UART if anything was written since the
    /// last flush.
    async fn flush(&mut self) {
        if self.pending_oks > 0 {
            self.write_pending_oks().await;
        }
        self.write_echo().await;
        if self.tx_failed {
            return;
        }
        if core::mem::take(&mut self.unflushed)
            && let Err(e) = self.tx.flush().await
        {
            self.write_failed(embedded_io_async::Error::kind(&e));
        }
    }
}

/// Writes all of `bytes` to `tx`. Unlike `Write::write_all`, a UART that takes no bytes
/// is a write error (`WriteZero`), not a panic.
async fn write_all<W: Write>(tx: &mut W, mut bytes: &[u8]) -> Result<(), ErrorKind> {
    while !bytes.is_empty() {
        match tx.write(bytes).await {
            Ok(0) => return Err(ErrorKind::WriteZero),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(e) => return Err(embedded_io_async::Error::kind(&e)),
        }
    }
    Ok(())
}

/// Pending `OK`s written at a time.
const OK_BATCH: usize = 8;

/// [`OK_BATCH`] `OK`s one after the other.
const OKS: [u8; OK_BATCH * OK.len()] = {
    let mut oks = [0; OK_BATCH * OK.len()];
    let mut i = 0;
    while i < oks.len() {
        oks[i] = OK[i % OK.len()];
        i += 1;
    }
    oks
};

/// Bytes of a URC copied out of the queue and written at a time.
const URC_CHUNK: usize = 256;

/// A running command's view of the engine: implements [`Context`].
struct Session<'s, 'q, 'p, R, W, const URC: usize> {
    state: &'s mut State<'q, URC>,
    port: &'s mut Port<'p, R, W>,
    wrote: bool,
}

impl<R: Read, W: Write, const URC: usize> Session<'_, '_, '_, R, W, URC> {
    async fn write_error(&mut self, code: ErrorCode) {
        if self.state.settings.syslog {
            self.port.write(&code.syslog_line()).await;
            self.port.write(b"\r\n").await;
        }
        self.port.write(ERROR).await;
    }

    /// Writes the oldest URC whole.
    async fn write_urc(&mut self) {
        let urcs = self.state.urcs;
        let Some(len) = urcs.front_len() else {
            return;
        };
        let mut chunk = [0u8; URC_CHUNK];
        let mut offset = 0;
        while offset < len {
            let n = urcs.peek(offset, &mut chunk);
            if n == 0 {
                break;
            }
            if !self.port.write(chunk.get(..n).unwrap_or_default()).await {
                // Not delivered: it stays queued for the next run.
                return;
            }
            offset += n;
        }
        urcs.pop();
        self.port.inbox.urc_turn = false;
    }

    /// Consumes buffered input while a command runs: lines get `busy p...`.
    async fn serve_busy_input(&mut self) {
        while let Some(byte) = self.port.next_byte() {
            if self.state.feed(byte, &mut self.port.inbox.echo).is_some() {
                self.state.assembler.clear();
                self.port.flush().await;
                if self.state.settings.syslog {
                    self.port.write(b"ERR CODE:0x010b0000\r\n").await;
                }
                self.port.write(BUSY).await;
            }
        }
        self.port.flush().await;
    }

    /// Does what a wake-up asks: input is consumed by the caller's next pass (a receive
    /// error is counted and discards the partial line), a URC is written, a stale
    /// partial line is dropped.
    async fn on_wake(&mut self, wake: Wake) {
        match wake {
            Wake::Input => {
                self.take_fault();
            }
            Wake::Urc => self.write_urc().await,
            Wake::PartialTimeout => self.state.clear_partial(),
        }
    }

    /// Handles a receive error the last read reported, if any; returns whether there was
    /// one.
    fn take_fault(&mut self) -> bool {
        let Some(kind) = self.port.fault.take() else {
            return false;
        };
        self.state.rx_fault();
        warn!(
            "UART receive error ({:?}, {} so far): partial input discarded",
            kind, self.state.rx_errors
        );
        true
    }

    /// Waits for input, a URC (when allowed) or the partial-line timeout, which runs from
    /// the last received byte (writing a URC does not restart it).
    ///
    /// Fair (SPEC.md section 5): while URCs wait, one URC and one look at the input
    /// (without waiting) take turns, so neither a URC flood nor continuous input starves
    /// the other.
    async fn wait_input_or_urc(&mut self, allow_urc: bool) -> Wake {
        let deadline = self.state.has_partial().then(|| {
            // Saturating: a timeout of `Duration::MAX` means never, not a panic.
            self.port
                .inbox
                .last_input
                .saturating_add(self.state.config.partial_line_timeout)
        });
        let urcs = self.state.urcs;
        if allow_urc && !urcs.is_empty() {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Wake::PartialTimeout;
            }
            if !self.port.inbox.urc_turn
                && let Either::First(()) = select(self.port.fill(), ready(())).await
            {
                return Wake::Input;
            }
            return Wake::Urc;
        }
        let urc = async {
            if allow_urc {
                urcs.wait_ready().await;
            } else {
                pending::<()>().await;
            }
        };
        let timer = async {
            match deadline {
                Some(deadline) => Timer::at(deadline).await,
                None => pending::<()>().await,
            }
        };
        // Only here, before waiting, does written output have to reach the UART: URCs
        // written one after the other go out in one flush.
        if self.port.needs_flush() {
            self.port.flush().await;
            if self.port.ended.is_some() {
                // The flush failed: the run ends (input is not read any more).
                return Wake::Input;
            }
        }
        match select3(self.port.fill(), urc, timer).await {
            Either3::First(()) => Wake::Input,
            Either3::Second(()) => Wake::Urc,
            Either3::Third(()) => Wake::PartialTimeout,
        }
    }
}

enum Wake {
    Input,
    Urc,
    PartialTimeout,
}

impl<R: Read, W: Write, const URC: usize> Context for Session<'_, '_, '_, R, W, URC> {
    fn profile(&self) -> Profile {
        self.state.config.profile
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.wrote = true;
        let _ = self.port.write(bytes).await;
    }

    async fn wait<F: Future>(&mut self, future: F) -> F::Output {
        let mut future = pin!(future);
        loop {
            if self.wrote || self.port.closed() {
                // Never break a response; with the UART gone, just finish. What the
                // command wrote goes out before it waits.
                if self.port.needs_flush() {
                    self.port.flush().await;
                }
                return future.await;
            }
            // Poll the command first: if it is already done, input buffered meanwhile
            // was not completed while it ran and is left for the main loop. Otherwise
            // the output would depend on how the UART happened to split its reads.
            if let Either::First(output) = select(future.as_mut(), ready(())).await {
                return output;
            }
            self.serve_busy_input().await;
            let allow_urc = self.state.urc_allowed();
            let wake = {
                let waiting = self.wait_input_or_urc(allow_urc);
                match select(future.as_mut(), waiting).await {
                    Either::First(output) => return output,
                    Either::Second(wake) => wake,
                }
            };
            self.on_wake(wake).await;
        }
    }

    async fn flush_urcs(&mut self, count: usize) {
        if self.wrote || !self.state.urc_allowed() {
            return;
        }
        for _ in 0..count.min(self.state.urcs.len()) {
            if self.port.tx_failed {
                return;
            }
            self.write_urc().await;
        }
    }

    async fn raw_data(&mut self, dest: &mut [u8]) -> Result<(), RawDataTimeout> {
        self.port.write(PROMPT).await;
        self.port.flush().await;
        let deadline = crate::deadline_after(self.state.config.raw_data_timeout);
        let mut filled = 0;
        let mut first = true;
        while let Some(rest) = dest.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            // Input already read goes first; then reads land straight in `dest`.
            let buffered = self.port.inbox.take(rest.len());
            let got = if buffered.is_empty() {
                if self.port.closed() {
                    return Err(RawDataTimeout);
                }
                let Ok(got) = with_deadline(deadline, self.port.read_into(rest)).await else {
                    return Err(RawDataTimeout);
                };
                if self.take_fault() {
                    // Bytes were damaged or lost: the data cannot be trusted.
                    return Err(RawDataTimeout);
                }
                got
            } else {
                if let Some(into) = rest.get_mut(..buffered.len()) {
                    into.copy_from_slice(buffered);
                }
                buffered.len()
            };
            let Some(got_bytes) = rest.get_mut(..got) else {
                return Err(RawDataTimeout);
            };
            // The LF of the command line's CR LF may lead the data: it is not data.
            let swallowed = match got_bytes.first() {
                Some(&byte)
                    if core::mem::take(&mut first)
                        && self.state.assembler.swallow_before_raw(byte) =>
                {
                    got_bytes.copy_within(1.., 0);
                    1
                }
                _ => 0,
            };
            filled += got - swallowed;
        }
        // The prompt exchange is complete: what follows is a new part of the response.
        self.wrote = false;
        Ok(())
    }
}

impl<const URC: usize> Engine<'_, URC> {
    /// Runs the modem over `rx`/`tx` with the extra `commands`.
    ///
    /// The first run after [`new`](Self::new) or [`reset`](Self::reset) writes `ready`;
    /// running again after a UART error or end of input resumes silently, with the input
    /// already read. Returns on `AT+RST` or a command's [`Outcome::OkThenRestart`] (after
    /// its `OK`, with the engine reset, so the next run boots afresh), on a command's
    /// [`Outcome::OkThenBaudRate`] (after its `OK` is flushed), at end of input, on a write error, or on a read error that
    /// means the line is gone (`BrokenPipe`, `ConnectionReset`, `ConnectionAborted`,
    /// `NotConnected`). Other read errors (framing, parity, overrun) discard the partial
    /// line, are counted by [`rx_errors`](Self::rx_errors), and the run goes on.
    ///
    /// `rx.read` must be cancel-safe (a read that is dropped must not lose bytes it
    /// already took): the driver selects between input, URCs and timers.
    pub async fn run<R: Read, W: Write, S: CommandSet>(
        &mut self,
        rx: &mut R,
        tx: &mut W,
        commands: &mut S,
    ) -> Result<Stop, ErrorKind> {
        let Engine {
            state,
            booted,
            command,
            inbox,
        } = self;
        let mut port = Port {
            rx,
            tx,
            inbox,
            ended: None,
            tx_failed: false,
            fault: None,
            eof: false,
            unflushed: false,
            pending_oks: 0,
        };
        if !*booted {
            *booted = true;
            port.write(READY).await;
            port.flush().await;
        }
        loop {
            // The response stays unflushed while more buffered lines run: the flush
            // before the engine (or a command) next waits sends them all at once.
            loop {
                // A line that runs at once, read in place or assembled.
                let in_place = state.next_at_once(port.inbox);
                if port.pending_oks > 0 && in_place.is_none_or(|line| line.command != Basic::At) {
                    // What the next line does comes after the `OK`s before it (and is
                    // not consumed if they cannot be written).
                    port.write_pending_oks().await;
                    if let Some(error) = port.ended {
                        return Err(error);
                    }
                }
                let reply = match in_place {
                    Some(line) => Ok((line.command, state.run_in_place(port.inbox, line))),
                    None => match state.next_input(port.inbox) {
                        Some(input) => state.run_at_once(input).ok_or(input),
                        None => break,
                    },
                };
                let stop = match reply {
                    Ok((Basic::At, _)) if !state.settings.echo => {
                        port.pending_oks += 1;
                        None
                    }
                    Ok((_, reply)) => {
                        if !port.inbox.echo.is_empty() {
                            port.write_echo().await;
                        }
                        port.write(OK).await;
                        (reply == BasicReply::Restart).then_some(Stop::Restart)
                    }
                    Err(input) => {
                        if !port.inbox.echo.is_empty() {
                            port.write_echo().await;
                        }
                        complete_line(input, state, command, &mut port, commands).await
                    }
                };
                if let Some(error) = port.ended {
                    return Err(error);
                }
                if let Some(stop) = stop {
                    if port.needs_flush() {
                        port.flush().await;
                    }
                    if let Some(error) = port.ended {
                        return Err(error);
                    }
                    if stop == Stop::Restart {
                        self.reset();
                    }
                    return Ok(stop);
                }
            }
            if let Some(error) = port.ended {
                return Err(error);
            }
            if port.eof {
                if port.needs_flush() {
                    port.flush().await;
                }
                return Ok(Stop::EndOfInput);
            }
            let mut session = Session {
                state,
                port: &mut port,
                wrote: false,
            };
            let allow_urc = session.state.urc_allowed();
            let wake = session.wait_input_or_urc(allow_urc).await;
            session.on_wake(wake).await;
        }
    }
}

/// Runs a completed line (or answers an overlong one).
async fn complete_line<R: Read, W: Write, S: CommandSet, const URC: usize>(
    input: Input,
    state: &mut State<'_, URC>,
    command: &mut [u8; MAX_LINE_CONTENT],
    port: &mut Port<'_, R, W>,
    commands: &mut S,
) -> Option<Stop> {
    let len = state.assembler.line().len();
    if let (Some(dest), Input::Line) = (command.get_mut(..len), input) {
        dest.copy_from_slice(state.assembler.line());
    }
    state.assembler.clear();
    let mut session = Session {
        state,
        port,
        wrote: false,
    };
    let result = match input {
        Input::Overflow => Err(ErrorCode::LINE_TOO_LONG),
        Input::Line => {
            let line = command.get_mut(..len).unwrap_or_default();
            dispatch(line, &mut session, commands).await
        }
    };
    match result {
        Ok(BasicReply::Outcome(Outcome::Ok)) => {
            session.port.write(OK).await;
        }
        Ok(BasicReply::Outcome(Outcome::Done)) => {}
        Ok(BasicReply::Outcome(Outcome::OkThenBaudRate(baud))) => {
            session.port.write(OK).await;
            return Some(Stop::BaudRate(baud));
        }
        Ok(BasicReply::Restart | BasicReply::Outcome(Outcome::OkThenRestart)) => {
            session.port.write(OK).await;
            return Some(Stop::Restart);
        }
        Err(code) => {
            let name = match input {
                Input::Overflow => "(overlong line)",
                Input::Line => line_name(command.get(..len).unwrap_or_default()),
            };
            log_error(name, code, commands);
            session.write_error(code).await;
        }
    }
    None
}

/// The longest command name [`line_name`] returns.
const NAME_LOG_MAX: usize = 32;

/// A command line's name for logs: its text before `=` or `?` (e.g. `AT+MQTTPUB`), cut
/// at [`NAME_LOG_MAX`] bytes and before its first byte that is not UTF-8.
fn line_name(line: &[u8]) -> &str {
    let end = line
        .iter()
        .position(|&b| b == b'=' || b == b'?')
        .unwrap_or(line.len())
        .min(NAME_LOG_MAX);
    let name = line.get(..end).unwrap_or_default();
    match core::str::from_utf8(name) {
        Ok(name) => name,
        Err(e) => core::str::from_utf8(name.get(..e.valid_up_to()).unwrap_or_default())
            .unwrap_or_default(),
    }
}

/// Logs (at info level) why the command line `name` gets `ERROR`: the code and its
/// description from `commands`, else at-core's own. Only the log sees it; the serial
/// line's bytes are those of [`Session::write_error`].
fn log_error<S: CommandSet>(name: &str, code: ErrorCode, commands: &S) {
    let description = commands
        .describe(code)
        .or(code.describe())
        .unwrap_or("no description");
    match code.need_and_given() {
        Some((need, given)) => info!(
            "{}: ERROR 0x{:08x}: {} (need {}, given {})",
            name, code.0, description, need, given
        ),
        None => info!("{}: ERROR 0x{:08x}: {}", name, code.0, description),
    }
}
/// Parses `line`, finds its command and runs it.
async fn dispatch<R: Read, W: Write, S: CommandSet, const URC: usize>(
    line: &mut [u8],
    session: &mut Session<'_, '_, '_, R, W, URC>,
    commands: &mut S,
) -> Result<BasicReply, ErrorCode> {
    let parsed = parse_line(line)?;
    // A name longer than every basic one (most extended ones) skips their table.
    const BASIC_NAME_MAX: usize = longest_name(Basic::TABLE);
    let basic = if parsed.name.len() <= BASIC_NAME_MAX {
        Basic::TABLE
            .iter()
            .position(|info| info.matches(parsed.name))
    } else {
        None
    };
    let found = match basic {
        Some(i) => Basic::from_index(i)
            .zip(Basic::TABLE.get(i))
            .map(|(command, info)| (Found::Basic(command), info.forms)),
        None => commands.find(parsed.name).and_then(|i| {
            commands
                .command(i)
                .map(|info| (Found::Extended(i), info.forms))
        }),
    };
    let Some((found, forms)) = found else {
        return Err(ErrorCode::UNKNOWN_COMMAND);
    };
    if !forms.contains(parsed.form) {
        return Err(ErrorCode::FORM_NOT_SUPPORTED);
    }
    // Only the set form has parameters: the others get an empty cursor, unscanned.
    let args = if parsed.form == Form::Set {
        Args::new(parsed.params).map_err(ErrorCode::from)?
    } else {
        Args::omitted()
    };
    match found {
        Found::Basic(command) => {
            if let Some(reply) = basic::execute_at_once(command, &mut session.state.settings) {
                return Ok(reply);
            }
            let mut settings = session.state.settings;
            let config = session.state.config;
            let reply = basic::execute(
                command,
                parsed.form,
                args,
                session,
                &mut settings,
                &config,
                commands,
            )
            .await;
            session.state.settings = settings;
            reply
        }
        Found::Extended(index) => commands
            .execute(index, parsed.form, args, session)
            .await
            .map(BasicReply::Outcome),
    }
}

/// Which table a command line's name was found in.
enum Found {
    /// A basic command.
    Basic(Basic),
    /// The command at this index of the extra command set.
    Extended(usize),
}
