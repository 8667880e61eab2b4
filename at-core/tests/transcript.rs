//! Transcript tests: a mock UART replays host input and the exact modem output is checked
//! against SPEC.md sections 2-5 and 7.

#![allow(missing_docs, reason = "test crate")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "tests fail by panicking; test data is built from small integers"
)]

mod support;

use std::future::Future;

use at_core::fuzzing::Settings;
use at_core::{
    Args, CommandInfo, CommandSet, Config, Context, Engine, ErrorCode, Form, Forms, Outcome,
    Profile, Stop, UrcQueue,
};
use embassy_futures::join::join;
use embassy_time::{Duration, Timer};
use embedded_io_async::ErrorKind;
use support::{
    BUSY, BlockingRx, BlockingTx, ERROR, Gate, Gates, Item, MockRx, MockTx, OK, PROMPT, READY,
    TestSet, assert_bytes, block_on, cat, config, data, err, run_with, short_partial_timeout,
    short_raw_timeout, transcript, transcript_with, until_empty, yields,
};

/// A URC used throughout.
const URC: &[u8] = b"+URC:1\r\n";

/// Read patterns the gated tests run under: whole data items, and one byte per read.
fn modes() -> [Vec<usize>; 2] {
    [Vec::new(), vec![1]]
}

/// A URC queue and the events of one gated run.
struct Bench {
    urcs: UrcQueue<512>,
    started: Gate,
    release: Gate,
    raw_done: Gate,
    a: Gate,
    b: Gate,
    end: Gate,
}

impl Bench {
    fn new() -> Self {
        Self {
            urcs: UrcQueue::new(),
            started: Gate::new(),
            release: Gate::new(),
            raw_done: Gate::new(),
            a: Gate::new(),
            b: Gate::new(),
            end: Gate::new(),
        }
    }

    /// Runs the engine over `items` (read in `chunks`) joined with `producer`.
    fn run<'s>(
        &'s self,
        config: Config,
        items: Vec<Item<'s>>,
        chunks: Vec<usize>,
        producer: impl Future<Output = ()>,
    ) -> (Result<Stop, ErrorKind>, Vec<u8>) {
        let (stop, out, _) = self.run_counting(config, items, chunks, producer);
        (stop, out)
    }

    /// [`run`](Self::run), also returning the engine's receive-error count.
    fn run_counting<'s>(
        &'s self,
        config: Config,
        items: Vec<Item<'s>>,
        chunks: Vec<usize>,
        producer: impl Future<Output = ()>,
    ) -> (Result<Stop, ErrorKind>, Vec<u8>, u32) {
        let gates = Gates {
            started: &self.started,
            release: &self.release,
            raw_done: &self.raw_done,
        };
        let mut set = TestSet::with_gates(gates);
        set.urcs = Some(&self.urcs);
        let mut engine = Engine::new(config, &self.urcs);
        let mut rx = MockRx::new(items).chunked(chunks);
        let mut tx = MockTx::new();
        let (stop, ()) = block_on(join(engine.run(&mut rx, &mut tx, &mut set), producer));
        (stop, tx.out, engine.rx_errors())
    }

    async fn push(&self, record: &[u8]) {
        self.urcs.push(&[record]).await.expect("record fits");
    }
}

// ---------------------------------------------------------------------------------------
// Boot, basic framing and echo (SPEC.md section 2)
// ---------------------------------------------------------------------------------------

#[test]
fn ready_is_written_once_then_end_of_input_stops() {
    let (stop, out) = run_with(config(), MockRx::bytes(b""));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&out, READY);
}

#[test]
fn at_with_cr_lf_is_echoed_and_answered_ok() {
    assert_bytes(&transcript(b"AT\r\n"), &cat(&[READY, b"AT\r\n", OK]));
}

#[test]
fn at_is_case_insensitive_and_echoed_as_received() {
    let out = transcript(b"at\r\naT\r\nAt\r\n");
    assert_bytes(
        &out,
        &cat(&[READY, b"at\r\n", OK, b"aT\r\n", OK, b"At\r\n", OK]),
    );
}

#[test]
fn lines_read_at_once_are_answered_in_one_flush() {
    let urcs = UrcQueue::<512>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut rx = MockRx::bytes(b"AT\r\nATE0\r\nAT+GMR\r\nAT\r\n");
    let mut tx = MockTx::new();
    let mut set = TestSet::new();
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut set));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert!(tx.out.ends_with(&cat(&[OK, OK])), "{:?}", tx.out);
    // One flush after `ready`, one before waiting for more input: none per line.
    assert_eq!(tx.flushes, 2);
}

#[test]
fn bare_cr_ends_a_line_and_the_echo_is_cr_lf() {
    assert_bytes(&transcript(b"AT\r"), &cat(&[READY, b"AT\r\n", OK]));
}

#[test]
fn bare_lf_ends_a_line_and_the_echo_is_cr_lf() {
    assert_bytes(&transcript(b"AT\n"), &cat(&[READY, b"AT\r\n", OK]));
}

#[test]
fn lf_after_cr_is_swallowed() {
    let out = transcript(b"AT\r\nAT\r\nAT\r\n");
    assert_bytes(
        &out,
        &cat(&[READY, b"AT\r\n", OK, b"AT\r\n", OK, b"AT\r\n", OK]),
    );
}

#[test]
fn lf_after_cr_is_swallowed_across_reads() {
    let rx = MockRx::new(vec![data(b"AT\r"), data(b"\nAT\r"), data(b"\n")]);
    let (stop, out) = run_with(config(), rx);
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&out, &cat(&[READY, b"AT\r\n", OK, b"AT\r\n", OK]));
}

#[test]
fn lf_cr_is_a_line_then_an_empty_line() {
    // Only an LF *after* a CR belongs to the terminator.
    assert_bytes(
        &transcript(b"AT\n\rAT\n"),
        &cat(&[READY, b"AT\r\n", OK, b"AT\r\n", OK]),
    );
}

#[test]
fn mixed_terminators_in_one_stream() {
    let out = transcript(b"AT\rATE1\nAT\r\n\nAT\r\r");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT\r\n",
            OK,
            b"ATE1\r\n",
            OK,
            b"AT\r\n",
            OK,
            b"AT\r\n",
            OK,
        ]),
    );
}

#[test]
fn empty_lines_are_silent() {
    assert_bytes(&transcript(b"\r\n\r\n\n\r\r\n\n"), READY);
}

#[test]
fn empty_lines_are_silent_with_echo_off() {
    let out = transcript(b"ATE0\r\n\r\n\n\rAT\r\n");
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, OK]));
}

#[test]
fn ate0_turns_echo_off_after_its_own_echo() {
    let out = transcript(b"ATE0\r\nAT\r\nAT+NOPE\r\n");
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, OK, ERROR]));
}

#[test]
fn ate1_turns_echo_back_on() {
    let out = transcript(b"ATE0\r\nATE1\r\nAT\r\n");
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, OK, b"AT\r\n", OK]));
}

#[test]
fn ate0_and_ate1_are_case_insensitive() {
    let out = transcript(b"ate0\r\nAT\r\nate1\r\nAT\r\n");
    assert_bytes(&out, &cat(&[READY, b"ate0\r\n", OK, OK, OK, b"AT\r\n", OK]));
}

#[test]
fn echo_repeats_every_byte_including_binary() {
    let out = transcript(b"AT+ECHO=a\x00b\xff \x7f\r");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+ECHO=a\x00b\xff \x7f\r\n",
            b"+ECHO:SET,[a\x00b\xff \x7f]\r\n",
            OK,
        ]),
    );
}

#[test]
fn line_of_254_bytes_is_accepted() {
    let mut line = b"AT+ECHO=".to_vec();
    line.resize(254, b'x');
    let input = cat(&[&line, b"\r\n"]);
    let mut answer = b"+ECHO:SET,[".to_vec();
    answer.resize(answer.len() + 246, b'x');
    answer.extend_from_slice(b"]\r\n");
    assert_bytes(
        &transcript(&input),
        &cat(&[READY, &line, b"\r\n", &answer, OK]),
    );
}

#[test]
fn line_of_255_bytes_is_rejected_and_the_modem_stays_usable() {
    for terminator in [&b"\r\n"[..], b"\r", b"\n"] {
        let mut line = b"AT+ECHO=".to_vec();
        line.resize(255, b'x');
        let input = cat(&[&line, terminator, b"AT\r\n"]);
        assert_bytes(
            &transcript(&input),
            &cat(&[READY, &line, b"\r\n", ERROR, b"AT\r\n", OK]),
        );
    }
}

