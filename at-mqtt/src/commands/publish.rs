//! `AT+MQTTPUB=<LinkID>,<"topic">,<"data">,<qos>,<retain>` and
//! `AT+MQTTPUBRAW=<LinkID>,<"topic">,<length>,<qos>,<retain>`.

use at_core::{Args, Context, ErrorCode, Outcome, Profile};
use embassy_time::Duration;
use minimq::QoS;

use super::{expect_fields, flag, link_id, qos, timeout};
use crate::error::*;
use crate::topic::topic_name;
use crate::{Delivery, MqttClient, Options};

/// Topic, QoS, retain and timeout: what both publish commands share.
struct Target<'a> {
    topic: &'a str,
    qos: QoS,
    retain: bool,
    timeout: Duration,
}

fn read_topic<'a>(args: &mut Args<'a>) -> Result<&'a str, ErrorCode> {
    let topic = args
        .str()
        .map_err(|e| ParamCodes::new(TOPIC_READ_FAILED, TOPIC_READ_FAILED).map(e))?;
    topic_name(topic)
}

fn read_tail<'a>(
    args: &mut Args<'a>,
    options: &Options,
    topic: &'a str,
) -> Result<Target<'a>, ErrorCode> {
    let qos = qos(args, ParamCodes::new(QOS_READ_FAILED, QOS_VALUE_IS_WRONG))?;
    let retain = flag(
        args,
        ParamCodes::new(RETAIN_READ_FAILED, RETAIN_VALUE_IS_WRONG),
    )?;
    let timeout = timeout(args, options)?;
    args.finish()?;
    Ok(Target {
        topic,
        qos,
        retain,
        timeout,
    })
}

impl Target<'_> {
    fn delivery(&self) -> Delivery {
        Delivery {
            qos: self.qos,
            retain: self.retain,
            timeout: self.timeout,
        }
    }
}

/// A parsed `AT+MQTTPUB`.
pub(super) struct Pub<'a> {
    target: Target<'a>,
    data: &'a [u8],
}

impl<'a> Pub<'a> {
    pub(super) fn parse(args: &mut Args<'a>, options: &Options) -> Result<Self, ErrorCode> {
        expect_fields(args, 5, options.profile, true)?;
        link_id(args)?;
        let topic = read_topic(args)?;
        let data = args
            .str()
            .map_err(|e| ParamCodes::new(DATA_READ_FAILED, DATA_READ_FAILED).map(e))?;
        if data.is_empty() {
            return Err(DATA_IS_NULL);
        }
        let target = read_tail(args, options, topic)?;
        Ok(Self { target, data })
    }

    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        client
            .publish(cx, self.target.topic, self.data, self.target.delivery())
            .await?;
        Ok(Outcome::Ok)
    }
}

/// A parsed `AT+MQTTPUBRAW`.
pub(super) struct PubRaw<'a> {
    target: Target<'a>,
    length: usize,
}

impl<'a> PubRaw<'a> {
    pub(super) fn parse(
        args: &mut Args<'a>,
        options: &Options,
        payload_capacity: usize,
    ) -> Result<Self, ErrorCode> {
        expect_fields(args, 5, options.profile, true)?;
        link_id(args)?;
        let topic = read_topic(args)?;
        let max = u32::try_from(options.pubraw_max.min(payload_capacity)).unwrap_or(u32::MAX);
        let length = args.int(1u32..=max).map_err(|e| {
            ParamCodes::new(PUBLISH_LENGTH_READ_FAILED, PUBLISH_LENGTH_VALUE_IS_WRONG).map(e)
        })?;
        let target = read_tail(args, options, topic)?;
        Ok(Self {
            target,
            length: usize::try_from(length).map_err(|_| PUBLISH_LENGTH_VALUE_IS_WRONG)?,
        })
    }

    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        // A command that cannot start answers `ERROR` and shows no prompt.
        client.require_connected()?;
        let (ok, fail): (&[u8], &[u8]) = match client.options().profile {
            Profile::EspAt => (b"+MQTTPUB:OK\r\n", b"+MQTTPUB:FAIL\r\n"),
            _ => (b"+MQTTPUBRAW:OK\r\n", b"+MQTTPUBRAW:FAIL\r\n"),
        };
        let result = client
            .publish_raw(cx, self.target.topic, self.length, self.target.delivery())
            .await;
        cx.write(if result.is_ok() { ok } else { fail }).await;
        Ok(Outcome::Done)
    }
}
