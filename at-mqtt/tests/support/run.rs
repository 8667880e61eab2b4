//! The one way every scenario starts the real modem: engine and runner under `block_on`,
//! its UART on a [`HostLine`], its connections reaching a [`Broker`] through the
//! [`MockNetwork`], and the result lines the scripts expect.

use std::future::pending;

use at_core::Config;
use at_core::mock::block_on;
use at_mqtt::credentials::CredentialStore;
use at_mqtt::{Modem, ModemResources, Options};
use embassy_futures::select::{Either, select};
use embassy_time::Duration;

use super::{Broker, HostLine, MockNetwork};

/// A command's final result `OK`.
pub const OK: &[u8] = b"\r\nOK\r\n";
/// A command's final result `ERROR`.
pub const ERROR: &[u8] = b"\r\nERROR\r\n";
/// Link 0 is connected.
pub const CONNECTED: &[u8] = b"+MQTTCONNECTED:0\r\n";
/// Link 0 is lost.
pub const DISCONNECTED: &[u8] = b"+MQTTDISCONNECTED:0\r\n";

/// The buffers of every scenario's modem (URC 2 KiB, RX/TX 1 KiB/2 KiB, 4 subscriptions).
type Resources = ModemResources<2048, 1024, 2048, 1024, 4>;

/// Options for `profile` with `bound` as the command bound and short reconnect delays.
pub fn options(profile: at_core::Profile, bound: Duration) -> Options {
    Options::new(profile)
        .with_command_timeout(bound)
        .with_reconnect_delays(Duration::from_millis(20), Duration::from_millis(100))
}

/// Runs `script` against a modem made of `config`, `options` and `credentials`, whose
/// connections reach `broker`; the modem can do scheme 2 (and 3 to 5 with a store).
/// Fails if the modem stops before the script ends.
pub fn run_modem<S: CredentialStore>(
    broker: &Broker,
    config: Config,
    options: Options,
    credentials: S,
    script: impl AsyncFnOnce(HostLine, Broker),
) {
    let host = HostLine::new();
    let mut resources = Box::new(Resources::new());
    let (mut rx, mut tx) = host.uart();
    let network = MockNetwork(broker.clone());
    let mut rng = rand_core::OsRng;
    let mut modem = Modem::with_options(&mut resources, config, options, network, ())
        .with_credentials(credentials)
        .with_tls_psk(&mut rng);
    block_on(async {
        let run = modem.run_once(&mut rx, &mut tx, pending());
        match select(run, script(host.clone(), broker.clone())).await {
            Either::First(stop) => panic!("the modem stopped: {stop:?}"),
            Either::Second(()) => {}
        }
    });
}
