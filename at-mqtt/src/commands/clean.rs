//! `AT+MQTTCLEAN=<LinkID>`: disconnect and forget the configuration and subscriptions.

use at_core::{Args, Context, ErrorCode, Outcome};

use super::link_id;
use crate::MqttClient;

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
        client: MqttClient<'_, P, S>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        // The link is gone afterwards whatever happened on the way: `OK` either way.
        if client.clean(cx).await.is_err() {
            warn!("AT+MQTTCLEAN: the disconnect did not complete cleanly");
        }
        Ok(Outcome::Ok)
    }
}
