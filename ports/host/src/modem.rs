//! The simulated board's firmware: what runs on the far side of the serial line.
//!
//! Every serial mode hands its byte streams to [`serve`], which powers the modem on,
//! restarts it on `AT+RST`, and returns when the host side of the line goes away.

use at_core::{Config, Engine, Profile, Stop, UrcQueue};
use at_mqtt::station::IpCommands;
use at_mqtt::{MqttCommands, Options, Runner, Shared};
use embassy_futures::select::{Either, select};
use embedded_io_async::{ErrorKind, Read, Write};

use crate::network::{HostInterface, HostNetwork};

/// The board name shown by `AT+GMR`.
pub const BOARD: &str = "host";

/// Bytes of URC queue (room for unsolicited lines waiting for a line boundary). One
/// record must hold the largest inbound message.
const URC_QUEUE_BYTES: usize = 16 * 1024;
/// The largest inbound MQTT packet (topic, properties and payload).
const MQTT_RX_BYTES: usize = 8 * 1024;
/// minimq's outbound packet and in-flight buffer.
const MQTT_TX_BYTES: usize = 8 * 1024;
/// The largest outbound payload (`AT+MQTTPUBRAW` length).
const PAYLOAD_BYTES: usize = 1024;
/// Subscriptions held at once.
const SUBSCRIPTIONS: usize = 10;

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
    let shared = Shared::<PAYLOAD_BYTES, SUBSCRIPTIONS>::new(Options::new(profile));
    let mut commands = (
        MqttCommands::new(&shared),
        IpCommands::new(HostInterface::default()),
    );
    let mut mqtt_rx = vec![0; MQTT_RX_BYTES];
    let mut mqtt_tx = vec![0; MQTT_TX_BYTES];
    // The MQTT runner works beside the engine for the whole power-on and feeds `urcs`.
    // It never ends by itself: the power-on ends with the engine, and dropping the
    // runner drops the broker connection as a power cut would.
    let mut runner = Runner::new(&shared, &urcs, HostNetwork, &mut mqtt_rx, &mut mqtt_tx);
    match select(engine.run(rx, tx, &mut commands), runner.run()).await {
        Either::First(stop) => stop,
        Either::Second(never) => never,
    }
}
