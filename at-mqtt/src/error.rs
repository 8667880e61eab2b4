//! ESP-AT's MQTT error table (`AT_MQTT_*`), as `ERR CODE:0x010A60xx` extensions.

use at_core::ErrorCode;

/// Builds the error code for an `AT_MQTT_*` extension.
const fn mqtt(extension: u16) -> ErrorCode {
    ErrorCode::execution(extension)
}

/// `AT_MQTT_NO_CONFIGURED`: `AT+MQTTUSERCFG` has not been sent.
pub const NO_CONFIGURED: ErrorCode = mqtt(0x6001);
/// `AT_MQTT_ALREADY_CONNECTED`.
pub const ALREADY_CONNECTED: ErrorCode = mqtt(0x6004);
/// `AT_MQTT_NULL_LINK`: there was never a client.
pub const NULL_LINK: ErrorCode = mqtt(0x6006);
/// `AT_MQTT_TLS_CONFIG_ERROR`: scheme 2 without `AT+MQTTPSK`.
pub const TLS_CONFIG_ERROR: ErrorCode = mqtt(0x6009);
/// `AT_MQTT_CLIENT_START_FAILED`: DNS, TCP, TLS or CONNACK failure.
pub const CLIENT_START_FAILED: ErrorCode = mqtt(0x600B);
/// `AT_MQTT_CLIENT_PUBLISH_FAILED`.
pub const CLIENT_PUBLISH_FAILED: ErrorCode = mqtt(0x600C);
/// `AT_MQTT_CLIENT_SUBSCRIBE_FAILED` (also: subscription table full).
pub const CLIENT_SUBSCRIBE_FAILED: ErrorCode = mqtt(0x600D);
/// `AT_MQTT_CLIENT_UNSUBSCRIBE_FAILED`.
pub const CLIENT_UNSUBSCRIBE_FAILED: ErrorCode = mqtt(0x600E);
/// `AT_MQTT_CLIENT_DISCONNECT_FAILED`.
pub const CLIENT_DISCONNECT_FAILED: ErrorCode = mqtt(0x600F);
/// `AT_MQTT_LINK_ID_READ_FAILED`.
pub const LINK_ID_READ_FAILED: ErrorCode = mqtt(0x6010);
/// `AT_MQTT_LINK_ID_VALUE_IS_WRONG`.
pub const LINK_ID_VALUE_IS_WRONG: ErrorCode = mqtt(0x6011);
/// `AT_MQTT_SCHEME_READ_FAILED`.
pub const SCHEME_READ_FAILED: ErrorCode = mqtt(0x6012);
/// `AT_MQTT_SCHEME_VALUE_IS_WRONG`.
pub const SCHEME_VALUE_IS_WRONG: ErrorCode = mqtt(0x6013);
/// `AT_MQTT_CLIENT_ID_READ_FAILED`.
pub const CLIENT_ID_READ_FAILED: ErrorCode = mqtt(0x6014);
/// `AT_MQTT_CLIENT_ID_IS_NULL`.
pub const CLIENT_ID_IS_NULL: ErrorCode = mqtt(0x6015);
/// `AT_MQTT_CLIENT_ID_IS_OVERLENGTH`.
pub const CLIENT_ID_IS_OVERLENGTH: ErrorCode = mqtt(0x6016);
/// `AT_MQTT_USERNAME_READ_FAILED`.
pub const USERNAME_READ_FAILED: ErrorCode = mqtt(0x6017);
/// `AT_MQTT_USERNAME_IS_OVERLENGTH`.
pub const USERNAME_IS_OVERLENGTH: ErrorCode = mqtt(0x6019);
/// `AT_MQTT_PASSWORD_READ_FAILED`.
pub const PASSWORD_READ_FAILED: ErrorCode = mqtt(0x601A);
/// `AT_MQTT_PASSWORD_IS_OVERLENGTH`.
pub const PASSWORD_IS_OVERLENGTH: ErrorCode = mqtt(0x601C);
/// `AT_MQTT_CERT_KEY_ID_READ_FAILED`.
pub const CERT_KEY_ID_READ_FAILED: ErrorCode = mqtt(0x601D);
/// `AT_MQTT_CERT_KEY_ID_VALUE_IS_WRONG`.
pub const CERT_KEY_ID_VALUE_IS_WRONG: ErrorCode = mqtt(0x601E);
/// `AT_MQTT_CA_ID_READ_FAILED`.
pub const CA_ID_READ_FAILED: ErrorCode = mqtt(0x601F);
/// `AT_MQTT_CA_ID_VALUE_IS_WRONG`.
pub const CA_ID_VALUE_IS_WRONG: ErrorCode = mqtt(0x6020);
/// `AT_MQTT_CA_LENGTH_ERROR`: an uploaded CA certificate is empty or too long; or the
/// stored CA of `CA_ID` is larger than the modem's CA buffer.
pub const CA_LENGTH_ERROR: ErrorCode = mqtt(0x6021);
/// `AT_MQTT_CA_READ_FAILED`: an uploaded CA is not a P-256 X.509 certificate; or no CA
/// is stored for `CA_ID` (schemes 3, 5).
pub const CA_READ_FAILED: ErrorCode = mqtt(0x6022);
/// `AT_MQTT_CERT_LENGTH_ERROR`: an uploaded client certificate is empty or too long; or
/// the stored one of `cert_key_ID` is larger than the modem's certificate buffer.
pub const CERT_LENGTH_ERROR: ErrorCode = mqtt(0x6023);
/// `AT_MQTT_CERT_READ_FAILED`: an uploaded client certificate is not a P-256 X.509
/// certificate; or no client certificate is stored for `cert_key_ID` (schemes 4, 5).
pub const CERT_READ_FAILED: ErrorCode = mqtt(0x6024);
/// `AT_MQTT_KEY_READ_FAILED`: `AT+MQTTPSK`'s key is not hex; an uploaded client key is
/// not a P-256 private key; or (schemes 4, 5) no such key is stored for `cert_key_ID`.
pub const KEY_READ_FAILED: ErrorCode = mqtt(0x6026);
/// `AT_MQTT_KEY_LENGTH_ERROR`: `AT+MQTTPSK`'s key or identity length; an uploaded
/// client key that is empty or too long; or a stored one larger than the key buffer.
pub const KEY_LENGTH_ERROR: ErrorCode = mqtt(0x6025);
/// `AT_MQTT_PATH_READ_FAILED`.
pub const PATH_READ_FAILED: ErrorCode = mqtt(0x6027);
/// `AT_MQTT_PATH_IS_OVERLENGTH`.
pub const PATH_IS_OVERLENGTH: ErrorCode = mqtt(0x6029);
/// `AT_MQTT_KEEPALIVE_READ_FAILED`.
pub const KEEPALIVE_READ_FAILED: ErrorCode = mqtt(0x602B);
/// `AT_MQTT_KEEPALIVE_VALUE_IS_WRONG`.
pub const KEEPALIVE_VALUE_IS_WRONG: ErrorCode = mqtt(0x602D);
/// `AT_MQTT_DISABLE_CLEAN_SESSION_READ_FAILED`.
pub const DISABLE_CLEAN_SESSION_READ_FAILED: ErrorCode = mqtt(0x602E);
/// `AT_MQTT_DISABLE_CLEAN_SESSION_VALUE_IS_WRONG`.
pub const DISABLE_CLEAN_SESSION_VALUE_IS_WRONG: ErrorCode = mqtt(0x602F);
/// `AT_MQTT_LWT_TOPIC_READ_FAILED`.
pub const LWT_TOPIC_READ_FAILED: ErrorCode = mqtt(0x6030);
/// `AT_MQTT_LWT_TOPIC_IS_OVERLENGTH`.
pub const LWT_TOPIC_IS_OVERLENGTH: ErrorCode = mqtt(0x6032);
/// `AT_MQTT_LWT_MSG_READ_FAILED`.
pub const LWT_MSG_READ_FAILED: ErrorCode = mqtt(0x6033);
/// `AT_MQTT_LWT_MSG_IS_OVERLENGTH`.
pub const LWT_MSG_IS_OVERLENGTH: ErrorCode = mqtt(0x6035);
/// `AT_MQTT_LWT_QOS_READ_FAILED`.
pub const LWT_QOS_READ_FAILED: ErrorCode = mqtt(0x6036);
/// `AT_MQTT_LWT_QOS_VALUE_IS_WRONG`.
pub const LWT_QOS_VALUE_IS_WRONG: ErrorCode = mqtt(0x6037);
/// `AT_MQTT_LWT_RETAIN_READ_FAILED`.
pub const LWT_RETAIN_READ_FAILED: ErrorCode = mqtt(0x6038);
/// `AT_MQTT_LWT_RETAIN_VALUE_IS_WRONG`.
pub const LWT_RETAIN_VALUE_IS_WRONG: ErrorCode = mqtt(0x6039);
/// `AT_MQTT_HOST_READ_FAILED`.
pub const HOST_READ_FAILED: ErrorCode = mqtt(0x603A);
/// `AT_MQTT_HOST_IS_NULL`.
pub const HOST_IS_NULL: ErrorCode = mqtt(0x603B);
/// `AT_MQTT_HOST_IS_OVERLENGTH`.
pub const HOST_IS_OVERLENGTH: ErrorCode = mqtt(0x603C);
/// `AT_MQTT_PORT_READ_FAILED`.
pub const PORT_READ_FAILED: ErrorCode = mqtt(0x603D);
/// `AT_MQTT_PORT_VALUE_IS_WRONG`.
pub const PORT_VALUE_IS_WRONG: ErrorCode = mqtt(0x603E);
/// `AT_MQTT_RECONNECT_READ_FAILED`.
pub const RECONNECT_READ_FAILED: ErrorCode = mqtt(0x603F);
/// `AT_MQTT_RECONNECT_VALUE_IS_WRONG`.
pub const RECONNECT_VALUE_IS_WRONG: ErrorCode = mqtt(0x6040);
/// `AT_MQTT_TOPIC_READ_FAILED` (also: a topic that MQTT does not allow).
pub const TOPIC_READ_FAILED: ErrorCode = mqtt(0x6041);
/// `AT_MQTT_TOPIC_IS_NULL`.
pub const TOPIC_IS_NULL: ErrorCode = mqtt(0x6042);
/// `AT_MQTT_TOPIC_IS_OVERLENGTH`.
pub const TOPIC_IS_OVERLENGTH: ErrorCode = mqtt(0x6043);
/// `AT_MQTT_DATA_READ_FAILED`.
pub const DATA_READ_FAILED: ErrorCode = mqtt(0x6044);
/// `AT_MQTT_DATA_IS_NULL`.
pub const DATA_IS_NULL: ErrorCode = mqtt(0x6045);
/// `AT_MQTT_QOS_READ_FAILED`.
pub const QOS_READ_FAILED: ErrorCode = mqtt(0x6047);
/// `AT_MQTT_QOS_VALUE_IS_WRONG`.
pub const QOS_VALUE_IS_WRONG: ErrorCode = mqtt(0x6048);
/// `AT_MQTT_RETAIN_READ_FAILED`.
pub const RETAIN_READ_FAILED: ErrorCode = mqtt(0x6049);
/// `AT_MQTT_RETAIN_VALUE_IS_WRONG`.
pub const RETAIN_VALUE_IS_WRONG: ErrorCode = mqtt(0x604A);
/// `AT_MQTT_PUBLISH_LENGTH_READ_FAILED`.
pub const PUBLISH_LENGTH_READ_FAILED: ErrorCode = mqtt(0x604B);
/// `AT_MQTT_PUBLISH_LENGTH_VALUE_IS_WRONG`.
pub const PUBLISH_LENGTH_VALUE_IS_WRONG: ErrorCode = mqtt(0x604C);
/// `AT_MQTT_IN_DISCONNECTED_STATE`: not connected.
pub const IN_DISCONNECTED_STATE: ErrorCode = mqtt(0x6051);
/// `AT_MQTT_HOSTNAME_VERIFY_FAILED`: the server certificate does not name the host
/// (the SNI when set, else the connect host).
pub const HOSTNAME_VERIFY_FAILED: ErrorCode = mqtt(0x6052);
/// Ours: the server's chain does not end in the CA of `CA_ID` (or a signature in it
/// is wrong).
pub const CERT_NOT_TRUSTED: ErrorCode = mqtt(0x6060);
/// Ours: a certificate of the server's chain, or the CA, is expired or not yet valid
/// at the modem's time.
pub const CERT_EXPIRED: ErrorCode = mqtt(0x6061);
/// Ours: a scheme that verifies the server (3, 5) needs the time, and the modem does
/// not know it (SNTP via `AT+CIPSNTPCFG`, or `AT+SYSTIMESTAMP`).
pub const TIME_UNKNOWN: ErrorCode = mqtt(0x6062);
/// Ours: the TLS handshake of a certificate scheme failed otherwise (the server
/// refused the client certificate or its absence, no common cipher suite, a chain
/// larger than the modem's buffers, a malformed certificate or key).
pub const TLS_HANDSHAKE_FAILED: ErrorCode = mqtt(0x6063);
/// Ours: `AT+MQTTSNI`'s name is not a string.
pub const SNI_READ_FAILED: ErrorCode = mqtt(0x6064);
/// Ours: `AT+MQTTSNI`'s name is longer than 64 bytes.
pub const SNI_IS_OVERLENGTH: ErrorCode = mqtt(0x6065);
/// Ours: `AT+MQTTALPN`'s count is not 0..5, or a name is not a non-empty string.
pub const ALPN_READ_FAILED: ErrorCode = mqtt(0x6066);
/// Ours: an `AT+MQTTALPN` name is longer than 32 bytes.
pub const ALPN_IS_OVERLENGTH: ErrorCode = mqtt(0x6067);

