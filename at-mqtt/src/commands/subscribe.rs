//! `AT+MQTTSUB=<LinkID>,<"topic">,<qos>`, `AT+MQTTSUB?` and `AT+MQTTUNSUB=<LinkID>,<"topic">`.

use at_core::{Args, Context, ErrorCode, LineBuf, Outcome, Profile};
use embassy_time::Duration;
use minimq::QoS;

use super::conn::state_field;
use super::{expect_fields, link_id, qos, qos_number, timeout};
use crate::error::*;
use crate::topic::{MAX_TOPIC, topic_filter};
use crate::{MqttClient, Options, Subscribed, Unsubscribed};

/// Reads a topic filter.
fn read_filter<'a>(args: &mut Args<'a>) -> Result<&'a str, ErrorCode> {
    let filter = args
        .str()
        .map_err(|e| ParamCodes::new(TOPIC_READ_FAILED, TOPIC_READ_FAILED).map(e))?;
    topic_filter(filter)
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
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let subscribed = client
            .subscribe(cx, self.filter, self.qos, self.timeout)
            .await?;
        if subscribed == Subscribed::Already {
            cx.write(b"ALREADY SUBSCRIBE\r\n").await;
        }
        Ok(Outcome::Ok)
    }
}

/// Writes one `+MQTTSUB:` line per subscription (the esp-at profile shows an empty
/// one when there is none).
pub(super) async fn query<C: Context, const P: usize, const S: usize>(
    client: MqttClient<'_, P, S>,
    cx: &mut C,
) -> Result<Outcome, ErrorCode> {
    let count = client.subscriptions(<[_]>::len);
    let line_for = |index: usize| {
        let config = client.config();
        let mut line = LineBuf::<{ MAX_TOPIC + 32 }>::new();
        line.push_bytes(b"+MQTTSUB:0,");
        state_field(client, config.as_deref(), &mut line);
        client.subscriptions(|subs| match subs.get(index) {
            Some(sub) => {
                line.push_str(",\"");
                line.push_str(sub.filter());
                line.push_str("\",");
                line.push_decimal(qos_number(sub.qos()));
            }
            None => line.push_bytes(b",\"\",0"),
        });
        line
    };
    if count == 0 && client.options().profile == Profile::EspAt {
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
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let unsubscribed = client.unsubscribe(cx, self.filter, self.timeout).await?;
        if unsubscribed == Unsubscribed::NotSubscribed {
            cx.write(b"NO UNSUBSCRIBE\r\n").await;
        }
        Ok(Outcome::Ok)
    }
}
