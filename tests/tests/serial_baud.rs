//! `at-host --baud N`: the serial line is held to a UART's pace, 10 bits per byte.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::time::{Duration, Instant};

use e2e_tests::at::{OK, echoed};
use e2e_tests::{Modem, TIMEOUT};

/// At 9600 baud a direction carries at most 960 bytes per second: 50 exchanges of `AT`
/// (14 bytes each way in all, 10 of them the modem's) cannot take less than their
/// bytes' time on the wire, and every answer is still exact.
#[test]
fn the_line_carries_no_more_than_the_baud_rate_allows() {
    const BYTES_PER_SECOND: f64 = 960.0;
    const LINES: usize = 50;
    let mut modem = Modem::start(&["--baud", "9600"]);
    let start = Instant::now();
    modem.expect(b"\r\nready\r\n", TIMEOUT);
    let mut from_modem = b"\r\nready\r\n".len();
    for _ in 0..LINES {
        let answer = echoed("AT", OK);
        modem.exchange("AT", &answer);
        from_modem += answer.len();
    }
    let elapsed = start.elapsed();
    let wire = Duration::from_secs_f64(from_modem as f64 / BYTES_PER_SECOND);
    assert!(
        elapsed >= wire,
        "{from_modem} bytes from the modem took {elapsed:?}, less than their {wire:?} at 9600 baud"
    );
}