/// A short English description of one of the codes above, for logs (the serial line
/// carries only the code); `None` for any other code.
pub(crate) const fn describe(code: ErrorCode) -> Option<&'static str> {
    Some(match code {
        NO_CONFIGURED => "not configured: send AT+MQTTUSERCFG first",
        ALREADY_CONNECTED => "a connection exists (AT+MQTTCLEAN ends it)",
        NULL_LINK => "no MQTT client: send AT+MQTTUSERCFG and AT+MQTTCONN first",
        TLS_CONFIG_ERROR => "scheme 2 needs a key: send AT+MQTTPSK first",
        CLIENT_START_FAILED => "could not connect (DNS, TCP, TLS or CONNACK failed)",
        CLIENT_PUBLISH_FAILED => "the publication failed",
        CLIENT_SUBSCRIBE_FAILED => "the subscription failed (or the table is full)",
        CLIENT_UNSUBSCRIBE_FAILED => "the unsubscription failed",
        CLIENT_DISCONNECT_FAILED => "the disconnection failed",
        LINK_ID_READ_FAILED => "LinkID is not a number",
        LINK_ID_VALUE_IS_WRONG => "LinkID must be 0",
        SCHEME_READ_FAILED => "scheme is not a number",
        SCHEME_VALUE_IS_WRONG => "scheme must be 1 (TCP) or 2 (TLS-PSK)",
        CLIENT_ID_READ_FAILED => "client ID is not a quoted UTF-8 string",
        CLIENT_ID_IS_NULL => "client ID is empty",
        CLIENT_ID_IS_OVERLENGTH => "client ID is too long",
        USERNAME_READ_FAILED => "username is not a quoted UTF-8 string",
        USERNAME_IS_OVERLENGTH => "username longer than 64 bytes",
        PASSWORD_READ_FAILED => "password is not a quoted string",
        PASSWORD_IS_OVERLENGTH => "password longer than 64 bytes",
        CERT_KEY_ID_READ_FAILED => "cert_key_ID is not a number",
        CERT_KEY_ID_VALUE_IS_WRONG => "cert_key_ID must be 0",
        CA_ID_READ_FAILED => "CA_ID is not a number",
        CA_ID_VALUE_IS_WRONG => "CA_ID must be 0",
        CA_LENGTH_ERROR => "CA certificate is empty or too long",
        CA_READ_FAILED => "CA is not a P-256 X.509 certificate, or none is stored for CA_ID",
        CERT_LENGTH_ERROR => "client certificate is empty or too long",
        CERT_READ_FAILED => {
            "client certificate is not a P-256 X.509 certificate, or none is stored for cert_key_ID"
        }
        KEY_READ_FAILED => {
            "PSK not a quoted hex string, or client key not a P-256 private key (SEC1 or PKCS#8, PEM or DER, unencrypted) or not stored"
        }
        KEY_LENGTH_ERROR => "PSK identity or key length is wrong, or client key empty or too long",
        PATH_READ_FAILED => "path is not a quoted string",
        PATH_IS_OVERLENGTH => "path longer than 32 bytes",
        KEEPALIVE_READ_FAILED => "keepalive is not a number",
        KEEPALIVE_VALUE_IS_WRONG => "keepalive must be 0 to 7200 seconds",
        DISABLE_CLEAN_SESSION_READ_FAILED => "disable_clean_session is not a number",
        DISABLE_CLEAN_SESSION_VALUE_IS_WRONG => "disable_clean_session must be 0 or 1",
        LWT_TOPIC_READ_FAILED => "will topic is not a quoted, valid topic name",
        LWT_TOPIC_IS_OVERLENGTH => "will topic longer than 128 bytes",
        LWT_MSG_READ_FAILED => "will message is not a quoted string",
        LWT_MSG_IS_OVERLENGTH => "will message is too long",
        LWT_QOS_READ_FAILED => "will QoS is not a number",
        LWT_QOS_VALUE_IS_WRONG => "will QoS must be 0, 1 or 2",
        LWT_RETAIN_READ_FAILED => "will retain is not a number",
        LWT_RETAIN_VALUE_IS_WRONG => "will retain must be 0 or 1",
        HOST_READ_FAILED => "host is not a quoted UTF-8 string",
        HOST_IS_NULL => "host is empty",
        HOST_IS_OVERLENGTH => "host name is too long",
        PORT_READ_FAILED => "port is not a number",
        PORT_VALUE_IS_WRONG => "port must be 1 to 65535",
        RECONNECT_READ_FAILED => "reconnect is not a number",
        RECONNECT_VALUE_IS_WRONG => "reconnect must be 0 or 1",
        TOPIC_READ_FAILED => "topic is not a quoted, valid MQTT topic",
        TOPIC_IS_NULL => "topic is empty",
        TOPIC_IS_OVERLENGTH => "topic longer than 128 bytes",
        DATA_READ_FAILED => "data is not a quoted string",
        DATA_IS_NULL => "data is empty",
        QOS_READ_FAILED => "QoS is not a number",
        QOS_VALUE_IS_WRONG => "QoS must be 0, 1 or 2",
        RETAIN_READ_FAILED => "retain is not a number",
        RETAIN_VALUE_IS_WRONG => "retain must be 0 or 1",
        PUBLISH_LENGTH_READ_FAILED => "length is not a number",
        PUBLISH_LENGTH_VALUE_IS_WRONG => "length is 0 or larger than the payload buffer",
        IN_DISCONNECTED_STATE => "not connected",
        HOSTNAME_VERIFY_FAILED => "the server certificate does not name the host",
        CERT_NOT_TRUSTED => "the server certificate is not signed by the CA of CA_ID",
        CERT_EXPIRED => "a certificate is expired or not yet valid",
        TIME_UNKNOWN => "the time is unknown: set it (AT+CIPSNTPCFG) to verify a server",
        TLS_HANDSHAKE_FAILED => "the TLS handshake failed",
        SNI_READ_FAILED => "the server name is not a string",
        SNI_IS_OVERLENGTH => "the server name is longer than 64 bytes",
        ALPN_READ_FAILED => "the ALPN count is not 0..5 or a name is not a string",
        ALPN_IS_OVERLENGTH => "an ALPN name is longer than 32 bytes",
        _ => return None,
    })
}

