//! The MQTT URCs: `+MQTTSUBRECV`, `+MQTTCONNECTED` and `+MQTTDISCONNECTED`.

use core::fmt::Write as _;

use at_core::{LineBuf, Profile, RecordTooLarge, UrcQueue};

use crate::state::{Inner, Target, UserConfig};

/// Bytes a `+MQTTSUBRECV` URC adds around the topic and payload.
pub const SUBRECV_OVERHEAD: usize = b"+MQTTSUBRECV:0,\"\",,\r\n".len() + 10;

/// The disconnect URC (both profiles).
pub(crate) const DISCONNECTED: &[u8] = b"+MQTTDISCONNECTED:0\r\n";

/// Queues `+MQTTSUBRECV:0,"<topic>",<len>,<payload>` as one record, waiting for room.
pub(crate) async fn push_subrecv<const URC: usize>(
    urcs: &UrcQueue<URC>,
    topic: &str,
    payload: &[u8],
) -> Result<(), RecordTooLarge> {
    let mut len = LineBuf::<12>::new();
    let _ = write!(len, "{}", payload.len());
    urcs.push(&[
        b"+MQTTSUBRECV:0,\"",
        topic.as_bytes(),
        b"\",",
        len.as_bytes(),
        b",",
        payload,
        b"\r\n",
    ])
    .await
}

/// Formats the connect URC with its CR LF.
pub(crate) fn connected(
    profile: Profile,
    user: Option<&UserConfig>,
    target: &Target,
) -> LineBuf<{ 64 + crate::state::MAX_HOST + crate::state::MAX_PATH }> {
    let mut line = LineBuf::new();
    match profile {
        Profile::EspAt => {
            let scheme = user.map_or(0, |u| u.scheme);
            let _ = write!(
                line,
                "+MQTTCONNECTED:0,{scheme},\"{}\",\"{}\",\"",
                target.host, target.port
            );
            line.push_bytes(user.map_or(&[][..], |u| &u.path));
            let _ = write!(line, "\",{}", u8::from(target.reconnect));
        }
        _ => line.push_bytes(b"+MQTTCONNECTED:0"),
    }
    line.push_bytes(b"\r\n");
    line
}

/// The connect URC for the current state.
pub(crate) fn connected_for<const P: usize, const S: usize>(
    profile: Profile,
    inner: &Inner<P, S>,
) -> LineBuf<{ 64 + crate::state::MAX_HOST + crate::state::MAX_PATH }> {
    connected(profile, inner.user.as_ref(), &inner.target)
}
