//! `AT+MQTTSNI=<LinkID>,<"sni">` and `AT+MQTTALPN=<LinkID>,<count>[,<"alpn">...]`: the
//! server name and the application protocols of the TLS handshake (ESP-AT's formats;
//! feature `tls-cert`).
//!
//! Both need `AT+MQTTUSERCFG` first (`0x6001` otherwise), are refused while a link
//! exists, and last until `AT+MQTTCLEAN`. They apply to every TLS scheme; scheme 1
//! ignores them.

use at_core::{Args, ErrorCode, Outcome};
use heapless::{String, Vec};

use super::{link_id, string};
use crate::MqttClient;
use crate::config::{MAX_ALPN, MAX_ALPNS, MAX_SNI};
use crate::error::{
    ALPN_IS_OVERLENGTH, ALPN_READ_FAILED, NO_CONFIGURED, SNI_IS_OVERLENGTH, SNI_READ_FAILED,
};

/// A parsed `AT+MQTTSNI`: `""` clears the name (the connect host is sent again).
pub(super) struct Sni<'a> {
    name: &'a [u8],
}

impl<'a> Sni<'a> {
    pub(super) fn parse(args: &mut Args<'a>) -> Result<Self, ErrorCode> {
        args.expect_count(2..=2)?;
        link_id(args)?;
        let name = string(args, MAX_SNI, SNI_READ_FAILED, SNI_IS_OVERLENGTH, None)?;
        args.finish()?;
        Ok(Self { name })
    }

    pub(super) fn apply<const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
    ) -> Result<Outcome, ErrorCode> {
        let name = core::str::from_utf8(self.name).map_err(|_| SNI_READ_FAILED)?;
        client.configure(|config| {
            if config.user.is_none() {
                return Err(NO_CONFIGURED);
            }
            config.tls_names.sni = String::try_from(name).map_err(|_| SNI_IS_OVERLENGTH)?;
            Ok(Outcome::Ok)
        })
    }
}

/// [`MAX_ALPNS`] as `<count>`'s type.
const MAX_ALPN_COUNT: u8 = 5;
const _: () = assert!(MAX_ALPN_COUNT as usize == MAX_ALPNS);

/// A parsed `AT+MQTTALPN`: `count` names follow (0 clears them).
pub(super) struct Alpn {
    protocols: Vec<String<MAX_ALPN>, MAX_ALPNS>,
}

impl Alpn {
    pub(super) fn parse(args: &mut Args<'_>) -> Result<Self, ErrorCode> {
        args.expect_count(2..=2 + MAX_ALPNS)?;
        link_id(args)?;
        let count = args
            .int(0u8..=MAX_ALPN_COUNT)
            .map_err(|_| ALPN_READ_FAILED)?;
        let mut protocols = Vec::new();
        for _ in 0..count {
            let name = string(
                args,
                MAX_ALPN,
                ALPN_READ_FAILED,
                ALPN_IS_OVERLENGTH,
                Some(ALPN_READ_FAILED),
            )?;
            let name = core::str::from_utf8(name).map_err(|_| ALPN_READ_FAILED)?;
            let name = String::try_from(name).map_err(|_| ALPN_IS_OVERLENGTH)?;
            protocols.push(name).map_err(|_| ALPN_READ_FAILED)?;
        }
        // Exactly `count` names: more fields than that are an error.
        args.finish()?;
        Ok(Self { protocols })
    }

    pub(super) fn apply<const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
    ) -> Result<Outcome, ErrorCode> {
        client.configure(|config| {
            if config.user.is_none() {
                return Err(NO_CONFIGURED);
            }
            config.tls_names.alpn = self.protocols;
            Ok(Outcome::Ok)
        })
    }
}
