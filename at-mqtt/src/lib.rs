//! `at-mqtt`: the ESP-AT style MQTT command set for [`at_core`], on [`minimq`].
//!
//! The design follows embassy-net's `Stack`/`Runner` split:
//! - [`MqttState`] is the memory both halves meet in (configuration, the link view, a
//!   single-slot request mailbox);
//! - [`MqttCommands`] is a [`CommandSet`](at_core::CommandSet) for the engine:
//!   `AT+MQTTUSERCFG`, `AT+MQTTLONGCLIENTID`, `AT+MQTTLONGUSERNAME`,
//!   `AT+MQTTLONGPASSWORD`, `AT+MQTTPSK`, `AT+MQTTCONNCFG`, `AT+MQTTCONN`, `AT+MQTTPUB`,
//!   `AT+MQTTPUBRAW`, `AT+MQTTSUB`, `AT+MQTTUNSUB`, `AT+MQTTCLEAN` (feature `tls-cert`:
//!   also `AT+MQTTSNI`, `AT+MQTTALPN`, and the uploads `AT+MQTTCERT` and `AT+SYSMFG`,
//!   which the runner checks and keeps in its [`credentials`] store). It parses, then calls
//!   the typed methods of [`MqttClient`], which downstream command sets may use too;
//! - [`Runner`] alone owns the broker link: the minimq session, the link state, the
//!   subscriptions and every connect/disconnect URC. It answers every request it takes.
//!
//! [`Modem`] assembles the engine, the commands and the runner for a board. By hand, run
//! both halves in one task; when the engine returns (e.g. `AT+RST`), dropping the
//! runner drops the broker connection as a power cut would:
//!
//! ```
//! use at_core::{Config, Engine, Profile, Stop, UrcQueue};
//! use at_mqtt::{MqttCommands, MqttState, Network, Options, Runner};
//! use embassy_futures::select::{Either, select};
//! use embedded_io_async::{ErrorKind, Read, Write};
//!
//! async fn modem<N: Network>(
//!     uart_rx: &mut impl Read,
//!     uart_tx: &mut impl Write,
//!     network: N,
//! ) -> Result<Stop, ErrorKind> {
//!     let urcs = UrcQueue::<4096>::new();
//!     let state = MqttState::<1024, 10>::new(Options::new(Profile::Seed));
//!     let mut engine = Engine::new(Config::new("my-board"), &urcs);
//!     let mut commands = MqttCommands::new(&state);
//!     let (mut rx, mut tx) = ([0; 2048], [0; 2048]);
//!     let mut runner = Runner::new(&state, &urcs, network, &mut rx, &mut tx);
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
//!
//! [`setup`] holds the ESP-AT set-up commands host drivers send before MQTT (SNTP time,
//! UART rate, stored no-ops); [`station`] the network ones (`AT+CIPSTA`, `AT+CWDHCP`, Wi-Fi).
//!
//! Features: `embassy-net` (the [`Network`] of an embassy-net stack, and SNTP over its
//! UDP), `tls-psk` (scheme 2), `tls-cert` (schemes 3, 4, 5 and the esp-at profile's 2:
//! certificates; their uploads, checked by `credentials::check`), `tls-p384` (P-384
//! server chains, as Let's Encrypt's ECDSA ones, and P-384 CAs), `flash-credentials` (the
//! boards' flash store, `credentials::FlashCredentials`), and `defmt` or `log` for the
//! runner's log of every failure it handles.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
mod fmt;

pub mod absent;
pub mod budget;
mod client;
mod commands;
mod config;
pub mod credentials;
pub mod error;
mod link;
mod mailbox;
mod modem;
mod network;
mod options;
mod runner;
pub mod setup;
mod state;
pub mod station;
#[cfg(feature = "tls-psk")]
mod tls;
pub mod topic;
mod transport;
mod urc;

pub use client::{Delivery, MqttClient, Subscribed, Unsubscribed};
#[cfg(feature = "tls-cert")]
pub use commands::TlsCertCommand;
pub use commands::{MqttCommand, MqttCommands};
pub use config::{
    LOGIN_BYTES, MAX_ALPN, MAX_ALPNS, MAX_CLIENT_ID, MAX_CREDENTIAL, MAX_HOST, MAX_LONG_CREDENTIAL,
    MAX_LWT_MSG, MAX_PATH, MAX_PSK_IDENTITY, MAX_PSK_KEY, MAX_SNI,
};
pub use link::{LinkState, Subscription};
pub use modem::{Modem, ModemResources};
pub use network::{ConnectError, Network, SplitStream};
#[cfg(feature = "embassy-net")]
pub use network::{EmbassyNetwork, EmbassyStream, EmbassyWriter};
pub use options::Options;
pub use runner::Runner;
pub use state::MqttState;
#[cfg(feature = "tls-psk")]
pub use tls::TlsPsk;
#[cfg(feature = "tls-cert")]
pub use tls::cert::CertBuffers;
pub use urc::SUBRECV_OVERHEAD;
