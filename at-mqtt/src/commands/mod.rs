//! The MQTT command set: the table, dispatch, and the parameter helpers the commands
//! share. Each command lives in its own file as a struct parsed from an [`Args`] cursor
//! and carried out through the [`MqttClient`] handle.

#[cfg(feature = "tls-cert")]
mod certificate;
mod clean;
mod conn;
mod conn_cfg;
mod long_credential;
mod psk;
mod publish;
mod subscribe;
#[cfg(feature = "tls-cert")]
mod sysmfg;
#[cfg(feature = "tls-cert")]
mod tls_names;
mod user_cfg;

use at_core::{Args, CommandInfo, CommandSet, Context, ErrorCode, Form, Outcome, Profile};
use embassy_time::Duration;
use minimq::QoS;

use crate::error::{LINK_ID_READ_FAILED, LINK_ID_VALUE_IS_WRONG, ParamCodes};
use long_credential::{Credential, LongCredential};

/// Parses a long-credential command.
fn long(
    args: &mut Args<'_>,
    credential: Credential,
    payload_capacity: usize,
) -> Result<LongCredential, ErrorCode> {
    LongCredential::parse(args, credential, payload_capacity)
}
use crate::{MqttClient, MqttState};

at_core::command_table! {
    /// The MQTT commands, in `AT+CMD?` order.
    pub enum MqttCommand {
        /// `AT+MQTTUSERCFG`: scheme, client ID, credentials.
        UserCfg = "+MQTTUSERCFG": SET,
        /// `AT+MQTTLONGCLIENTID`: a client ID of up to 1024 bytes, as raw data.
        LongClientId = "+MQTTLONGCLIENTID": SET,
        /// `AT+MQTTLONGUSERNAME`: a username of up to 1024 bytes, as raw data.
        LongUsername = "+MQTTLONGUSERNAME": SET,
        /// `AT+MQTTLONGPASSWORD`: a password of up to 1024 bytes, as raw data.
        LongPassword = "+MQTTLONGPASSWORD": SET,
        /// `AT+MQTTPSK`: the TLS pre-shared key for scheme 2.
        Psk = "+MQTTPSK": SET,
        /// `AT+MQTTCONNCFG`: keepalive, session, last will.
        ConnCfg = "+MQTTCONNCFG": SET,
        /// `AT+MQTTCONN`: connect, or query the link.
        Conn = "+MQTTCONN": QUERY | SET,
        /// `AT+MQTTPUB`: publish a string.
        Pub = "+MQTTPUB": SET,
        /// `AT+MQTTPUBRAW`: publish raw data.
        PubRaw = "+MQTTPUBRAW": SET,
        /// `AT+MQTTSUB`: subscribe, or list subscriptions.
        Sub = "+MQTTSUB": QUERY | SET,
        /// `AT+MQTTUNSUB`: unsubscribe.
        Unsub = "+MQTTUNSUB": SET,
        /// `AT+MQTTCLEAN`: disconnect and forget the configuration.
        Clean = "+MQTTCLEAN": SET,
    }
}

#[cfg(feature = "tls-cert")]
at_core::command_table! {
    /// The commands of feature `tls-cert` (without it they are unknown commands), after
    /// [`MqttCommand`]'s in `AT+CMD?` order.
    pub enum TlsCertCommand {
        /// `AT+MQTTSNI`: the TLS server name.
        Sni = "+MQTTSNI": SET,
        /// `AT+MQTTALPN`: the TLS application protocols.
        Alpn = "+MQTTALPN": SET,
        /// `AT+MQTTCERT`: upload, erase or list certificates and keys.
        Cert = "+MQTTCERT": QUERY | SET,
        /// `AT+SYSMFG`: ESP-AT's manufacturing store, namespaces `mqtt_ca`, `mqtt_cert`
        /// and `mqtt_key`.
        SysMfg = "+SYSMFG": QUERY | SET,
    }
}

/// The MQTT commands, for the engine: a thin client of the [`Runner`](crate::Runner)
/// through [`MqttClient`].
pub struct MqttCommands<'a, const PAYLOAD: usize = 1024, const SUBS: usize = 10> {
    client: MqttClient<'a, PAYLOAD, SUBS>,
}

impl<'a, const PAYLOAD: usize, const SUBS: usize> MqttCommands<'a, PAYLOAD, SUBS> {
    /// Commands working on `state`.
    pub fn new(state: &'a MqttState<PAYLOAD, SUBS>) -> Self {
        Self {
            client: MqttClient::new(state),
        }
    }
}

