use crate::{
    ProtocolError, QoS,
    packets::{ConnAck, Disconnect, PubAck, PubComp, PubRec, PubRel, Publish, SubAck, UnsubAck},
    varint::Varint,
    wire::{FixedHeader, MessageType},
};

use crate::{de::MqttDeserializer, trace, warn};

use serde::Deserialize;

#[derive(Debug)]
pub(crate) enum ReceivedPacket<'a> {
    ConnAck(ConnAck<'a>),
    Publish(Publish<'a, &'a [u8]>),
    PubAck(PubAck<'a>),
    SubAck(SubAck<'a>),
    UnsubAck(UnsubAck<'a>),
    PubRel(PubRel<'a>),
    PubRec(PubRec<'a>),
    PubComp(PubComp<'a>),
    Disconnect(Disconnect<'a>),
    PingResp,
}

impl<'a> ReceivedPacket<'a> {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ReceivedPacket::ConnAck(_) => "CONNACK",
            ReceivedPacket::Publish(_) => "PUBLISH",
            ReceivedPacket::PubAck(_) => "PUBACK",
            ReceivedPacket::SubAck(_) => "SUBACK",
            ReceivedPacket::UnsubAck(_) => "UNSUBACK",
            ReceivedPacket::PubRel(_) => "PUBREL",
            ReceivedPacket::PubRec(_) => "PUBREC",
            ReceivedPacket::PubComp(_) => "PUBCOMP",
            ReceivedPacket::Disconnect(_) => "DISCONNECT",
            ReceivedPacket::PingResp => "PINGRESP",
        }
    }

    pub(crate) fn from_buffer(buf: &'a [u8]) -> Result<Self, ProtocolError> {
        trace!(
            "Parsing received packet buffer of {=usize} bytes",
            buf.len()
        );
        let mut deserializer = MqttDeserializer::new(buf);
        let mut packet = ReceivedPacket::deserialize(&mut deserializer)?;

        let remaining_payload = deserializer.remainder();

        // We should only have remaining payload for publish messages.
        if !remaining_payload.is_empty() {
            match &mut packet {
                ReceivedPacket::Publish(publish) => {
                    publish.payload = remaining_payload;
                }
                ReceivedPacket::SubAck(suback) => {
                    suback.codes = remaining_payload;
                }
                ReceivedPacket::UnsubAck(unsuback) => {
                    unsuback.codes = remaining_payload;
                }
                _ => {
                    warn!(
                        "Unexpected trailing payload of {=usize} bytes for non-payload packet",
                        remaining_payload.len()
                    );
                    return Err(ProtocolError::MalformedPacket);
                }
            }
        }

        trace!("Parsed inbound packet kind={=str}", packet.kind());
        Ok(packet)
    }
}

struct ControlPacketVisitor;

fn next_required<'de, A, T>(seq: &mut A, field: &'static str) -> Result<T, A::Error>
where
    A: serde::de::SeqAccess<'de>,
    T: Deserialize<'de>,
{
    use serde::de::Error;

    seq.next_element()?.ok_or_else(|| A::Error::custom(field))
}

impl<'de> serde::de::Visitor<'de> for ControlPacketVisitor {
    type Value = ReceivedPacket<'de>;

    fn expecting(&self, formatter: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(formatter, "MQTT Control Packet")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;

        let fixed_header = FixedHeader::from_byte(next_required(&mut seq, "Missing fixed header")?);
        let _length: Varint = next_required(&mut seq, "Missing remaining length")?;
        let packet_type = fixed_header
            .message_type()
            .ok_or_else(|| A::Error::custom("Invalid MQTT control packet type"))?;
        let flags = fixed_header.flags();
        trace!(
            "Received fixed header: type={} flags={=u8:#b} remaining_len={}",
            packet_type, flags, _length
        );

        if !fixed_header.flags_valid() {
            warn!(
                "Rejecting packet {} due to invalid flags {=u8:#b}",
                packet_type, flags
            );
            return Err(A::Error::custom("Invalid MQTT control packet flags"));
        }

        let packet = match packet_type {
            MessageType::ConnAck => {
                ReceivedPacket::ConnAck(next_required(&mut seq, "Missing CONNACK")?)
            }
            MessageType::Publish => {
                let qos = fixed_header
                    .publish_qos()
                    .ok_or_else(|| A::Error::custom("Bad QoS field"))?;

                let topic = next_required(&mut seq, "Missing PUBLISH topic")?;
                let packet_id = if qos > QoS::AtMostOnce {
                    Some(next_required(&mut seq, "Missing PUBLISH packet id")?)
                } else {
                    None
                };

                let properties = next_required(&mut seq, "Missing PUBLISH properties")?;

                let publish: Publish<'_, &[u8]> = Publish {
                    topic,
                    packet_id,
                    properties,
                    payload: &[],
                    retain: fixed_header.publish_retain(),
                    dup: fixed_header.publish_duplicate(),
                    qos,
                };

                ReceivedPacket::Publish(publish)
            }
            MessageType::PubAck => {
                ReceivedPacket::PubAck(next_required(&mut seq, "Missing PUBACK")?)
            }
            MessageType::SubAck => {
                ReceivedPacket::SubAck(next_required(&mut seq, "Missing SUBACK")?)
            }
            MessageType::UnsubAck => {
                ReceivedPacket::UnsubAck(next_required(&mut seq, "Missing UNSUBACK")?)
            }
            MessageType::PingResp => ReceivedPacket::PingResp,
            MessageType::PubRec => {
                ReceivedPacket::PubRec(next_required(&mut seq, "Missing PUBREC")?)
            }
            MessageType::PubRel => {
                ReceivedPacket::PubRel(next_required(&mut seq, "Missing PUBREL")?)
            }
            MessageType::PubComp => {
                ReceivedPacket::PubComp(next_required(&mut seq, "Missing PUBCOMP")?)
            }
            MessageType::Disconnect => {
                ReceivedPacket::Disconnect(next_required(&mut seq, "Missing DISCONNECT")?)
            }
            _ => return Err(A::Error::custom("Unsupported message type")),
        };

        Ok(packet)
    }
}

impl<'de> Deserialize<'de> for ReceivedPacket<'de> {
    fn deserialize<D: serde::de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Deserialize the (fixed_header, length, control_packet | (topic, packet_id, properties)),
        // which corresponds to a maximum of 5 elements.
        deserializer.deserialize_tuple(5, ControlPacketVisitor)
    }
}

#[cfg(test)]
mod test {
    use super::ReceivedPacket;
    use crate::reason_codes::ReasonCode;
    use crate::tests::init_host_logging;
    use crate::{DeError, ProtocolError};

    #[test]
    fn deserialize_good_connack() {
        init_host_logging();
        let serialized_connack: [u8; 5] = [
            0x20, 0x03, // Remaining length = 3 bytes
            0x00, // Connect acknowledge flags - bit 0 clear.
            0x00, // Connect reason code - 0 (Success)
            0x00, // Property length = 0
                  // No payload.
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_connack).unwrap();
        match packet {
            ReceivedPacket::ConnAck(conn_ack) => {
                assert_eq!(conn_ack.reason_code, ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_publish() {
        let serialized_publish: [u8; 7] = [
            0x30, // Publish, no QoS
            0x05, // Remaining length
            0x00, 0x01, // Topic length (1)
            0x41, // Topic name: 'A'
            0x00, // Properties length
            0x05, // Payload
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_publish).unwrap();
        match packet {
            ReceivedPacket::Publish(pub_info) => {
                assert_eq!(pub_info.topic.0, "A");
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_rejects_overflowing_property_varint() {
        let serialized_disconnect: [u8; 9] = [0xE0, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xA3, 0xA3];
        assert!(matches!(
            ReceivedPacket::from_buffer(&serialized_disconnect),
            Err(ProtocolError::Deserialization(DeError::BadVarint))
        ));
    }

    #[test]
    fn deserialize_good_puback() {
        let serialized_puback: [u8; 6] = [
            0x40, // PubAck
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x10, // Response Code
            0x00, // Properties length
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_puback).unwrap();
        match packet {
            ReceivedPacket::PubAck(pub_ack) => {
                assert_eq!(pub_ack.reason.code(), ReasonCode::NoMatchingSubscribers);
                assert_eq!(pub_ack.packet_id, 5);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_puback_without_reason() {
        let serialized_puback: [u8; 4] = [
            0x40, // PubAck
            0x02, // Remaining length
            0x00, 0x06, // Identifier
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_puback).unwrap();
        match packet {
            ReceivedPacket::PubAck(pub_ack) => {
                assert_eq!(pub_ack.packet_id, 6);
                assert_eq!(pub_ack.reason.code(), ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_puback_without_properties() {
        let serialized_puback: [u8; 5] = [
            0x40, // PubAck
            0x03, // Remaining length
            0x00, 0x06, // Identifier
            0x10, // ReasonCode
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_puback).unwrap();
        match packet {
            ReceivedPacket::PubAck(pub_ack) => {
                assert_eq!(pub_ack.packet_id, 6);
                assert_eq!(pub_ack.reason.code(), ReasonCode::NoMatchingSubscribers);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_suback() {
        let serialized_suback: [u8; 6] = [
            0x90, // SubAck
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x00, // Properties length
            0x02, // Response Code
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_suback).unwrap();
        match packet {
            ReceivedPacket::SubAck(sub_ack) => {
                assert_eq!(sub_ack.codes.len(), 1);
                assert_eq!(ReasonCode::from(sub_ack.codes[0]), ReasonCode::GrantedQos2);
                assert_eq!(sub_ack.packet_id, 5);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_unsuback() {
        let serialized_unsuback: [u8; 6] = [
            0xB0, // UnsubAck
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x00, // Properties length
            0x11, // Response Code
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_unsuback).unwrap();
        match packet {
            ReceivedPacket::UnsubAck(unsub_ack) => {
                assert_eq!(unsub_ack.codes.len(), 1);
                assert_eq!(
                    ReasonCode::from(unsub_ack.codes[0]),
                    ReasonCode::NoSubscriptionExisted
                );
                assert_eq!(unsub_ack.packet_id, 5);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_ping_resp() {
        let serialized_ping_req: [u8; 2] = [
            0xd0, // Ping resp
            0x00, // Remaining length (0)
        ];

        let packet = ReceivedPacket::from_buffer(&serialized_ping_req).unwrap();
        match packet {
            ReceivedPacket::PingResp => {}
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn reject_ping_resp_with_invalid_flags() {
        let serialized_ping_resp: [u8; 2] = [
            0xd1, // Ping resp with invalid flags
            0x00,
        ];

        assert!(matches!(
            ReceivedPacket::from_buffer(&serialized_ping_resp),
            Err(ProtocolError::Deserialization(DeError::Custom))
        ));
    }

    #[test]
    fn reject_pubrel_with_invalid_flags() {
        let serialized_pubrel: [u8; 4] = [
            0x60, // PubRel with invalid flags
            0x02, 0x00, 0x05,
        ];

        assert!(matches!(
            ReceivedPacket::from_buffer(&serialized_pubrel),
            Err(ProtocolError::Deserialization(DeError::Custom))
        ));
    }

    #[test]
    fn deserialize_good_pubcomp() {
        let serialized_pubcomp: [u8; 6] = [
            0x70, // PUBCOMP fixed header
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x92, // Response Code
            0x00, // Properties length
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubcomp).unwrap();
        match packet {
            ReceivedPacket::PubComp(comp) => {
                assert_eq!(comp.packet_id, 5);
                assert_eq!(comp.reason.code(), ReasonCode::PacketIdNotFound);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_short_pubcomp() {
        let serialized_pubcomp: [u8; 4] = [
            0x70, // PUBCOMP fixed header
            0x02, // Remaining length
            0x00, 0x05, // Identifier
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubcomp).unwrap();
        match packet {
            ReceivedPacket::PubComp(comp) => {
                assert_eq!(comp.packet_id, 5);
                assert_eq!(comp.reason.code(), ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_pubrec() {
        let serialized_pubrec: [u8; 6] = [
            0x50, // PUBREC fixed header
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x10, // Response Code
            0x00, // Properties length
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubrec).unwrap();
        match packet {
            ReceivedPacket::PubRec(rec) => {
                assert_eq!(rec.packet_id, 5);
                assert_eq!(rec.reason.code(), ReasonCode::NoMatchingSubscribers);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_short_pubrec() {
        let serialized_pubrec: [u8; 4] = [
            0x50, // PUBREC fixed header
            0x02, // Remaining length
            0x00, 0x05, // Identifier
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubrec).unwrap();
        match packet {
            ReceivedPacket::PubRec(rec) => {
                assert_eq!(rec.packet_id, 5);
                assert_eq!(rec.reason.code(), ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_good_pubrel() {
        let serialized_pubrel: [u8; 6] = [
            0x62, // PUBREL fixed header
            0x04, // Remaining length
            0x00, 0x05, // Identifier
            0x10, // Response Code
            0x00, // Properties length
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubrel).unwrap();
        match packet {
            ReceivedPacket::PubRel(rec) => {
                assert_eq!(rec.packet_id, 5);
                assert_eq!(rec.reason.code(), ReasonCode::NoMatchingSubscribers);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_short_pubrel() {
        let serialized_pubrel: [u8; 4] = [
            0x62, // PUBREL fixed header
            0x02, // Remaining length
            0x00, 0x05, // Identifier
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_pubrel).unwrap();
        match packet {
            ReceivedPacket::PubRel(rec) => {
                assert_eq!(rec.packet_id, 5);
                assert_eq!(rec.reason.code(), ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_disconnect_with_reason_only() {
        let serialized_disconnect: [u8; 3] = [
            0xe0, // DISCONNECT fixed header
            0x01, // Remaining length
            0x82, // Protocol Error
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_disconnect).unwrap();
        match packet {
            ReceivedPacket::Disconnect(disconnect) => {
                assert_eq!(disconnect.reason_code(), ReasonCode::ProtocolError);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_disconnect_with_explicit_empty_properties() {
        let serialized_disconnect: [u8; 4] = [
            0xe0, // DISCONNECT fixed header
            0x02, // Remaining length
            0x00, // Success
            0x00, // Properties length
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_disconnect).unwrap();
        match packet {
            ReceivedPacket::Disconnect(disconnect) => {
                assert_eq!(disconnect.reason_code(), ReasonCode::Success);
                assert_eq!(disconnect.properties().unwrap().size(), 0);
            }
            _ => panic!("Invalid message"),
        }
    }

    #[test]
    fn deserialize_disconnect_without_reason() {
        let serialized_disconnect: [u8; 2] = [
            0xe0, // DISCONNECT fixed header
            0x00, // Remaining length
        ];
        let packet = ReceivedPacket::from_buffer(&serialized_disconnect).unwrap();
        match packet {
            ReceivedPacket::Disconnect(disconnect) => {
                assert_eq!(disconnect.reason_code(), ReasonCode::Success);
            }
            _ => panic!("Invalid message"),
        }
    }
}