#[test]
fn very_long_line_gets_one_error() {
    let line = vec![b'A'; 1000];
    let input = cat(&[&line, b"\r\nAT\r\n"]);
    assert_bytes(
        &transcript(&input),
        &cat(&[READY, &line, b"\r\n", ERROR, b"AT\r\n", OK]),
    );
}

#[test]
fn overlong_line_with_echo_off_gets_only_error() {
    let line = vec![b'A'; 300];
    let input = cat(&[b"ATE0\r\n", &line, b"\rAT\r"]);
    assert_bytes(
        &transcript(&input),
        &cat(&[READY, b"ATE0\r\n", OK, ERROR, OK]),
    );
}

#[test]
fn line_not_starting_with_at_gets_error() {
    for line in [&b"hello"[..], b"A", b"T", b" AT", b"XT", b"+GMR", b"\x00AT"] {
        let input = cat(&[line, b"\r\n"]);
        assert_bytes(&transcript(&input), &cat(&[READY, line, b"\r\n", ERROR]));
    }
}

#[test]
fn unknown_command_gets_error() {
    for line in [
        &b"AT+NOPE"[..],
        b"ATE2",
        b"ATE",
        b"AT+",
        b"AT+GMRX",
        b"AT +GMR",
    ] {
        let input = cat(&[line, b"\r\n"]);
        assert_bytes(&transcript(&input), &cat(&[READY, line, b"\r\n", ERROR]));
    }
}

#[test]
fn unsupported_form_gets_error() {
    for line in [
        &b"AT?"[..],
        b"AT=?",
        b"AT=1",
        b"ATE0?",
        b"AT+GMR=?",
        b"AT+GMR?",
        b"AT+RST=1",
        b"AT+CMD",
        b"AT+CMD=?",
        b"AT+SYSLOG",
        b"AT+SYSLOG=?",
        b"AT+ARGS",
        b"AT+ARGS?",
        b"AT+PROF",
    ] {
        let input = cat(&[line, b"\r\n"]);
        assert_bytes(&transcript(&input), &cat(&[READY, line, b"\r\n", ERROR]));
    }
}

// ---------------------------------------------------------------------------------------
// Error codes under AT+SYSLOG=1 (SPEC.md sections 3 and 7)
// ---------------------------------------------------------------------------------------

/// The output of `AT+SYSLOG=1` followed by `line`.
fn syslog_transcript(line: &[u8]) -> Vec<u8> {
    transcript(&cat(&[b"AT+SYSLOG=1\r\n", line, b"\r\n"]))
}

/// The expected output for [`syslog_transcript`] when `line` fails with `code`.
fn syslog_expect(line: &[u8], code: u32) -> Vec<u8> {
    cat(&[READY, b"AT+SYSLOG=1\r\n", OK, line, b"\r\n", &err(code)])
}

#[test]
fn syslog_is_off_by_default_and_query_shows_it() {
    assert_bytes(
        &transcript(b"AT+NOPE\r\nAT+SYSLOG?\r\n"),
        &cat(&[
            READY,
            b"AT+NOPE\r\n",
            ERROR,
            b"AT+SYSLOG?\r\n+SYSLOG:0\r\n",
            OK,
        ]),
    );
}

#[test]
fn syslog_on_is_shown_by_query() {
    assert_bytes(
        &transcript(b"AT+SYSLOG=1\r\nat+syslog?\r\n"),
        &cat(&[
            READY,
            b"AT+SYSLOG=1\r\n",
            OK,
            b"at+syslog?\r\n+SYSLOG:1\r\n",
            OK,
        ]),
    );
}

#[test]
fn syslog_code_unknown_command() {
    assert_bytes(
        &syslog_transcript(b"AT+NOPE"),
        &syslog_expect(b"AT+NOPE", 0x0109_0000),
    );
}

#[test]
fn syslog_code_line_without_at() {
    assert_bytes(
        &syslog_transcript(b"hello"),
        &syslog_expect(b"hello", 0x0103_0000),
    );
}

#[test]
fn syslog_code_line_too_long() {
    let line = vec![b'Z'; 255];
    assert_bytes(
        &syslog_transcript(&line),
        &syslog_expect(&line, 0x0104_0000),
    );
}

#[test]
fn syslog_code_form_not_supported() {
    assert_bytes(
        &syslog_transcript(b"AT+GMR?"),
        &syslog_expect(b"AT+GMR?", 0x010C_0000),
    );
    assert_bytes(
        &syslog_transcript(b"AT=?"),
        &syslog_expect(b"AT=?", 0x010C_0000),
    );
}

#[test]
fn syslog_code_parameter_count() {
    assert_bytes(
        &syslog_transcript(b"AT+SYSLOG=1,2"),
        &syslog_expect(b"AT+SYSLOG=1,2", 0x0106_0102),
    );
    // A trailing comma is one field too many.
    assert_bytes(
        &syslog_transcript(b"AT+SYSLOG=1,"),
        &syslog_expect(b"AT+SYSLOG=1,", 0x0106_0102),
    );
    // `finish` after three of four fields.
    assert_bytes(
        &syslog_transcript(b"AT+ARGS=1,x,2,3"),
        &syslog_expect(b"AT+ARGS=1,x,2,3", 0x0106_0304),
    );
}

#[test]
fn syslog_code_parse_failure() {
    for line in [
        &b"AT+SYSLOG=\"1"[..],
        b"AT+SYSLOG=\"1\"",
        b"AT+SYSLOG=x",
        b"AT+SYSLOG=",
        b"AT+SYSLOG?1",
        b"AT+ARGS=1,\"a\"b",
        b"AT+ARGS=1",
        b"AT+ARGS=1,,2",
    ] {
        assert_bytes(&syslog_transcript(line), &syslog_expect(line, 0x0108_0000));
    }
}

#[test]
fn syslog_code_invalid_parameter_for_out_of_range() {
    for line in [
        &b"AT+SYSLOG=2"[..],
        b"AT+SYSLOG=-1",
        b"AT+ARGS=10,x",
        b"AT+ARGS=1,x,-6",
    ] {
        assert_bytes(&syslog_transcript(line), &syslog_expect(line, 0x0107_0000));
    }
}

#[test]
fn syslog_code_from_a_command_handler() {
    assert_bytes(
        &syslog_transcript(b"AT+FAIL=24577"),
        &syslog_expect(b"AT+FAIL=24577", 0x010A_6001),
    );
}

#[test]
fn syslog_off_again_drops_the_code_line() {
    assert_bytes(
        &transcript(b"AT+SYSLOG=1\r\nAT+SYSLOG=0\r\nAT+NOPE\r\n"),
        &cat(&[
            READY,
            b"AT+SYSLOG=1\r\n",
            OK,
            b"AT+SYSLOG=0\r\n",
            OK,
            b"AT+NOPE\r\n",
            ERROR,
        ]),
    );
}

#[test]
fn syslog_rejected_value_keeps_the_setting() {
    assert_bytes(
        &transcript(b"AT+SYSLOG=5\r\nAT+SYSLOG?\r\n"),
        &cat(&[
            READY,
            b"AT+SYSLOG=5\r\n",
            ERROR,
            b"AT+SYSLOG?\r\n+SYSLOG:0\r\n",
            OK,
        ]),
    );
}

#[test]
fn syslog_with_echo_off() {
    assert_bytes(
        &transcript(b"ATE0\r\nAT+SYSLOG=1\r\nAT+NOPE\r\n"),
        &cat(&[READY, b"ATE0\r\n", OK, OK, &err(0x0109_0000)]),
    );
}

// ---------------------------------------------------------------------------------------
// Basic commands (SPEC.md section 6, "Basic")
// ---------------------------------------------------------------------------------------

#[test]
fn cmd_query_lists_basic_then_extended_commands() {
    let rows: &[u8] = b"+CMD:0,\"AT\",0,0,0,1\r\n\
+CMD:1,\"ATE0\",0,0,0,1\r\n\
+CMD:2,\"ATE1\",0,0,0,1\r\n\
+CMD:3,\"AT+RST\",0,0,0,1\r\n\
+CMD:4,\"AT+GMR\",0,0,0,1\r\n\
+CMD:5,\"AT+CMD\",0,1,0,0\r\n\
+CMD:6,\"AT+SYSLOG\",0,1,1,0\r\n\
+CMD:7,\"AT+ECHO\",1,1,1,1\r\n\
+CMD:8,\"AT+ARGS\",0,0,1,0\r\n\
+CMD:9,\"AT+FAIL\",0,0,1,0\r\n\
+CMD:10,\"AT+WAIT\",0,0,0,1\r\n\
+CMD:11,\"AT+WWAIT\",0,0,0,1\r\n\
+CMD:12,\"AT+RAW\",0,0,1,0\r\n\
+CMD:13,\"AT+RAWWAIT\",0,0,1,0\r\n\
+CMD:14,\"AT+PROF\",0,1,0,0\r\n\
+CMD:15,\"AT+DONE\",0,0,0,1\r\n\
+CMD:16,\"AT+FLUSH\",0,0,1,0\r\n";
    assert_bytes(
        &transcript(b"AT+CMD?\r\n"),
        &cat(&[READY, b"AT+CMD?\r\n", rows, OK]),
    );
}

