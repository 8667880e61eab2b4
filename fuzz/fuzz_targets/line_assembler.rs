//! Bytes -> `LineAssembler`, checked against a plain model of SPEC.md section 2 framing:
//! a line ends at CR, LF or CR LF (the LF after a terminating CR is swallowed), holds at
//! most 254 bytes, and an empty line is reported as such.

#![no_main]

use at_core::fuzzing::{LineAssembler, MAX_LINE_CONTENT, Step};
use libfuzzer_sys::fuzz_target;

/// SPEC.md: at most 254 bytes before the terminator.
const SPEC_LINE_CONTENT: usize = 254;

fuzz_target!(|data: &[u8]| {
    assert_eq!(MAX_LINE_CONTENT, SPEC_LINE_CONTENT);
    let mut asm = LineAssembler::new();
    // The model.
    let mut current: Vec<u8> = Vec::new();
    let mut after_cr = false;
    for &byte in data {
        let step = asm.push(byte);
        let expected = if byte == b'\n' && after_cr {
            after_cr = false;
            Step::Swallowed
        } else {
            after_cr = byte == b'\r';
            if byte == b'\r' || byte == b'\n' {
                let step = if current.len() > SPEC_LINE_CONTENT {
                    Step::Overflow
                } else if current.is_empty() {
                    Step::Empty
                } else {
                    Step::Line
                };
                if step == Step::Line {
                    assert_eq!(asm.line(), &current[..]);
                }
                current.clear();
                step
            } else {
                current.push(byte);
                Step::Byte
            }
        };
        assert_eq!(step, expected, "byte {byte:#04x}");
        assert!(asm.line().len() <= SPEC_LINE_CONTENT);
        match step {
            Step::Byte => assert!(asm.has_partial()),
            Step::Empty | Step::Swallowed => assert!(!asm.has_partial()),
            Step::Line | Step::Overflow => {
                assert!(asm.has_partial());
                asm.clear();
                assert!(!asm.has_partial());
            }
        }
    }
    // Raw data may start now: only the LF completing a CR LF is swallowed.
    assert_eq!(asm.swallow_before_raw(b'\n'), after_cr);
    assert!(!asm.swallow_before_raw(b'\n'));
});
