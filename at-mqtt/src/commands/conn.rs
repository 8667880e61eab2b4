//! `AT+MQTTCONN=<LinkID>,<"host">,<port>,<reconnect>` and `AT+MQTTCONN?`.

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome, Profile};
use embassy_time::Duration;

use super::{expect_fields, flag, link_id, string, timeout};
use crate::config::{MAX_HOST, MAX_PATH, MqttConfig, Target};
use crate::error::*;
use crate::{LinkState, MqttClient, Options};

/// A parsed `AT+MQTTCONN` set command.
pub(super) struct Conn<'a> {
    host: &'a str,
    port: u16,
    reconnect: bool,
    timeout: Duration,
}

impl<'a> Conn<'a> {
    pub(super) fn parse(args: &mut Args<'a>, options: &Options) -> Result<Self, ErrorCode> {
        expect_fields(args, 4, options.profile, true)?;
        link_id(args)?;
        let host = string(
            args,
            options.max_host(),
            HOST_READ_FAILED,
            HOST_IS_OVERLENGTH,
            Some(HOST_IS_NULL),
        )?;
        let host = core::str::from_utf8(host).map_err(|_| HOST_READ_FAILED)?;
        let port = args
            .int(1u16..=65535)
            .map_err(|e| ParamCodes::new(PORT_READ_FAILED, PORT_VALUE_IS_WRONG).map(e))?;
        let reconnect = flag(
            args,
            ParamCodes::new(RECONNECT_READ_FAILED, RECONNECT_VALUE_IS_WRONG),
        )?;
        let timeout = timeout(args, options)?;
        args.finish()?;
        Ok(Self {
            host,
            port,
            reconnect,
            timeout,
        })
    }

    /// Connects and waits for CONNACK.
    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        client
            .connect(cx, self.host, self.port, self.reconnect, self.timeout)
            .await?;
        Ok(Outcome::Ok)
    }
}

/// The link state as the query commands show it in `profile`: the esp-at profile's
/// number (0..=6) or the seed profile's word.
pub(super) fn state_field<const P: usize, const S: usize, const N: usize>(
    client: MqttClient<'_, P, S>,
    config: Option<&MqttConfig>,
    line: &mut LineBuf<N>,
) {
    let link = client.link();
    match client.options().profile {
        Profile::EspAt => {
            let configured = config.is_some_and(|config| config.user.is_some());
            let conn_configured = config.is_some_and(|config| config.conn_configured);
            let state: u8 = match link {
                LinkState::Connected if client.subscriptions(<[_]>::is_empty) => 5,
                LinkState::Connected => 6,
                LinkState::Lost | LinkState::Reconnecting => 3,
                _ if !configured => 0,
                _ if conn_configured => 2,
                _ => 1,
            };
            line.push_decimal(state);
        }
        _ if link == LinkState::Connected => line.push_str("connected"),
        _ => line.push_str("disconnect"),
    }
}

/// Writes `+MQTTCONN:...` for the current state.
pub(super) async fn query<C: Context, const P: usize, const S: usize>(
    client: MqttClient<'_, P, S>,
    cx: &mut C,
) -> Result<Outcome, ErrorCode> {
    let line = {
        let config = client.config();
        let config = config.as_deref();
        let mut line = LineBuf::<{ 64 + MAX_HOST + MAX_PATH }>::new();
        let scheme = config.map_or(0, MqttConfig::scheme);
        let empty = Target::default();
        let target = config.map_or(&empty, |config| &config.target);
        line.push_bytes(b"+MQTTCONN:0,");
        state_field(client, config, &mut line);
        match client.options().profile {
            Profile::EspAt => {
                line.push_str(",");
                line.push_decimal(scheme);
                line.push_str(",\"");
                line.push_str(&target.host);
                line.push_str("\",\"");
                if target.port != 0 {
                    line.push_decimal(target.port);
                }
                line.push_bytes(b"\",\"");
                line.push_bytes(config.map_or(&[][..], MqttConfig::path));
                line.push_str(if target.reconnect { "\",1" } else { "\",0" });
            }
            _ => {
                line.push_str(",");
                line.push_decimal(scheme);
                line.push_str(",\"");
                line.push_str(&target.host);
                line.push_str("\",");
                line.push_decimal(target.port);
                line.push_str(if target.reconnect { ",1" } else { ",0" });
            }
        }
        line
    };
    cx.write_line(line.as_bytes()).await;
    Ok(Outcome::Ok)
}