impl<const PAYLOAD: usize, const SUBS: usize> CommandSet for MqttCommands<'_, PAYLOAD, SUBS> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        let mqtt = MqttCommand::TABLE.get(index);
        #[cfg(feature = "tls-cert")]
        let mqtt = mqtt
            .or_else(|| TlsCertCommand::TABLE.get(index.checked_sub(MqttCommand::TABLE.len())?));
        mqtt
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let client = self.client;
        let options = client.options();
        #[cfg(feature = "tls-cert")]
        if let Some(command) = index
            .checked_sub(MqttCommand::TABLE.len())
            .and_then(TlsCertCommand::from_index)
        {
            return match (command, form) {
                (TlsCertCommand::Sni, _) => tls_names::Sni::parse(&mut args)?.apply(client),
                (TlsCertCommand::Alpn, _) => tls_names::Alpn::parse(&mut args)?.apply(client),
                (TlsCertCommand::Cert, Form::Query) => certificate::query(client, cx).await,
                (TlsCertCommand::Cert, _) => {
                    certificate::Cert::parse(&mut args, PAYLOAD)?
                        .run(client, cx)
                        .await
                }
                (TlsCertCommand::SysMfg, Form::Query) => sysmfg::query(cx).await,
                (TlsCertCommand::SysMfg, _) => {
                    sysmfg::SysMfg::parse(&mut args, PAYLOAD)?
                        .run(client, cx)
                        .await
                }
            };
        }
        let Some(command) = MqttCommand::from_index(index) else {
            return Err(ErrorCode::UNKNOWN_COMMAND);
        };
        match (command, form) {
            (MqttCommand::Conn, Form::Query) => conn::query(client, cx).await,
            (MqttCommand::Sub, Form::Query) => subscribe::query(client, cx).await,
            (MqttCommand::UserCfg, _) => user_cfg::UserCfg::parse(&mut args)?.apply(client),
            // One await of one future type for the three: one state in this future.
            (
                MqttCommand::LongClientId | MqttCommand::LongUsername | MqttCommand::LongPassword,
                _,
            ) => {
                let credential = match command {
                    MqttCommand::LongClientId => Credential::ClientId,
                    MqttCommand::LongUsername => Credential::Username,
                    _ => Credential::Password,
                };
                long(&mut args, credential, PAYLOAD)?.run(client, cx).await
            }
            (MqttCommand::Psk, _) => psk::Psk::parse(&mut args)?.apply(client),
            (MqttCommand::ConnCfg, _) => {
                conn_cfg::ConnCfg::parse(&mut args, options)?.apply(client)
            }
            (MqttCommand::Conn, _) => conn::Conn::parse(&mut args, options)?.run(client, cx).await,
            (MqttCommand::Pub, _) => {
                publish::Pub::parse(&mut args, options)?
                    .run(client, cx)
                    .await
            }
            (MqttCommand::PubRaw, _) => {
                publish::PubRaw::parse(&mut args, options, PAYLOAD)?
                    .run(client, cx)
                    .await
            }
            (MqttCommand::Sub, _) => {
                subscribe::Sub::parse(&mut args, options)?
                    .run(client, cx)
                    .await
            }
            (MqttCommand::Unsub, _) => {
                subscribe::Unsub::parse(&mut args, options)?
                    .run(client, cx)
                    .await
            }
            (MqttCommand::Clean, _) => clean::Clean::parse(&mut args)?.run(client, cx).await,
        }
    }

    /// The `AT_MQTT_*` codes of [`error`](crate::error), e.g. "QoS must be 0, 1 or 2".
    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        crate::error::describe(code)
    }
}

/// Reads `<LinkID>`, which must be 0.
fn link_id(args: &mut Args<'_>) -> Result<(), ErrorCode> {
    args.int(0u8..=0)
        .map(drop)
        .map_err(|e| ParamCodes::new(LINK_ID_READ_FAILED, LINK_ID_VALUE_IS_WRONG).map(e))
}

/// Checks the field count: `fields` parameters, plus an optional `timeout_ms` in the
/// esp-at profile.
fn expect_fields(
    args: &Args<'_>,
    fields: usize,
    profile: Profile,
    timed: bool,
) -> Result<(), ErrorCode> {
    let max = if timed && profile == Profile::EspAt {
        fields + 1
    } else {
        fields
    };
    args.expect_count(fields..=max).map_err(ErrorCode::from)
}

/// Reads a required string of at most `max` bytes; `empty` is the code for `""` when
/// the string may not be empty.
fn string<'a>(
    args: &mut Args<'a>,
    max: usize,
    read: ErrorCode,
    overlength: ErrorCode,
    empty: Option<ErrorCode>,
) -> Result<&'a [u8], ErrorCode> {
    let value = args.str().map_err(|e| ParamCodes::new(read, read).map(e))?;
    match empty {
        Some(code) if value.is_empty() => Err(code),
        _ if value.len() > max => Err(overlength),
        _ => Ok(value),
    }
}

/// Reads a QoS (0..=2).
fn qos(args: &mut Args<'_>, codes: ParamCodes) -> Result<QoS, ErrorCode> {
    Ok(match args.int(0u8..=2).map_err(|e| codes.map(e))? {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    })
}

/// Reads a 0/1 flag.
fn flag(args: &mut Args<'_>, codes: ParamCodes) -> Result<bool, ErrorCode> {
    Ok(args.int(0u8..=1).map_err(|e| codes.map(e))? == 1)
}

/// Reads the esp-at profile's optional `timeout_ms` (3000..=60000).
fn timeout(args: &mut Args<'_>, options: &crate::Options) -> Result<Duration, ErrorCode> {
    if options.profile != Profile::EspAt {
        return Ok(options.command_timeout);
    }
    Ok(args
        .opt_int(3000u32..=60000)
        .map_err(ErrorCode::from)?
        .map_or(options.command_timeout, |ms| {
            Duration::from_millis(u64::from(ms))
        }))
}

/// The QoS as its number.
fn qos_number(qos: QoS) -> u8 {
    qos as u8
}

#[cfg(test)]
mod tests {
    use super::{MqttCommand, TlsCertCommand};

    /// `AT+MQTTSNI` and `AT+MQTTALPN` are rows of the `tls-cert` table only, so a build
    /// without the feature answers them as unknown commands.
    #[test]
    fn the_tls_name_commands_are_rows_of_the_tls_cert_table_only() {
        for name in ["+MQTTSNI", "+MQTTALPN"] {
            assert!(MqttCommand::TABLE.iter().all(|row| row.name != name));
            assert!(TlsCertCommand::TABLE.iter().any(|row| row.name == name));
        }
    }
}