#[test]
fn cmd_query_without_extra_commands_lists_only_basics() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut rx = MockRx::bytes(b"AT+CMD?\r\n");
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    let text = String::from_utf8_lossy(&tx.out).into_owned();
    assert_eq!(text.matches("+CMD:").count(), 7, "{text}");
    assert!(
        text.ends_with("+CMD:6,\"AT+SYSLOG\",0,1,1,0\r\n\r\nOK\r\n"),
        "{text}"
    );
}

fn gmr_lines(profile: &str, board: &str) -> Vec<u8> {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!(
        "AT version:{}(at-mqtt-modem)\r\nProtocol profile:{profile}\r\nBuild profile:{build}\r\nBoard:{board}\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

#[test]
fn gmr_prints_version_profile_build_and_board() {
    assert_bytes(
        &transcript(b"AT+GMR\r\n"),
        &cat(&[READY, b"AT+GMR\r\n", &gmr_lines("seed", "test-board"), OK]),
    );
}

#[test]
fn gmr_shows_the_esp_at_profile_and_custom_version() {
    let config = Config::new("nucleo")
        .with_profile(Profile::EspAt)
        .with_firmware_version("9.9.9");
    let out = transcript_with(config, b"at+gmr\r\n");
    let expected = gmr_lines("esp-at", "nucleo");
    let expected = String::from_utf8(expected)
        .expect("ascii")
        .replace(env!("CARGO_PKG_VERSION"), "9.9.9");
    assert_bytes(&out, &cat(&[READY, b"at+gmr\r\n", expected.as_bytes(), OK]));
}

#[test]
fn profile_reaches_the_command_context() {
    assert_bytes(
        &transcript(b"AT+PROF?\r\n"),
        &cat(&[READY, b"AT+PROF?\r\n+PROF:seed\r\n", OK]),
    );
    let out = transcript_with(config().with_profile(Profile::EspAt), b"AT+PROF?\r\n");
    assert_bytes(&out, &cat(&[READY, b"AT+PROF?\r\n+PROF:esp-at\r\n", OK]));
}

#[test]
fn rst_answers_ok_then_stops_with_restart() {
    let (stop, out) = run_with(config(), MockRx::bytes(b"AT+RST\r\nAT\r\n"));
    assert_eq!(stop, Ok(Stop::Restart));
    assert_bytes(&out, &cat(&[READY, b"AT+RST\r\n", OK]));
}

#[test]
fn rst_is_case_insensitive_and_works_with_echo_off() {
    let (stop, out) = run_with(config(), MockRx::bytes(b"ATE0\r\nat+rst\r").bytewise());
    assert_eq!(stop, Ok(Stop::Restart));
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, OK]));
}

#[test]
fn rst_with_parameters_does_not_restart() {
    let (stop, out) = run_with(config(), MockRx::bytes(b"AT+RST=1\r\n"));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&out, &cat(&[READY, b"AT+RST=1\r\n", ERROR]));
}

#[test]
fn engine_keeps_settings_across_resumed_runs_until_reset() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    assert_eq!(engine.settings(), Settings::default());
    assert_eq!(engine.config().board, "test-board");

    let mut tx = MockTx::new();
    let stop = block_on(engine.run(
        &mut MockRx::bytes(b"ATE0\r\nAT+SYSLOG=1\r\n"),
        &mut tx,
        &mut TestSet::new(),
    ));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_eq!(
        engine.settings(),
        Settings {
            echo: false,
            syslog: true
        }
    );

    // Running again (as a port does after end of input or a UART error) resumes: no
    // second `ready`, settings kept.
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"AT\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, OK);

    engine.reset();
    assert_eq!(engine.settings(), Settings::default());
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"AT\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[READY, b"AT\r\n", OK]));
}

#[test]
fn restart_boots_afresh_on_the_next_run() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(
        &mut MockRx::bytes(b"ATE0\r\nAT+SYSLOG=1\r\nAT+RST\r\n"),
        &mut tx,
        &mut (),
    ));
    assert_eq!(stop, Ok(Stop::Restart));
    assert_eq!(engine.settings(), Settings::default());
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"AT\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[READY, b"AT\r\n", OK]));
}

#[test]
fn a_uart_error_does_not_repeat_ready() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"AT\r\n"), &mut tx, &mut ())).expect("runs");
    assert_bytes(&tx.out, &cat(&[READY, b"AT\r\n", OK]));
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"AT\r\n"), &mut tx, &mut ())).expect("runs");
    assert_bytes(&tx.out, &cat(&[b"AT\r\n", OK]));
}

#[test]
fn reset_forgets_a_partial_line() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"AT+GM"), &mut tx, &mut ())).expect("runs");
    engine.reset();
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"R\r\n"), &mut tx, &mut ())).expect("runs");
    assert_bytes(&tx.out, &cat(&[READY, b"R\r\n", ERROR]));
}

#[test]
fn partial_line_survives_end_of_input_into_the_next_run() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"AT+GM"), &mut tx, &mut ())).expect("runs");
    let mut tx = MockTx::new();
    block_on(engine.run(&mut MockRx::bytes(b"R\r\n"), &mut tx, &mut ())).expect("runs");
    assert!(tx.out.starts_with(b"R\r\nAT version:"));
}

// ---------------------------------------------------------------------------------------
// Parameters end to end (SPEC.md section 2, "Parameters")
// ---------------------------------------------------------------------------------------

#[test]
fn extended_commands_match_case_insensitively_in_every_form() {
    let out = transcript(b"at+echo\r\nAT+Echo?\r\nAT+ECHO=?\r\naT+eChO=1\r\n");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"at+echo\r\n+ECHO:EXEC\r\n",
            OK,
            b"AT+Echo?\r\n+ECHO:QUERY\r\n",
            OK,
            b"AT+ECHO=?\r\n+ECHO:TEST\r\n",
            OK,
            b"aT+eChO=1\r\n+ECHO:SET,[1]\r\n",
            OK,
        ]),
    );
}

#[test]
fn quoted_strings_are_unescaped() {
    let line: &[u8] = br#"AT+ECHO="a\,b","say \"hi\"","back\\slash","\q","","x,y""#;
    let answer: &[u8] = br#"+ECHO:SET,[a,b],[say "hi"],[back\slash],[q],[],[x,y]"#;
    assert_bytes(
        &transcript(&cat(&[line, b"\r\n"])),
        &cat(&[READY, line, b"\r\n", answer, b"\r\n", OK]),
    );
}

#[test]
fn bare_strings_run_to_the_next_unescaped_comma_untrimmed() {
    let line: &[u8] = br"AT+ECHO= a b ,test/abc,98\,76,x\\y,tail\";
    let answer: &[u8] = br"+ECHO:SET,[ a b ],[test/abc],[98,76],[x\y],[tail]";
    assert_bytes(
        &transcript(&cat(&[line, b"\r\n"])),
        &cat(&[READY, line, b"\r\n", answer, b"\r\n", OK]),
    );
}

#[test]
fn omitted_fields_and_empty_strings_differ() {
    let line: &[u8] = br#"AT+ECHO=,"",,x,"#;
    let answer: &[u8] = b"+ECHO:SET,-,[],-,[x],-";
    assert_bytes(
        &transcript(&cat(&[line, b"\r\n"])),
        &cat(&[READY, line, b"\r\n", answer, b"\r\n", OK]),
    );
    assert_bytes(
        &transcript(b"AT+ECHO=\r\n"),
        &cat(&[READY, b"AT+ECHO=\r\n+ECHO:SET,-\r\n", OK]),
    );
}

#[test]
fn typed_parameters_are_checked() {
    let out = transcript(b"AT+ARGS=1,topic\r\nAT+ARGS=9,\"a b\",-5\r\nAT+ARGS=0,\"\",5\r\n");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+ARGS=1,topic\r\n+ARGS:1,topic,-\r\n",
            OK,
            b"AT+ARGS=9,\"a b\",-5\r\n+ARGS:9,a b,-5\r\n",
            OK,
            b"AT+ARGS=0,\"\",5\r\n+ARGS:0,,5\r\n",
            OK,
        ]),
    );
}

