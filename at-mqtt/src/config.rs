//! The MQTT configuration the host sets (`AT+MQTTUSERCFG`, `AT+MQTTCONNCFG`, `AT+MQTTPSK`,
//! and the target of the last `AT+MQTTCONN`).
//!
//! The command handlers own it and write it only while no link exists; the runner
//! borrows it for as long as a link exists, so it cannot change under a connection.

use heapless::{String, Vec};
use minimq::QoS;

use crate::topic::MAX_TOPIC;

/// The longest client ID `AT+MQTTUSERCFG` accepts.
pub const MAX_CLIENT_ID: usize = 256;
/// The longest username or password `AT+MQTTUSERCFG` accepts.
pub const MAX_CREDENTIAL: usize = 64;
/// The longest client ID, username or password `AT+MQTTLONGCLIENTID`,
/// `AT+MQTTLONGUSERNAME` and `AT+MQTTLONGPASSWORD` accept (ESP-AT's 1024). The
/// configuration holds each at this size: 2688 bytes more than `AT+MQTTUSERCFG`'s
/// limits alone would need.
pub const MAX_LONG_CREDENTIAL: usize = 1024;
/// The longest `path`.
pub const MAX_PATH: usize = 32;
/// The longest host name (esp-at profile; the seed profile allows 64).
pub const MAX_HOST: usize = 128;
/// The longest will message (esp-at profile; the seed profile allows 64).
pub const MAX_LWT_MSG: usize = 128;
/// The longest PSK identity.
pub const MAX_PSK_IDENTITY: usize = 64;
/// The longest PSK, in bytes.
pub const MAX_PSK_KEY: usize = 64;
/// The longest `AT+MQTTSNI` name: the longest name embedded-tls's certificate verifier
/// can match (its host names hold 64 bytes).
pub const MAX_SNI: usize = 64;
/// The most protocols `AT+MQTTALPN` takes (ESP-AT's 5).
pub const MAX_ALPNS: usize = 5;
/// The longest `AT+MQTTALPN` protocol name (ALPN allows 255; broker names are short,
/// e.g. `x-amzn-mqtt-ca`, `mqtt`).
pub const MAX_ALPN: usize = 32;

/// `AT+MQTTUSERCFG`'s values.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserConfig {
    pub(crate) scheme: u8,
    /// `cert_key_ID`: the index of the client certificate and key (schemes 4, 5).
    #[cfg_attr(not(feature = "tls-cert"), allow(dead_code, reason = "always 0"))]
    pub(crate) cert_key_id: u8,
    /// `CA_ID`: the index of the CA certificate (schemes 3, 5).
    #[cfg_attr(not(feature = "tls-cert"), allow(dead_code, reason = "always 0"))]
    pub(crate) ca_id: u8,
    pub(crate) client_id: Vec<u8, MAX_LONG_CREDENTIAL>,
    pub(crate) username: Vec<u8, MAX_LONG_CREDENTIAL>,
    pub(crate) password: Vec<u8, MAX_LONG_CREDENTIAL>,
    pub(crate) path: Vec<u8, MAX_PATH>,
}

/// `AT+MQTTCONNCFG`'s values (defaults until it is sent).
#[derive(Clone, Debug)]
pub(crate) struct ConnConfig {
    pub(crate) keepalive: u16,
    pub(crate) keep_session: bool,
    pub(crate) lwt_topic: String<MAX_TOPIC>,
    pub(crate) lwt_msg: Vec<u8, MAX_LWT_MSG>,
    pub(crate) lwt_qos: QoS,
    pub(crate) lwt_retain: bool,
}

impl ConnConfig {
    /// The configuration before `AT+MQTTCONNCFG`: the default keepalive, clean session,
    /// no will. (All zeros, so a static holding it needs no flash.)
    pub(crate) const fn new() -> Self {
        Self {
            keepalive: 0,
            keep_session: false,
            lwt_topic: String::new(),
            lwt_msg: Vec::new(),
            lwt_qos: QoS::AtMostOnce,
            lwt_retain: false,
        }
    }
}

impl ConnConfig {
    /// The keepalive in seconds: `AT+MQTTCONNCFG`'s, or 120 s (also for its `0`).
    pub(crate) fn keepalive(&self) -> u16 {
        if self.keepalive == 0 {
            DEFAULT_KEEPALIVE
        } else {
            self.keepalive
        }
    }
}

/// The keepalive when the host sets none (or 0).
pub(crate) const DEFAULT_KEEPALIVE: u16 = 120;

impl Default for ConnConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `AT+MQTTPSK`'s values.
#[cfg_attr(
    not(feature = "tls-psk"),
    allow(dead_code, reason = "only the TLS-PSK transport reads the key")
)]
#[derive(Clone, Debug, Default)]
pub(crate) struct PskConfig {
    pub(crate) identity: Vec<u8, MAX_PSK_IDENTITY>,
    pub(crate) key: Vec<u8, MAX_PSK_KEY>,
}

/// `AT+MQTTSNI`'s and `AT+MQTTALPN`'s values, for every TLS scheme.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsNames {
    /// The server name sent (and, for the certificate schemes, verified) instead of the
    /// connect host; empty when unset.
    pub(crate) sni: String<MAX_SNI>,
    /// The protocols offered, in order; none when unset.
    pub(crate) alpn: Vec<String<MAX_ALPN>, MAX_ALPNS>,
}

impl TlsNames {
    /// Nothing set.
    pub(crate) const fn new() -> Self {
        Self {
            sni: String::new(),
            alpn: Vec::new(),
        }
    }
}

/// The broker of the last `AT+MQTTCONN` attempt.
#[derive(Clone, Debug, Default)]
pub(crate) struct Target {
    pub(crate) host: String<MAX_HOST>,
    pub(crate) port: u16,
    pub(crate) reconnect: bool,
}

/// Everything the host configured.
#[derive(Debug)]
pub(crate) struct MqttConfig {
    pub(crate) user: Option<UserConfig>,
    pub(crate) conn: ConnConfig,
    pub(crate) conn_configured: bool,
    pub(crate) psk: Option<PskConfig>,
    pub(crate) tls_names: TlsNames,
    pub(crate) target: Target,
}

impl MqttConfig {
    /// Nothing configured.
    pub(crate) const fn new() -> Self {
        Self {
            user: None,
            conn: ConnConfig::new(),
            conn_configured: false,
            psk: None,
            tls_names: TlsNames::new(),
            target: Target {
                host: String::new(),
                port: 0,
                reconnect: false,
            },
        }
    }

    /// The scheme of `AT+MQTTUSERCFG` (0 before it).
    pub(crate) fn scheme(&self) -> u8 {
        self.user.as_ref().map_or(0, |user| user.scheme)
    }

    /// The path of `AT+MQTTUSERCFG` (empty before it).
    pub(crate) fn path(&self) -> &[u8] {
        self.user.as_ref().map_or(&[], |user| &user.path)
    }
}
