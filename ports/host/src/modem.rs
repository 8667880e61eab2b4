//! The simulated board's firmware: what runs on the far side of the serial line.
//!
//! Every serial mode hands its byte streams to [`serve`], which powers the modem on,
//! restarts it on `AT+RST`, and returns when the host side of the line goes away.

use std::convert::Infallible;
use std::future::Future;

use at_core::{Config, Profile, Stop};
use at_mqtt::station::{EmbassyInterface, IpCommands, IpInterface, WifiCommands};
use at_mqtt::{EmbassyNetwork, Modem, ModemResources, Network, budget};
use embassy_net::StackResources;
use embedded_io_async::{ErrorKind, Read, Write};

use crate::network::{HostInterface, HostNetwork};
use crate::serial::paced::Paced;
use crate::tap::{self, Tap};
use crate::wifi::{AccessPointSettings, SimulatedWifi};

/// The board name shown by `AT+GMR`.
pub const BOARD: &str = "host";

/// Bytes of URC queue (room for unsolicited lines waiting for a line boundary): four
/// times a board's, as one record must hold the largest inbound message.
const URC_QUEUE_BYTES: usize = 4 * budget::URC_QUEUE_BYTES;
/// The largest inbound MQTT packet (topic, properties and payload): four times a board's.
const MQTT_RX_BYTES: usize = 4 * budget::MQTT_RX_BYTES;
/// minimq's outbound packet and in-flight buffer: four times a board's.
const MQTT_TX_BYTES: usize = 4 * budget::MQTT_TX_BYTES;
/// Receive and send buffers of the broker's TCP socket on the TAP stack.
const TAP_SOCKET_BYTES: usize = 8 * 1024;

/// What the simulated board is made of.
pub struct Board {
    /// The protocol profile.
    pub profile: Profile,
    /// Its network.
    pub uplink: Uplink,
    /// The access point its simulated Wi-Fi radio can join.
    pub wifi: Option<AccessPointSettings>,
    /// The UART speed the serial line is paced at, if any.
    pub baud: Option<u32>,
}

/// The network the board's MQTT connections and `AT+CIPSTA` use.
pub enum Uplink {
    /// The host's own TCP/IP stack.
    Host,
    /// An embassy-net stack on a TAP device, started afresh at each power-on.
    Tap(Box<Tap>),
}

/// Runs the modem over one serial connection until the host side ends its input.
///
/// Starts with a power-on (`\r\nready\r\n`); `AT+RST` powers the modem on again on the
/// same line. Fails when the line reports an I/O error.
pub async fn serve<R: Read, W: Write>(
    rx: &mut R,
    tx: &mut W,
    board: &mut Board,
) -> Result<(), ErrorKind> {
    match board.baud {
        Some(baud) => {
            let (mut rx, mut tx) = (Paced::new(rx, baud), Paced::new(tx, baud));
            serve_line(&mut rx, &mut tx, board).await
        }
        None => serve_line(rx, tx, board).await,
    }
}

/// [`serve`] on the line as it is.
async fn serve_line<R: Read, W: Write>(
    rx: &mut R,
    tx: &mut W,
    board: &mut Board,
) -> Result<(), ErrorKind> {
    loop {
        match power_on(rx, tx, board).await? {
            Stop::Restart => {}
            _ => return Ok(()),
        }
    }
}

/// One power-on of the modem: its network brought up, then [`firmware`].
async fn power_on<R: Read, W: Write>(
    rx: &mut R,
    tx: &mut W,
    board: &mut Board,
) -> Result<Stop, ErrorKind> {
    let profile = board.profile;
    let wifi = SimulatedWifi::new(board.wifi.clone());
    match &mut board.uplink {
        Uplink::Host => {
            let idle = std::future::pending();
            let interface = HostInterface::default();
            firmware(rx, tx, profile, HostNetwork, interface, wifi, idle).await
        }
        Uplink::Tap(device) => {
            let mut resources = StackResources::<{ tap::SOCKETS }>::new();
            let (stack, mut runner) = device.power_on(&mut resources);
            let mut socket_rx = vec![0; TAP_SOCKET_BYTES];
            let mut socket_tx = vec![0; TAP_SOCKET_BYTES];
            let network = EmbassyNetwork::new(stack, &mut socket_rx, &mut socket_tx);
            let interface = EmbassyInterface::new(stack);
            let driver = tap::run(stack, &mut runner);
            firmware(rx, tx, profile, network, interface, wifi, driver).await
        }
    }
}

/// The simulated board's buffers: a board's budget with twice the URC queue and MQTT
/// packet buffers (one URC record must hold the largest inbound message).
type Resources = ModemResources<URC_QUEUE_BYTES, MQTT_RX_BYTES, MQTT_TX_BYTES>;

/// The firmware from power-on to restart or end of input: fresh state, `ready`, commands.
///
/// `network` carries the broker connections, `interface` answers `AT+CIPSTA`, and
/// `stack` is whatever keeps the network moving (the TAP stack's runner), polled beside
/// the modem.
async fn firmware<R, W, N, I>(
    rx: &mut R,
    tx: &mut W,
    profile: Profile,
    network: N,
    interface: I,
    wifi: SimulatedWifi,
    stack: impl Future<Output = Infallible>,
) -> Result<Stop, ErrorKind>
where
    R: Read,
    W: Write,
    N: Network,
    I: IpInterface,
{
    let mut resources = Box::new(Resources::new());
    let extra = (IpCommands::new(interface), WifiCommands::new(wifi));
    let config = Config::new(BOARD).with_profile(profile);
    let mut rng = rand_core::OsRng;
    // The runner and the network stack work beside the engine for the whole power-on;
    // dropping them at its end drops the broker connection and the stack as a power
    // cut would.
    let mut modem = Modem::new(&mut resources, config, network, extra).with_tls_psk(&mut rng);
    modem.run_once(rx, tx, stack).await
}
