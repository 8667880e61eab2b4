//! [`MqttClient`]: the handle the command handlers use to reach the runner.
//!
//! Each network method places one request in the mailbox (its topic and payload in the
//! request slot, written once) and waits for the runner's reply through the engine's
//! [`Context::wait`], so the UART keeps being served meanwhile. A reply always comes:
//! the runner answers every request it takes, and a backstop a little past the request's
//! own bound gives up on a runner that does not.

use core::cell::{Ref, RefMut};
use core::pin::pin;

use at_core::{Context, ErrorCode, Profile, deadline_after};
use embassy_time::{Duration, with_deadline};
use heapless::String;
use minimq::QoS;

use crate::config::{MqttConfig, Target};
#[cfg(feature = "tls-cert")]
use crate::credentials::CredentialKind;
#[cfg(feature = "tls-cert")]
use crate::credentials::check::Refusal;
#[cfg(feature = "tls-cert")]
use crate::credentials::upload::{CredentialRequest, Item};
use crate::error::{
    ALREADY_CONNECTED, DATA_READ_FAILED, HOST_IS_OVERLENGTH, IN_DISCONNECTED_STATE, NO_CONFIGURED,
    NULL_LINK, PUBLISH_LENGTH_VALUE_IS_WRONG, TLS_CONFIG_ERROR, TOPIC_IS_OVERLENGTH,
};
use crate::link::{LinkState, Subscription};
use crate::mailbox::{Reply, Request, Slot};
use crate::runner::CLEAN_BOUND;
use crate::{MqttState, Options};

/// How long past a request's own bound the client waits before it gives up on the
/// runner (a backstop; the runner answers within the bound).
const BACKSTOP_MARGIN: Duration = Duration::from_secs(2);

/// What [`MqttClient::subscribe`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subscribed {
    /// The broker granted the new subscription.
    Granted,
    /// The filter was already subscribed; nothing was sent.
    Already,
}

/// What [`MqttClient::unsubscribe`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsubscribed {
    /// The broker acknowledged the unsubscription.
    Removed,
    /// The filter was not subscribed (or there was no link); it is forgotten.
    NotSubscribed,
}

/// How a message is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The QoS.
    pub qos: QoS,
    /// Whether the broker retains the message.
    pub retain: bool,
    /// How long to wait for the acknowledgement (QoS 1 and 2).
    pub timeout: Duration,
}

/// The handle on the MQTT link: configuration, state queries, and the requests the
/// [`Runner`](crate::Runner) carries out. Copy it freely; a downstream command set can
/// use it to add commands of its own.
pub struct MqttClient<'a, const PAYLOAD: usize = 1024, const SUBS: usize = 10> {
    state: &'a MqttState<PAYLOAD, SUBS>,
}

impl<const PAYLOAD: usize, const SUBS: usize> Clone for MqttClient<'_, PAYLOAD, SUBS> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<const PAYLOAD: usize, const SUBS: usize> Copy for MqttClient<'_, PAYLOAD, SUBS> {}

impl<'a, const PAYLOAD: usize, const SUBS: usize> MqttClient<'a, PAYLOAD, SUBS> {
    /// A handle on `state`.
    pub fn new(state: &'a MqttState<PAYLOAD, SUBS>) -> Self {
        Self { state }
    }

