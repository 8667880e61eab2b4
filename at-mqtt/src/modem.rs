//! [`Modem`]: the AT engine, the MQTT commands and the runner assembled for a board, over
//! the buffers of one [`ModemResources`].
//!
//! A board's `main` brings up its pins, clocks, UART and network, then hands them here;
//! everything the ports have in common lives in this module.

use core::convert::Infallible;
use core::future::Future;

use at_core::{CommandSet, Config, Engine, Stop, UrcQueue};
use embassy_futures::select::{Either3, select3};
use embedded_io_async::{ErrorKind, Read, Write};

use crate::budget::{MQTT_RX_BYTES, MQTT_TX_BYTES, PAYLOAD_BYTES, SUBSCRIPTIONS, URC_QUEUE_BYTES};
#[cfg(feature = "tls-cert")]
use crate::budget::{TLS_CA_BYTES, TLS_CLIENT_CERT_BYTES, TLS_CLIENT_KEY_BYTES};
#[cfg(feature = "tls-psk")]
use crate::budget::{TLS_RECORD_RX_BYTES, TLS_RECORD_TX_BYTES};
use crate::credentials::{CredentialStore, NoCredentials};
use crate::{MqttCommands, MqttState, Network, Options, Runner};

/// Every buffer of the modem: the URC queue, the MQTT state, minimq's packet buffers,
/// (feature `tls-psk`) the TLS record buffers and (feature `tls-cert`) the credential
/// buffers of the certificate schemes. Its sizes default to
/// [`budget`](crate::budget)'s; place it in a `ConstStaticCell` (its `new` is `const`) so
/// that it never passes through the stack.
pub struct ModemResources<
    const URC: usize = URC_QUEUE_BYTES,
    const RX: usize = MQTT_RX_BYTES,
    const TX: usize = MQTT_TX_BYTES,
    const PAYLOAD: usize = PAYLOAD_BYTES,
    const SUBS: usize = SUBSCRIPTIONS,
> {
    urcs: UrcQueue<URC>,
    state: MqttState<PAYLOAD, SUBS>,
    mqtt_rx: [u8; RX],
    mqtt_tx: [u8; TX],
    #[cfg(feature = "tls-psk")]
    tls_rx: [u8; TLS_RECORD_RX_BYTES],
    #[cfg(feature = "tls-psk")]
    tls_tx: [u8; TLS_RECORD_TX_BYTES],
    #[cfg(feature = "tls-cert")]
    tls_ca: [u8; TLS_CA_BYTES],
    #[cfg(feature = "tls-cert")]
    tls_client_cert: [u8; TLS_CLIENT_CERT_BYTES],
    #[cfg(feature = "tls-cert")]
    tls_client_key: [u8; TLS_CLIENT_KEY_BYTES],
}

impl<const URC: usize, const RX: usize, const TX: usize, const PAYLOAD: usize, const SUBS: usize>
    Default for ModemResources<URC, RX, TX, PAYLOAD, SUBS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const URC: usize, const RX: usize, const TX: usize, const PAYLOAD: usize, const SUBS: usize>
    ModemResources<URC, RX, TX, PAYLOAD, SUBS>
{
    /// Empty buffers.
    pub const fn new() -> Self {
        Self {
            urcs: UrcQueue::new(),
            // `Modem::new` sets the options; zeros keep the whole struct out of flash.
            state: MqttState::new(Options::unset()),
            mqtt_rx: [0; RX],
            mqtt_tx: [0; TX],
            #[cfg(feature = "tls-psk")]
            tls_rx: [0; TLS_RECORD_RX_BYTES],
            #[cfg(feature = "tls-psk")]
            tls_tx: [0; TLS_RECORD_TX_BYTES],
            #[cfg(feature = "tls-cert")]
            tls_ca: [0; TLS_CA_BYTES],
            #[cfg(feature = "tls-cert")]
            tls_client_cert: [0; TLS_CLIENT_CERT_BYTES],
            #[cfg(feature = "tls-cert")]
            tls_client_key: [0; TLS_CLIENT_KEY_BYTES],
        }
    }
}

/// The assembled modem: engine, MQTT commands plus the port's `extra` commands, runner.
pub struct Modem<
    'a,
    N: Network,
    X: CommandSet,
    const URC: usize,
    const PAYLOAD: usize,
    const SUBS: usize,
    C: CredentialStore = NoCredentials,