#[test]
fn integer_rejections_answer_error() {
    for line in [
        &b"AT+ARGS=\"1\",x"[..],
        b"AT+ARGS= 1,x",
        b"AT+ARGS=1 ,x",
        b"AT+ARGS=+1,x",
        b"AT+ARGS=-1,x",
        b"AT+ARGS=0x1,x",
        b"AT+ARGS=99999999999999999999999,x",
        b"AT+ARGS=,x",
    ] {
        assert_bytes(
            &transcript(&cat(&[line, b"\r\n"])),
            &cat(&[READY, line, b"\r\n", ERROR]),
        );
    }
}

#[test]
fn outcome_done_writes_no_ok() {
    assert_bytes(
        &transcript(b"AT+DONE\r\nAT\r\n"),
        &cat(&[READY, b"AT+DONE\r\n+DONE:OK\r\n", b"AT\r\n", OK]),
    );
}

// ---------------------------------------------------------------------------------------
// Busy while a command waits (SPEC.md section 3)
// ---------------------------------------------------------------------------------------

#[test]
fn line_completed_while_a_command_waits_gets_busy_and_is_echoed() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"AT\r\n"),
            data(b"AT+GMR\r"),
            Item::Release(&bench.release),
            data(b"AT\r\n"),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT+WAIT\r\n",
                b"AT\r\n",
                BUSY,
                b"AT+GMR\r\n",
                BUSY,
                OK,
                b"AT\r\n",
                OK,
            ]),
        );
    }
}

#[test]
fn busy_with_echo_off_is_not_echoed() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"ATE0\r\nAT+WAIT\r\n"),
            data(b"AT\r\n"),
            Item::Release(&bench.release),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, BUSY, OK]));
    }
}

#[test]
fn busy_with_syslog_is_preceded_by_its_code() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+SYSLOG=1\r\nAT+WAIT\r\n"),
            data(b"AT\r\n"),
            Item::Release(&bench.release),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT+SYSLOG=1\r\n",
                OK,
                b"AT+WAIT\r\n",
                b"AT\r\n",
                b"ERR CODE:0x010b0000\r\n",
                BUSY,
                OK,
            ]),
        );
    }
}

#[test]
fn empty_lines_while_waiting_are_silent() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"\r\n\n\r"),
            Item::Release(&bench.release),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+WAIT\r\n", OK]));
    }
}

#[test]
fn overlong_line_while_waiting_gets_busy() {
    let long = vec![b'x'; 300];
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(&cat(&[&long, b"\r\n"])),
            Item::Release(&bench.release),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+WAIT\r\n", &long, b"\r\n", BUSY, OK]),
        );
    }
}

#[test]
fn line_started_while_waiting_and_finished_after_runs_normally() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"A"),
            Item::Release(&bench.release),
            data(b"T\r\n"),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+WAIT\r\n", b"A", OK, b"T\r\n", OK]));
    }
}

#[test]
fn command_that_wrote_does_not_serve_input_until_it_ends() {
    for chunks in modes() {
        let bench = Bench::new();
        // The command does not read while it waits: `AT` stays in the UART.
        let items = vec![data(b"AT+WWAIT\r\nAT\r\n")];
        let producer = async {
            bench.started.wait().await;
            yields(20).await;
            bench.release.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        // The queued `AT` is read only after the response: it runs normally.
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+WWAIT\r\n+WWAIT:1\r\n", OK, b"AT\r\n", OK]),
        );
    }
}

#[test]
fn wait_that_completes_at_once_leaves_buffered_lines_alone() {
    // The gate-less set waits on an already complete future: the line after it in the
    // same read is not "completed while the command runs".
    let out = transcript(b"AT+WAIT\r\nAT\r\nAT+WWAIT\r\nAT\r\n");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+WAIT\r\n",
            OK,
            b"AT\r\n",
            OK,
            b"AT+WWAIT\r\n+WWAIT:1\r\n",
            OK,
            b"AT\r\n",
            OK,
        ]),
    );
}

// ---------------------------------------------------------------------------------------
// Raw data mode (SPEC.md section 4)
// ---------------------------------------------------------------------------------------

#[test]
fn raw_data_prompt_then_exact_bytes_without_echo() {
    assert_bytes(
        &transcript(b"AT+RAW=5\r\nhello"),
        &cat(&[READY, b"AT+RAW=5\r\n", PROMPT, b"+RAW:5,hello\r\n"]),
    );
}

#[test]
fn raw_data_is_binary_safe() {
    let payload: &[u8] = b"\r\n\0\",+++\r\rAT\r\n\n\\\xff";
    let input = cat(&[format!("AT+RAW={}\r\n", payload.len()).as_bytes(), payload]);
    assert_bytes(
        &transcript(&input),
        &cat(&[
            READY,
            format!("AT+RAW={}\r\n", payload.len()).as_bytes(),
            PROMPT,
            format!("+RAW:{},", payload.len()).as_bytes(),
            payload,
            b"\r\n",
        ]),
    );
}

#[test]
fn raw_data_surplus_bytes_are_the_next_command_line() {
    assert_bytes(
        &transcript(b"AT+RAW=3\r\nabcAT\r\nAT+ECHO=1\r\n"),
        &cat(&[
            READY,
            b"AT+RAW=3\r\n",
            PROMPT,
            b"+RAW:3,abc\r\n",
            b"AT\r\n",
            OK,
            b"AT+ECHO=1\r\n+ECHO:SET,[1]\r\n",
            OK,
        ]),
    );
}

#[test]
fn raw_data_never_starts_with_the_lf_of_the_cr_lf() {
    // The LF completing CR LF is swallowed; the next LF is data.
    assert_bytes(
        &transcript(b"AT+RAW=3\r\n\nab"),
        &cat(&[READY, b"AT+RAW=3\r\n", PROMPT, b"+RAW:3,\nab\r\n"]),
    );
}

#[test]
fn raw_data_swallows_the_lf_when_it_arrives_in_a_later_read() {
    let rx = MockRx::new(vec![data(b"AT+RAW=2\r"), data(b"\nxy")]);
    let (stop, out) = run_with(config(), rx);
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &out,
        &cat(&[READY, b"AT+RAW=2\r\n", PROMPT, b"+RAW:2,xy\r\n"]),
    );
}

#[test]
fn raw_data_after_a_bare_lf_keeps_a_leading_lf() {
    assert_bytes(
        &transcript(b"AT+RAW=2\n\nx"),
        &cat(&[READY, b"AT+RAW=2\r\n", PROMPT, b"+RAW:2,\nx\r\n"]),
    );
}

#[test]
fn raw_data_after_a_bare_cr_starts_with_the_next_byte() {
    assert_bytes(
        &transcript(b"AT+RAW=2\rxy"),
        &cat(&[READY, b"AT+RAW=2\r\n", PROMPT, b"+RAW:2,xy\r\n"]),
    );
}

#[test]
fn raw_data_after_a_lone_cr_host_keeps_a_leading_lf() {
    // The host ended `AT` with a lone CR (as `atat` does), so the LF after the raw-data
    // line's CR is its first data byte (SPEC.md section 2).
    assert_bytes(
        &transcript(b"AT\rAT+RAW=2\r\nx"),
        &cat(&[
            READY,
            b"AT\r\n",
            OK,
            b"AT+RAW=2\r\n",
            PROMPT,
            b"+RAW:2,\nx\r\n",
        ]),
    );
    // The same bytes split at every position give the same answer.
    let rx = MockRx::bytes(b"ATE0\rAT+RAW=2\r\n\n").bytewise();
    let (_, out) = run_with(config(), rx);
    assert_bytes(
        &out,
        &cat(&[READY, b"ATE0\r\n", OK, PROMPT, b"+RAW:2,\n\n\r\n"]),
    );
}

#[test]
fn raw_data_after_a_cr_lf_host_swallows_the_lf() {
    assert_bytes(
        &transcript(b"AT\r\nAT+RAW=2\r\nxy"),
        &cat(&[
            READY,
            b"AT\r\n",
            OK,
            b"AT+RAW=2\r\n",
            PROMPT,
            b"+RAW:2,xy\r\n",
        ]),
    );
}

