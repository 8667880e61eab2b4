//! `AT+MQTTCONNCFG=<LinkID>,<keepalive>,<disable_clean_session>,<"lwt_topic">,<"lwt_msg">,<lwt_qos>,<lwt_retain>`

use at_core::{Args, ErrorCode, Outcome};
use heapless::{String, Vec};
use minimq::QoS;

use super::{flag, link_id, qos, string};
use crate::MqttClient;
use crate::Options;
use crate::config::{ConnConfig, DEFAULT_KEEPALIVE, MAX_LWT_MSG};
use crate::error::*;
use crate::topic::{MAX_TOPIC, topic_name};

/// A parsed `AT+MQTTCONNCFG`.
pub(super) struct ConnCfg<'a> {
    keepalive: u16,
    keep_session: bool,
    lwt_topic: &'a str,
    lwt_msg: &'a [u8],
    lwt_qos: QoS,
    lwt_retain: bool,
}

impl<'a> ConnCfg<'a> {
    pub(super) fn parse(args: &mut Args<'a>, options: &Options) -> Result<Self, ErrorCode> {
        args.expect_count(7..=7)?;
        link_id(args)?;
        let keepalive = args
            .int(0u16..=7200)
            .map_err(|e| ParamCodes::new(KEEPALIVE_READ_FAILED, KEEPALIVE_VALUE_IS_WRONG).map(e))?;
        let keep_session = flag(
            args,
            ParamCodes::new(
                DISABLE_CLEAN_SESSION_READ_FAILED,
                DISABLE_CLEAN_SESSION_VALUE_IS_WRONG,
            ),
        )?;
        let lwt_topic = string(
            args,
            MAX_TOPIC,
            LWT_TOPIC_READ_FAILED,
            LWT_TOPIC_IS_OVERLENGTH,
            None,
        )?;
        let lwt_topic = if lwt_topic.is_empty() {
            ""
        } else {
            topic_name(lwt_topic).map_err(|code| match code {
                TOPIC_IS_OVERLENGTH => LWT_TOPIC_IS_OVERLENGTH,
                _ => LWT_TOPIC_READ_FAILED,
            })?
        };
        let lwt_msg = string(
            args,
            options.max_lwt_msg(),
            LWT_MSG_READ_FAILED,
            LWT_MSG_IS_OVERLENGTH,
            None,
        )?;
        let lwt_qos = qos(
            args,
            ParamCodes::new(LWT_QOS_READ_FAILED, LWT_QOS_VALUE_IS_WRONG),
        )?;
        let lwt_retain = flag(
            args,
            ParamCodes::new(LWT_RETAIN_READ_FAILED, LWT_RETAIN_VALUE_IS_WRONG),
        )?;
        args.finish()?;
        Ok(Self {
            keepalive: if keepalive == 0 {
                DEFAULT_KEEPALIVE
            } else {
                keepalive
            },
            keep_session,
            lwt_topic,
            lwt_msg,
            lwt_qos,
            lwt_retain,
        })
    }

    /// Stores the configuration; needs `AT+MQTTUSERCFG` first and no link.
    pub(super) fn apply<const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
    ) -> Result<Outcome, ErrorCode> {
        client.configure(|inner| {
            if inner.user.is_none() {
                return Err(NO_CONFIGURED);
            }
            let lwt_msg: Vec<u8, MAX_LWT_MSG> =
                Vec::from_slice(self.lwt_msg).map_err(|_| LWT_MSG_IS_OVERLENGTH)?;
            let lwt_topic: String<MAX_TOPIC> =
                String::try_from(self.lwt_topic).map_err(|_| LWT_TOPIC_IS_OVERLENGTH)?;
            inner.conn = ConnConfig {
                keepalive: self.keepalive,
                keep_session: self.keep_session,
                lwt_topic,
                lwt_msg,
                lwt_qos: self.lwt_qos,
                lwt_retain: self.lwt_retain,
            };
            inner.conn_configured = true;
            Ok(Outcome::Ok)
        })
    }
}
