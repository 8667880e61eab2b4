//! `at-host --baud N`: the serial line is held to a UART's pace, 10 bits per byte.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::time::{Duration, Instant};

use e2e_tests::at::{OK, echoed};
use e2e_tests::{Modem, TIMEOUT};

/// Exchanges `AT` `lines` times and checks that the modem's bytes took at least their
/// time on a wire carrying `bytes_per_second`; `what` names the case in the failure.
fn exchanges_take_their_wire_time(
    modem: &mut Modem,
    lines: usize,
    bytes_per_second: f64,
    what: &str,
) {
    let start = Instant::now();
    let mut from_modem = 0;
    for _ in 0..lines {
        let answer = echoed("AT", OK);
        modem.exchange("AT", &answer);
        from_modem += answer.len();
    }
    let elapsed = start.elapsed();
    let wire = Duration::from_secs_f64(from_modem as f64 / bytes_per_second);
    assert!(
        elapsed >= wire,
        "{from_modem} bytes from the modem {what} took {elapsed:?}, less than their {wire:?}"
    );
}

/// At 9600 baud a direction carries at most 960 bytes per second: 50 exchanges of `AT`
/// cannot take less than their bytes' time on the wire, and every answer is still exact.
#[test]
fn the_line_carries_no_more_than_the_baud_rate_allows() {
    let mut modem = Modem::ready(&["--baud", "9600"]);
    exchanges_take_their_wire_time(&mut modem, 50, 960.0, "at 9600 baud");
}

/// `AT+UART_CUR` changes the pace after its `OK`: a line started at 921600 baud and
/// switched to 2400 carries at most 240 bytes a second from then on, so 20 exchanges of
/// `AT` take at least their bytes' time at 2400 baud (at 921600 they would take about a
/// hundredth of it); `AT+RST` brings the power-on rate back (`AT+UART_CUR?` says so).
#[test]
fn uart_cur_changes_the_pace_after_its_ok_and_a_restart_restores_it() {
    let mut modem = Modem::ready(&["--baud", "921600"]);
    let query = "AT+UART_CUR?";
    let fast = b"+UART_CUR:921600,8,1,0,0\r\n\r\nOK\r\n";
    modem.exchange(query, &echoed(query, fast));
    let set = "AT+UART_CUR=2400,8,1,0,0";
    modem.exchange(set, &echoed(set, OK));
    let slow = b"+UART_CUR:2400,8,1,0,0\r\n\r\nOK\r\n";
    modem.exchange(query, &echoed(query, slow));

    exchanges_take_their_wire_time(&mut modem, 20, 240.0, "after AT+UART_CUR=2400");

    modem.exchange("AT+RST", &echoed("AT+RST", OK));
    modem.expect(b"\r\nready\r\n", TIMEOUT);
    modem.exchange(query, &echoed(query, fast));
}
