//! Standard input and output as the serial line, for interactive use.
//!
//! When standard input is a terminal, it is put in raw mode for as long as the modem
//! runs, so that a person sees exactly what a host MCU on the UART would see: the
//! terminal neither echoes nor edits lines, Enter sends CR, every other byte goes to
//! the modem as typed, and the modem's output (its echo included) is shown byte for byte,
//! without LF to CR LF translation. Only Ctrl-C keeps its meaning: it raises SIGINT,
//! which stops the simulator (see `stop_signal` in main.rs). The terminal's settings are
//! restored when [`run`] returns, when its future is dropped (SIGINT, SIGTERM), and on
//! a panic.

use std::io::IsTerminal;
use std::sync::{Mutex, Once};

use embedded_io_adapters::tokio_1::FromTokio;
use nix::sys::termios::{
    _POSIX_VDISABLE, LocalFlags, SetArg, SpecialCharacterIndices, Termios, cfmakeraw, tcgetattr,
    tcsetattr,
};

use crate::modem::{self, Board};
use crate::serial::paced::Arrival;

/// Serves the modem on stdin/stdout until end of input.
pub async fn run(board: &mut Board) -> Result<(), String> {
    let _raw = RawTerminal::enter()?;
    let mut rx = FromTokio::new(tokio::io::stdin());
    let mut tx = FromTokio::new(tokio::io::stdout());
    modem::serve(&mut rx, &mut tx, board)
        .await
        .map_err(|kind| format!("serial line on stdio failed: {kind:?}"))
}

/// The terminal's settings from before raw mode, while raw mode is on; the panic hook
/// restores them from here.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

/// Raw mode on the terminal that standard input is, undone on drop.
struct RawTerminal;

impl RawTerminal {
    /// Switches standard input's terminal to raw mode; does nothing (and returns `None`)
    /// when standard input is not a terminal, e.g. a pipe or a file.
    fn enter() -> Result<Option<Self>, String> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Ok(None);
        }
        let saved =
            tcgetattr(&stdin).map_err(|e| format!("cannot read the terminal's mode: {e}"))?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        // cfmakeraw also turns signal characters off; keep Ctrl-C (SIGINT) as the way
        // out, but let Ctrl-\ and Ctrl-Z through as bytes: quitting with a core dump or
        // suspending would leave the shell with a raw terminal.
        raw.local_flags.insert(LocalFlags::ISIG);
        raw.control_chars[SpecialCharacterIndices::VQUIT as usize] = _POSIX_VDISABLE;
        raw.control_chars[SpecialCharacterIndices::VSUSP as usize] = _POSIX_VDISABLE;
        install_panic_hook();
        *saved_settings() = Some(saved);
        if let Err(e) = tcsetattr(&stdin, SetArg::TCSANOW, &raw) {
            saved_settings().take();
            return Err(format!("cannot put the terminal in raw mode: {e}"));
        }
        Ok(Some(Self))
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        restore();
    }
}

/// The saved settings, also after a panic while the lock was held.
fn saved_settings() -> std::sync::MutexGuard<'static, Option<Termios>> {
    SAVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Puts the terminal back as it was before raw mode, once; later calls do nothing.
fn restore() {
    if let Some(saved) = saved_settings().take() {
        // Nothing sensible is left to do if this fails (the terminal is gone).
        let _ = tcsetattr(std::io::stdin(), SetArg::TCSADRAIN, &saved);
    }
}

/// Restores the terminal before the previous panic hook prints the message, so that the
/// message and the shell after it see a normal terminal.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Arrival times are not known on this line.
impl Arrival for FromTokio<tokio::io::Stdin> {}