> {
    engine: Engine<'a, URC>,
    commands: (MqttCommands<'a, PAYLOAD, SUBS>, X),
    runner: Runner<'a, N, URC, PAYLOAD, SUBS, C>,
    /// The TLS record buffers, until [`with_tls_psk`](Self::with_tls_psk) uses them.
    #[cfg(feature = "tls-psk")]
    tls_records: Option<(&'a mut [u8], &'a mut [u8])>,
    /// The credential buffers, until [`with_tls_psk`](Self::with_tls_psk) uses them.
    #[cfg(feature = "tls-cert")]
    cert_buffers: Option<crate::CertBuffers<'a>>,
}

impl<'a, N: Network, X: CommandSet, const URC: usize, const PAYLOAD: usize, const SUBS: usize>
    Modem<'a, N, X, URC, PAYLOAD, SUBS>
{
    /// Assembles a modem with SPEC.md's default options for `config`'s profile.
    pub fn new<const RX: usize, const TX: usize>(
        resources: &'a mut ModemResources<URC, RX, TX, PAYLOAD, SUBS>,
        config: Config,
        network: N,
        extra: X,
    ) -> Self {
        Self::with_options(
            resources,
            config,
            Options::new(config.profile),
            network,
            extra,
        )
    }

    /// Assembles a modem with `options`; the profile is always `config`'s, so the
    /// engine and the MQTT commands never disagree on it.
    pub fn with_options<const RX: usize, const TX: usize>(
        resources: &'a mut ModemResources<URC, RX, TX, PAYLOAD, SUBS>,
        config: Config,
        mut options: Options,
        network: N,
        extra: X,
    ) -> Self {
        options.profile = config.profile;
        let ModemResources {
            urcs,
            state,
            mqtt_rx,
            mqtt_tx,
            #[cfg(feature = "tls-psk")]
            tls_rx,
            #[cfg(feature = "tls-psk")]
            tls_tx,
            #[cfg(feature = "tls-cert")]
            tls_ca,
            #[cfg(feature = "tls-cert")]
            tls_client_cert,
            #[cfg(feature = "tls-cert")]
            tls_client_key,
        } = resources;
        state.options = options;
        let (urcs, state): (&'a UrcQueue<URC>, &'a MqttState<PAYLOAD, SUBS>) = (urcs, state);
        let runner = Runner::new(state, urcs, network, mqtt_rx, mqtt_tx);
        info!(
            "modem: largest inbound MQTT packet {} bytes",
            runner.max_inbound_packet()
        );
        Self {
            engine: Engine::new(config, urcs),
            commands: (MqttCommands::new(state), extra),
            runner,
            #[cfg(feature = "tls-psk")]
            tls_records: Some((tls_rx, tls_tx)),
            #[cfg(feature = "tls-cert")]
            cert_buffers: Some(crate::CertBuffers::new(
                tls_ca,
                tls_client_cert,
                tls_client_key,
            )),
        }
    }
}

impl<
    'a,
    N: Network,
    X: CommandSet,
    const URC: usize,
    const PAYLOAD: usize,
    const SUBS: usize,
    C: CredentialStore,
> Modem<'a, N, X, URC, PAYLOAD, SUBS, C>
{
    /// Uses `credentials` for the TLS certificate schemes and the host's uploads.
    pub fn with_credentials<D: CredentialStore>(
        self,
        credentials: D,
    ) -> Modem<'a, N, X, URC, PAYLOAD, SUBS, D> {
        Modem {
            engine: self.engine,
            commands: self.commands,
            runner: self.runner.with_credentials(credentials),
            #[cfg(feature = "tls-psk")]
            tls_records: self.tls_records,
            #[cfg(feature = "tls-cert")]
            cert_buffers: self.cert_buffers,
        }
    }

    /// Enables TLS with the resources' buffers: scheme 2 (MQTT over TLS 1.3 with the
    /// key of `AT+MQTTPSK`) and, feature `tls-cert`, the certificate schemes with the
    /// credential store; `rng` must be a cryptographic generator.
    #[cfg(feature = "tls-psk")]
    pub fn with_tls_psk(mut self, rng: &'a mut dyn embedded_tls::CryptoRngCore) -> Self {
        if let Some((rx, tx)) = self.tls_records.take() {
            #[cfg_attr(not(feature = "tls-cert"), allow(unused_mut))]
            let mut tls = crate::TlsPsk::new(rng, rx, tx);
            #[cfg(feature = "tls-cert")]
            if let Some(buffers) = self.cert_buffers.take() {
                tls = tls.with_cert_buffers(buffers);
            }
            self.runner = self.runner.with_tls_psk(tls);
        }
        self
    }

    /// Runs the modem over `rx`/`tx` until `AT+RST` (`Ok(Stop::Restart)`), the end of
    /// input, or a UART error, with `beside` (e.g. a network stack's runner) polled
    /// alongside. The broker link survives a return; dropping the modem drops it.
    pub async fn run_once<R: Read, W: Write>(
        &mut self,
        rx: &mut R,
        tx: &mut W,
        beside: impl Future<Output = Infallible>,
    ) -> Result<Stop, ErrorKind> {
        let Self {
            engine,
            commands,
            runner,
            ..
        } = self;
        match select3(engine.run(rx, tx, commands), runner.run(), beside).await {
            Either3::First(stop) => stop,
            Either3::Second(never) => never,
            Either3::Third(never) => match never {},
        }
    }

    /// Runs the modem for ever, as a board does: `AT+RST` and `AT+RESTORE` call `reset`
    /// (which restarts the chip); `AT+UART_CUR` calls `set_baud_rate` with the UART's
    /// halves once its `OK` has gone out at the old rate; after the end of input or a
    /// UART error the engine goes on with its buffered input. `beside` is polled
    /// alongside (e.g. a network log).
    pub async fn run<R: Read, W: Write>(
        &mut self,
        rx: &mut R,
        tx: &mut W,
        mut reset: impl FnMut() -> Infallible,
        mut set_baud_rate: impl FnMut(&mut R, &mut W, u32),
        beside: impl Future<Output = Infallible>,
    ) -> Infallible {
        let Self {
            engine,
            commands,
            runner,
            ..
        } = self;
        let at = async {
            loop {
                match engine.run(rx, tx, commands).await {
                    Ok(Stop::Restart) => return reset(),
                    Ok(Stop::BaudRate(baud)) => {
                        info!("AT UART: {} baud from now on", baud);
                        set_baud_rate(rx, tx, baud);
                    }
                    Ok(_) => {}
                    Err(error) => warn!("AT UART error: {:?}", crate::fmt::Debug2Format(&error)),
                }
            }
        };
        match select3(at, runner.run(), beside).await {
            Either3::First(never) | Either3::Third(never) => never,
            Either3::Second(never) => never,
        }
    }
}