#[test]
fn raw_data_of_length_zero_completes_at_once() {
    assert_bytes(
        &transcript(b"AT+RAW=0\r\nAT\r\n"),
        &cat(&[
            READY,
            b"AT+RAW=0\r\n",
            PROMPT,
            b"+RAW:0,\r\n",
            b"AT\r\n",
            OK,
        ]),
    );
}

#[test]
fn raw_data_with_echo_off() {
    assert_bytes(
        &transcript(b"ATE0\r\nAT+RAW=4\r\nAT\r\nAT\r\n"),
        &cat(&[READY, b"ATE0\r\n", OK, PROMPT, b"+RAW:4,AT\r\n\r\n", OK]),
    );
}

#[test]
fn raw_command_with_bad_parameters_never_prompts() {
    for line in [
        &b"AT+RAW=513"[..],
        b"AT+RAW=-1",
        b"AT+RAW=",
        b"AT+RAW=1,2",
        b"AT+RAW=\"3\"",
    ] {
        let input = cat(&[line, b"\r\nAT\r\n"]);
        assert_bytes(
            &transcript(&input),
            &cat(&[READY, line, b"\r\n", ERROR, b"AT\r\n", OK]),
        );
    }
}

#[test]
fn raw_data_fills_the_largest_buffer() {
    let payload: Vec<u8> = (0..512u32).map(|i| (i % 251) as u8).collect();
    let input = cat(&[b"AT+RAW=512\r\n", &payload, b"AT\r\n"]);
    assert_bytes(
        &transcript(&input),
        &cat(&[
            READY,
            b"AT+RAW=512\r\n",
            PROMPT,
            b"+RAW:512,",
            &payload,
            b"\r\n",
            b"AT\r\n",
            OK,
        ]),
    );
}

#[test]
fn raw_data_ended_by_end_of_input_fails() {
    assert_bytes(
        &transcript(b"AT+RAW=10\r\nabc"),
        &cat(&[READY, b"AT+RAW=10\r\n", PROMPT, b"+RAW:FAIL\r\n"]),
    );
}

#[test]
fn raw_data_timeout_discards_the_partial_data() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+RAW=10\r\nabc"),
            // The reader stalls until the command has given up.
            Item::Wait(&bench.raw_done),
            data(b"AT\r\n"),
        ];
        let (stop, out) = bench.run(short_raw_timeout(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT+RAW=10\r\n",
                PROMPT,
                b"+RAW:FAIL\r\n",
                b"AT\r\n",
                OK,
            ]),
        );
    }
}

#[test]
fn raw_data_timeout_then_bytes_are_command_input_again() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+RAW=4\r\nab"),
            Item::Wait(&bench.raw_done),
            // Late raw bytes now form a (bad) command line.
            data(b"cd\r\nAT\r\n"),
        ];
        let (stop, out) = bench.run(short_raw_timeout(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT+RAW=4\r\n",
                PROMPT,
                b"+RAW:FAIL\r\n",
                b"cd\r\n",
                ERROR,
                b"AT\r\n",
                OK,
            ]),
        );
    }
}

#[test]
fn lines_after_raw_data_while_the_command_waits_get_busy() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+RAWWAIT=3\r\nxyzAT\r\n"),
            Item::Release(&bench.release),
            data(b"AT\r\n"),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT+RAWWAIT=3\r\n",
                PROMPT,
                b"AT\r\n",
                BUSY,
                b"+RAWWAIT:xyz\r\n",
                b"AT\r\n",
                OK,
            ]),
        );
    }
}

// ---------------------------------------------------------------------------------------
// URCs (SPEC.md section 5)
// ---------------------------------------------------------------------------------------

#[test]
fn urc_is_written_when_idle() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![Item::Wait(&bench.a), data(b"AT\r\n")];
        let producer = async {
            bench.push(URC).await;
            until_empty(&bench.urcs).await;
            bench.a.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, URC, b"AT\r\n", OK]));
    }
}

#[test]
fn queued_urcs_and_waiting_input_take_turns() {
    // Neither side starves the other: one URC, then the input read meanwhile (both lines
    // came in one read), then the next URC.
    let urcs = UrcQueue::<64>::new();
    assert_eq!(urcs.try_push(&[URC]), Ok(true));
    assert_eq!(urcs.try_push(&[b"+URC:2\r\n"]), Ok(true));
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"AT\r\nAT\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &tx.out,
        &cat(&[READY, URC, b"AT\r\n", OK, b"AT\r\n", OK, b"+URC:2\r\n"]),
    );
}

/// How many times `needle` occurs in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("present")
}

#[test]
fn command_is_answered_long_before_a_thousand_queued_urcs_drain() {
    for chunks in modes() {
        let urcs = UrcQueue::<16384>::new();
        for _ in 0..1000 {
            assert_eq!(urcs.try_push(&[URC]), Ok(true));
        }
        let end = Gate::new();
        let mut engine = Engine::new(config(), &urcs);
        let mut rx = MockRx::new(vec![data(b"AT\r\n"), Item::Wait(&end)]).chunked(chunks);
        let mut tx = MockTx::new();
        let producer = async {
            until_empty(&urcs).await;
            end.signal(());
        };
        let (stop, ()) = block_on(join(engine.run(&mut rx, &mut tx, &mut ()), producer));
        assert_eq!(stop, Ok(Stop::EndOfInput));
        let before = count(tx.out.get(..find(&tx.out, OK)).expect("in range"), URC);
        assert!(before <= 2, "{before} URCs before the OK");
        assert_bytes(
            &tx.out,
            &cat(&[
                READY,
                &URC.repeat(before),
                b"AT\r\n",
                OK,
                &URC.repeat(1000 - before),
            ]),
        );
    }
}

#[test]
fn command_typed_while_urcs_keep_arriving_is_executed() {
    // The producer refills the queue while each URC is being sent, so the queue is
    // never empty until the command line has been read (or 5,000 URCs were sent).
    for echo_off in [false, true] {
        let urcs = UrcQueue::<128>::new();
        let (typed, end) = (Gate::new(), Gate::new());
        let mut engine = Engine::new(config(), &urcs);
        let mut items = Vec::new();
        if echo_off {
            assert_eq!(urcs.try_push(&[URC]), Ok(true));
            items.push(data(b"ATE0\r\n"));
        }
        items.extend([
            Item::Release(&typed),
            data(b"AT+ECHO=x\r\n"),
            Item::Release(&typed),
            Item::Wait(&end),
        ]);
        let mut rx = MockRx::new(items).bytewise();
        let mut tx = MockTx {
            slow: true,
            ..MockTx::default()
        };
        let producer = async {
            typed.wait().await;
            let mut sent = 0;
            while !typed.signaled() && sent < 5000 {
                urcs.push(&[URC]).await.expect("fits");
                sent += 1;
            }
            until_empty(&urcs).await;
            end.signal(());
        };
        let (stop, ()) = block_on(join(
            engine.run(&mut rx, &mut tx, &mut TestSet::new()),
            producer,
        ));
        assert_eq!(stop, Ok(Stop::EndOfInput));
        let answer = find(&tx.out, b"+ECHO:SET,[x]\r\n");
        let before = count(tx.out.get(..answer).expect("in range"), URC);
        let total = count(&tx.out, URC);
        assert!(
            before <= 16,
            "echo off {echo_off}: {before} URCs before the answer"
        );
        assert!(total < 100, "echo off {echo_off}: {total} URCs in all");
        if !echo_off {
            // With echo on the typed line itself stays whole.
            assert!(count(&tx.out, b"AT+ECHO=x\r\n+ECHO:SET,[x]\r\n") == 1);
        }
    }
}

#[test]
fn urc_flood_never_breaks_a_partly_received_echoed_line() {
    for chunks in modes() {
        let urcs = UrcQueue::<16384>::new();
        for _ in 0..1000 {
            assert_eq!(urcs.try_push(&[URC]), Ok(true));
        }
        let end = Gate::new();
        let mut engine = Engine::new(config(), &urcs);
        let mut rx = MockRx::new(vec![data(b"AT+GMR\r\n"), Item::Wait(&end)]).chunked(chunks);
        let mut tx = MockTx::new();
        let producer = async {
            until_empty(&urcs).await;
            end.signal(());
        };
        let (stop, ()) = block_on(join(engine.run(&mut rx, &mut tx, &mut ()), producer));
        assert_eq!(stop, Ok(Stop::EndOfInput));
        // One URC before the first byte arrives; then the line, its whole response, and
        // the rest of the queue.
        assert_bytes(
            &tx.out,
            &cat(&[
                READY,
                URC,
                b"AT+GMR\r\n",
                &support_gmr(),
                OK,
                &URC.repeat(999),
            ]),
        );
    }
}

