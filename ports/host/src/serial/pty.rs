//! A pseudo-terminal as the serial line, for serial programs and host drivers.
//!
//! The simulator keeps the master side and, so that programs may close and reopen the
//! port without the terminal hanging up, one descriptor of the slave side. The slave is
//! put in raw mode (no echo, no CR/LF translation) and linked at a stable path.
//!
//! Back-pressure: the simulator adds no buffer of its own (the engine writes straight to
//! the master), but the kernel's terminal buffers cannot be shrunk from user space: the
//! slave's line discipline holds 4095 bytes and the master-to-slave flip buffers hold
//! the rest of what a write is allowed. Measured on Linux 6.18 (a host that stopped
//! reading, the modem's writes to the master counted with strace), the modem gets about
//! 16 KB into the line before it blocks: 4095 in the line discipline, about 12 KB in the
//! flip buffers. That is 1.4 s of a 115200-baud UART, against about 5 KB for the TCP
//! serial line (see `tcp.rs`); a host that must see a UART's push-back should use
//! `--serial tcp:`.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use embedded_io_adapters::tokio_1::FromTokio;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
use tokio::net::unix::pipe;

use crate::modem::{self, Board};
use crate::serial::paced::Arrival;

/// An open pseudo-terminal pair in raw mode: the master side as the modem's UART.
pub struct Pty {
    /// Bytes the host wrote to the port.
    rx: FromTokio<pipe::Receiver>,
    /// Bytes for the host to read from the port.
    tx: FromTokio<pipe::Sender>,
    /// Held open so that the line stays up while no program has the port open.
    _slave: OwnedFd,
    tty: PathBuf,
}

impl Pty {
    /// Opens a pseudo-terminal and sets its slave side to raw mode.
    ///
    /// The master is non-blocking and polled by the runtime through two descriptors, one
    /// per direction, so that a pending read never holds up a write. Tokio's pipe halves
    /// do that for any pollable descriptor; a terminal master is one.
    pub fn open() -> io::Result<Self> {
        let pair = nix::pty::openpty(None, None)?;
        let mut termios = tcgetattr(&pair.slave)?;
        cfmakeraw(&mut termios);
        tcsetattr(&pair.slave, SetArg::TCSANOW, &termios)?;
        let tty = nix::unistd::ttyname(&pair.slave)?;
        let flags = OFlag::from_bits_truncate(fcntl(&pair.master, FcntlArg::F_GETFL)?);
        fcntl(&pair.master, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        let writer = pair.master.try_clone()?;
        Ok(Self {
            rx: FromTokio::new(pipe::Receiver::from_owned_fd_unchecked(pair.master)?),
            tx: FromTokio::new(pipe::Sender::from_owned_fd_unchecked(writer)?),
            _slave: pair.slave,
            tty,
        })
    }

    /// The slave device, e.g. `/dev/pts/5`.
    pub fn tty(&self) -> &Path {
        &self.tty
    }
}

/// A symbolic link to the slave device, removed on drop.
struct Link {
    path: PathBuf,
    target: PathBuf,
}

impl Link {
    /// Links `path` to `target`, replacing a stale symbolic link but nothing else.
    fn create(target: &Path, path: &Path) -> io::Result<Self> {
        if path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            std::fs::remove_file(path)?;
        }
        std::os::unix::fs::symlink(target, path)?;
        Ok(Self {
            path: path.to_owned(),
            target: target.to_owned(),
        })
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Leave the path alone if someone else has replaced the link meanwhile.
        if std::fs::read_link(&self.path).is_ok_and(|t| t == self.target) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Opens a pseudo-terminal, links it at `path`, and serves the modem on it until an
/// I/O error (or until the simulator is stopped, which drops the link).
pub async fn run(path: &Path, board: &mut Board) -> Result<(), String> {
    let mut pty = Pty::open().map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
    let _link = Link::create(pty.tty(), path).map_err(|e| {
        format!(
            "cannot link {} to {}: {e}",
            path.display(),
            pty.tty().display()
        )
    })?;
    eprintln!(
        "at-host: serial port {} -> {}",
        path.display(),
        pty.tty().display()
    );
    log::info!(
        "serial port {} -> {} open; power-on",
        path.display(),
        pty.tty().display()
    );
    let Pty { rx, tx, tty, .. } = &mut pty;
    // The slave stays open, so the input never ends while the simulator runs.
    modem::serve(rx, tx, board)
        .await
        .map_err(|kind| format!("serial line on {} failed: {kind:?}", tty.display()))
}

/// Arrival times are not known on this line.
impl Arrival for FromTokio<pipe::Receiver> {}
