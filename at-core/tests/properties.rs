//! Property tests: no input makes the engine or the parsers panic, read chunking never
//! changes the output, escaping round-trips, and integers parse back exactly.

#![allow(missing_docs, reason = "test crate")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "tests fail by panicking"
)]

mod support;

use std::collections::VecDeque;

use at_core::fuzzing::{LineAssembler, MAX_LINE_CONTENT, Step, parse_line};
use at_core::{
    ArgErrorKind, Args, RECORD_OVERHEAD, RecordTooLarge, Stop, UrcQueue, escape_into,
    unescape_in_place,
};
use proptest::collection::vec;
use proptest::prelude::*;
use support::{MockRx, OK, READY, config, run_with, show};

/// Pieces that make inputs likely to reach every path of the engine.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<&'static [u8]> = vec![
        b"AT",
        b"at",
        b"\r",
        b"\n",
        b"\r\n",
        b",",
        b"\"",
        b"\\",
        b"=",
        b"?",
        b"=?",
        b"-",
        b"0",
        b"1",
        b"255",
        b"ATE0",
        b"ATE1",
        b"AT+SYSLOG=1",
        b"AT+SYSLOG?",
        b"AT+CMD?",
        b"AT+GMR",
        b"AT+ECHO=",
        b"AT+ARGS=",
        b"AT+FAIL=",
        b"AT+WAIT",
        b"AT+WWAIT",
        b"AT+RAW=",
        b"AT+RAW=3\r\n",
        b"AT+RAWWAIT=2\r",
        b"AT+PROF?",
        b"AT+DONE",
        b"AT+NOPE",
        b"+++",
    ];
    prop_oneof![
        4 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
        1 => vec(any::<u8>(), 0..8),
        1 => vec(Just(b'x'), 200..300),
    ]
}