#[test]
fn urcs_come_out_whole_and_in_order() {
    let big: Vec<u8> = cat(&[
        b"+MQTTSUBRECV:0,\"t\",300,",
        &(0..300u32).map(|i| (i % 256) as u8).collect::<Vec<_>>(),
        b"\r\n",
    ]);
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![Item::Wait(&bench.a)];
        let producer = async {
            bench.push(&big).await;
            bench.push(b"+B\r\n").await;
            bench.push(b"").await;
            bench.push(b"+C\r\n").await;
            until_empty(&bench.urcs).await;
            bench.a.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, &big, b"+B\r\n", b"+C\r\n"]));
    }
}

#[test]
fn urc_waits_for_a_partly_received_echoed_line() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+GM"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"R\r\n"),
            Item::Wait(&bench.end),
        ];
        let producer = async {
            bench.a.wait().await;
            bench.push(URC).await;
            // Give the engine every chance to write it too early.
            yields(20).await;
            bench.b.signal(());
            until_empty(&bench.urcs).await;
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+GMR\r\n", &support_gmr(), OK, URC]));
    }
}

fn support_gmr() -> Vec<u8> {
    gmr_lines("seed", "test-board")
}

#[test]
fn urc_may_break_a_partial_line_when_echo_is_off() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"ATE0\r\nAT"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"\r\n"),
        ];
        let producer = async {
            bench.a.wait().await;
            bench.push(URC).await;
            until_empty(&bench.urcs).await;
            bench.b.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, URC, OK]));
    }
}

#[test]
fn urc_is_allowed_while_a_command_waits_before_writing() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![data(b"AT+WAIT\r\n"), Item::Wait(&bench.end)];
        let producer = async {
            bench.started.wait().await;
            bench.push(URC).await;
            until_empty(&bench.urcs).await;
            bench.release.signal(());
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+WAIT\r\n", URC, OK]));
    }
}

#[test]
fn urc_is_held_while_a_command_that_wrote_waits() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![data(b"AT+WWAIT\r\n"), Item::Wait(&bench.end)];
        let producer = async {
            bench.started.wait().await;
            bench.push(URC).await;
            yields(20).await;
            bench.release.signal(());
            until_empty(&bench.urcs).await;
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+WWAIT\r\n+WWAIT:1\r\n", OK, URC]));
    }
}

#[test]
fn urc_is_held_while_a_waiting_command_has_a_partial_echoed_line_pending() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"A"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"T\r\n"),
            Item::Wait(&bench.end),
        ];
        let producer = async {
            bench.a.wait().await;
            bench.push(URC).await;
            yields(20).await;
            bench.release.signal(());
            yields(20).await;
            bench.b.signal(());
            until_empty(&bench.urcs).await;
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+WAIT\r\n", b"A", OK, b"T\r\n", OK, URC]),
        );
    }
}

#[test]
fn urc_is_never_written_inside_raw_data() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+RAW=6\r\nabc"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"def"),
            Item::Wait(&bench.end),
        ];
        let producer = async {
            bench.a.wait().await;
            bench.push(URC).await;
            yields(20).await;
            bench.b.signal(());
            until_empty(&bench.urcs).await;
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+RAW=6\r\n", PROMPT, b"+RAW:6,abcdef\r\n", URC]),
        );
    }
}

#[test]
fn urc_is_not_written_between_command_line_and_prompt() {
    for chunks in modes() {
        let bench = Bench::new();
        // The URC is queued before the command line completes; the prompt comes first.
        let items = vec![
            data(b"AT+RAW=2"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"\r\nxy"),
            Item::Wait(&bench.end),
        ];
        let producer = async {
            bench.a.wait().await;
            bench.push(URC).await;
            yields(20).await;
            bench.b.signal(());
            until_empty(&bench.urcs).await;
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+RAW=2\r\n", PROMPT, b"+RAW:2,xy\r\n", URC]),
        );
    }
}

#[test]
fn urc_may_follow_raw_data_while_the_command_waits() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![data(b"AT+RAWWAIT=2\r\nxy"), Item::Wait(&bench.end)];
        let producer = async {
            bench.started.wait().await;
            bench.push(URC).await;
            until_empty(&bench.urcs).await;
            bench.release.signal(());
            bench.end.signal(());
        };
        let (stop, out) = bench.run(config(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+RAWWAIT=2\r\n", PROMPT, URC, b"+RAWWAIT:xy\r\n"]),
        );
    }
}

#[test]
fn flush_urcs_writes_a_urc_queued_by_the_command_before_its_ok() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![data(b"AT+FLUSH=0\r\n")];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+FLUSH=0\r\n", b"+FLUSHED\r\n", OK]));
    }
}

#[test]
fn flush_urcs_does_nothing_once_the_command_wrote() {
    let bench = Bench::new();
    let items = vec![data(b"AT+FLUSH=1\r\n"), Item::Wait(&bench.end)];
    let producer = async {
        // The URC is written after the result, once the engine is idle.
        yields(20).await;
        until_empty(&bench.urcs).await;
        bench.end.signal(());
    };
    let (stop, out) = bench.run(config(), items, Vec::new(), producer);
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+FLUSH=1\r\n",
            b"+FLUSH:1\r\n",
            OK,
            b"+FLUSHED\r\n",
        ]),
    );
}

#[test]
fn partial_line_timeout_discards_it_silently() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT"),
            Item::Release(&bench.a),
            Item::Wait(&bench.b),
            data(b"E0\r\nAT\r\n"),
        ];
        let producer = async {
            bench.a.wait().await;
            // Held back by the partial echoed line until the timeout discards it.
            bench.push(URC).await;
            until_empty(&bench.urcs).await;
            bench.b.signal(());
        };
        let (stop, out) = bench.run(short_partial_timeout(), items, chunks, producer);
        assert_eq!(stop, Ok(Stop::EndOfInput));
        // `E0` alone is not a command: the `AT` before it was forgotten.
        assert_bytes(
            &out,
            &cat(&[READY, b"AT", URC, b"E0\r\n", ERROR, b"AT\r\n", OK]),
        );
    }
}

#[test]
fn partial_line_timeout_counts_from_the_last_byte_not_the_last_urc() {
    // Echo off, so URCs may be written while the partial line waits. They must not
    // restart its timeout: only received bytes do.
    let bench = Bench::new();
    let items = vec![
        data(b"ATE0\r\nAT"),
        Item::Release(&bench.a),
        Item::Wait(&bench.b),
        data(b"\r\n"),
    ];
    let producer = async {
        bench.a.wait().await;
        // URCs every 10 ms for 300 ms, six times the 50 ms partial-line timeout.
        for _ in 0..30 {
            bench.push(URC).await;
            Timer::after(Duration::from_millis(10)).await;
        }
        until_empty(&bench.urcs).await;
        bench.b.signal(());
    };
    let (stop, out) = bench.run(short_partial_timeout(), items, Vec::new(), producer);
    assert_eq!(stop, Ok(Stop::EndOfInput));
    // The `AT` was discarded long before its terminator came: no `OK` for it.
    assert_bytes(&out, &cat(&[READY, b"ATE0\r\n", OK, &URC.repeat(30)]));
}

#[test]
fn timeouts_of_duration_max_mean_never() {
    let config = config()
        .with_partial_line_timeout(Duration::MAX)
        .with_raw_data_timeout(Duration::MAX);
    for chunks in modes() {
        let bench = Bench::new();
        // The engine goes idle with a partial line, and inside raw data.
        let items = vec![
            data(b"AT"),
            Item::Release(&bench.a),
            data(b"\r\nAT+RAW=4\r\nab"),
            Item::Release(&bench.b),
            data(b"cd"),
        ];
        let (stop, out) = bench.run(config, items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[
                READY,
                b"AT\r\n",
                OK,
                b"AT+RAW=4\r\n",
                PROMPT,
                b"+RAW:4,abcd\r\n",
            ]),
        );
    }
}

#[test]
fn urc_push_waits_for_room_and_nothing_is_dropped() {
    for chunks in modes() {
        let urcs = UrcQueue::<24>::new();
        let gate = Gate::new();
        let mut engine = Engine::new(config(), &urcs);
        let mut rx = MockRx::new(vec![Item::Wait(&gate)]).chunked(chunks);
        let mut tx = MockTx::new();
        let producer = async {
            for i in 0..10 {
                let record = format!("+N:{i}\r\n");
                urcs.push(&[record.as_bytes()]).await.expect("fits");
            }
            until_empty(&urcs).await;
            gate.signal(());
        };
        let (stop, ()) = block_on(join(engine.run(&mut rx, &mut tx, &mut ()), producer));
        assert_eq!(stop, Ok(Stop::EndOfInput));
        let expected: String = (0..10).map(|i| format!("+N:{i}\r\n")).collect();
        assert_bytes(&tx.out, &cat(&[READY, expected.as_bytes()]));
    }
}

