//! The fixed lines the modem writes (SPEC.md sections 3 and 4), byte for byte.

/// The boot line.
pub const READY: &[u8] = b"\r\nready\r\n";
/// The success result.
pub const OK: &[u8] = b"\r\nOK\r\n";
/// The failure result.
pub const ERROR: &[u8] = b"\r\nERROR\r\n";
/// The answer to a line completed while a command runs.
pub const BUSY: &[u8] = b"busy p...\r\n";
/// The raw data prompt.
pub const PROMPT: &[u8] = b"\r\nOK\r\n\r\n>";
