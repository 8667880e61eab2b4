//! The MQTT URCs: `+MQTTSUBRECV`, `+MQTTCONNECTED`, `+MQTTDISCONNECTED` and
//! `+MQTTSUBFAIL`. Only the runner queues them.

use at_core::{LineBuf, Profile, UrcQueue};

use crate::config::{MAX_HOST, MAX_PATH, MqttConfig};
use crate::topic::MAX_TOPIC;

/// Bytes a `+MQTTSUBRECV` URC adds around the topic and payload.
pub const SUBRECV_OVERHEAD: usize = b"+MQTTSUBRECV:0,\"\",,\r\n".len() + 10;

/// The disconnect URC (both profiles).
pub(crate) const DISCONNECTED: &[u8] = b"+MQTTDISCONNECTED:0\r\n";

/// Queues `+MQTTSUBRECV:0,"<topic>",<len>,<payload>` as one record if it fits now.
pub(crate) fn try_push_subrecv<const URC: usize>(
    urcs: &UrcQueue<URC>,
    topic: &str,
    payload: &[u8],
) -> bool {
    let mut len = LineBuf::<20>::new();
    len.push_decimal(payload.len() as u64);
    let parts: [&[u8]; 7] = [
        b"+MQTTSUBRECV:0,\"",
        topic.as_bytes(),
        b"\",",
        len.as_bytes(),
        b",",
        payload,
        b"\r\n",
    ];
    matches!(urcs.try_push(&parts), Ok(true))
}

/// A formatted connect URC.
pub(crate) type ConnectedLine = LineBuf<{ 64 + MAX_HOST + MAX_PATH }>;

/// Formats the connect URC with its CR LF.
pub(crate) fn connected(profile: Profile, config: Option<&MqttConfig>) -> ConnectedLine {
    let mut line = LineBuf::new();
    match (profile, config) {
        (Profile::EspAt, Some(config)) => {
            let target = &config.target;
            line.push_str("+MQTTCONNECTED:0,");
            line.push_decimal(config.scheme());
            line.push_str(",\"");
            line.push_str(&target.host);
            line.push_str("\",\"");
            line.push_decimal(target.port);
            line.push_str("\",\"");
            line.push_bytes(config.path());
            line.push_str(if target.reconnect { "\",1" } else { "\",0" });
        }
        _ => line.push_bytes(b"+MQTTCONNECTED:0"),
    }
    line.push_bytes(b"\r\n");
    line
}

/// `+MQTTSUBFAIL:0,"<filter>"`: the broker refused to restore a subscription after a
/// reconnect; it is no longer held.
pub(crate) fn subscription_failed(filter: &str) -> LineBuf<{ MAX_TOPIC + 24 }> {
    let mut line = LineBuf::new();
    line.push_str("+MQTTSUBFAIL:0,\"");
    line.push_str(filter);
    line.push_str("\"\r\n");
    line
}
