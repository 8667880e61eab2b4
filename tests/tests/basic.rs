//! The basic commands and the line discipline, driven over the simulator's TCP serial line
//! byte for byte as a host MCU would (SPEC.md sections 2, 3 and 6).

use std::time::Duration;

use e2e_tests::{Modem, TIMEOUT};

const READY: &[u8] = b"\r\nready\r\n";
const OK: &[u8] = b"\r\nOK\r\n";
const ERROR: &[u8] = b"\r\nERROR\r\n";

/// The basic commands' rows of `AT+CMD?`, in table order.
const BASIC_ROWS: &[u8] = b"+CMD:0,\"AT\",0,0,0,1\r\n\
+CMD:1,\"ATE0\",0,0,0,1\r\n\
+CMD:2,\"ATE1\",0,0,0,1\r\n\
+CMD:3,\"AT+RST\",0,0,0,1\r\n\
+CMD:4,\"AT+GMR\",0,0,0,1\r\n\
+CMD:5,\"AT+CMD\",0,1,0,0\r\n\
+CMD:6,\"AT+SYSLOG\",0,1,1,0\r\n";

/// Sends `line` with CR LF and checks the whole answer, echo included.
fn exchange(modem: &mut Modem, line: &str, answer: &[u8]) {
    modem.send_line(line);
    modem.expect(answer, TIMEOUT);
}

/// `line` echoed (CR LF), then `result`.
fn echoed(line: &str, result: &[u8]) -> Vec<u8> {
    [line.as_bytes(), b"\r\n", result].concat()
}

/// `ERR CODE:0x...` for `code`, then `ERROR`.
fn error_code(code: u32) -> Vec<u8> {
    [format!("ERR CODE:0x{code:08x}\r\n").as_bytes(), ERROR].concat()
}

/// The exact answer to `AT+GMR` (after its echo) for a `profile`.
fn version_lines(profile: &str) -> Vec<u8> {
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    format!(
        "AT version:{}(at-mqtt-modem)\r\nProtocol profile:{profile}\r\nBuild profile:{build}\r\n\
         Board:host\r\n\r\nOK\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// Turns on `ERR CODE` lines.
fn syslog_on(modem: &mut Modem) {
    exchange(modem, "AT+SYSLOG=1", &echoed("AT+SYSLOG=1", OK));
}

#[test]
fn ready_is_the_first_thing_on_connect() {
    let mut modem = Modem::start(&[]);
    modem.expect(READY, TIMEOUT);
    modem.expect_silence(Duration::from_millis(300));
}

#[test]
fn at_is_echoed_and_answered_ok() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn ate0_turns_echo_off_and_ate1_back_on() {
    let mut modem = Modem::ready(&[]);
    // The line that turns echo off is still echoed.
    exchange(&mut modem, "ATE0", b"ATE0\r\n\r\nOK\r\n");
    exchange(&mut modem, "AT", OK);
    exchange(&mut modem, "AT+FOO", ERROR);
    exchange(&mut modem, "ATE1", OK);
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn commands_are_case_insensitive() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "at", b"at\r\n\r\nOK\r\n");
    exchange(&mut modem, "At", b"At\r\n\r\nOK\r\n");
    exchange(&mut modem, "aT", b"aT\r\n\r\nOK\r\n");
    exchange(
        &mut modem,
        "aT+gmr",
        &echoed("aT+gmr", &version_lines("seed")),
    );
    exchange(
        &mut modem,
        "at+SysLog?",
        b"at+SysLog?\r\n+SYSLOG:0\r\n\r\nOK\r\n",
    );
    exchange(&mut modem, "ate0", b"ate0\r\n\r\nOK\r\n");
    exchange(&mut modem, "aT", OK);
}

#[test]
fn bare_cr_and_bare_lf_end_a_line_and_echo_as_cr_lf() {
    let mut modem = Modem::ready(&[]);
    modem.send(b"AT\r");
    modem.expect(b"AT\r\n\r\nOK\r\n", TIMEOUT);
    modem.send(b"AT\n");
    modem.expect(b"AT\r\n\r\nOK\r\n", TIMEOUT);
    // The LF completing a CR LF split across two writes adds nothing.
    modem.send(b"at\r");
    modem.expect(b"at\r\n\r\nOK\r\n", TIMEOUT);
    modem.send(b"\n");
    modem.expect_silence(Duration::from_millis(300));
    modem.send(b"AT\n\rAT\r\r\n");
    modem.expect(b"AT\r\n\r\nOK\r\nAT\r\n\r\nOK\r\n", TIMEOUT);
    modem.expect_silence(Duration::from_millis(300));
}

#[test]
fn empty_lines_are_ignored_silently() {
    let mut modem = Modem::ready(&[]);
    modem.send(b"\r\n\r\n\n\r\r");
    modem.expect_silence(Duration::from_millis(300));
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn gmr_prints_version_profile_build_and_board() {
    let mut modem = Modem::ready(&[]);
    exchange(
        &mut modem,
        "AT+GMR",
        &echoed("AT+GMR", &version_lines("seed")),
    );
}

#[test]
fn esp_at_profile_flag_is_shown_by_gmr() {
    let mut modem = Modem::ready(&["--profile", "esp-at"]);
    exchange(
        &mut modem,
        "AT+GMR",
        &echoed("AT+GMR", &version_lines("esp-at")),
    );
}

/// Whether `row` is `+CMD:<index>,"AT<name>",<t>,<q>,<s>,<e>` with 0/1 flags.
fn is_command_row(row: &[u8], index: usize) -> bool {
    let Ok(row) = std::str::from_utf8(row) else {
        return false;
    };
    let Some(rest) = row.strip_prefix(&format!("+CMD:{index},\"AT")) else {
        return false;
    };
    let Some((name, flags)) = rest.split_once("\",") else {
        return false;
    };
    let flags: Vec<&str> = flags.split(',').collect();
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'+' || b == b'_')
        && flags.len() == 4
        && flags.iter().all(|f| *f == "0" || *f == "1")
}

#[test]
fn cmd_query_lists_the_command_table() {
    let mut modem = Modem::ready(&[]);
    modem.send_line("AT+CMD?");
    modem.expect(b"AT+CMD?\r\n", TIMEOUT);
    // The basic commands come first, exactly; rows of added command sets follow.
    modem.expect(BASIC_ROWS, TIMEOUT);
    let rest = modem.read_until(OK, TIMEOUT);
    let rows = rest.strip_suffix(OK).unwrap_or_default();
    let rows: Vec<&[u8]> = rows
        .split_inclusive(|&b| b == b'\n')
        .map(|row| row.strip_suffix(b"\r\n").unwrap_or(b"(unterminated)"))
        .collect();
    for (offset, row) in rows.iter().enumerate() {
        assert!(
            is_command_row(row, 7 + offset),
            "malformed row {}: {}\n{}",
            7 + offset,
            e2e_tests::escape(row),
            modem.transcript()
        );
    }
    // The table answers the same way twice.
    modem.send_line("AT+CMD?");
    let again = modem.read_until(OK, TIMEOUT);
    let first = [&b"AT+CMD?\r\n"[..], BASIC_ROWS, &rest].concat();
    assert_eq!(e2e_tests::escape(&again), e2e_tests::escape(&first));
}

#[test]
fn syslog_adds_error_codes_to_error() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "AT+FOO", &echoed("AT+FOO", ERROR));
    syslog_on(&mut modem);
    exchange(
        &mut modem,
        "AT+SYSLOG?",
        b"AT+SYSLOG?\r\n+SYSLOG:1\r\n\r\nOK\r\n",
    );
    exchange(
        &mut modem,
        "AT+FOO",
        &echoed("AT+FOO", &error_code(0x0109_0000)),
    );
    exchange(&mut modem, "AT+SYSLOG=0", &echoed("AT+SYSLOG=0", OK));
    exchange(
        &mut modem,
        "AT+SYSLOG?",
        b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n",
    );
    exchange(&mut modem, "AT+FOO", &echoed("AT+FOO", ERROR));
}

