//! End-to-end test harness: the `at-host` simulator driven over its serial line exactly
//! as a host MCU drives a board, a real mosquitto broker, and an MQTT peer on the other
//! side of it.
//!
//! - [`Modem`] starts `at-host --serial tcp:127.0.0.1:0` (each test its own process and
//!   port), connects as the host, and checks the modem's bytes exactly.
//! - [`Broker`] starts mosquitto on a free loopback port. A missing mosquitto fails the
//!   test with install instructions; it is never skipped.
//! - [`SerialPort`] opens the simulator's pseudo-terminal (`--serial pty:PATH`) the way
//!   a host program opens a serial port.
//! - [`Flood`] is a peer publishing QoS 0 messages at a steady rate on its own thread.
//! - [`Peer`] is an MQTT v5 client (rumqttc) that publishes and subscribes through the
//!   broker, standing for the rest of the world.
//! - [`TapNetwork`] builds a private network for `at-host --tap`: a TAP device bridged
//!   to a network namespace, where [`NamespaceBroker`] runs mosquitto (plain and TLS-PSK
//!   listeners, and one with certificates) and its command-line clients, [`DhcpServer`]
//!   runs dnsmasq and [`SntpServer`] answers SNTP. It needs root, `ip` and
//!   `/dev/net/tun`, and fails the test without them.
//! - [`emulator`] runs the RP2040 port's real firmware in the Node emulator of
//!   `tests/emulator/` behind the same [`Modem`] handle, with its defmt log decoded
//!   ([`FirmwareLog`]) when a test fails.
//! - [`Testbed`] puts one [`Target`] (the simulator or the emulated board) on its own
//!   network with DHCP and a broker, for the scenarios both targets run.
//!
//! Every process is killed by its process id when its handle drops, so tests can run in
//! parallel and repeatedly without leaving anything behind.
#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "a test harness reports failures by panicking, with a readable message"
)]

pub mod at;
mod binary;
mod broker;
mod dhcp;
pub mod emulator;
pub mod figures;
mod flood;
pub mod hostile;
pub mod memory;
mod modem;
mod netns;
mod netns_broker;
mod peer;
pub mod pki;
mod process;
mod serial_port;
mod sntp;
mod testbed;
mod text;
pub mod tls_records;

pub use binary::at_host;
pub use broker::Broker;
pub use dhcp::DhcpServer;
pub use emulator::FirmwareLog;
pub use flood::Flood;
pub use modem::{HOST_RECEIVE_BUFFER, Modem, TIMEOUT, UART_BYTES_PER_SECOND};
pub use netns::{TapNetwork, require_tap_support};
pub use netns_broker::{NamespaceBroker, NamespaceFlood};
pub use peer::{Message, Peer};
pub use process::{Process, run_to_end};
pub use serial_port::SerialPort;
pub use sntp::{SntpServer, SntpTime};
pub use testbed::{Target, Testbed};
pub use text::{escape, render};