// ---------------------------------------------------------------------------------------
// UART errors
// ---------------------------------------------------------------------------------------

#[test]
fn read_error_that_means_the_line_is_gone_stops_the_engine_with_its_kind() {
    for kind in [
        ErrorKind::BrokenPipe,
        ErrorKind::ConnectionReset,
        ErrorKind::ConnectionAborted,
        ErrorKind::NotConnected,
    ] {
        let rx = MockRx::new(vec![data(b"AT\r\n"), Item::Fail(kind), data(b"AT\r\n")]);
        let (stop, out) = run_with(config(), rx);
        assert_eq!(stop, Err(kind));
        assert_bytes(&out, &cat(&[READY, b"AT\r\n", OK]));
    }
}

#[test]
fn write_error_stops_the_engine_with_its_kind() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut rx = MockRx::bytes(b"AT\r\nAT\r\n");
    let mut tx = MockTx {
        fail_after: Some(12),
        ..MockTx::default()
    };
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut ()));
    assert_eq!(stop, Err(ErrorKind::BrokenPipe));
    assert_bytes(&tx.out, &cat(&[READY, b"AT\r"]));
}

#[test]
fn line_gone_while_a_command_waits_still_writes_its_result() {
    let bench = Bench::new();
    let items = vec![data(b"AT+WAIT\r\n"), Item::Fail(ErrorKind::BrokenPipe)];
    let producer = async {
        bench.started.wait().await;
        yields(20).await;
        bench.release.signal(());
    };
    let (stop, out) = bench.run(config(), items, Vec::new(), producer);
    assert_eq!(stop, Err(ErrorKind::BrokenPipe));
    // Receiving is over, but the transmitter still works.
    assert_bytes(&out, &cat(&[READY, b"AT+WAIT\r\n", OK]));
}

#[test]
fn receive_error_while_a_command_waits_keeps_its_result_and_the_next_line_works() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            Item::Fail(ErrorKind::InvalidData),
            Item::Release(&bench.release),
            data(b"AT\r\n"),
        ];
        let (stop, out, rx_errors) = bench.run_counting(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(&out, &cat(&[READY, b"AT+WAIT\r\n", OK, b"AT\r\n", OK]));
        assert_eq!(rx_errors, 1);
    }
}

#[test]
fn receive_error_inside_a_partial_line_discards_that_line_only() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+GM"),
            Item::Fail(ErrorKind::Other),
            data(b"R\r\nAT\r\n"),
        ];
        let (stop, out, rx_errors) = bench.run_counting(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        // Nothing more of the damaged line is echoed or run.
        assert_bytes(&out, &cat(&[READY, b"AT+GM", b"AT\r\n", OK]));
        assert_eq!(rx_errors, 1);
    }
}

#[test]
fn receive_error_discards_a_partial_line_with_echo_off_and_keeps_cr_lf_pairs() {
    let bench = Bench::new();
    let items = vec![
        data(b"ATE0\r\nAT+FAIL=1"),
        Item::Fail(ErrorKind::Other),
        // The LF of this CR LF is swallowed, not an empty line or raw data start.
        data(b"2\r\nAT+RAW=1\r\nx"),
    ];
    let (stop, out, rx_errors) = bench.run_counting(config(), items, vec![1], async {});
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &out,
        &cat(&[READY, b"ATE0\r\n", OK, PROMPT, b"+RAW:1,x\r\n"]),
    );
    assert_eq!(rx_errors, 1);
}

#[test]
fn receive_errors_are_counted_and_between_lines_lose_nothing() {
    let bench = Bench::new();
    let items = vec![
        Item::Fail(ErrorKind::Other),
        data(b"AT\r\n"),
        Item::Fail(ErrorKind::InvalidData),
        Item::Fail(ErrorKind::TimedOut),
        data(b"AT\r\n"),
    ];
    let (stop, out, rx_errors) = bench.run_counting(config(), items, Vec::new(), async {});
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&out, &cat(&[READY, b"AT\r\n", OK, b"AT\r\n", OK]));
    assert_eq!(rx_errors, 3);
}

#[test]
fn receive_error_inside_raw_data_fails_it() {
    let bench = Bench::new();
    let items = vec![
        data(b"AT+RAW=4\r\nab"),
        Item::Fail(ErrorKind::Other),
        data(b"AT\r\n"),
    ];
    let (stop, out, rx_errors) = bench.run_counting(config(), items, Vec::new(), async {});
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+RAW=4\r\n",
            PROMPT,
            b"+RAW:FAIL\r\n",
            b"AT\r\n",
            OK,
        ]),
    );
    assert_eq!(rx_errors, 1);
}

#[test]
fn urc_whose_write_fails_stays_queued() {
    let urcs = UrcQueue::<64>::new();
    assert_eq!(urcs.try_push(&[URC]), Ok(true));
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx {
        fail_after: Some(READY.len() + 3),
        ..MockTx::default()
    };
    let stop = block_on(engine.run(&mut MockRx::new(Vec::new()), &mut tx, &mut ()));
    assert_eq!(stop, Err(ErrorKind::BrokenPipe));
    assert_eq!(urcs.len(), 1);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::new(Vec::new()), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, URC);
}

#[test]
fn input_read_with_the_line_that_ended_run_is_kept_for_the_next_run() {
    // One read brings three lines; a write error ends `run` while the first is answered.
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx {
        fail_after: Some(READY.len() + b"AT\r\n".len() + 2),
        ..MockTx::default()
    };
    let mut rx = MockRx::bytes(b"AT\r\nATE0\r\nAT\r\n");
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut ()));
    assert_eq!(stop, Err(ErrorKind::BrokenPipe));
    // The port runs again on a fresh UART: the two lines already read still run.
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b""), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[b"ATE0\r\n", OK, OK]));
}

#[test]
fn a_line_after_unwritten_oks_is_kept_when_they_cannot_be_written() {
    // With echo off, the `OK`s of `AT` lines read together are written together, before
    // the next line that does anything runs: when that write fails, `ATE1` is still
    // unread, and the next run runs it.
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"ATE0\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    let mut tx = MockTx {
        fail_after: Some(3),
        ..MockTx::default()
    };
    let mut rx = MockRx::bytes(b"AT\r\nAT\r\nATE1\r\nAT\r\n");
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut ()));
    assert_eq!(stop, Err(ErrorKind::BrokenPipe));
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b""), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[OK, b"AT\r\n", OK]));
}

/// `AT+QUEUE`: queues [`URC`] without writing it, answers `OK`.
struct QueueSet<'q>(&'q UrcQueue<64>);

static QUEUE_COMMANDS: [CommandInfo; 1] = [CommandInfo::new("+QUEUE", Forms::EXECUTE)];

impl CommandSet for QueueSet<'_> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        QUEUE_COMMANDS.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        _index: usize,
        _form: Form,
        _args: Args<'_>,
        _cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        self.0
            .try_push(&[URC])
            .map_err(|_| ErrorCode::INVALID_PARAMETER)?;
        Ok(Outcome::Ok)
    }
}

#[test]
fn oks_of_at_lines_written_together_come_before_a_urc_queued_meanwhile() {
    // Echo off, one read: the two `AT`s after `AT+QUEUE` are answered together, and the
    // URC `AT+QUEUE` queued goes out after them (SPEC.md section 5: at a line boundary,
    // after the responses of the lines before it).
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let mut rx = MockRx::bytes(b"ATE0\r\nAT+QUEUE\r\nAT\r\nAT\r\n");
    let stop = block_on(engine.run(&mut rx, &mut tx, &mut QueueSet(&urcs)));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[READY, b"ATE0\r\n", OK, OK, OK, OK, URC]));
}

#[test]
fn restart_forgets_input_read_with_the_rst_line() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b"AT+RST\r\nAT\r\n"), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::Restart));
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(b""), &mut tx, &mut ()));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, READY);
}

// ---------------------------------------------------------------------------------------
// The blocking driver
// ---------------------------------------------------------------------------------------