#[test]
fn a_line_not_starting_with_at_is_an_error() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "hello", &echoed("hello", ERROR));
    syslog_on(&mut modem);
    for line in ["hello", "A", "TA", "+GMR", " AT"] {
        exchange(&mut modem, line, &echoed(line, &error_code(0x0103_0000)));
    }
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn a_300_byte_line_is_an_error_and_the_modem_stays_usable() {
    let mut modem = Modem::ready(&[]);
    let long = format!("AT+{}", "X".repeat(297));
    assert_eq!(long.len(), 300);
    // Echo goes on past the limit; the answer comes at the terminator.
    exchange(&mut modem, &long, &echoed(&long, ERROR));
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
    syslog_on(&mut modem);
    exchange(&mut modem, &long, &echoed(&long, &error_code(0x0104_0000)));
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn a_254_byte_line_fits_and_a_255_byte_line_is_too_long() {
    let mut modem = Modem::ready(&[]);
    syslog_on(&mut modem);
    // `AT+SYSLOG=00...00` (leading zeros) is a valid command of any length.
    let fits = format!("AT+SYSLOG={}", "0".repeat(244));
    assert_eq!(fits.len(), 254);
    exchange(&mut modem, &fits, &echoed(&fits, OK));
    exchange(
        &mut modem,
        "AT+SYSLOG?",
        b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n",
    );
    // With syslog off now, turn it on with a 254-byte line ending in 1.
    let fits_on = format!("AT+SYSLOG={}1", "0".repeat(243));
    exchange(&mut modem, &fits_on, &echoed(&fits_on, OK));
    let too_long = format!("AT+SYSLOG={}", "0".repeat(245));
    assert_eq!(too_long.len(), 255);
    exchange(
        &mut modem,
        &too_long,
        &echoed(&too_long, &error_code(0x0104_0000)),
    );
    // Same limits with a bare CR or a bare LF as the terminator.
    modem.send(format!("{fits_on}\r").as_bytes());
    modem.expect(&echoed(&fits_on, OK), TIMEOUT);
    modem.send(format!("{too_long}\n").as_bytes());
    modem.expect(&echoed(&too_long, &error_code(0x0104_0000)), TIMEOUT);
}

#[test]
fn a_form_the_command_lacks_is_an_error() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "AT+GMR?", &echoed("AT+GMR?", ERROR));
    syslog_on(&mut modem);
    for line in [
        "AT+GMR?",
        "AT+GMR=?",
        "AT+GMR=1",
        "AT+RST?",
        "AT+CMD",
        "AT+SYSLOG",
        "AT?",
    ] {
        exchange(&mut modem, line, &echoed(line, &error_code(0x010C_0000)));
    }
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn syslog_accepts_only_0_and_1() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "AT+SYSLOG=2", &echoed("AT+SYSLOG=2", ERROR));
    exchange(
        &mut modem,
        "AT+SYSLOG?",
        b"AT+SYSLOG?\r\n+SYSLOG:0\r\n\r\nOK\r\n",
    );
    syslog_on(&mut modem);
    exchange(
        &mut modem,
        "AT+SYSLOG=2",
        &echoed("AT+SYSLOG=2", &error_code(0x0107_0000)),
    );
    let refused = [
        ("AT+SYSLOG=-1", 0x0107_0000),
        ("AT+SYSLOG=\"1\"", 0x0108_0000),
        ("AT+SYSLOG=1,", 0x0106_0102),
    ];
    for (line, code) in refused {
        exchange(&mut modem, line, &echoed(line, &error_code(code)));
    }
    // An omitted required parameter: some error code, then ERROR.
    modem.send_line("AT+SYSLOG=");
    modem.expect(b"AT+SYSLOG=\r\nERR CODE:0x010", TIMEOUT);
    let rest = modem.read_until(ERROR, TIMEOUT);
    assert_eq!(
        rest.len(),
        b"80000\r\n".len() + ERROR.len(),
        "{}",
        modem.transcript()
    );
    exchange(
        &mut modem,
        "AT+SYSLOG?",
        b"AT+SYSLOG?\r\n+SYSLOG:1\r\n\r\nOK\r\n",
    );
}

