//! Buffer sizes for a board modem: what the example board ports use, sized for MCUs with
//! about 192 KiB of RAM or more. Every size is a parameter of the types that use it; a
//! board with less RAM picks smaller ones.

/// Bytes of URCs (e.g. inbound MQTT messages) that may wait for the UART. One record must
/// hold the largest inbound message, so this bounds [`MQTT_RX_BYTES`] too.
pub const URC_QUEUE_BYTES: usize = 8 * 1024;
/// minimq's receive buffer: the largest inbound MQTT packet (topic, properties and
/// payload), which the broker is told in CONNECT.
pub const MQTT_RX_BYTES: usize = 4 * 1024;
/// minimq's outbound packet and in-flight buffer.
pub const MQTT_TX_BYTES: usize = 4 * 1024;
/// Receive and send buffers of the broker's TCP socket (each).
pub const TCP_SOCKET_BYTES: usize = 4 * 1024;
/// The largest outbound payload held for `AT+MQTTPUBRAW` (the esp-at profile's default
/// cap; the seed profile allows 512).
pub const PAYLOAD_BYTES: usize = 1024;
/// Subscriptions held at once.
pub const SUBSCRIPTIONS: usize = 10;
/// TLS record buffer for scheme 2: one received record of any size TLS allows.
pub const TLS_RECORD_RX_BYTES: usize = 16_640;
/// TLS record buffer for scheme 2: one sent record (larger writes are split).
pub const TLS_RECORD_TX_BYTES: usize = 4096;

// The largest inbound message must fit one URC record.
const _: () = assert!(MQTT_RX_BYTES + crate::urc::SUBRECV_OVERHEAD + 2 <= URC_QUEUE_BYTES);