/// An input stream of tokens.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    vec(token(), 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_never_panics_on_arbitrary_bytes(
        input in vec(any::<u8>(), 0..2048),
        chunks in vec(0usize..80, 1..8),
    ) {
        let (stop, out) = run_with(config(), MockRx::bytes(&input).chunked(chunks));
        prop_assert!(matches!(stop, Ok(Stop::EndOfInput | Stop::Restart)), "{stop:?}");
        prop_assert!(out.starts_with(READY));
    }

    #[test]
    fn engine_never_panics_on_command_like_streams(
        input in stream(),
        chunks in vec(0usize..80, 1..8),
    ) {
        let (stop, out) = run_with(config(), MockRx::bytes(&input).chunked(chunks));
        prop_assert!(matches!(stop, Ok(Stop::EndOfInput | Stop::Restart)), "{stop:?}");
        prop_assert!(out.starts_with(READY));
    }

    #[test]
    fn chunking_never_changes_the_output(
        input in stream(),
        chunks in vec(0usize..70, 1..10),
    ) {
        let (stop, whole) = run_with(config(), MockRx::bytes(&input));
        let (stop_chunked, chunked) =
            run_with(config(), MockRx::bytes(&input).chunked(chunks));
        let (stop_bytewise, bytewise) = run_with(config(), MockRx::bytes(&input).bytewise());
        prop_assert_eq!(stop, stop_chunked);
        prop_assert_eq!(stop, stop_bytewise);
        prop_assert!(whole == chunked, "\n whole: {}\nchunked: {}", show(&whole), show(&chunked));
        prop_assert!(whole == bytewise, "\n whole: {}\nbytewise: {}", show(&whole), show(&bytewise));
    }

    #[test]
    fn every_at_line_gets_one_ok_whatever_its_terminator(
        lines in vec((prop_oneof![Just(&b"AT"[..]), Just(&b"at"[..]), Just(&b"aT"[..])],
                      prop_oneof![Just(&b"\r\n"[..]), Just(&b"\r"[..]), Just(&b"\n"[..])],
                      0usize..3), 0..30),
    ) {
        let mut input = Vec::new();
        let mut expected = READY.to_vec();
        for (text, terminator, empties) in &lines {
            input.extend_from_slice(text);
            input.extend_from_slice(terminator);
            // Empty lines in between are silent (a lone LF after a bare CR is swallowed).
            for _ in 0..*empties {
                input.extend_from_slice(b"\r\n");
            }
            expected.extend_from_slice(text);
            expected.extend_from_slice(b"\r\n");
            expected.extend_from_slice(OK);
        }
        let (stop, out) = run_with(config(), MockRx::bytes(&input).bytewise());
        prop_assert_eq!(stop, Ok(Stop::EndOfInput));
        prop_assert!(out == expected, "\n got: {}\nwant: {}", show(&out), show(&expected));
    }

    #[test]
    fn raw_data_round_trips_any_payload(payload in vec(any::<u8>(), 1..512), chunk in 1usize..100) {
        let mut input = format!("AT+RAW={}\r\n", payload.len()).into_bytes();
        input.extend_from_slice(&payload);
        input.extend_from_slice(b"AT\r\n");
        let mut expected = READY.to_vec();
        expected.extend_from_slice(format!("AT+RAW={}\r\n", payload.len()).as_bytes());
        expected.extend_from_slice(b"\r\nOK\r\n\r\n>");
        expected.extend_from_slice(format!("+RAW:{},", payload.len()).as_bytes());
        expected.extend_from_slice(&payload);
        expected.extend_from_slice(b"\r\nAT\r\n");
        expected.extend_from_slice(OK);
        let (stop, out) = run_with(config(), MockRx::bytes(&input).chunked(vec![chunk]));
        prop_assert_eq!(stop, Ok(Stop::EndOfInput));
        prop_assert!(out == expected, "\n got: {}\nwant: {}", show(&out), show(&expected));
    }

    #[test]
    fn escape_then_unescape_round_trips(value in vec(any::<u8>(), 0..300)) {
        let mut out = vec![0u8; 2 * value.len()];
        let len = escape_into(&value, &mut out).expect("twice the length always fits");
        let escaped = out.get_mut(..len).expect("len within buffer");
        prop_assert_eq!(unescape_in_place(escaped), &value[..]);
    }

    #[test]
    fn escape_into_reports_a_short_buffer(value in vec(any::<u8>(), 0..100), cap in 0usize..220) {
        let needed = value.len()
            + value.iter().filter(|b| matches!(b, b'\\' | b'"' | b',')).count();
        let mut out = vec![0u8; cap];
        match escape_into(&value, &mut out) {
            Some(len) => {
                prop_assert_eq!(len, needed);
                prop_assert!(len <= cap);
            }
            None => prop_assert!(needed > cap),
        }
    }

    #[test]
    fn unescape_never_grows_and_never_panics(value in vec(any::<u8>(), 0..300)) {
        let mut value = value;
        let before = value.len();
        let after = unescape_in_place(&mut value).len();
        prop_assert!(after <= before);
    }

    #[test]
    fn escaped_fields_read_back_through_args(
        fields in vec((vec(any::<u8>(), 1..24), any::<bool>()), 1..10),
    ) {
        let mut line = Vec::new();
        for (i, (value, quoted)) in fields.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            let mut escaped = vec![0u8; 2 * value.len()];
            let len = escape_into(value, &mut escaped).expect("fits");
            if *quoted {
                line.push(b'"');
            }
            line.extend_from_slice(escaped.get(..len).expect("len within buffer"));
            if *quoted {
                line.push(b'"');
            }
        }
        let mut args = Args::new(&mut line).expect("well-formed line");
        prop_assert_eq!(args.len(), fields.len());
        for (value, _) in &fields {
            prop_assert_eq!(args.str().expect("field"), &value[..]);
        }
        prop_assert_eq!(args.finish(), Ok(()));
    }

    #[test]
    fn empty_quoted_string_is_not_an_omission(before in 0usize..4, after in 0usize..4) {
        let mut line = ",".repeat(before).into_bytes();
        line.extend_from_slice(b"\"\"");
        line.extend_from_slice(",".repeat(after).as_bytes());
        let mut args = Args::new(&mut line).expect("well-formed");
        prop_assert_eq!(args.len(), before + after + 1);
        for _ in 0..before {
            prop_assert_eq!(args.opt_str(), Ok(None));
        }
        prop_assert_eq!(args.opt_str(), Ok(Some(&b""[..])));
        for _ in 0..after {
            prop_assert_eq!(args.opt_str(), Ok(None));
        }
    }

    #[test]
    fn args_never_panic_on_arbitrary_bytes(
        input in vec(any::<u8>(), 0..300),
        reads in vec(0u8..8, 0..24),
    ) {
        let mut input = input;
        let Ok(mut args) = Args::new(&mut input) else {
            return Ok(());
        };
        let count = args.len();
        prop_assert!(count >= 1);
        for read in reads {
            let position = args.position();
            let result = match read {
                0 => args.str().map(drop),
                1 => args.opt_str().map(drop),
                2 => args.int(i64::MIN..=i64::MAX).map(drop),
                3 => args.opt_int(0u8..=2).map(drop),
                4 => args.int(-100i32..=100).map(drop),
                5 => args.opt_int(0u16..=u16::MAX).map(drop),
                6 => args.expect_count(1..=3),
                _ => args.finish(),
            };
            prop_assert!(args.position() <= position + 1);
            if result.is_err() {
                break;
            }
        }
        prop_assert_eq!(args.len(), count);
    }

    #[test]
    fn field_count_is_unescaped_commas_plus_one(
        fields in vec(vec(prop_oneof![Just(b'a'), Just(b' '), Just(b'7'), Just(b'-')], 0..6), 1..12),
    ) {
        let mut line = fields.join(&b","[..]);
        let args = Args::new(&mut line).expect("no quotes, no escapes");
        prop_assert_eq!(args.len(), fields.len());
    }

    #[test]
    fn any_i64_parses_back(
        n in prop_oneof![8 => any::<i64>(), 1 => Just(i64::MIN), 1 => Just(i64::MAX)],
    ) {
        let mut text = n.to_string().into_bytes();
        let mut args = Args::new(&mut text).expect("one field");
        prop_assert_eq!(args.int(i64::MIN..=i64::MAX), Ok(n));
    }

    #[test]
    fn integers_parse_exactly_within_their_range(
        n in any::<i64>(),
        a in any::<i32>(),
        b in any::<i32>(),
    ) {
        let (lo, hi) = (a.min(b), a.max(b));
        let mut text = n.to_string().into_bytes();
        let mut args = Args::new(&mut text).expect("one field");
        let result = args.int(lo..=hi).map_err(|e| e.kind);
        if (i64::from(lo)..=i64::from(hi)).contains(&n) {
            prop_assert_eq!(result, Ok(n as i32));
        } else {
            prop_assert_eq!(result, Err(ArgErrorKind::OutOfRange));
        }
    }

    #[test]
    fn small_integers_parse_into_every_type(n in 0u8..=127) {
        let mut text = n.to_string().into_bytes();
        let mut args = Args::new(&mut text).expect("one field");
        prop_assert_eq!(args.int(0u8..=u8::MAX), Ok(n));
        let mut text = format!("{n},{n},{n},-{n}").into_bytes();
        let mut args = Args::new(&mut text).expect("four fields");
        prop_assert_eq!(args.int(i8::MIN..=i8::MAX), Ok(n as i8));
        prop_assert_eq!(args.int(0u16..=u16::MAX), Ok(u16::from(n)));
        prop_assert_eq!(args.int(0u32..=u32::MAX), Ok(u32::from(n)));
        prop_assert_eq!(args.int(i16::MIN..=0), Ok(-i16::from(n)));
    }

    #[test]
    fn quoted_integers_and_junk_are_not_integers(n in any::<i32>(), junk in "[ a-z+.x]{1,3}") {
        let mut quoted = format!("\"{n}\"").into_bytes();
        let mut args = Args::new(&mut quoted).expect("one field");
        prop_assert_eq!(args.int(i32::MIN..=i32::MAX).map_err(|e| e.kind), Err(ArgErrorKind::NotInteger));
        let mut text = format!("{n}{junk}").into_bytes();
        let mut args = Args::new(&mut text).expect("one field");
        prop_assert_eq!(args.int(i32::MIN..=i32::MAX).map_err(|e| e.kind), Err(ArgErrorKind::NotInteger));
    }

    #[test]
    fn line_assembler_matches_a_reference_model(input in vec(
        prop_oneof![3 => any::<u8>(), 1 => Just(b'\r'), 1 => Just(b'\n'), 1 => Just(b'A')],
        0..1200,
    )) {
        let mut asm = LineAssembler::new();
        let mut got = Vec::new();
        for &byte in &input {
            match asm.push(byte) {
                Step::Line => {
                    prop_assert!(asm.line().len() <= SPEC_LINE_CONTENT);
                    got.push(Event::Line(asm.line().to_vec()));
                    asm.clear();
                }
                Step::Overflow => {
                    got.push(Event::Overflow);
                    asm.clear();
                }
                Step::Empty => got.push(Event::Empty),
                Step::Byte | Step::Swallowed => {}
            }
        }
        prop_assert_eq!(got, model_lines(&input));
    }

    #[test]
    fn parse_line_never_panics_and_borrows_the_line(input in vec(any::<u8>(), 0..300)) {
        let mut input = input;
        let len = input.len();
        if let Ok(line) = parse_line(&mut input) {
            prop_assert!(line.name.len() + line.params.len() + 2 <= len);
        }
    }

    #[test]
    fn urc_queue_behaves_like_a_bounded_fifo(
        ops in vec(prop_oneof![
            2 => vec(any::<u8>(), 0..70).prop_map(Some),
            1 => Just(None),
        ], 0..60),
        chunk in 1usize..10,
    ) {
        const N: usize = 64;
        let queue = UrcQueue::<N>::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for op in ops {
            match op {
                Some(record) => {
                    let used: usize = model.iter().map(|r| r.len() + RECORD_OVERHEAD).sum();
                    let expected = if record.len() > N - RECORD_OVERHEAD {
                        Err(RecordTooLarge)
                    } else {
                        Ok(used + record.len() + RECORD_OVERHEAD <= N)
                    };
                    let got = queue.try_push(&[&record]);
                    prop_assert_eq!(got, expected);
                    if got == Ok(true) {
                        model.push_back(record);
                    }
                }
                None => {
                    let front = model.pop_front();
                    prop_assert_eq!(queue.front_len(), front.as_ref().map(Vec::len));
                    if let Some(front) = front {
                        let mut out = Vec::new();
                        let mut buf = vec![0u8; chunk];
                        loop {
                            let n = queue.peek(out.len(), &mut buf);
                            if n == 0 {
                                break;
                            }
                            out.extend_from_slice(buf.get(..n).expect("n within chunk"));
                        }
                        prop_assert_eq!(out, front);
                    }
                    queue.pop();
                }
            }
            prop_assert_eq!(queue.len(), model.len());
        }
    }
}

