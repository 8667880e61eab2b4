//! `AT+MQTTLONGCLIENTID`, `AT+MQTTLONGUSERNAME` and `AT+MQTTLONGPASSWORD=<LinkID>,<length>`:
//! a client ID, username or password of up to 1024 bytes, sent as raw data.
//!
//! After `AT+MQTTUSERCFG` and while no link exists: `OK`, the `>` prompt, exactly
//! `<length>` bytes (binary-safe, not echoed, no escapes), then `OK`; the value replaces
//! the one `AT+MQTTUSERCFG` set. The three share [`LOGIN_BYTES`](crate::LOGIN_BYTES): a value that would take
//! them past it is refused with its overlength code. Both profiles (ESP-AT's format).

use at_core::{Args, Context, ErrorCode, Outcome};

use super::link_id;
use crate::MqttClient;
use crate::config::{LoginField, MAX_LONG_CREDENTIAL};
use crate::error::*;

/// Which credential a long-credential command sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Credential {
    /// `AT+MQTTLONGCLIENTID`.
    ClientId,
    /// `AT+MQTTLONGUSERNAME`.
    Username,
    /// `AT+MQTTLONGPASSWORD`.
    Password,
}

impl Credential {
    /// The codes for a length that cannot be read, and for one out of range (also used
    /// when the data does not arrive or is not UTF-8 where MQTT requires it).
    fn codes(self) -> ParamCodes {
        match self {
            Self::ClientId => ParamCodes::new(CLIENT_ID_READ_FAILED, CLIENT_ID_IS_OVERLENGTH),
            Self::Username => ParamCodes::new(USERNAME_READ_FAILED, USERNAME_IS_OVERLENGTH),
            Self::Password => ParamCodes::new(PASSWORD_READ_FAILED, PASSWORD_IS_OVERLENGTH),
        }
    }

    fn read_failed(self) -> ErrorCode {
        match self {
            Self::ClientId => CLIENT_ID_READ_FAILED,
            Self::Username => USERNAME_READ_FAILED,
            Self::Password => PASSWORD_READ_FAILED,
        }
    }

    /// Its place in the login.
    fn field(self) -> LoginField {
        match self {
            Self::ClientId => LoginField::ClientId,
            Self::Username => LoginField::Username,
            Self::Password => LoginField::Password,
        }
    }
}

/// A parsed long-credential command.
pub(super) struct LongCredential {
    credential: Credential,
    length: usize,
}

impl LongCredential {
    /// Parses `<LinkID>,<length>`; `payload_capacity` (the request slot's) caps the
    /// length below 1024 on a modem built with a smaller payload buffer.
    pub(super) fn parse(
        args: &mut Args<'_>,
        credential: Credential,
        payload_capacity: usize,
    ) -> Result<Self, ErrorCode> {
        args.expect_count(2..=2)?;
        link_id(args)?;
        let max = u32::try_from(MAX_LONG_CREDENTIAL.min(payload_capacity)).unwrap_or(u32::MAX);
        let length = args
            .int(1u32..=max)
            .map_err(|e| credential.codes().map(e))?;
        args.finish()?;
        Ok(Self {
            credential,
            length: usize::try_from(length).map_err(|_| credential.read_failed())?,
        })
    }

    /// Checks that `AT+MQTTUSERCFG` came first and no link exists (else `ERROR` without
    /// a prompt), reads the data and stores it.
    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        client.configure(|config| config.user.as_ref().map(drop).ok_or(NO_CONFIGURED))?;
        let credential = self.credential;
        let read_failed = credential.read_failed();
        client
            .configure_from_raw(cx, self.length, read_failed, |config, data| {
                let user = config.user.as_mut().ok_or(NO_CONFIGURED)?;
                if credential != Credential::Password && core::str::from_utf8(data).is_err() {
                    // MQTT client IDs and usernames are UTF-8 strings.
                    return Err(read_failed);
                }
                user.login
                    .replace(credential.field(), data)
                    .map_err(|_| credential.codes().value)
            })
            .await?;
        Ok(Outcome::Ok)
    }
}
