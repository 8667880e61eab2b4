//! `AT+MQTTCONN=<LinkID>,<"host">,<port>,<reconnect>` and `AT+MQTTCONN?`.

use core::fmt::Write as _;

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome, Profile};
use embassy_time::Duration;
use heapless::String;

use super::{MqttCommands, expect_fields, flag, link_id, string, timeout};
use crate::Options;
use crate::error::*;
use crate::state::{Inner, Link, MAX_HOST, Request, Response, Shared, Target};
use crate::urc::{self, DISCONNECTED};

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
        commands: &MqttCommands<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let shared = commands.shared;
        shared.with(|inner| {
            let Some(user) = &inner.user else {
                return Err(NO_CONFIGURED);
            };
            inner.require_no_link()?;
            if user.scheme == 2 && inner.psk.is_none() {
                return Err(TLS_CONFIG_ERROR);
            }
            inner.target = Target {
                host: String::try_from(self.host).map_err(|_| HOST_IS_OVERLENGTH)?,
                port: self.port,
                reconnect: self.reconnect,
            };
            inner.link = Link::Connecting;
            Ok(())
        })?;
        let response = commands
            .request(
                cx,
                Request::Connect {
                    timeout: self.timeout,
                },
            )
            .await;
        match response {
            Response::Done => {
                let line = shared.with(|inner| urc::connected_for(cx.profile(), inner));
                cx.write(line.as_bytes()).await;
                Ok(Outcome::Ok)
            }
            Response::Failed(code) => {
                if cx.profile() == Profile::EspAt {
                    cx.write(DISCONNECTED).await;
                }
                Err(code)
            }
            Response::NotConnected => Err(CLIENT_START_FAILED),
        }
    }
}

/// The esp-at profile's numeric link state (0..=6).
pub(super) fn esp_state<const P: usize, const S: usize>(inner: &Inner<P, S>) -> u8 {
    match inner.link {
        Link::Connected if inner.subscriptions.is_empty() => 5,
        Link::Connected => 6,
        Link::Lost | Link::Reconnecting => 3,
        Link::Idle | Link::Connecting if inner.user.is_none() => 0,
        Link::Idle | Link::Connecting if inner.conn_configured => 2,
        Link::Idle | Link::Connecting => 1,
    }
}

/// The seed profile's link state word.
pub(super) fn seed_state<const P: usize, const S: usize>(inner: &Inner<P, S>) -> &'static str {
    if inner.connected() {
        "connected"
    } else {
        "disconnect"
    }
}

/// Writes `+MQTTCONN:...` for the current state.
pub(super) async fn query<C: Context, const P: usize, const S: usize>(
    shared: &Shared<P, S>,
    cx: &mut C,
) -> Result<Outcome, ErrorCode> {
    let line = shared.with(|inner| {
        let mut line = LineBuf::<{ 64 + MAX_HOST + crate::state::MAX_PATH }>::new();
        let scheme = inner.user.as_ref().map_or(0, |u| u.scheme);
        let target = &inner.target;
        match cx.profile() {
            Profile::EspAt => {
                let _ = write!(
                    line,
                    "+MQTTCONN:0,{},{scheme},\"{}\",\"",
                    esp_state(inner),
                    target.host
                );
                if target.port != 0 {
                    let _ = write!(line, "{}", target.port);
                }
                line.push_bytes(b"\",\"");
                line.push_bytes(inner.user.as_ref().map_or(&[][..], |u| &u.path));
                let _ = write!(line, "\",{}", u8::from(target.reconnect));
            }
            _ => {
                let _ = write!(
                    line,
                    "+MQTTCONN:0,{},{scheme},\"{}\",{},{}",
                    seed_state(inner),
                    target.host,
                    target.port,
                    u8::from(target.reconnect)
                );
            }
        }
        line
    });
    cx.write_line(line.as_bytes()).await;
    Ok(Outcome::Ok)
}
