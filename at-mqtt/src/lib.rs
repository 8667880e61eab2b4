//! `at-mqtt`: the ESP-AT style MQTT command set for [`at_core`], on [`minimq`].
//!
//! Two halves share one [`Shared`] state, in the style of embassy-net's stack/runner
//! split:
//! - [`MqttCommands`] is a [`CommandSet`](at_core::CommandSet) for the engine:
//!   `AT+MQTTUSERCFG`, `AT+MQTTPSK`, `AT+MQTTCONNCFG`, `AT+MQTTCONN`, `AT+MQTTPUB`,
//!   `AT+MQTTPUBRAW`, `AT+MQTTSUB`, `AT+MQTTUNSUB`, `AT+MQTTCLEAN`;
//! - [`Runner`] owns the minimq session and the broker connection, reached through a
//!   [`Network`]. It turns inbound messages into `+MQTTSUBRECV` URCs and reconnects.
//!
//! Run both in one task; when the engine returns (e.g. `AT+RST`), dropping the runner
//! drops the broker connection as a power cut would:
//!
//! ```
//! use at_core::{Config, Engine, Profile, Stop, UrcQueue};
//! use at_mqtt::{MqttCommands, Network, Options, Runner, Shared};
//! use embassy_futures::select::{Either, select};
//! use embedded_io_async::{ErrorKind, Read, Write};
//!
//! async fn modem<N: Network>(
//!     uart_rx: &mut impl Read,
//!     uart_tx: &mut impl Write,
//!     network: N,
//! ) -> Result<Stop, ErrorKind> {
//!     let urcs = UrcQueue::<4096>::new();
//!     let shared = Shared::<1024, 10>::new(Options::new(Profile::Seed));
//!     let mut engine = Engine::new(Config::new("my-board"), &urcs);
//!     let mut commands = MqttCommands::new(&shared);
//!     let (mut rx, mut tx) = ([0; 2048], [0; 2048]);
//!     let mut runner = Runner::new(&shared, &urcs, network, &mut rx, &mut tx);
//!     match select(engine.run(uart_rx, uart_tx, &mut commands), runner.run()).await {
//!         Either::First(stop) => stop, // e.g. `Stop::Restart`: reset the board
//!         Either::Second(never) => never,
//!     }
//! }
//! ```
//!
//! Every message the broker may send fits in the URC queue: the runner advertises a
//! maximum packet size no larger than one URC record, so a larger message is refused by
//! the broker, not truncated here.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod budget;
mod commands;
pub mod error;
mod network;
mod options;
mod resume;
mod runner;
mod state;
pub mod station;
#[cfg(feature = "tls-psk")]
mod tls;
pub mod topic;
mod urc;

pub use commands::{MqttCommand, MqttCommands};
#[cfg(feature = "embassy-net")]
pub use network::EmbassyNetwork;
pub use network::{ConnectError, Network, SplitStream};
pub use options::Options;
pub use resume::ResumeSession;
pub use runner::Runner;
pub use state::{
    MAX_CLIENT_ID, MAX_CREDENTIAL, MAX_HOST, MAX_LWT_MSG, MAX_PATH, MAX_PSK_IDENTITY, MAX_PSK_KEY,
    Shared,
};
#[cfg(feature = "tls-psk")]
pub use tls::TlsPsk;
pub use urc::SUBRECV_OVERHEAD;
