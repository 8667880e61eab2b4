//! Bytes -> `Engine::run` over a mock UART, with the test command set of at-core's
//! transcript tests (waits, raw data, failures). The first byte picks the read size, the
//! profile and whether to also check that one unsplit read gives the same output.

#![no_main]

#[path = "../../at-core/tests/support/mod.rs"]
mod support;

use at_core::{Profile, Stop};
use libfuzzer_sys::fuzz_target;
use support::{MockRx, READY, config, run_with};

fuzz_target!(|data: &[u8]| {
    let Some((&shape, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(shape & 0x3f) + 1;
    let config = if shape & 0x40 != 0 {
        config().with_profile(Profile::EspAt)
    } else {
        config()
    };
    let (stop, out) = run_with(config, MockRx::bytes(input).chunked(vec![chunk]));
    assert!(
        matches!(stop, Ok(Stop::EndOfInput | Stop::Restart)),
        "{stop:?}"
    );
    assert!(out.starts_with(READY));
    if shape & 0x80 != 0 {
        let (whole_stop, whole) = run_with(config, MockRx::bytes(input));
        assert_eq!(stop, whole_stop);
        assert!(out == whole, "read size {chunk} changed the output");
    }
});
