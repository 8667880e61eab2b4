//! The simulated board's firmware: what runs on the far side of the serial line.
//!
//! Every serial mode hands its byte streams to [`serve`], which powers the modem on,
//! restarts it on `AT+RST`, and returns when the host side of the line goes away.

use core::convert::Infallible;
use core::future::pending;

use at_core::{Config, Engine, Profile, Stop, UrcQueue};
use embassy_futures::select::{Either, select};
use embedded_io_async::{ErrorKind, Read, Write};

/// The board name shown by `AT+GMR`.
pub const BOARD: &str = "host";

/// Bytes of URC queue (room for unsolicited lines waiting for a line boundary).
const URC_QUEUE_BYTES: usize = 4096;

/// Runs the modem over one serial connection until the host side ends its input.
///
/// Starts with a power-on (`\r\nready\r\n`); `AT+RST` powers the modem on again on the
/// same line. Fails when the line reports an I/O error.
pub async fn serve<R: Read, W: Write>(
    rx: &mut R,
    tx: &mut W,
    profile: Profile,
) -> Result<(), ErrorKind> {
    loop {
        match power_on(rx, tx, profile).await? {
            Stop::Restart => {}
            Stop::EndOfInput => return Ok(()),
        }
    }
}

/// One power-on of the modem: fresh state, `ready`, commands until restart or end of
/// input.
async fn power_on<R: Read, W: Write>(
    rx: &mut R,
    tx: &mut W,
    profile: Profile,
) -> Result<Stop, ErrorKind> {
    let urcs = UrcQueue::<URC_QUEUE_BYTES>::new();
    let mut engine = Engine::new(Config::new(BOARD).with_profile(profile), &urcs);
    // The commands beyond the basic ones (`()`: none). The MQTT command set goes here.
    let mut commands = ();
    // Work that runs beside the engine for the whole power-on and feeds `urcs`, such as
    // the MQTT runner. It never ends by itself: the power-on ends with the engine.
    let background = pending::<Infallible>();
    match select(engine.run(rx, tx, &mut commands), background).await {
        Either::First(stop) => stop,
        Either::Second(never) => match never {},
    }
}
