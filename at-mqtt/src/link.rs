//! The broker link as the host sees it: its state and the subscriptions held.
//!
//! The runner owns this view and is its only writer; the command handlers read it
//! (`AT+MQTTCONN?`, `AT+MQTTSUB?`, and the checks before a command starts).

use heapless::{String, Vec};
use minimq::QoS;

use crate::topic::MAX_TOPIC;

/// The state of the broker link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum LinkState {
    /// No `AT+MQTTCONN` has succeeded since start-up or `AT+MQTTCLEAN`.
    Idle,
    /// `AT+MQTTCONN` is opening the link.
    Connecting,
    /// Connected.
    Connected,
    /// The link was lost (or never came up) and is not being re-established.
    Lost,
    /// The link was lost and the runner is re-establishing it.
    Reconnecting,
}

impl LinkState {
    /// Whether a link exists or is being set up: the configuration may not change then.
    pub fn is_linked(self) -> bool {
        matches!(
            self,
            LinkState::Connecting | LinkState::Connected | LinkState::Reconnecting
        )
    }
}

/// One subscription the broker granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub(crate) filter: String<MAX_TOPIC>,
    pub(crate) qos: QoS,
    /// Whether the broker holds it in the current session (false while restoring).
    pub(crate) restored: bool,
}

impl Subscription {
    /// The topic filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The maximum QoS asked for.
    pub fn qos(&self) -> QoS {
        self.qos
    }
}

/// The runner's view of the link.
pub(crate) struct LinkView<const SUBS: usize> {
    pub(crate) state: LinkState,
    pub(crate) subscriptions: Vec<Subscription, SUBS>,
}

impl<const SUBS: usize> LinkView<SUBS> {
    pub(crate) const fn new() -> Self {
        Self {
            state: LinkState::Idle,
            subscriptions: Vec::new(),
        }
    }

    /// Whether `filter` is subscribed.
    pub(crate) fn is_subscribed(&self, filter: &str) -> bool {
        self.subscriptions.iter().any(|sub| sub.filter == filter)
    }

    /// Forgets `filter`; whether it was subscribed.
    pub(crate) fn remove(&mut self, filter: &str) -> bool {
        let before = self.subscriptions.len();
        self.subscriptions.retain(|sub| sub.filter != filter);
        self.subscriptions.len() != before
    }
}
