//! Bytes -> `Args`: the first two bytes choose a sequence of reads (strings, integers of
//! several ranges, count checks), the rest is the parameter text. Nothing may panic, and
//! a string read never returns more bytes than the text holds. The text also goes through
//! `parse_line` and an escape/unescape round trip.

#![no_main]

use at_core::fuzzing::parse_line;
use at_core::{Args, escape_into, unescape_in_place};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((plan, text)) = data.split_first_chunk::<2>() else {
        return;
    };
    let mut plan = u16::from_le_bytes(*plan);

    let mut buf = text.to_vec();
    if let Ok(mut args) = Args::new(&mut buf) {
        let count = args.len();
        assert!(count >= 1);
        for _ in 0..8 {
            let position = args.position();
            let result = match plan & 7 {
                0 => args.str().map(|s| assert!(s.len() <= text.len())),
                1 => args
                    .opt_str()
                    .map(|s| assert!(s.is_none_or(|s| s.len() <= text.len()))),
                2 => args.int(i64::MIN..=i64::MAX).map(drop),
                3 => args.opt_int(0u8..=2).map(drop),
                4 => args.int(-100i32..=100).map(drop),
                5 => args.opt_int(0u16..=u16::MAX).map(drop),
                6 => args.expect_count(1..=4),
                _ => args.finish(),
            };
            plan = plan.rotate_right(3);
            assert!(args.position() <= position + 1);
            assert_eq!(args.len(), count);
            if result.is_err() {
                break;
            }
        }
    }

    let mut line = text.to_vec();
    if let Ok(parsed) = parse_line(&mut line) {
        assert!(parsed.name.len() + parsed.params.len() + 2 <= text.len());
    }

    let mut escaped = vec![0u8; 2 * text.len()];
    let len = escape_into(text, &mut escaped).expect("twice the length always fits");
    assert_eq!(unescape_in_place(&mut escaped[..len]), text);
});