/// The codes of one parameter: reading it failed, or its value is wrong.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ParamCodes {
    pub(crate) read: ErrorCode,
    pub(crate) value: ErrorCode,
}

impl ParamCodes {
    pub(crate) const fn new(read: ErrorCode, value: ErrorCode) -> Self {
        Self { read, value }
    }

    /// Maps an argument error: a count error keeps at-core's code, a range error is a
    /// wrong value, anything else a failed read.
    pub(crate) fn map(self, err: at_core::ArgError) -> ErrorCode {
        match err.kind {
            at_core::ArgErrorKind::Count { .. } => err.into(),
            at_core::ArgErrorKind::OutOfRange => self.value,
            _ => self.read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of the table, by name.
    const ALL: &[(&str, ErrorCode)] = &[
        ("NO_CONFIGURED", NO_CONFIGURED),
        ("ALREADY_CONNECTED", ALREADY_CONNECTED),
        ("NULL_LINK", NULL_LINK),
        ("TLS_CONFIG_ERROR", TLS_CONFIG_ERROR),
        ("CLIENT_START_FAILED", CLIENT_START_FAILED),
        ("CLIENT_PUBLISH_FAILED", CLIENT_PUBLISH_FAILED),
        ("CLIENT_SUBSCRIBE_FAILED", CLIENT_SUBSCRIBE_FAILED),
        ("CLIENT_UNSUBSCRIBE_FAILED", CLIENT_UNSUBSCRIBE_FAILED),
        ("CLIENT_DISCONNECT_FAILED", CLIENT_DISCONNECT_FAILED),
        ("LINK_ID_READ_FAILED", LINK_ID_READ_FAILED),
        ("LINK_ID_VALUE_IS_WRONG", LINK_ID_VALUE_IS_WRONG),
        ("SCHEME_READ_FAILED", SCHEME_READ_FAILED),
        ("SCHEME_VALUE_IS_WRONG", SCHEME_VALUE_IS_WRONG),
        ("CLIENT_ID_READ_FAILED", CLIENT_ID_READ_FAILED),
        ("CLIENT_ID_IS_NULL", CLIENT_ID_IS_NULL),
        ("CLIENT_ID_IS_OVERLENGTH", CLIENT_ID_IS_OVERLENGTH),
        ("USERNAME_READ_FAILED", USERNAME_READ_FAILED),
        ("USERNAME_IS_OVERLENGTH", USERNAME_IS_OVERLENGTH),
        ("PASSWORD_READ_FAILED", PASSWORD_READ_FAILED),
        ("PASSWORD_IS_OVERLENGTH", PASSWORD_IS_OVERLENGTH),
        ("CERT_KEY_ID_READ_FAILED", CERT_KEY_ID_READ_FAILED),
        ("CERT_KEY_ID_VALUE_IS_WRONG", CERT_KEY_ID_VALUE_IS_WRONG),
        ("CA_ID_READ_FAILED", CA_ID_READ_FAILED),
        ("CA_ID_VALUE_IS_WRONG", CA_ID_VALUE_IS_WRONG),
        ("CA_LENGTH_ERROR", CA_LENGTH_ERROR),
        ("CA_READ_FAILED", CA_READ_FAILED),
        ("CERT_LENGTH_ERROR", CERT_LENGTH_ERROR),
        ("CERT_READ_FAILED", CERT_READ_FAILED),
        ("KEY_READ_FAILED", KEY_READ_FAILED),
        ("KEY_LENGTH_ERROR", KEY_LENGTH_ERROR),
        ("PATH_READ_FAILED", PATH_READ_FAILED),
        ("PATH_IS_OVERLENGTH", PATH_IS_OVERLENGTH),
        ("KEEPALIVE_READ_FAILED", KEEPALIVE_READ_FAILED),
        ("KEEPALIVE_VALUE_IS_WRONG", KEEPALIVE_VALUE_IS_WRONG),
        (
            "DISABLE_CLEAN_SESSION_READ_FAILED",
            DISABLE_CLEAN_SESSION_READ_FAILED,
        ),
        (
            "DISABLE_CLEAN_SESSION_VALUE_IS_WRONG",
            DISABLE_CLEAN_SESSION_VALUE_IS_WRONG,
        ),
        ("LWT_TOPIC_READ_FAILED", LWT_TOPIC_READ_FAILED),
        ("LWT_TOPIC_IS_OVERLENGTH", LWT_TOPIC_IS_OVERLENGTH),
        ("LWT_MSG_READ_FAILED", LWT_MSG_READ_FAILED),
        ("LWT_MSG_IS_OVERLENGTH", LWT_MSG_IS_OVERLENGTH),
        ("LWT_QOS_READ_FAILED", LWT_QOS_READ_FAILED),
        ("LWT_QOS_VALUE_IS_WRONG", LWT_QOS_VALUE_IS_WRONG),
        ("LWT_RETAIN_READ_FAILED", LWT_RETAIN_READ_FAILED),
        ("LWT_RETAIN_VALUE_IS_WRONG", LWT_RETAIN_VALUE_IS_WRONG),
        ("HOST_READ_FAILED", HOST_READ_FAILED),
        ("HOST_IS_NULL", HOST_IS_NULL),
        ("HOST_IS_OVERLENGTH", HOST_IS_OVERLENGTH),
        ("PORT_READ_FAILED", PORT_READ_FAILED),
        ("PORT_VALUE_IS_WRONG", PORT_VALUE_IS_WRONG),
        ("RECONNECT_READ_FAILED", RECONNECT_READ_FAILED),
        ("RECONNECT_VALUE_IS_WRONG", RECONNECT_VALUE_IS_WRONG),
        ("TOPIC_READ_FAILED", TOPIC_READ_FAILED),
        ("TOPIC_IS_NULL", TOPIC_IS_NULL),
        ("TOPIC_IS_OVERLENGTH", TOPIC_IS_OVERLENGTH),
        ("DATA_READ_FAILED", DATA_READ_FAILED),
        ("DATA_IS_NULL", DATA_IS_NULL),
        ("QOS_READ_FAILED", QOS_READ_FAILED),
        ("QOS_VALUE_IS_WRONG", QOS_VALUE_IS_WRONG),
        ("RETAIN_READ_FAILED", RETAIN_READ_FAILED),
        ("RETAIN_VALUE_IS_WRONG", RETAIN_VALUE_IS_WRONG),
        ("PUBLISH_LENGTH_READ_FAILED", PUBLISH_LENGTH_READ_FAILED),
        (
            "PUBLISH_LENGTH_VALUE_IS_WRONG",
            PUBLISH_LENGTH_VALUE_IS_WRONG,
        ),
        ("IN_DISCONNECTED_STATE", IN_DISCONNECTED_STATE),
        ("HOSTNAME_VERIFY_FAILED", HOSTNAME_VERIFY_FAILED),
        ("CERT_NOT_TRUSTED", CERT_NOT_TRUSTED),
        ("CERT_EXPIRED", CERT_EXPIRED),
        ("TIME_UNKNOWN", TIME_UNKNOWN),
        ("TLS_HANDSHAKE_FAILED", TLS_HANDSHAKE_FAILED),
        ("SNI_READ_FAILED", SNI_READ_FAILED),
        ("SNI_IS_OVERLENGTH", SNI_IS_OVERLENGTH),
        ("ALPN_READ_FAILED", ALPN_READ_FAILED),
        ("ALPN_IS_OVERLENGTH", ALPN_IS_OVERLENGTH),
    ];

    #[test]
    fn every_code_has_a_description() {
        for &(name, code) in ALL {
            let text = describe(code);
            assert!(
                text.is_some_and(|text| !text.is_empty()),
                "{name} ({code}) has no description"
            );
        }
    }

    #[test]
    fn the_list_has_every_code() {
        let declared = include_str!("error.rs")
            .lines()
            .filter(|line| line.starts_with("pub const "))
            .count();
        assert_eq!(ALL.len(), declared);
    }

    #[test]
    fn lengths_in_descriptions_are_the_limits() {
        use crate::config::{MAX_CREDENTIAL, MAX_PATH};
        use crate::topic::MAX_TOPIC;
        for (code, max) in [
            (USERNAME_IS_OVERLENGTH, MAX_CREDENTIAL),
            (PASSWORD_IS_OVERLENGTH, MAX_CREDENTIAL),
            (PATH_IS_OVERLENGTH, MAX_PATH),
            (LWT_TOPIC_IS_OVERLENGTH, MAX_TOPIC),
            (TOPIC_IS_OVERLENGTH, MAX_TOPIC),
        ] {
            let text = describe(code).unwrap_or_default();
            assert!(text.contains(&format!(" {max} bytes")), "{code}: {text}");
        }
    }

    #[test]
    fn codes_are_distinct() {
        for (i, &(name, code)) in ALL.iter().enumerate() {
            for &(other, other_code) in ALL.iter().skip(i + 1) {
                assert_ne!(code, other_code, "{name} and {other}");
            }
        }
    }

    #[test]
    fn other_codes_are_not_described() {
        assert_eq!(describe(ErrorCode::PARSE_FAILED), None);
        assert_eq!(describe(ErrorCode::execution(0x6000)), None);
        assert_eq!(describe(QOS_VALUE_IS_WRONG), Some("QoS must be 0, 1 or 2"));
    }
}