#[test]
fn blocking_driver_runs_the_same_transcript() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = BlockingTx::default();
    let rx = BlockingRx::new(b"AT\r\nATE0\r\nAT+ECHO=\"a\\,b\"\r\nAT+NOPE\r\n", 3, 2);
    let stop = engine.run_blocking(rx, &mut tx, &mut TestSet::new());
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(
        &tx.out,
        &cat(&[
            READY,
            b"AT\r\n",
            OK,
            b"ATE0\r\n",
            OK,
            b"+ECHO:SET,[a,b]\r\n",
            OK,
            ERROR,
        ]),
    );
}

#[test]
fn blocking_driver_handles_raw_data_and_restart() {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = BlockingTx::default();
    let rx = BlockingRx::new(b"AT+RAW=4\r\n\r\n\0\nAT+RST\r\nAT\r\n", 1, 1);
    let stop = engine.run_blocking(rx, &mut tx, &mut TestSet::new());
    assert_eq!(stop, Ok(Stop::Restart));
    assert_bytes(
        &tx.out,
        &cat(&[
            READY,
            b"AT+RAW=4\r\n",
            PROMPT,
            b"+RAW:4,\r\n\0\n\r\n",
            b"AT+RST\r\n",
            OK,
        ]),
    );
}

#[test]
fn blocking_driver_writes_queued_urcs_when_idle() {
    let urcs = UrcQueue::<64>::new();
    urcs.try_push(&[URC]).expect("fits");
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = BlockingTx::default();
    // The reader is not ready for a while: the engine is idle and writes the URC.
    let rx = BlockingRx::new(b"AT\r\n", 64, 50);
    let stop = engine.run_blocking(rx, &mut tx, &mut ());
    assert_eq!(stop, Ok(Stop::EndOfInput));
    assert_bytes(&tx.out, &cat(&[READY, URC, b"AT\r\n", OK]));
}

// ---------------------------------------------------------------------------------------
// Combining command sets
// ---------------------------------------------------------------------------------------

at_core::command_table! {
    /// A second, independent command set.
    pub enum Extra {
        /// `AT+PING`: `+PING:PONG`.
        Ping = "+PING": EXECUTE,
        /// `AT+GMR` again: the basic command must win.
        Gmr = "+GMR": EXECUTE,
    }
}

/// Runs [`Extra`].
struct ExtraSet;

impl CommandSet for ExtraSet {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        Extra::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        _form: Form,
        _args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        match Extra::from_index(index) {
            Some(Extra::Ping) => cx.write_line(b"+PING:PONG").await,
            Some(Extra::Gmr) => cx.write_line(b"+GMR:SHADOWED").await,
            None => return Err(ErrorCode::UNKNOWN_COMMAND),
        }
        Ok(Outcome::Ok)
    }
}

fn run_set<S: CommandSet>(set: &mut S, input: &[u8]) -> Vec<u8> {
    let urcs = UrcQueue::<64>::new();
    let mut engine = Engine::new(config(), &urcs);
    let mut tx = MockTx::new();
    let stop = block_on(engine.run(&mut MockRx::bytes(input).bytewise(), &mut tx, set));
    assert_eq!(stop, Ok(Stop::EndOfInput));
    tx.out
}

#[test]
fn tuple_of_sets_dispatches_to_both_halves() {
    let mut set = (TestSet::new(), ExtraSet);
    let out = run_set(&mut set, b"AT+PING\r\nAT+ECHO=1\r\nAT+DONE\r\n");
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+PING\r\n+PING:PONG\r\n",
            OK,
            b"AT+ECHO=1\r\n+ECHO:SET,[1]\r\n",
            OK,
            b"AT+DONE\r\n+DONE:OK\r\n",
        ]),
    );
    assert_eq!(set.0.executed, 2);
    assert_eq!(set.len(), TestSet::new().len() + 2);
}

#[test]
fn tuple_of_sets_continues_the_cmd_indices() {
    let mut set = (TestSet::new(), ExtraSet);
    let out = run_set(&mut set, b"AT+CMD?\r\n");
    let text = String::from_utf8(out).expect("ascii");
    assert!(
        text.contains("+CMD:16,\"AT+FLUSH\",0,0,1,0\r\n+CMD:17,\"AT+PING\",0,0,0,1\r\n+CMD:18,\"AT+GMR\",0,0,0,1\r\n\r\nOK\r\n"),
        "{text}"
    );
    let mut set = ((), ExtraSet);
    let out = run_set(&mut set, b"AT+CMD?\r\nAT+PING\r\n");
    let text = String::from_utf8(out).expect("ascii");
    assert!(text.contains("+CMD:7,\"AT+PING\",0,0,0,1\r\n"), "{text}");
    assert!(
        text.ends_with("AT+PING\r\n+PING:PONG\r\n\r\nOK\r\n"),
        "{text}"
    );
}

#[test]
fn basic_commands_take_precedence_over_a_set_with_the_same_name() {
    let out = run_set(&mut ExtraSet, b"AT+GMR\r\n");
    assert_bytes(
        &out,
        &cat(&[READY, b"AT+GMR\r\n", &gmr_lines("seed", "test-board"), OK]),
    );
}

/// A code of [`DescribedSet`]'s own.
const OWN_CODE: ErrorCode = ErrorCode::execution(0x7001);

at_core::command_table! {
    /// A command that always fails with [`OWN_CODE`].
    pub enum Described {
        /// `AT+FAIL`: `ERROR` with [`OWN_CODE`].
        Fail = "+FAIL": EXECUTE,
    }
}

/// Fails `AT+FAIL` with [`OWN_CODE`], which it describes with its text.
struct DescribedSet(&'static str);

impl CommandSet for DescribedSet {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        Described::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        _index: usize,
        _form: Form,
        _args: Args<'_>,
        _cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        Err(OWN_CODE)
    }

    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        (code == OWN_CODE).then_some(self.0)
    }
}

#[test]
fn syntax_codes_have_descriptions() {
    assert_eq!(
        ErrorCode::UNKNOWN_COMMAND.describe(),
        Some("no command of that name")
    );
    let count = ErrorCode::parameter_count(5, 3);
    assert_eq!(count.describe(), Some("wrong number of parameters"));
    assert_eq!(count.need_and_given(), Some((5, 3)));
    assert_eq!(OWN_CODE.describe(), None);
    assert_eq!(().describe(ErrorCode::UNKNOWN_COMMAND), None);
}

#[test]
fn a_tuple_asks_its_first_set_then_its_second() {
    assert_eq!(ExtraSet.describe(OWN_CODE), None);
    assert_eq!(
        (ExtraSet, DescribedSet("own")).describe(OWN_CODE),
        Some("own")
    );
    assert_eq!(
        (DescribedSet("own"), ExtraSet).describe(OWN_CODE),
        Some("own")
    );
    assert_eq!(
        (DescribedSet("first"), DescribedSet("second")).describe(OWN_CODE),
        Some("first")
    );
    assert_eq!(
        ((), (ExtraSet, DescribedSet("nested"))).describe(OWN_CODE),
        Some("nested")
    );
    let other = ErrorCode::execution(0x7002);
    assert_eq!((DescribedSet("own"), ExtraSet).describe(other), None);
}

#[test]
fn a_described_error_keeps_the_serial_bytes() {
    let mut set = (ExtraSet, DescribedSet("own"));
    let out = run_set(
        &mut set,
        b"AT+FAIL\r\nAT+SYSLOG=1\r\nAT+FAIL\r\nAT+NOPE\r\n",
    );
    assert_bytes(
        &out,
        &cat(&[
            READY,
            b"AT+FAIL\r\n",
            ERROR,
            b"AT+SYSLOG=1\r\n",
            OK,
            b"AT+FAIL\r\n",
            &err(0x010A_7001),
            b"AT+NOPE\r\n",
            &err(0x0109_0000),
        ]),
    );
}

#[test]
fn rst_completed_while_busy_gets_busy_and_does_not_restart() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"AT+RST\r\n"),
            Item::Release(&bench.release),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+WAIT\r\n", b"AT+RST\r\n", BUSY, OK]),
        );
    }
}

#[test]
fn ate0_completed_while_busy_does_not_change_echo() {
    for chunks in modes() {
        let bench = Bench::new();
        let items = vec![
            data(b"AT+WAIT\r\n"),
            data(b"ATE0\r\n"),
            Item::Release(&bench.release),
            data(b"AT\r\n"),
        ];
        let (stop, out) = bench.run(config(), items, chunks, async {});
        assert_eq!(stop, Ok(Stop::EndOfInput));
        assert_bytes(
            &out,
            &cat(&[READY, b"AT+WAIT\r\n", b"ATE0\r\n", BUSY, OK, b"AT\r\n", OK]),
        );
    }
}
