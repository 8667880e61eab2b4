//! The serial lines a host can reach the simulated modem through.
//!
//! Each mode turns its transport into `embedded_io_async` halves and hands them to
//! [`crate::modem::serve`], the same way a board hands over its UART; [`paced`] holds
//! them to a UART's pace (`--baud`).

pub mod memory;
pub mod paced;
pub mod pty;
pub mod stdio;
pub mod tcp;
pub mod tcp_receiver;