    /// The options.
    pub fn options(&self) -> &'a Options {
        &self.state.options
    }

    /// The state of the broker link.
    pub fn link(&self) -> LinkState {
        self.state.link()
    }

    /// Calls `f` with the subscriptions held.
    pub fn subscriptions<R>(&self, f: impl FnOnce(&[Subscription]) -> R) -> R {
        f(&self.state.view().subscriptions)
    }

    /// Fails unless the link is up: `NULL_LINK` before any configuration, else
    /// `IN_DISCONNECTED_STATE`.
    pub fn require_connected(&self) -> Result<(), ErrorCode> {
        if self.state.is_connected() {
            Ok(())
        } else {
            Err(self.not_connected())
        }
    }

    /// The code for "no link": `NULL_LINK` before any configuration.
    fn not_connected(&self) -> ErrorCode {
        match self.state.config.try_borrow() {
            Ok(config) if config.user.is_none() => NULL_LINK,
            _ => IN_DISCONNECTED_STATE,
        }
    }

    /// The configuration, for reading.
    pub(crate) fn config(&self) -> Option<Ref<'a, MqttConfig>> {
        self.state.config.try_borrow().ok()
    }

    /// Changes the configuration; refused with `ALREADY_CONNECTED` while a link exists.
    pub(crate) fn configure<R>(
        &self,
        change: impl FnOnce(&mut MqttConfig) -> Result<R, ErrorCode>,
    ) -> Result<R, ErrorCode> {
        if self.link().is_linked() {
            return Err(ALREADY_CONNECTED);
        }
        // The runner borrows the configuration for as long as a link exists.
        let mut config = self
            .state
            .config
            .try_borrow_mut()
            .map_err(|_| ALREADY_CONNECTED)?;
        change(&mut config)
    }

    /// Connects to `host:port` with the stored configuration and waits for CONNACK
    /// (and restored subscriptions) within `timeout`. The connect URC is written before
    /// this returns `Ok`.
    pub async fn connect<C: Context>(
        &self,
        cx: &mut C,
        host: &str,
        port: u16,
        reconnect: bool,
        timeout: Duration,
    ) -> Result<(), ErrorCode> {
        // Scheme 2 is TLS-PSK, except in the esp-at profile of a `tls-cert` build (TLS
        // without verifying the server, as ESP-AT).
        let psk_scheme = !(cfg!(feature = "tls-cert") && self.options().profile == Profile::EspAt);
        self.configure(|config| {
            let Some(user) = &config.user else {
                return Err(NO_CONFIGURED);
            };
            if user.scheme == 2 && psk_scheme && config.psk.is_none() {
                return Err(TLS_CONFIG_ERROR);
            }
            config.target = Target {
                host: String::try_from(host).map_err(|_| HOST_IS_OVERLENGTH)?,
                port,
                reconnect,
            };
            Ok(())
        })?;
        let (reply, urcs) = self.request_behind(cx, Request::Connect { timeout }).await;
        // The runner queued the connect URC (or the esp-at profile's disconnect URC)
        // before it answered: it, and what was queued before it, goes before the result.
        cx.flush_urcs(urcs).await;
        match reply {
            Reply::Done => Ok(()),
            Reply::Failed(code) => Err(code),
            Reply::AlreadySubscribed | Reply::NotSubscribed => {
                Err(Request::failure(Request::Connect { timeout }))
            }
        }
    }

    /// Publishes `payload` to `topic`; returns once QoS 0 is written, QoS 1 acknowledged
    /// (PUBACK) or QoS 2 completed (PUBCOMP).
    pub async fn publish<C: Context>(
        &self,
        cx: &mut C,
        topic: &str,
        payload: &[u8],
        delivery: Delivery,
    ) -> Result<(), ErrorCode> {
        self.fill_slot(topic, |slot| {
            slot.clear();
            slot.extend_from_slice(payload)
                .map_err(|_| PUBLISH_LENGTH_VALUE_IS_WRONG)
        })?;
        self.publish_slot(cx, delivery).await
    }

    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the slot is this command's until it submits: no request is in the mailbox"
    )]
    /// `AT+MQTTPUBRAW`: reads `length` bytes of raw data from the UART straight into the
    /// request slot (after the `>` prompt), then publishes them as
    /// [`publish`](Self::publish) does. Call [`require_connected`](Self::require_connected)
    /// first: a command that cannot start must not show the prompt.
    pub async fn publish_raw<C: Context>(
        &self,
        cx: &mut C,
        topic: &str,
        length: usize,
        delivery: Delivery,
    ) -> Result<(), ErrorCode> {
        {
            let mut slot = self.slot_for(topic)?;
            slot.payload
                .resize(length, 0)
                .map_err(|_| PUBLISH_LENGTH_VALUE_IS_WRONG)?;
            // The slot is this command's until it submits: no request is in the mailbox.
            cx.raw_data(&mut slot.payload)
                .await
                .map_err(|_| DATA_READ_FAILED)?;
        }
        self.publish_slot(cx, delivery).await
    }

    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the slot is this command's until it returns: no request is in the mailbox"
    )]
    /// Reads `length` bytes of raw data from the UART (after the `>` prompt) into the
    /// request slot, then hands them to `store` as [`configure`](Self::configure) does
    /// (e.g. `AT+MQTTLONGCLIENTID`). A timeout or damaged data fails with `read_failed`.
    pub(crate) async fn configure_from_raw<C: Context>(
        &self,
        cx: &mut C,
        length: usize,
        read_failed: ErrorCode,
        store: impl FnOnce(&mut MqttConfig, &[u8]) -> Result<(), ErrorCode>,
    ) -> Result<(), ErrorCode> {
        let mut slot = self.slot_for("")?;
        slot.payload.resize(length, 0).map_err(|_| read_failed)?;
        cx.raw_data(&mut slot.payload)
            .await
            .map_err(|_| read_failed)?;
        self.configure(|config| store(config, &slot.payload))
    }

    /// Subscribes to `filter` with maximum QoS `qos`.
    pub async fn subscribe<C: Context>(
        &self,
        cx: &mut C,
        filter: &str,
        qos: QoS,
        timeout: Duration,
    ) -> Result<Subscribed, ErrorCode> {
        self.fill_slot(filter, |_| Ok(()))?;
        match self.request(cx, Request::Subscribe { qos, timeout }).await {
            Reply::Done => Ok(Subscribed::Granted),
            Reply::AlreadySubscribed => Ok(Subscribed::Already),
            Reply::Failed(code) => Err(code),
            Reply::NotSubscribed => Err(Request::Subscribe { qos, timeout }.failure()),
        }
    }

    /// Unsubscribes from `filter`.
    pub async fn unsubscribe<C: Context>(
        &self,
        cx: &mut C,
        filter: &str,
        timeout: Duration,
    ) -> Result<Unsubscribed, ErrorCode> {
        self.fill_slot(filter, |_| Ok(()))?;
        match self.request(cx, Request::Unsubscribe { timeout }).await {
            Reply::Done => Ok(Unsubscribed::Removed),
            Reply::NotSubscribed => Ok(Unsubscribed::NotSubscribed),
            Reply::Failed(code) => Err(code),
            Reply::AlreadySubscribed => Err(Request::Unsubscribe { timeout }.failure()),
        }
    }

    /// `AT+MQTTCLEAN`: disconnects gracefully (within 2 s, whatever the broker does),
    /// stops reconnecting, and forgets the subscriptions and the configuration.
    pub async fn clean<C: Context>(&self, cx: &mut C) -> Result<(), ErrorCode> {
        let reply = self.request(cx, Request::Clean).await;
        // Whatever the runner answered, the configuration is forgotten once it has
        // released it; it does before it answers.
        if let Ok(mut config) = self.state.config.try_borrow_mut() {
            *config = MqttConfig::new();
        }
        match reply {
            Reply::Failed(code) => Err(code),
            Reply::Done | Reply::AlreadySubscribed | Reply::NotSubscribed => Ok(()),
        }
    }

    /// Reads `length` bytes of raw data from the UART (after the `>` prompt) into the
    /// request slot; the runner checks them as a credential of `kind` (PEM or DER) and
    /// stores their DER at `index`. Also while a link is up (it touches the store alone).
    #[cfg(feature = "tls-cert")]
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the slot is this command's until it submits: no request is in the mailbox"
    )]
    pub async fn upload_credential<C: Context>(
        &self,
        cx: &mut C,
        kind: CredentialKind,
        index: u8,
        length: usize,
    ) -> Result<(), ErrorCode> {
        {
            let mut slot = self.slot_for("")?;
            slot.payload
                .resize(length, 0)
                .map_err(|_| Refusal::Length.code(kind))?;
            cx.raw_data(&mut slot.payload)
                .await
                .map_err(|_| Refusal::Malformed.code(kind))?;
        }
        self.credential_request(cx, CredentialRequest::Store(Item { kind, index }))
            .await
    }

    /// Removes the stored credential `kind`/`index` (no error if there is none).
    #[cfg(feature = "tls-cert")]
    pub async fn erase_credential<C: Context>(
        &self,
        cx: &mut C,
        kind: CredentialKind,
        index: u8,
    ) -> Result<(), ErrorCode> {
        self.credential_request(cx, CredentialRequest::Erase(Item { kind, index }))
            .await
    }

    /// The stored DER of credential `kind`/`index`, read back into the request slot
    /// (`None` if there is none; an item larger than the slot fails with
    /// `STORE_FAILED`). Drop it before the next request.
    #[cfg(feature = "tls-cert")]
    pub async fn read_credential<C: Context>(
        &self,
        cx: &mut C,
        kind: CredentialKind,
        index: u8,
    ) -> Result<Option<Ref<'a, [u8]>>, ErrorCode> {
        drop(self.slot_for("")?);
        self.credential_request(cx, CredentialRequest::Load(Item { kind, index }))
            .await?;
        let slot = self.state.slot.try_borrow().map_err(|_| ErrorCode::BUSY)?;
        if slot.payload.is_empty() {
            return Ok(None);
        }
        Ok(Some(Ref::map(slot, |slot| slot.payload.as_slice())))
    }

    /// Hands a credential request to the runner.
    #[cfg(feature = "tls-cert")]
    async fn credential_request<C: Context>(
        &self,
        cx: &mut C,
        request: CredentialRequest,
    ) -> Result<(), ErrorCode> {
        match self.request(cx, Request::Credential(request)).await {
            Reply::Done => Ok(()),
            Reply::Failed(code) => Err(code),
            Reply::AlreadySubscribed | Reply::NotSubscribed => Err(request.failure()),
        }
    }

    /// Writes `topic` into the request slot and lets `payload` fill its payload.
    fn fill_slot(
        &self,
        topic: &str,
        payload: impl FnOnce(&mut heapless::Vec<u8, PAYLOAD>) -> Result<(), ErrorCode>,
    ) -> Result<(), ErrorCode> {
        payload(&mut self.slot_for(topic)?.payload)
    }

    /// The request slot with `topic` in it, while no request uses the slot.
    fn slot_for(&self, topic: &str) -> Result<RefMut<'a, Slot<PAYLOAD>>, ErrorCode> {
        if !self.state.mailbox.is_idle() {
            return Err(ErrorCode::BUSY);
        }
        let mut slot = self
            .state
            .slot
            .try_borrow_mut()
            .map_err(|_| ErrorCode::BUSY)?;
        slot.topic.clear();
        slot.topic
            .push_str(topic)
            .map_err(|_| TOPIC_IS_OVERLENGTH)?;
        Ok(slot)
    }

    /// Publishes what the request slot holds.
    async fn publish_slot<C: Context>(
        &self,
        cx: &mut C,
        delivery: Delivery,
    ) -> Result<(), ErrorCode> {
        let request = Request::Publish {
            qos: delivery.qos,
            retain: delivery.retain,
            timeout: delivery.timeout,
        };
        match self.request(cx, request).await {
            Reply::Done => Ok(()),
            Reply::Failed(code) => Err(code),
            Reply::AlreadySubscribed | Reply::NotSubscribed => Err(request.failure()),
        }
    }

    /// Hands `request` to the runner and waits for its reply while the engine serves
    /// the UART.
    async fn request<C: Context>(&self, cx: &mut C, request: Request) -> Reply {
        self.request_behind(cx, request).await.0
    }

    /// [`request`](Self::request), also giving the number of URCs queued before the
    /// reply.
    async fn request_behind<C: Context>(&self, cx: &mut C, request: Request) -> (Reply, usize) {
        let Some(mut ticket) = self.state.mailbox.submit(request) else {
            return (Reply::Failed(ErrorCode::BUSY), 0);
        };
        let bound = match request {
            Request::Connect { timeout }
            | Request::Publish { timeout, .. }
            | Request::Subscribe { timeout, .. }
            | Request::Unsubscribe { timeout } => timeout,
            Request::Clean => CLEAN_BOUND,
            #[cfg(feature = "tls-cert")]
            Request::Credential(_) => crate::credentials::upload::STORE_BOUND,
        };
        let backstop = deadline_after(bound).saturating_add(BACKSTOP_MARGIN);
        match cx.wait(pin!(with_deadline(backstop, ticket.reply()))).await {
            Ok(reply) => reply,
            Err(_) => {
                error!("the runner did not answer a request in time");
                (Reply::Failed(request.failure()), 0)
            }
        }
    }
}
