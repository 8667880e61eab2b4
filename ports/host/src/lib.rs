//! The simulated modem as a library: what the `at-host` binary runs, open to benchmarks
//! that drive the modem from their own process (over an in-memory serial line) instead
//! of through a socket.
//!
//! [`modem::serve`] runs the same engine a board runs over any pair of
//! `embedded_io_async` halves; [`serial`] holds the binary's serial lines and
//! [`tap`] its embassy-net network.

pub mod cli;
pub mod clock;
pub mod credentials;
pub mod line_rate;
pub mod logger;
pub mod modem;
pub mod network;
pub mod script;
pub mod serial;
pub mod tap;
pub mod task;
pub mod wifi;
