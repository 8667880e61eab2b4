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
/// `AT_MQTT_KEY_READ_FAILED` (`AT+MQTTPSK` key not hex).
pub const KEY_READ_FAILED: ErrorCode = mqtt(0x6026);
/// `AT_MQTT_KEY_LENGTH_ERROR` (`AT+MQTTPSK` key or identity length).
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
