//! The serial lines a host can reach the simulated modem through.
//!
//! Each mode turns its transport into `embedded_io_async` halves and hands them to
//! [`crate::modem::serve`], the same way a board hands over its UART.

pub mod pty;
pub mod stdio;
pub mod tcp;
