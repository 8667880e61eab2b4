//! [`MqttState`]: the memory the command handlers and the runner meet in, created by the
//! port (like embassy-net's `StackResources`) and borrowed by both halves.
//!
//! Each part has one writer: the configuration belongs to the command handlers (through
//! [`MqttClient`](crate::MqttClient)), the link view to the [`Runner`](crate::Runner),
//! and the mailbox and its slot carry one request at a time between them.

use core::cell::{Ref, RefCell};

use crate::Options;
use crate::config::MqttConfig;
use crate::link::{LinkState, LinkView};
use crate::mailbox::{Mailbox, Slot};

/// The MQTT state shared by [`MqttClient`](crate::MqttClient) and
/// [`Runner`](crate::Runner).
///
/// `PAYLOAD` bounds a published message (`AT+MQTTPUBRAW` length); `SUBS` is the number of
/// subscriptions held at once. Both halves must run in one task (e.g. joined with
/// `embassy_futures::select`): the state is not `Sync`.
pub struct MqttState<const PAYLOAD: usize = 1024, const SUBS: usize = 10> {
    pub(crate) options: Options,
    pub(crate) config: RefCell<MqttConfig>,
    pub(crate) view: RefCell<LinkView<SUBS>>,
    pub(crate) mailbox: Mailbox,
    pub(crate) slot: RefCell<Slot<PAYLOAD>>,
}

impl<const PAYLOAD: usize, const SUBS: usize> MqttState<PAYLOAD, SUBS> {
    /// Fresh state: nothing configured, not connected.
    pub const fn new(options: Options) -> Self {
        Self {
            options,
            config: RefCell::new(MqttConfig::new()),
            view: RefCell::new(LinkView::new()),
            mailbox: Mailbox::new(),
            slot: RefCell::new(Slot::new()),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The state of the broker link.
    pub fn link(&self) -> LinkState {
        self.view().state
    }

    /// Whether the broker link is up.
    pub fn is_connected(&self) -> bool {
        self.link() == LinkState::Connected
    }

    /// The runner's view, for reading.
    pub(crate) fn view(&self) -> Ref<'_, LinkView<SUBS>> {
        self.view.borrow()
    }
}
