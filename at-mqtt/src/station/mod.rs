//! Network set-up commands in ESP-AT's format, generic over small traits a port
//! implements: [`IpInterface`] for `AT+CIPSTA`, [`WifiStation`] for `AT+CWMODE`,
//! `AT+CWJAP` and `AT+CWQAP`; and the helpers board ports share around their network.

mod board;
mod ip;
mod wifi;

#[cfg(feature = "embassy-net")]
mod embassy;

#[cfg(feature = "embassy-net")]
pub use board::log_network;
pub use board::mac_from_unique_id;
pub use ip::{IpCommand, IpCommands, IpInterface, Ipv4Settings};
pub use wifi::{AccessPoint, JoinError, WifiCommand, WifiCommands, WifiStation};

#[cfg(feature = "embassy-net")]
pub use embassy::EmbassyInterface;
