//! The simulated board's firmware: what runs on the far side of the serial line.
//!
//! Every serial mode hands its byte streams to [`serve`], which powers the modem on,
//! restarts it on `AT+RST`, and returns when the host side of the line goes away.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;

use at_core::{Config, Profile, Stop};
use at_mqtt::setup::{EmbassySntp, SetupCommands, TimeSource};
use at_mqtt::station::{EmbassyInterface, IpCommands, IpInterface, WifiCommands};
use at_mqtt::{EmbassyNetwork, Modem, ModemResources, Network, budget};
use embassy_net::StackResources;
use embedded_io_async::{ErrorKind, Read, Write};

use crate::clock::HostClock;
use crate::credentials::HostCredentials;
use crate::line_rate::LineRate;
use crate::network::{HostInterface, HostNetwork};
use crate::serial::paced::{Arrival, Paced};
use crate::tap::{self, Tap};
use crate::wifi::{AccessPointSettings, SimulatedWifi};

/// The board name shown by `AT+GMR`.
pub const BOARD: &str = "host";

/// Bytes of URC queue (room for unsolicited lines waiting for a line boundary): four
/// times a board's, as one record must hold the largest inbound message.
const URC_QUEUE_BYTES: usize = 4 * budget::URC_QUEUE_BYTES;
/// The largest inbound MQTT packet (topic, properties and payload): 8 KiB, larger than a
/// board's and within one URC record.
const MQTT_RX_BYTES: usize = 8 * 1024;
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
    /// The serial line's rate: `--baud` at power-on (0: unpaced), then as `AT+UART_CUR`
    /// sets it.
    pub line_rate: LineRate,
    /// Its certificates and keys (in `--state-dir`, or in memory): kept across `AT+RST`.
    pub credentials: HostCredentials,
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
pub async fn serve<R: Read + Arrival, W: Write>(
    rx: &mut R,
    tx: &mut W,
    board: &mut Board,
) -> Result<(), ErrorKind> {
    let rate = board.line_rate.clone();
    let (mut rx, mut tx) = (Paced::new(rx, rate.clone()), Paced::new(tx, rate));
    loop {
        match power_on(&mut rx, &mut tx, board).await? {
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
    // A restarted board's UART runs at its power-on rate again.
    board.line_rate.power_on();
    let line_rate = board.line_rate.clone();
    let credentials = &mut board.credentials;
    match &mut board.uplink {
        Uplink::Host => {
            let idle = std::future::pending();
            let interface = HostInterface::default();
            let parts = Parts {
                network: HostNetwork,
                interface,
                wifi,
                time: HostClock,
                line_rate,
                credentials,
            };
            firmware(rx, tx, profile, parts, idle).await
        }
        Uplink::Tap(device) => {
            let dhcp = device.uses_dhcp();
            let mut resources = StackResources::<{ tap::SOCKETS }>::new();
            let (stack, mut runner) = device.power_on(&mut resources);
            let mut socket_rx = vec![0; TAP_SOCKET_BYTES];
            let mut socket_tx = vec![0; TAP_SOCKET_BYTES];
            let parts = Parts {
                network: EmbassyNetwork::new(stack, &mut socket_rx, &mut socket_tx),
                interface: EmbassyInterface::new(stack).with_dhcp(dhcp),
                wifi,
                time: EmbassySntp::new(stack),
                line_rate,
                credentials,
            };
            let driver = tap::run(stack, &mut runner);
            firmware(rx, tx, profile, parts, driver).await
        }
    }
}

/// The simulated board's buffers: a board's budget with twice the URC queue and MQTT
/// packet buffers (one URC record must hold the largest inbound message).
type Resources = ModemResources<URC_QUEUE_BYTES, MQTT_RX_BYTES, MQTT_TX_BYTES>;

/// What one power-on's firmware runs on besides the serial line.
struct Parts<'c, N, I, T> {
    /// Carries the broker connections.
    network: N,
    /// Answers `AT+CIPSTA` and `AT+CWDHCP`.
    interface: I,
    /// Answers `AT+CWJAP` and friends.
    wifi: SimulatedWifi,
    /// Tells `AT+CIPSNTPTIME?` the time.
    time: T,
    /// Follows `AT+UART_CUR`.
    line_rate: LineRate,
    /// The board's credential store, which outlives the power-on.
    credentials: &'c mut HostCredentials,
}

/// The firmware from power-on to restart or end of input: fresh state, `ready`, commands.
///
/// `stack` is whatever keeps the network moving (the TAP stack's runner), polled beside
/// the modem. `AT+UART_CUR` sets the line rate and the modem goes on.
async fn firmware<R, W, N, I, T>(
    rx: &mut R,
    tx: &mut W,
    profile: Profile,
    parts: Parts<'_, N, I, T>,
    stack: impl Future<Output = Infallible>,
) -> Result<Stop, ErrorKind>
where
    R: Read,
    W: Write,
    N: Network,
    I: IpInterface,
    T: TimeSource,
{
    let Parts {
        network,
        interface,
        wifi,
        time,
        line_rate,
        credentials,
    } = parts;
    let mut resources = Box::new(Resources::new());
    let setup = SetupCommands::new(time, line_rate.shown());
    let extra = ((IpCommands::new(interface), WifiCommands::new(wifi)), setup);
    let config = Config::new(BOARD).with_profile(profile);
    let mut rng = rand_core::OsRng;
    // The runner and the network stack work beside the engine for the whole power-on;
    // dropping them at its end drops the broker connection and the stack as a power
    // cut would.
    let mut modem = Modem::new(&mut resources, config, network, extra)
        .with_tls_psk(&mut rng)
        .with_credentials(credentials);
    let mut stack = pin!(stack);
    loop {
        match modem.run_once(rx, tx, stack.as_mut()).await? {
            Stop::BaudRate(baud) => {
                log::info!("serial line: {baud} baud from now on (AT+UART_CUR)");
                line_rate.set(baud);
            }
            stop => return Ok(stop),
        }
    }
}
