//! `AT+MQTTSUB=<LinkID>,<"topic">,<qos>`, `AT+MQTTSUB?` and `AT+MQTTUNSUB=<LinkID>,<"topic">`.

use core::fmt::Write as _;

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome, Profile};
use embassy_time::Duration;
use heapless::String;
use minimq::QoS;

use super::conn::{esp_state, seed_state};
use super::{MqttCommands, expect_fields, link_id, qos, qos_number, require_connected, timeout};
use crate::Options;
use crate::error::*;
use crate::state::{Request, Response, Shared, Subscription};
use crate::topic::{MAX_TOPIC, topic_filter};

/// Reads a topic filter.
fn read_filter<'a>(args: &mut Args<'a>) -> Result<&'a str, ErrorCode> {
    let filter = args
        .str()
        .map_err(|e| ParamCodes::new(TOPIC_READ_FAILED, TOPIC_READ_FAILED).map(e))?;
    topic_filter(filter)
}

/// Puts `filter` in the outbox for the runner.
fn set_outbox<const P: usize, const S: usize>(
    shared: &Shared<P, S>,
    filter: &str,
) -> Result<(), ErrorCode> {
    shared.with(|inner| {
        inner.outbox_topic.clear();
        inner
            .outbox_topic
            .push_str(filter)
            .map_err(|_| TOPIC_IS_OVERLENGTH)
    })
}

/// A parsed `AT+MQTTSUB` set command.
pub(super) struct Sub<'a> {
    filter: &'a str,
    qos: QoS,
    timeout: Duration,
}

impl<'a> Sub<'a> {
    pub(super) fn parse(args: &mut Args<'a>, options: &Options) -> Result<Self, ErrorCode> {
        expect_fields(args, 3, options.profile, true)?;
        link_id(args)?;
        let filter = read_filter(args)?;
        let qos = qos(args, ParamCodes::new(QOS_READ_FAILED, QOS_VALUE_IS_WRONG))?;
        let timeout = timeout(args, options)?;
        args.finish()?;
        Ok(Self {
            filter,
            qos,
            timeout,
        })
    }

    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        commands: &MqttCommands<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let shared = commands.shared;
        let already = shared.with(|inner| {
            require_connected(inner)?;
            let already = inner
                .subscriptions
                .iter()
                .any(|sub| sub.filter == self.filter);
            if !already && inner.subscriptions.is_full() {
                return Err(CLIENT_SUBSCRIBE_FAILED);
            }
            Ok(already)
        })?;
        if already {
            cx.write(b"ALREADY SUBSCRIBE\r\n").await;
            return Ok(Outcome::Ok);
        }
        set_outbox(shared, self.filter)?;
        let request = Request::Subscribe {
            qos: self.qos,
            timeout: self.timeout,
        };
        match commands.request(cx, request).await {
            Response::Done => {
                let filter: String<MAX_TOPIC> =
                    String::try_from(self.filter).map_err(|_| TOPIC_IS_OVERLENGTH)?;
                shared.with(|inner| {
                    inner
                        .subscriptions
                        .push(Subscription {
                            filter,
                            qos: self.qos,
                        })
                        .map_err(|_| CLIENT_SUBSCRIBE_FAILED)
                })?;
                Ok(Outcome::Ok)
            }
            Response::Failed(code) => Err(code),
            Response::NotConnected => Err(IN_DISCONNECTED_STATE),
        }
    }
}

/// Writes one `+MQTTSUB:` line per subscription.
pub(super) async fn query<C: Context, const P: usize, const S: usize>(
    shared: &Shared<P, S>,
    cx: &mut C,
) -> Result<Outcome, ErrorCode> {
    let count = shared.with(|inner| inner.subscriptions.len());
    let profile = cx.profile();
    let line_for = |index: usize| {
        shared.with(|inner| {
            let mut line = LineBuf::<{ MAX_TOPIC + 32 }>::new();
            let state = |line: &mut LineBuf<{ MAX_TOPIC + 32 }>| match profile {
                Profile::EspAt => {
                    let _ = write!(line, "{}", esp_state(inner));
                }
                _ => {
                    let _ = write!(line, "{}", seed_state(inner));
                }
            };
            line.push_bytes(b"+MQTTSUB:0,");
            state(&mut line);
            match inner.subscriptions.get(index) {
                Some(sub) => {
                    let _ = write!(line, ",\"{}\",{}", sub.filter, qos_number(sub.qos));
                }
                None => line.push_bytes(b",\"\",0"),
            }
            line
        })
    };
    if count == 0 && profile == Profile::EspAt {
        cx.write_line(line_for(0).as_bytes()).await;
    }
    for index in 0..count {
        cx.write_line(line_for(index).as_bytes()).await;
    }
    Ok(Outcome::Ok)
}

/// A parsed `AT+MQTTUNSUB`.
pub(super) struct Unsub<'a> {
    filter: &'a str,
    timeout: Duration,
}

impl<'a> Unsub<'a> {
    pub(super) fn parse(args: &mut Args<'a>, options: &Options) -> Result<Self, ErrorCode> {
        expect_fields(args, 2, options.profile, true)?;
        link_id(args)?;
        let filter = read_filter(args)?;
        let timeout = timeout(args, options)?;
        args.finish()?;
        Ok(Self { filter, timeout })
    }

    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        commands: &MqttCommands<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let shared = commands.shared;
        let remove = |shared: &Shared<P, S>| {
            shared.with(|inner| inner.subscriptions.retain(|sub| sub.filter != self.filter));
        };
        let subscribed_and_connected = shared.with(|inner| {
            inner.connected()
                && inner
                    .subscriptions
                    .iter()
                    .any(|sub| sub.filter == self.filter)
        });
        if !subscribed_and_connected {
            remove(shared);
            cx.write(b"NO UNSUBSCRIBE\r\n").await;
            return Ok(Outcome::Ok);
        }
        set_outbox(shared, self.filter)?;
        let request = Request::Unsubscribe {
            timeout: self.timeout,
        };
        match commands.request(cx, request).await {
            Response::Done => {
                remove(shared);
                Ok(Outcome::Ok)
            }
            Response::Failed(code) => Err(code),
            Response::NotConnected => Err(IN_DISCONNECTED_STATE),
        }
    }
}
