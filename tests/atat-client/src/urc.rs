//! The modem's URCs as `atat` sees them: matched by prefix, fields parsed by `serde_at`.

use atat::atat_derive::{AtatResp, AtatUrc};
use heapless::String;

/// `+MQTTCONNECTED:0` (seed) or `+MQTTCONNECTED:0,<scheme>,"<host>","<port>","<path>",<reconnect>` (esp-at).
#[derive(Clone, Debug, AtatResp)]
pub struct Connected {
    /// `0`.
    pub link_id: u8,
    /// The scheme (esp-at profile).
    pub scheme: Option<u8>,
    /// The broker (esp-at profile).
    pub host: Option<String<64>>,
    /// Its port, quoted (esp-at profile).
    pub port: Option<String<8>>,
    /// The path (esp-at profile).
    pub path: Option<String<32>>,
    /// Reconnect (esp-at profile).
    pub reconnect: Option<u8>,
}

/// `+MQTTDISCONNECTED:0`.
#[derive(Clone, Debug, AtatResp)]
pub struct Disconnected {
    /// `0`.
    pub link_id: u8,
}

/// `+MQTTSUBRECV:0,"<topic>",<length>,<data>`.
#[derive(Clone, Debug, AtatResp)]
pub struct Received {
    /// `0`.
    pub link_id: u8,
    /// The topic.
    pub topic: String<128>,
    /// The data's length.
    pub length: usize,
    /// The data.
    pub data: String<512>,
}

/// `OK` or `FAIL` of `+MQTTPUBRAW:` (seed) or `+MQTTPUB:` (esp-at).
#[derive(Clone, Debug, AtatResp)]
pub struct PublishResult {
    /// `OK` or `FAIL`.
    pub result: String<8>,
}

/// The URCs.
#[allow(
    clippy::large_enum_variant,
    reason = "a test's URCs, held in a short channel; heapless fields size them"
)]
#[derive(Clone, Debug, AtatUrc)]
pub enum Urc {
    /// The link came up.
    #[at_urc("+MQTTCONNECTED")]
    Connected(Connected),
    /// The link went down.
    #[at_urc("+MQTTDISCONNECTED")]
    Disconnected(Disconnected),
    /// A message.
    #[at_urc("+MQTTSUBRECV")]
    Received(Received),
    /// The seed profile's PUBRAW result.
    #[at_urc("+MQTTPUBRAW")]
    PubRawResult(PublishResult),
    /// The esp-at profile's PUBRAW result.
    #[at_urc("+MQTTPUB")]
    PubResult(PublishResult),
}
