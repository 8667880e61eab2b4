mod deserializer;
mod packet_reader;
mod received_packet;
pub(crate) use deserializer::{Error, MqttDeserializer};
pub(crate) use packet_reader::PacketReader;
pub(crate) use received_packet::ReceivedPacket;