/// What the reference model reports for each terminator.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Line(Vec<u8>),
    Overflow,
    Empty,
}

/// SPEC.md section 2: at most 254 bytes before the terminator.
const SPEC_LINE_CONTENT: usize = 254;

#[test]
fn line_cap_is_the_spec_cap() {
    assert_eq!(MAX_LINE_CONTENT, SPEC_LINE_CONTENT);
}

/// SPEC.md section 2 framing, written as plainly as possible.
fn model_lines(input: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut current = Vec::new();
    let mut after_cr = false;
    for &byte in input {
        if byte == b'\n' && after_cr {
            after_cr = false;
            continue;
        }
        after_cr = byte == b'\r';
        if byte == b'\r' || byte == b'\n' {
            events.push(if current.len() > SPEC_LINE_CONTENT {
                Event::Overflow
            } else if current.is_empty() {
                Event::Empty
            } else {
                Event::Line(current.clone())
            });
            current.clear();
        } else {
            current.push(byte);
        }
    }
    events
}

#[test]
fn i64_extremes_parse_back_and_one_past_them_is_out_of_range() {
    for (text, expected) in [
        ("-9223372036854775808", Ok(i64::MIN)),
        ("9223372036854775807", Ok(i64::MAX)),
        ("-9223372036854775809", Err(ArgErrorKind::OutOfRange)),
        ("9223372036854775808", Err(ArgErrorKind::OutOfRange)),
        ("-0", Ok(0)),
    ] {
        let mut text = text.as_bytes().to_vec();
        let mut args = Args::new(&mut text).expect("one field");
        assert_eq!(
            args.int(i64::MIN..=i64::MAX).map_err(|e| e.kind),
            expected,
            "{}",
            show(&text)
        );
    }
}
