//! `--verbose`: `log` records on standard error.
//!
//! A dozen lines of [`log::Log`] instead of `env_logger`: the simulator needs one level
//! switch and one format, and this adds no dependency beyond the `log` facade the
//! library crates already speak. Without `--verbose` no logger is installed and the
//! facade discards every record, so standard error stays as it was.

use log::{Level, Log, Metadata, Record};

/// Writes each record as `at-host: LEVEL target: message` on standard error.
struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "at-host: {:<5} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Turns logging on for `verbosity` times `--verbose`: 0 off, 1 debug, 2 and more trace.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => return,
        1 => Level::Debug,
        _ => Level::Trace,
    };
    static LOGGER: Stderr = Stderr;
    match log::set_logger(&LOGGER) {
        Ok(()) => log::set_max_level(level.to_level_filter()),
        Err(e) => eprintln!("at-host: cannot turn on logging: {e}"),
    }
}
