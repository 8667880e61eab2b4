//! `AT+MQTTCLEAN=<LinkID>`: disconnect and forget the configuration and subscriptions.

use at_core::{Args, Context, ErrorCode, Outcome};

use super::{MqttCommands, link_id};
use crate::state::{Link, Request};

/// A parsed `AT+MQTTCLEAN`.
pub(super) struct Clean;

impl Clean {
    pub(super) fn parse(args: &mut Args<'_>) -> Result<Self, ErrorCode> {
        args.expect_count(1..=1)?;
        link_id(args)?;
        args.finish()?;
        Ok(Self)
    }

    pub(super) async fn run<C: Context, const P: usize, const S: usize>(
        self,
        commands: &MqttCommands<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let linked = commands
            .shared
            .with(|inner| matches!(inner.link, Link::Connected | Link::Reconnecting));
        if linked {
            // Whatever the runner answers, the link is gone afterwards.
            let _ = commands.request(cx, Request::Clean).await;
        }
        commands.shared.reset();
        Ok(Outcome::Ok)
    }
}
