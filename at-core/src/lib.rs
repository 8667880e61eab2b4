//! `at-core`: a `no_std`, allocation-free AT command engine.
//!
//! It turns UART bytes into typed commands and writes responses the way ESP-AT does:
//! line framing (CR, LF or CR LF; 256-byte lines), echo, the four command forms, a
//! parameter cursor with in-place unescaping, `busy p...` while a command runs, raw data
//! mode, `ERR CODE` lines, and URCs written only at line boundaries. The basic commands
//! (`AT`, `ATE0`, `ATE1`, `AT+RST`, `AT+GMR`, `AT+CMD?`, `AT+SYSLOG`) are built in; other
//! crates add commands by implementing [`CommandSet`].
//!
//! Features (none by default): `defmt` or `log` select a logging backend (`defmt` also
//! derives `defmt::Format` for the public types); `mock` adds a scripted mock UART for
//! tests (needs std).
//!
//! ```
//! use at_core::{Config, Engine, UrcQueue};
//! # use embedded_io_async::{ErrorType, Read, Write};
//! # struct Script(&'static [u8]);
//! # impl ErrorType for Script { type Error = core::convert::Infallible; }
//! # impl Read for Script {
//! #     async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
//! #         let n = self.0.len().min(buf.len());
//! #         buf[..n].copy_from_slice(&self.0[..n]);
//! #         self.0 = &self.0[n..];
//! #         Ok(n)
//! #     }
//! # }
//! # struct Sink(Vec<u8>);
//! # impl ErrorType for Sink { type Error = core::convert::Infallible; }
//! # impl Write for Sink {
//! #     async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
//! #         self.0.extend_from_slice(buf);
//! #         Ok(buf.len())
//! #     }
//! #     async fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
//! # }
//! let urcs = UrcQueue::<256>::new();
//! let mut engine = Engine::new(Config::new("doc"), &urcs);
//! let (mut rx, mut tx) = (Script(b"AT\r\n"), Sink(Vec::new()));
//! embassy_futures::block_on(engine.run(&mut rx, &mut tx, &mut ())).unwrap();
//! assert_eq!(tx.0, b"\r\nready\r\nAT\r\n\r\nOK\r\n");
//! ```
#![cfg_attr(not(any(test, feature = "mock")), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// First, so that the logging macros are visible in every module.
mod fmt;

mod args;
mod basic;
mod blocking;
mod command;
mod context;
mod driver;
mod engine;
mod error;
mod line;
#[cfg(feature = "mock")]
#[doc(hidden)]
pub mod mock;
mod profile;
mod time;
mod urc;
pub mod wire;

pub use args::{ArgError, ArgErrorKind, Args, escape_into, unescape_in_place};
pub use command::{CommandInfo, CommandSet, Form, Forms, Outcome};
pub use context::{Context, LineBuf, RawDataTimeout};
pub use engine::{Config, Engine, Stop};
pub use error::ErrorCode;
pub use profile::Profile;
pub use time::deadline_after;
pub use urc::{RECORD_OVERHEAD, RecordTooLarge, UrcQueue};

/// Internals for the fuzz targets, benchmarks and property tests; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::blocking::Polled;
    pub use crate::command::{CommandLine, parse_line};
    pub use crate::engine::Settings;
    pub use crate::line::{LineAssembler, MAX_LINE, MAX_LINE_CONTENT, Step};
}
