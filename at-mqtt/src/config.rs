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
/// `AT+MQTTLONGUSERNAME` and `AT+MQTTLONGPASSWORD` accept (ESP-AT's 1024).
pub const MAX_LONG_CREDENTIAL: usize = 1024;
/// The bytes the client ID, username and password share: any one may be
/// [`MAX_LONG_CREDENTIAL`] long as long as the three together fit.
pub const LOGIN_BYTES: usize = 2048;
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
    pub(crate) login: Login,
    pub(crate) path: Vec<u8, MAX_PATH>,
}

/// One of the three values of a [`Login`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginField {
    /// The client ID.
    ClientId,
    /// The username.
    Username,
    /// The password.
    Password,
}

/// The client ID, username and password, one after the other in one buffer of
/// [`LOGIN_BYTES`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Login {
    bytes: Vec<u8, LOGIN_BYTES>,
    /// Where the username starts (the client ID ends).
    username_at: usize,
    /// Where the password starts (the username ends).
    password_at: usize,
}

/// The three values do not fit [`LOGIN_BYTES`] together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoginFull;

impl Login {
    /// A login of the three values.
    pub(crate) fn new(
        client_id: &[u8],
        username: &[u8],
        password: &[u8],
    ) -> Result<Self, LoginFull> {
        let mut bytes = Vec::new();
        for value in [client_id, username, password] {
            bytes.extend_from_slice(value).map_err(|_| LoginFull)?;
        }
        Ok(Self {
            bytes,
            username_at: client_id.len(),
            password_at: client_id.len() + username.len(),
        })
    }

    /// The client ID.
    pub(crate) fn client_id(&self) -> &[u8] {
        self.get(LoginField::ClientId)
    }

    /// The username.
    pub(crate) fn username(&self) -> &[u8] {
        self.get(LoginField::Username)
    }

    /// The password.
    pub(crate) fn password(&self) -> &[u8] {
        self.get(LoginField::Password)
    }

    /// Where `field` lies in the buffer.
    fn range(&self, field: LoginField) -> (usize, usize) {
        match field {
            LoginField::ClientId => (0, self.username_at),
            LoginField::Username => (self.username_at, self.password_at),
            LoginField::Password => (self.password_at, self.bytes.len()),
        }
    }

    fn get(&self, field: LoginField) -> &[u8] {
        let (start, end) = self.range(field);
        self.bytes.get(start..end).unwrap_or(&[])
    }

    /// Replaces `field` with `value`; unchanged when the three would not fit.
    pub(crate) fn replace(&mut self, field: LoginField, value: &[u8]) -> Result<(), LoginFull> {
        let (start, end) = self.range(field);
        let total = self.bytes.len();
        let new_total = (total - (end - start))
            .checked_add(value.len())
            .filter(|&new_total| new_total <= LOGIN_BYTES)
            .ok_or(LoginFull)?;
        let new_end = start + value.len();
        if new_total > total {
            self.bytes.resize(new_total, 0).map_err(|_| LoginFull)?;
        }
        // The values after `field` move to its new end.
        self.bytes.copy_within(end..total, new_end);
        self.bytes.truncate(new_total);
        if let Some(slot) = self.bytes.get_mut(start..new_end) {
            slot.copy_from_slice(value);
        }
        let moved = |at: usize| at - end + new_end;
        match field {
            LoginField::ClientId => {
                self.username_at = moved(self.username_at);
                self.password_at = moved(self.password_at);
            }
            LoginField::Username => self.password_at = moved(self.password_at),
            LoginField::Password => {}
        }
        Ok(())
    }
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

/// `AT+MQTTSNI`'s and `AT+MQTTALPN`'s values (feature `tls-cert`), for every TLS scheme.
#[cfg(feature = "tls-cert")]
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsNames {
    /// The server name sent (and, for the certificate schemes, verified) instead of the
    /// connect host; empty when unset.
    pub(crate) sni: String<MAX_SNI>,
    /// The protocols offered, in order; none when unset.
    pub(crate) alpn: Vec<String<MAX_ALPN>, MAX_ALPNS>,
}

#[cfg(feature = "tls-cert")]
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
    #[cfg(feature = "tls-cert")]
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
            #[cfg(feature = "tls-cert")]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(login: &Login) -> (&[u8], &[u8], &[u8]) {
        (login.client_id(), login.username(), login.password())
    }

    #[test]
    fn each_value_is_replaced_alone_growing_or_shrinking() {
        let mut login = Login::new(b"id", b"user", b"pass").unwrap();
        assert_eq!(fields(&login), (&b"id"[..], &b"user"[..], &b"pass"[..]));
        login.replace(LoginField::ClientId, b"a-longer-id").unwrap();
        assert_eq!(
            fields(&login),
            (&b"a-longer-id"[..], &b"user"[..], &b"pass"[..])
        );
        login.replace(LoginField::Username, b"").unwrap();
        assert_eq!(
            fields(&login),
            (&b"a-longer-id"[..], &b""[..], &b"pass"[..])
        );
        login.replace(LoginField::Password, b"secret!").unwrap();
        assert_eq!(
            fields(&login),
            (&b"a-longer-id"[..], &b""[..], &b"secret!"[..])
        );
        login.replace(LoginField::ClientId, b"i").unwrap();
        assert_eq!(fields(&login), (&b"i"[..], &b""[..], &b"secret!"[..]));
        login.replace(LoginField::Username, b"u").unwrap();
        assert_eq!(fields(&login), (&b"i"[..], &b"u"[..], &b"secret!"[..]));
    }

    #[test]
    fn the_three_together_may_fill_the_buffer_but_not_exceed_it() {
        let long = [b'x'; MAX_LONG_CREDENTIAL];
        let mut login = Login::new(b"id", b"", b"").unwrap();
        login.replace(LoginField::ClientId, &long).unwrap();
        login.replace(LoginField::Username, &long).unwrap();
        assert_eq!(login.replace(LoginField::Password, b"p"), Err(LoginFull));
        // A refused value leaves the login as it was.
        assert_eq!(fields(&login), (&long[..], &long[..], &b""[..]));
        login.replace(LoginField::Username, &long[1..]).unwrap();
        login.replace(LoginField::Password, b"p").unwrap();
        assert_eq!(fields(&login), (&long[..], &long[1..], &b"p"[..]));
        assert!(Login::new(&long, &long, b"p").is_err());
    }
}
