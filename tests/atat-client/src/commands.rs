//! The commands the tests send, as `atat` derive structs: `atat` writes each as
//! `AT<name>=<fields>` with a bare CR, quoting and escaping its strings its own way.

use atat::atat_derive::{AtatCmd, AtatResp};

/// A command answered by `OK` alone.
#[derive(Clone, Debug, AtatResp)]
pub struct NoResponse;

/// `AT`.
#[derive(Clone, AtatCmd)]
#[at_cmd("", NoResponse)]
pub struct At;

/// `ATE0`.
#[derive(Clone, AtatCmd)]
#[at_cmd("E0", NoResponse)]
pub struct EchoOff;

/// `AT+MQTTUSERCFG=<LinkID>,<scheme>,"<client_id>","<username>","<password>",<cert_key_ID>,<CA_ID>,"<path>"`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTUSERCFG", NoResponse)]
pub struct UserCfg<'a> {
    /// `0`.
    pub link_id: u8,
    /// `1`: MQTT over TCP.
    pub scheme: u8,
    /// The client ID.
    pub client_id: &'a str,
    /// The username.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// `0`.
    pub cert_key_id: u8,
    /// `0`.
    pub ca_id: u8,
    /// The path.
    pub path: &'a str,
}

/// `AT+MQTTCONNCFG=<LinkID>,<keepalive>,<disable_clean_session>,"<lwt_topic>","<lwt_msg>",<lwt_qos>,<lwt_retain>`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTCONNCFG", NoResponse)]
pub struct ConnCfg<'a> {
    /// `0`.
    pub link_id: u8,
    /// Seconds.
    pub keepalive: u16,
    /// `0`: clean session.
    pub disable_clean_session: u8,
    /// The will's topic.
    pub lwt_topic: &'a str,
    /// The will's message.
    pub lwt_msg: &'a str,
    /// The will's QoS.
    pub lwt_qos: u8,
    /// The will's retain flag.
    pub lwt_retain: u8,
}

/// `AT+MQTTCONN=<LinkID>,"<host>",<port>,<reconnect>` (the modem waits up to 15 s).
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTCONN", NoResponse, timeout_ms = 20000)]
pub struct Conn<'a> {
    /// `0`.
    pub link_id: u8,
    /// The broker.
    pub host: &'a str,
    /// Its port.
    pub port: u16,
    /// `0` or `1`.
    pub reconnect: u8,
}

/// `AT+MQTTPUB=<LinkID>,"<topic>","<data>",<qos>,<retain>`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTPUB", NoResponse, timeout_ms = 20000)]
pub struct Pub<'a> {
    /// `0`.
    pub link_id: u8,
    /// The topic.
    pub topic: &'a str,
    /// The message.
    pub data: &'a str,
    /// QoS.
    pub qos: u8,
    /// Retain.
    pub retain: u8,
}

/// `AT+MQTTPUBRAW=<LinkID>,"<topic>",<length>,<qos>,<retain>`: `OK`, the prompt, then
/// [`RawData`], then the result URC.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTPUBRAW", NoResponse)]
pub struct PubRaw<'a> {
    /// `0`.
    pub link_id: u8,
    /// The topic.
    pub topic: &'a str,
    /// The data's length.
    pub length: usize,
    /// QoS.
    pub qos: u8,
    /// Retain.
    pub retain: u8,
}

/// Raw data after a prompt: its bytes only (no `AT`, no quotes, no terminator); the
/// modem answers with a URC, not a response.
#[derive(Clone, AtatCmd)]
#[at_cmd(
    "",
    NoResponse,
    cmd_prefix = "",
    termination = "",
    value_sep = false,
    escape_strings = false,
    response_code = false
)]
pub struct RawData<'a> {
    /// The data.
    pub data: &'a str,
}

/// `AT+MQTTSUB=<LinkID>,"<topic>",<qos>`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTSUB", NoResponse, timeout_ms = 20000)]
pub struct Sub<'a> {
    /// `0`.
    pub link_id: u8,
    /// The filter.
    pub topic: &'a str,
    /// QoS.
    pub qos: u8,
}

/// `AT+MQTTUNSUB=<LinkID>,"<topic>"`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTUNSUB", NoResponse, timeout_ms = 20000)]
pub struct Unsub<'a> {
    /// `0`.
    pub link_id: u8,
    /// The filter.
    pub topic: &'a str,
}

/// `AT+MQTTCLEAN=<LinkID>`.
#[derive(Clone, AtatCmd)]
#[at_cmd("+MQTTCLEAN", NoResponse, timeout_ms = 5000)]
pub struct Clean {
    /// `0`.
    pub link_id: u8,
}
