//! `AT+MQTTUSERCFG=<LinkID>,<scheme>,<"client_id">,<"username">,<"password">,<cert_key_ID>,<CA_ID>,<"path">`

use at_core::{Args, ErrorCode, Outcome};
use heapless::Vec;

use super::{link_id, string};
use crate::MqttClient;
use crate::config::{Login, MAX_CLIENT_ID, MAX_CREDENTIAL, MAX_PATH, UserConfig};
use crate::error::*;

/// The highest scheme accepted: 5 (the certificate schemes 3, 4 and 5) with the
/// `tls-cert` feature, else 2.
const MAX_SCHEME: u8 = if cfg!(feature = "tls-cert") { 5 } else { 2 };
/// The highest `cert_key_ID` and `CA_ID`: a store index with the `tls-cert` feature,
/// else 0 (no certificate is ever used).
const MAX_INDEX: u8 = if cfg!(feature = "tls-cert") {
    crate::credentials::MAX_CREDENTIAL_INDEX
} else {
    0
};

/// A parsed `AT+MQTTUSERCFG`.
pub(super) struct UserCfg<'a> {
    scheme: u8,
    cert_key_id: u8,
    ca_id: u8,
    client_id: &'a [u8],
    username: &'a [u8],
    password: &'a [u8],
    path: &'a [u8],
}

impl<'a> UserCfg<'a> {
    pub(super) fn parse(args: &mut Args<'a>) -> Result<Self, ErrorCode> {
        args.expect_count(8..=8)?;
        link_id(args)?;
        let scheme = args
            .int(1u8..=MAX_SCHEME)
            .map_err(|e| ParamCodes::new(SCHEME_READ_FAILED, SCHEME_VALUE_IS_WRONG).map(e))?;
        let client_id = string(
            args,
            MAX_CLIENT_ID,
            CLIENT_ID_READ_FAILED,
            CLIENT_ID_IS_OVERLENGTH,
            Some(CLIENT_ID_IS_NULL),
        )?;
        let username = string(
            args,
            MAX_CREDENTIAL,
            USERNAME_READ_FAILED,
            USERNAME_IS_OVERLENGTH,
            None,
        )?;
        let password = string(
            args,
            MAX_CREDENTIAL,
            PASSWORD_READ_FAILED,
            PASSWORD_IS_OVERLENGTH,
            None,
        )?;
        let cert_key_id = args.int(0u8..=MAX_INDEX).map_err(|e| {
            ParamCodes::new(CERT_KEY_ID_READ_FAILED, CERT_KEY_ID_VALUE_IS_WRONG).map(e)
        })?;
        let ca_id = args
            .int(0u8..=MAX_INDEX)
            .map_err(|e| ParamCodes::new(CA_ID_READ_FAILED, CA_ID_VALUE_IS_WRONG).map(e))?;
        let path = string(args, MAX_PATH, PATH_READ_FAILED, PATH_IS_OVERLENGTH, None)?;
        args.finish()?;
        if core::str::from_utf8(client_id).is_err() {
            return Err(CLIENT_ID_READ_FAILED);
        }
        if core::str::from_utf8(username).is_err() {
            return Err(USERNAME_READ_FAILED);
        }
        Ok(Self {
            scheme,
            cert_key_id,
            ca_id,
            client_id,
            username,
            password,
            path,
        })
    }

    /// Stores the configuration; refused while a link exists.
    pub(super) fn apply<const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
    ) -> Result<Outcome, ErrorCode> {
        client.configure(|inner| {
            // Lengths were checked above, so the copies cannot fail.
            inner.user = Some(UserConfig {
                scheme: self.scheme,
                cert_key_id: self.cert_key_id,
                ca_id: self.ca_id,
                login: Login::new(self.client_id, self.username, self.password)
                    .map_err(|_| CLIENT_ID_IS_OVERLENGTH)?,
                path: Vec::from_slice(self.path).map_err(|_| PATH_IS_OVERLENGTH)?,
            });
            Ok(Outcome::Ok)
        })
    }
}
