//! A serial client for the simulator's pseudo-terminal, as a host program opens a port.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::termios::{SetArg, SpecialCharacterIndices, cfmakeraw, tcgetattr, tcsetattr};

use crate::text::{diff, escape};

/// A serial port opened by path (e.g. the link `at-host --serial pty:PATH` makes), set
/// to raw mode with reads that return after 0.1 s without data, like a host program's
/// port. Dropping it closes the port.
pub struct SerialPort {
    file: File,
    /// Received and not yet consumed.
    pending: Vec<u8>,
}

impl SerialPort {
    /// Opens `path` read-write, without making it the controlling terminal, in raw mode.
    pub fn open(path: &Path) -> Self {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(path)
            .unwrap_or_else(|e| panic!("cannot open serial port {}: {e}", path.display()));
        let mut termios = tcgetattr(&file)
            .unwrap_or_else(|e| panic!("{} is not a terminal: {e}", path.display()));
        cfmakeraw(&mut termios);
        termios.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
        termios.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
        tcsetattr(&file, SetArg::TCSANOW, &termios)
            .unwrap_or_else(|e| panic!("cannot set raw mode on {}: {e}", path.display()));
        Self {
            file,
            pending: Vec::new(),
        }
    }

    /// Writes `bytes` to the port.
    pub fn send(&mut self, bytes: &[u8]) {
        self.file
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("cannot write {} to the port: {e}", escape(bytes)));
    }

    /// Checks that the next bytes read are exactly `expected`, waiting up to `timeout`.
    pub fn expect(&mut self, expected: &[u8], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let n = self.pending.len().min(expected.len());
            assert!(
                self.pending.get(..n) == expected.get(..n),
                "the port's output differs from what was expected:\n{}",
                diff(expected, &self.pending)
            );
            if n == expected.len() {
                self.pending.drain(..n);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for the expected bytes:\n{}",
                diff(expected, &self.pending)
            );
            let mut chunk = [0u8; 256];
            match self.file.read(&mut chunk) {
                Ok(n) => self
                    .pending
                    .extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("reading the port failed: {e}"),
            }
        }
    }
}
