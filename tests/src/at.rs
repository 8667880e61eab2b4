//! The modem's fixed bytes and the lines tests build from them (SPEC.md sections 3 and 5).

/// The power-on line.
pub const READY: &[u8] = b"\r\nready\r\n";
/// The success result.
pub const OK: &[u8] = b"\r\nOK\r\n";
/// The failure result.
pub const ERROR: &[u8] = b"\r\nERROR\r\n";
/// The raw data prompt that follows a raw data command's validation.
pub const PROMPT: &[u8] = b"\r\nOK\r\n\r\n>";
/// The seed profile's connect URC.
pub const CONNECTED: &[u8] = b"+MQTTCONNECTED:0\r\n";
/// The disconnect URC (both profiles).
pub const DISCONNECTED: &[u8] = b"+MQTTDISCONNECTED:0\r\n";

/// `line` echoed (CR LF), then `answer`.
pub fn echoed(line: &str, answer: &[u8]) -> Vec<u8> {
    [line.as_bytes(), b"\r\n", answer].concat()
}

/// `ERR CODE:0x...` for `code` (as `AT+SYSLOG=1` shows it), then `ERROR`.
pub fn error_code(code: u32) -> Vec<u8> {
    [format!("ERR CODE:0x{code:08x}\r\n").as_bytes(), ERROR].concat()
}

/// The error code of ESP-AT's MQTT table entry `0x60xx`: `0x010A60xx`.
pub fn mqtt_error(extension: u16) -> Vec<u8> {
    error_code(0x010A_0000 | u32::from(extension))
}

/// `+MQTTSUBRECV:0,"<topic>",<len>,<payload>` with its CR LF.
pub fn subrecv(topic: &str, payload: &[u8]) -> Vec<u8> {
    [
        format!("+MQTTSUBRECV:0,\"{topic}\",{},", payload.len()).as_bytes(),
        payload,
        b"\r\n",
    ]
    .concat()
}

/// `AT+MQTTUSERCFG` for MQTT over TCP with `client_id` and nothing else set.
pub fn user_cfg(client_id: &str) -> String {
    format!("AT+MQTTUSERCFG=0,1,\"{client_id}\",\"\",\"\",0,0,\"\"")
}

/// `AT+MQTTCONN` to the broker on loopback `port`.
pub fn conn(port: u16, reconnect: u8) -> String {
    format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},{reconnect}")
}
