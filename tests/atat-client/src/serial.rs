//! The serial port as `embedded-io-async` halves for `atat`: the pseudo-terminal opened
//! twice (one file to read, one to write), raw mode, reads that block for a byte.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use embedded_io_adapters::tokio_1::FromTokio;
use nix::fcntl::OFlag;
use nix::sys::termios::{SetArg, SpecialCharacterIndices, cfmakeraw, tcgetattr, tcsetattr};

/// The port's read and write halves.
pub struct SerialHalves {
    /// Read by `atat`'s ingress.
    pub rx: FromTokio<tokio::fs::File>,
    /// Written by `atat`'s client.
    pub tx: FromTokio<tokio::fs::File>,
}

impl SerialHalves {
    /// Opens `path` (without making it the controlling terminal) in raw mode: bytes pass
    /// unchanged, a read waits for at least one byte.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(OFlag::O_NOCTTY.bits())
                .open(path)
        };
        let rx = open()?;
        let mut termios = tcgetattr(&rx)?;
        cfmakeraw(&mut termios);
        termios.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        termios.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        tcsetattr(&rx, SetArg::TCSANOW, &termios)?;
        let tx = open()?;
        Ok(Self {
            rx: FromTokio::new(tokio::fs::File::from_std(rx)),
            tx: FromTokio::new(tokio::fs::File::from_std(tx)),
        })
    }
}