#[test]
fn rst_answers_ok_then_powers_on_again() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "ATE0", b"ATE0\r\n\r\nOK\r\n");
    exchange(&mut modem, "AT+SYSLOG=1", OK);
    exchange(&mut modem, "AT+RST", b"\r\nOK\r\n\r\nready\r\n");
    // Power-on state again: echo on, no error codes.
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
    exchange(&mut modem, "AT+FOO", &echoed("AT+FOO", ERROR));
    exchange(&mut modem, "AT+RST", b"AT+RST\r\n\r\nOK\r\n\r\nready\r\n");
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn each_tcp_connection_is_a_power_on() {
    let mut modem = Modem::ready(&[]);
    exchange(&mut modem, "ATE0", b"ATE0\r\n\r\nOK\r\n");
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn slow_partial_line_is_discarded_after_10_s_of_silence() {
    let mut modem = Modem::ready(&[]);
    syslog_on(&mut modem);
    modem.send(b"AT+GM");
    modem.expect(b"AT+GM", TIMEOUT);
    // Discarded silently: nothing is written when the line is dropped.
    modem.expect_silence(Duration::from_secs(11));
    modem.send(b"R\r\n");
    modem.expect(&echoed("R", &error_code(0x0103_0000)), TIMEOUT);
    exchange(&mut modem, "AT", b"AT\r\n\r\nOK\r\n");
}

#[test]
fn slow_partial_line_survives_pauses_shorter_than_10_s() {
    let mut modem = Modem::ready(&[]);
    modem.send(b"AT");
    modem.expect(b"AT", TIMEOUT);
    modem.expect_silence(Duration::from_secs(6));
    modem.send(b"+GM");
    modem.expect(b"+GM", TIMEOUT);
    modem.expect_silence(Duration::from_secs(6));
    // 12 s after the first byte, but never 10 s without one: still `AT+GMR`.
    modem.send(b"R\r\n");
    modem.expect(&echoed("R", &version_lines("seed")), TIMEOUT);
}

#[test]
fn bytes_split_across_many_small_writes_give_the_same_answers() {
    let input: &[u8] =
        b"AT\r\nat+gmr\r\nATE0\r\nAT+SYSLOG=1\nAT+FOO\rhello\r\nAT+GMR?\r\n\r\nATE1\r\nAT\r\n";
    let mut whole = Modem::ready(&[]);
    whole.send(input);
    // Echo is off for ATE1 itself and on again for the last AT.
    let reference = whole.read_until(b"\r\nOK\r\nAT\r\n\r\nOK\r\n", TIMEOUT);
    assert!(
        reference
            .windows(b"ERR CODE:0x01030000".len())
            .any(|w| w == b"ERR CODE:0x01030000"),
        "{}",
        whole.transcript()
    );
    for chunk in [1, 2, 3, 7] {
        let mut split = Modem::ready(&[]);
        for piece in input.chunks(chunk) {
            split.send(piece);
            std::thread::sleep(Duration::from_millis(2));
        }
        split.expect(&reference, TIMEOUT);
        split.expect_silence(Duration::from_millis(200));
    }
}
