//! The runner: the single owner of the broker link.
//!
//! It takes requests from the mailbox, opens the transport (TCP, or TLS-PSK), runs the
//! minimq session, turns inbound messages into `+MQTTSUBRECV` URCs, writes every connect
//! and disconnect URC, restores subscriptions, and re-establishes a lost link with
//! exponential back-off when the host asked for `reconnect=1`.
//!
//! Every wait is one biased select with the mailbox first, so a request is taken before
//! more inbound packets are processed, and every await is cancel-safe: the URC queue is
//! checked for room for the largest inbound message *before* minimq is polled, so a
//! message minimq hands over is always queued at once and never lost to a cancellation.
//! Every request taken is answered on every path (see [`Pending`]).

use core::cell::RefCell;
use core::cmp::min;
use core::future::{Future, poll_fn};
use core::pin::{Pin, pin};
use core::task::{Context, Poll, ready};

use at_core::{ErrorCode, Profile, UrcQueue, deadline_after};
use embassy_futures::select::{Either, select};
use embassy_time::{Duration, Instant, Timer, with_deadline, with_timeout};
use heapless::String;
use minimq::{
    Buffers, ConfigBuilder, ConnectEvent, Connection, Io, Publication, QoS, Session,
    SubscriptionOptions, TopicFilter, Will,
};

use crate::config::MqttConfig;
use crate::credentials::{CredentialStore, NoCredentials};
use crate::error::{
    ALREADY_CONNECTED, CLIENT_ID_IS_OVERLENGTH, CLIENT_PUBLISH_FAILED, CLIENT_START_FAILED,
    CLIENT_SUBSCRIBE_FAILED, CLIENT_UNSUBSCRIBE_FAILED, IN_DISCONNECTED_STATE, NO_CONFIGURED,
    NULL_LINK, TLS_CONFIG_ERROR,
};
use crate::link::{LinkState, Subscription};
use crate::mailbox::{Pending, Reply, Request};
use crate::network::Network;
use crate::topic::MAX_TOPIC;
use crate::transport::Transport;
use crate::urc::{self, DISCONNECTED, SUBRECV_OVERHEAD};
use crate::{MqttState, Options};

/// `AT+MQTTCLEAN` is answered within this bound, whatever the broker does.
pub(crate) const CLEAN_BOUND: Duration = Duration::from_secs(2);
/// How long the graceful DISCONNECT may take before the link is simply dropped.
const DISCONNECT_BOUND: Duration = Duration::from_millis(1500);
/// Session expiry requested for `disable_clean_session=1`: never expires.
const KEEP_SESSION_EXPIRY: u32 = u32::MAX;

/// Drives the MQTT link; run it beside the engine (see the crate docs).
pub struct Runner<
    'a,
    N: Network,
    const URC: usize,
    const PAYLOAD: usize,
    const SUBS: usize,
    C: CredentialStore = NoCredentials,
> {
    state: &'a MqttState<PAYLOAD, SUBS>,
    urcs: &'a UrcQueue<URC>,
    network: N,
    /// The certificates and keys of the TLS certificate schemes.
    credentials: C,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
    #[cfg(feature = "tls-psk")]
    tls: Option<crate::tls::TlsPsk<'a>>,
}

/// How a link (from `AT+MQTTCONN` to its end) ended.
enum End<'m> {
    /// `AT+MQTTCLEAN`, still to be answered.
    Cleaned(Pending<'m>),
    /// The first connect failed; `AT+MQTTCONN` is answered with this code.
    Failed(ErrorCode),
    /// The link broke and is not re-established (`reconnect=0`).
    Lost,
}

/// How one attempt (transport, CONNECT, serving) ended.
enum Attempt<'m> {
    /// `AT+MQTTCLEAN` arrived.
    Cleaned(Pending<'m>),
    /// The transport or CONNECT failed, or the subscriptions could not be restored.
    Failed(ErrorCode),
    /// A connected period ended with the link broken.
    Lost,
}

/// What waiting for an acknowledgement gave.
enum Ack {
    /// Acknowledged.
    Done,
    /// The broker refused it (a failure reason code).
    Refused,
    /// The link went down first.
    Down,
}

impl<'a, N: Network, const URC: usize, const PAYLOAD: usize, const SUBS: usize>
    Runner<'a, N, URC, PAYLOAD, SUBS>
{
    /// A runner for `state`, writing URCs to `urcs`, connecting through `network`, with
    /// minimq's packet buffers `rx` (the largest inbound message) and `tx` (outbound
    /// packets and in-flight state), and no credential store.
    ///
    /// `rx` is used only up to what one URC record can carry, so every message the broker
    /// may send (it is told the limit in CONNECT) fits in the URC queue.
    pub fn new(
        state: &'a MqttState<PAYLOAD, SUBS>,
        urcs: &'a UrcQueue<URC>,
        network: N,
        rx: &'a mut [u8],
        tx: &'a mut [u8],
    ) -> Self {
        let usable = min(rx.len(), urcs.max_record().saturating_sub(SUBRECV_OVERHEAD));
        let (rx, _) = rx.split_at_mut(usable);
        Self {
            state,
            urcs,
            network,
            credentials: NoCredentials,
            rx,
            tx,
            #[cfg(feature = "tls-psk")]
            tls: None,
        }
    }
}

impl<'a, N: Network, const URC: usize, const PAYLOAD: usize, const SUBS: usize, C: CredentialStore>
    Runner<'a, N, URC, PAYLOAD, SUBS, C>
{
    /// Uses `credentials` for the certificate schemes, and for the host's uploads.
    pub fn with_credentials<D: CredentialStore>(
        self,
        credentials: D,
    ) -> Runner<'a, N, URC, PAYLOAD, SUBS, D> {
        let Runner {
            state,
            urcs,
            network,
            credentials: _,
            rx,
            tx,
            #[cfg(feature = "tls-psk")]
            tls,
        } = self;
        Runner {
            state,
            urcs,
            network,
            credentials,
            rx,
            tx,
            #[cfg(feature = "tls-psk")]
            tls,
        }
    }

    /// The credential store.
    pub fn credentials(&mut self) -> &mut C {
        &mut self.credentials
    }

    /// Enables scheme 2 (MQTT over TLS 1.3 with the key of `AT+MQTTPSK`).
    #[cfg(feature = "tls-psk")]
    pub fn with_tls_psk(mut self, tls: crate::tls::TlsPsk<'a>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The largest inbound MQTT packet accepted (topic, properties and payload).
    pub fn max_inbound_packet(&self) -> usize {
        self.rx.len()
    }

    /// The network.
    pub fn network(&mut self) -> &mut N {
        &mut self.network
    }

    /// Runs for ever. Cancelling it drops the broker connection without `DISCONNECT`
    /// (as a power cut would).
    pub async fn run(&mut self) -> ! {
        let state = self.state;
        let room = self.rx.len().saturating_add(SUBRECV_OVERHEAD);
        loop {
            let pending = state.mailbox.receive().await;
            #[cfg(feature = "tls-cert")]
            let Some(pending) = answer_credential(&mut self.credentials, state, pending).await
            else {
                continue;
            };
            let Request::Connect { timeout } = pending.request() else {
                if let Some(mut clean) = answer_unlinked(state, pending) {
                    forget_link(state);
                    clean.answer(Reply::Done);
                }
                continue;
            };
            set_link(state, LinkState::Connecting);
            let mut connect = Some(pending);
            // The configuration stays borrowed for the whole link; it is released
            // before the end of the link is answered, so the host may reconfigure at once.
            let end = self.link(&mut connect, timeout, room).await;
            // A link that ends other than cleaned is reported once, through one await;
            // a failed first connect (ESP-AT reports it too) is answered behind it.
            let (report, failed) = match end {
                End::Cleaned(mut clean) => {
                    forget_link(state);
                    clean.answer(Reply::Done);
                    continue;
                }
                End::Failed(code) => (state.options.profile == Profile::EspAt, Some(code)),
                End::Lost => (true, None),
            };
            set_link(state, LinkState::Lost);
            if report {
                push(self.urcs, DISCONNECTED).await;
            }
            if let Some(code) = failed
                && let Some(mut connect) = connect.take()
            {
                connect.answer_behind(Reply::Failed(code), self.urcs.len());
            }
        }
    }

    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the configuration is the runner's to read while a link exists; the \
                  command handlers do not change it then"
    )]
    /// One link: from `AT+MQTTCONN` until `AT+MQTTCLEAN`, a failed first connect, or a
    /// loss without reconnect. `connect` is answered here only on success.
    async fn link(
        &mut self,
        connect: &mut Option<Pending<'a>>,
        timeout: Duration,
        room: usize,
    ) -> End<'a> {
        let Runner {
            state,
            urcs,
            network,
            credentials,
            rx,
            tx,
            #[cfg(feature = "tls-psk")]
            tls,
        } = self;
        let (state, urcs): (&'a MqttState<PAYLOAD, SUBS>, &'a UrcQueue<URC>) = (*state, *urcs);
        let Ok(config) = state.config.try_borrow() else {
            return End::Failed(CLIENT_START_FAILED);
        };
        let session_config = match session_config(&config, rx, tx) {
            Ok(session_config) => session_config,
            Err(code) => return End::Failed(code),
        };
        #[cfg(feature = "tls-psk")]
        let mut tls = tls.as_mut();
        #[cfg(feature = "tls-psk")]
        if let Err(code) = crate::tls::plan::usable(&config, state.options.profile, tls.as_deref())
        {
            return End::Failed(code);
        }
        let credentials = RefCell::new(credentials);
        let mut link = Link {
            state,
            urcs,
            room,
            options: &state.options,
            credentials: &credentials,
        };
        let mut session = Session::new(session_config);
        let reconnect = config.target.reconnect;
        let mut deadline = deadline_after(timeout);
        let mut delay = state.options.reconnect_min;
        loop {
            let attempt = link
                .attempt(
                    network,
                    #[cfg(feature = "tls-psk")]
                    tls.as_deref_mut(),
                    &config,
                    &mut session,
                    deadline,
                    connect,
                )
                .await;
            match attempt {
                Attempt::Cleaned(clean) => return End::Cleaned(clean),
                Attempt::Failed(code) if connect.is_some() => {
                    warn!("connect failed: {}", code.0);
                    return End::Failed(code);
                }
                Attempt::Failed(code) => {
                    warn!("reconnect failed: {}", code.0);
                    delay = double(delay, state.options.reconnect_max);
                }
                Attempt::Lost if !reconnect => {
                    info!("broker link lost");
                    return End::Lost;
                }
                Attempt::Lost => {
                    info!("broker link lost; reconnecting");
                    set_link(state, LinkState::Reconnecting);
                    if let Err(clean) = link.serve_unlinked(pin!(push(urcs, DISCONNECTED))).await {
                        return End::Cleaned(clean);
                    }
                    delay = state.options.reconnect_min;
                }
            }
            debug!("next attempt in {} ms", delay.as_millis());
            if let Err(clean) = link
                .serve_unlinked(pin!(Timer::at(deadline_after(delay))))
                .await
            {
                return End::Cleaned(clean);
            }
            deadline = deadline_after(state.options.command_timeout);
        }
    }
}

/// What an attempt needs of the runner while the network and buffers are borrowed.
struct Link<'m, 'c, const URC: usize, const PAYLOAD: usize, const SUBS: usize, C> {
    state: &'m MqttState<PAYLOAD, SUBS>,
    urcs: &'m UrcQueue<URC>,
    /// Bytes the URC queue must have free before minimq is polled.
    room: usize,
    options: &'m Options,
    /// The runner's credential store, borrowed by one user at a time (an upload, or a
    /// handshake reading its certificates).
    #[cfg_attr(
        not(feature = "tls-cert"),
        allow(
            dead_code,
            reason = "only uploads and certificate schemes use the store"
        )
    )]
    credentials: &'c RefCell<C>,
}

impl<'m, const URC: usize, const PAYLOAD: usize, const SUBS: usize, C: CredentialStore>
    Link<'m, '_, URC, PAYLOAD, SUBS, C>
{
    /// One attempt: open the transport, CONNECT and restore the subscriptions by
    /// `deadline`, then serve until the link ends.
    #[allow(
        clippy::too_many_arguments,
        reason = "the borrowed parts of the runner"
    )]
    #[cfg_attr(
        feature = "tls-cert",
        allow(
            clippy::await_holding_refcell_ref,
            reason = "nothing else uses the store until the attempt has read its credentials"
        )
    )]
    async fn attempt<N: Network>(
        &mut self,
        network: &mut N,
        #[cfg(feature = "tls-psk")]
        #[cfg_attr(not(feature = "tls-cert"), allow(unused_mut))]
        mut tls: Option<&mut crate::tls::TlsPsk<'_>>,
        config: &MqttConfig,
        session: &mut Session<'_>,
        deadline: Instant,
        connect: &mut Option<Pending<'m>>,
    ) -> Attempt<'m> {
        let target = &config.target;
        // A certificate scheme reads its credentials (and needs the time) before any
        // connection is opened.
        #[cfg(feature = "tls-cert")]
        let loaded = {
            let Ok(mut credentials) = self.credentials.try_borrow_mut() else {
                return Attempt::Failed(CLIENT_START_FAILED);
            };
            let loaded = crate::tls::plan::load(
                config,
                self.options.profile,
                tls.as_deref_mut(),
                &mut *credentials,
            )
            .await;
            match loaded {
                Ok(loaded) => loaded,
                Err(code) => return Attempt::Failed(code),
            }
        };
        let mut stream = match self
            .serve_unlinked(pin!(with_deadline(
                deadline,
                network.connect(&target.host, target.port),
            )))
            .await
        {
            Err(clean) => return Attempt::Cleaned(clean),
            Ok(Ok(Ok(stream))) => stream,
            Ok(Ok(Err(error))) => {
                warn!("cannot open the broker connection: {:?}", error);
                return Attempt::Failed(CLIENT_START_FAILED);
            }
            Ok(Err(_)) => {
                warn!("the broker connection did not open in time");
                return Attempt::Failed(CLIENT_START_FAILED);
            }
        };
        if config.scheme() == 1 {
            let io = Transport::tcp(&mut stream);
            return self.session(session, io, deadline, connect).await;
        }
        #[cfg(feature = "tls-psk")]
        if let Some(tls) = tls {
            let halves = crate::tls::split(&mut stream);
            let alpn = crate::tls::plan::alpn(config);
            let handshake = crate::tls::plan::handshake(
                config,
                self.options.profile,
                &alpn,
                #[cfg(feature = "tls-cert")]
                loaded,
            );
            // Matched at once: a binding of the result would keep a second copy of the
            // TLS connection in the runner's future.
            let mut connection = match self
                .serve_unlinked(pin!(with_deadline(
                    deadline,
                    crate::tls::open(&halves, tls, handshake),
                )))
                .await
            {
                Err(clean) => return Attempt::Cleaned(clean),
                Ok(Ok(Ok(connection))) => connection,
                Ok(Ok(Err(code))) => return Attempt::Failed(code),
                Ok(Err(_)) => {
                    warn!("TLS handshake did not finish in time");
                    return Attempt::Failed(CLIENT_START_FAILED);
                }
            };
            let (mut reader, mut writer) = connection.split();
            let pipes = crate::tls::Pipes::new();
            let io = Transport::<N::Stream<'_>>::tls(pipes.io());
            // The pumps close the pipes when the TLS stream ends, which the session sees
            // as end-of-stream: the attempt always ends through `session`.
            let pumps = pin!(pipes.pump(&mut reader, &mut writer));
            let served = pin!(self.session(session, io, deadline, connect));
            return match select(pumps, served).await {
                Either::First(never) => match never {},
                Either::Second(attempt) => attempt,
            };
        }
        Attempt::Failed(TLS_CONFIG_ERROR)
    }

    /// CONNECT over `io`, restore the subscriptions, report the link, then serve it.
    async fn session<IO: Io>(
        &mut self,
        session: &mut Session<'_>,
        io: IO,
        deadline: Instant,
        connect: &mut Option<Pending<'m>>,
    ) -> Attempt<'m> {
        let mut conn = match self
            .serve_unlinked(pin!(with_deadline(deadline, session.connect(io))))
            .await
        {
            Err(clean) => return Attempt::Cleaned(clean),
            Ok(Ok(Ok(conn))) => conn,
            Ok(Ok(Err(error))) => {
                warn!("CONNECT failed: {:?}", crate::fmt::Debug2Format(&error));
                return Attempt::Failed(CLIENT_START_FAILED);
            }
            Ok(Err(_)) => {
                warn!("no CONNACK in time");
                return Attempt::Failed(CLIENT_START_FAILED);
            }
        };
        if conn.connect_event() == ConnectEvent::Connected {
            match self
                .serve_unlinked(pin!(with_deadline(deadline, self.restore(&mut conn))))
                .await
            {
                Err(clean) => return Attempt::Cleaned(clean),
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(()))) => return Attempt::Lost,
                Ok(Err(_)) => {
                    warn!("subscriptions not restored in time");
                    return Attempt::Failed(CLIENT_START_FAILED);
                }
            }
        }
        set_link(self.state, LinkState::Connected);
        info!("broker link up");
        // Requests wait for this (at most until the host has read one URC): answered
        // meanwhile, they would see a link the host was already told is up as down.
        self.report_connected().await;
        if let Some(mut connect) = connect.take() {
            connect.answer_behind(Reply::Done, self.urcs.len());
        }
        self.serve(&mut conn).await
    }

    /// Queues the connect URC (its line is gone once queued, not kept while serving).
    async fn report_connected(&self) {
        let line = {
            let config = self.state.config.try_borrow();
            urc::connected(self.options.profile, config.as_deref().ok())
        };
        push(self.urcs, line.as_bytes()).await;
    }

    /// Re-subscribes every filter after the broker started a fresh session, one SUBACK
    /// at a time. A filter the broker refuses is dropped and reported with
    /// `+MQTTSUBFAIL:0,"<filter>"`. `Err` when the link went down.
    async fn restore<IO: Io>(&self, conn: &mut Connection<'_, '_, IO>) -> Result<(), ()> {
        self.state
            .view
            .borrow_mut()
            .subscriptions
            .iter_mut()
            .for_each(|sub| sub.restored = false);
        loop {
            let Some((filter, qos)) = self.next_to_restore() else {
                return Ok(());
            };
            match self.subscribe(conn, &filter, qos).await {
                Ack::Done => {
                    let mut view = self.state.view.borrow_mut();
                    if let Some(sub) = view.subscriptions.iter_mut().find(|s| s.filter == filter) {
                        sub.restored = true;
                    }
                }
                Ack::Refused => {
                    warn!("the broker refused to restore a subscription");
                    self.state.view.borrow_mut().remove(&filter);
                    push(self.urcs, urc::subscription_failed(&filter).as_bytes()).await;
                }
                Ack::Down => return Err(()),
            }
        }
    }

    /// The first subscription not restored yet, cloned: an `AT+MQTTUNSUB` answered
    /// meanwhile may remove entries.
    fn next_to_restore(&self) -> Option<(String<MAX_TOPIC>, QoS)> {
        self.state
            .view()
            .subscriptions
            .iter()
            .find(|sub| !sub.restored)
            .map(|sub| (sub.filter.clone(), sub.qos))
    }

    /// Serves requests and inbound traffic until the link ends.
    async fn serve<IO: Io>(&mut self, conn: &mut Connection<'_, '_, IO>) -> Attempt<'m> {
        loop {
            let event = select(
                self.state.mailbox.receive(),
                pin!(step(conn, self.urcs, self.room)),
            )
            .await;
            match event {
                Either::First(pending) => {
                    #[cfg(feature = "tls-cert")]
                    let Some(pending) = self.answer_credential(pending).await else {
                        continue;
                    };
                    let mut pending = pending;
                    if let Request::Clean = pending.request() {
                        match with_timeout(DISCONNECT_BOUND, pin!(conn.disconnect())).await {
                            Ok(Ok(())) => debug!("disconnected"),
                            _ => warn!("DISCONNECT did not go out; dropping the link"),
                        }
                        return Attempt::Cleaned(pending);
                    }
                    let reply = self.request(conn, pending.request()).await;
                    pending.answer(reply);
                }
                Either::Second(Step::Down) => return Attempt::Lost,
                Either::Second(Step::Progress | Step::Refused) => {}
            }
            if !conn.is_connected() {
                return Attempt::Lost;
            }
        }
    }

    /// Carries out a request on a live connection.
    async fn request<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        request: Request,
    ) -> Reply {
        match request {
            Request::Connect { .. } => Reply::Failed(ALREADY_CONNECTED),
            Request::Clean => Reply::Done,
            // Answered before, by `answer_credential`.
            #[cfg(feature = "tls-cert")]
            Request::Credential(request) => Reply::Failed(request.failure()),
            Request::Publish {
                qos,
                retain,
                timeout,
            } => self.publish(conn, qos, retain, timeout).await,
            Request::Subscribe { qos, timeout } => {
                let filter = self.slot_topic();
                let already = self.state.view().is_subscribed(&filter);
                if already {
                    return Reply::AlreadySubscribed;
                }
                if self.state.view().subscriptions.is_full() {
                    warn!("subscription table full");
                    return Reply::Failed(CLIENT_SUBSCRIBE_FAILED);
                }
                let acked = with_deadline(
                    deadline_after(timeout),
                    pin!(self.subscribe(conn, &filter, qos)),
                )
                .await;
                match acked {
                    Ok(Ack::Done) => {
                        let added = self
                            .state
                            .view
                            .borrow_mut()
                            .subscriptions
                            .push(Subscription {
                                filter,
                                qos,
                                restored: true,
                            });
                        match added {
                            Ok(()) => Reply::Done,
                            Err(_) => Reply::Failed(CLIENT_SUBSCRIBE_FAILED),
                        }
                    }
                    Ok(Ack::Refused | Ack::Down) | Err(_) => Reply::Failed(CLIENT_SUBSCRIBE_FAILED),
                }
            }
            Request::Unsubscribe { timeout } => {
                let filter = self.slot_topic();
                if !self.state.view().is_subscribed(&filter) {
                    return Reply::NotSubscribed;
                }
                let done = with_deadline(
                    deadline_after(timeout),
                    pin!(async {
                        let Ok(op) = conn.unsubscribe(&[filter.as_str()], &[]).await else {
                            return Ack::Down;
                        };
                        acknowledged(conn, &op, self.urcs, self.room).await
                    }),
                )
                .await;
                match done {
                    Ok(Ack::Done) => {
                        self.state.view.borrow_mut().remove(&filter);
                        Reply::Done
                    }
                    Ok(Ack::Refused | Ack::Down) | Err(_) => {
                        Reply::Failed(CLIENT_UNSUBSCRIBE_FAILED)
                    }
                }
            }
        }
    }

    /// The request slot's topic, copied (the slot is the client's again once answered).
    fn slot_topic(&self) -> String<MAX_TOPIC> {
        self.state
            .slot
            .try_borrow()
            .map(|slot| slot.topic.clone())
            .unwrap_or_default()
    }

    /// Publishes the request slot's payload.
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the slot is the runner's until the request is answered"
    )]
    async fn publish<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        qos: QoS,
        retain: bool,
        timeout: Duration,
    ) -> Reply {
        let Ok(slot) = self.state.slot.try_borrow() else {
            return Reply::Failed(CLIENT_PUBLISH_FAILED);
        };
        let mut publication = Publication::bytes(&slot.topic, &slot.payload).qos(qos);
        if retain {
            publication = publication.retain();
        }
        let deadline = deadline_after(timeout);
        let written = with_deadline(deadline, pin!(conn.publish(publication))).await;
        let op = match written {
            Ok(Ok(None)) => return Reply::Done,
            Ok(Ok(Some(op))) => op,
            Ok(Err(error)) => {
                warn!("publish failed: {:?}", crate::fmt::Debug2Format(&error));
                return Reply::Failed(CLIENT_PUBLISH_FAILED);
            }
            Err(_) if qos == QoS::AtMostOnce => {
                // A QoS 0 write cut short may leave half a packet on the stream.
                warn!("QoS 0 publish stalled; dropping the link");
                conn.handle_disconnect();
                return Reply::Failed(CLIENT_PUBLISH_FAILED);
            }
            Err(_) => {
                // minimq keeps the packet and finishes sending it later.
                warn!("publish not written in time");
                return Reply::Failed(CLIENT_PUBLISH_FAILED);
            }
        };
        drop(slot);
        match with_deadline(
            deadline,
            pin!(acknowledged(conn, &op, self.urcs, self.room)),
        )
        .await
        {
            Ok(Ack::Done) => Reply::Done,
            Ok(Ack::Refused) => {
                warn!("the broker refused a publication");
                Reply::Failed(CLIENT_PUBLISH_FAILED)
            }
            Ok(Ack::Down) => Reply::Failed(CLIENT_PUBLISH_FAILED),
            Err(_) => {
                // The link stays up; minimq keeps the publication in flight.
                warn!("no acknowledgement in time");
                Reply::Failed(CLIENT_PUBLISH_FAILED)
            }
        }
    }

    /// Sends SUBSCRIBE for `filter` and waits for its SUBACK (no deadline of its own).
    async fn subscribe<IO: Io>(
        &self,
        conn: &mut Connection<'_, '_, IO>,
        filter: &str,
        qos: QoS,
    ) -> Ack {
        let filters =
            [TopicFilter::new(filter).options(SubscriptionOptions::default().maximum_qos(qos))];
        let Ok(op) = conn.subscribe(&filters, &[]).await else {
            return Ack::Down;
        };
        acknowledged(conn, &op, self.urcs, self.room).await
    }

    /// Answers a credential request from the store (also while a link is up: it touches
    /// the store alone); gives any other request back.
    #[cfg(feature = "tls-cert")]
    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "the store is borrowed by one request at a time, and by nothing else \
                  while the runner answers it"
    )]
    async fn answer_credential(&self, mut pending: Pending<'m>) -> Option<Pending<'m>> {
        if !matches!(pending.request(), Request::Credential(_)) {
            return Some(pending);
        }
        let Ok(mut credentials) = self.credentials.try_borrow_mut() else {
            pending.answer(Reply::Failed(ErrorCode::BUSY));
            return None;
        };
        answer_credential(&mut *credentials, self.state, pending).await
    }

    /// Runs `future` while no link is up (connecting, backing off, reporting), answering
    /// requests meanwhile (the mailbox first); `Err` with `AT+MQTTCLEAN`'s request, which
    /// ends the link.
    #[cfg_attr(
        not(feature = "tls-cert"),
        allow(
            clippy::never_loop,
            reason = "it loops after answering a credential request"
        )
    )]
    async fn serve_unlinked<F: Future>(
        &self,
        mut future: Pin<&mut F>,
    ) -> Result<F::Output, Pending<'m>> {
        loop {
            let event = poll_fn(|cx| match poll_unlinked(self.state, cx) {
                Poll::Ready(unlinked) => Poll::Ready(Err(unlinked)),
                Poll::Pending => future.as_mut().poll(cx).map(Ok),
            })
            .await;
            match event {
                Ok(output) => return Ok(output),
                Err(Unlinked::Cleaned(clean)) => return Err(clean),
                #[cfg(feature = "tls-cert")]
                Err(Unlinked::Credential(pending)) => {
                    let other = self.answer_credential(pending).await;
                    if let Some(clean) = other.and_then(|other| answer_unlinked(self.state, other))
                    {
                        return Err(clean);
                    }
                }
            }
        }
    }
}

/// A request taken while no link is up that [`poll_unlinked`] leaves to its caller.
enum Unlinked<'m> {
    /// `AT+MQTTCLEAN`, which ends the link.
    Cleaned(Pending<'m>),
    /// A credential request, answered from the store (an await).
    #[cfg(feature = "tls-cert")]
    Credential(Pending<'m>),
}

/// Takes the requests that arrive while no link is up and answers those it can at once;
/// ready with one its caller must carry out. Not generic over what the caller waits for,
/// so it is compiled once.
fn poll_unlinked<'m, const P: usize, const S: usize>(
    state: &'m MqttState<P, S>,
    cx: &mut Context<'_>,
) -> Poll<Unlinked<'m>> {
    loop {
        let pending = ready!(state.mailbox.poll_receive(cx));
        #[cfg(feature = "tls-cert")]
        if matches!(pending.request(), Request::Credential(_)) {
            return Poll::Ready(Unlinked::Credential(pending));
        }
        if let Some(clean) = answer_unlinked(state, pending) {
            return Poll::Ready(Unlinked::Cleaned(clean));
        }
    }
}

/// What one step of the connection gave.
enum Step {
    /// Something happened (a message queued, an acknowledgement, a ping).
    Progress,
    /// The broker refused an operation.
    Refused,
    /// The link is down.
    Down,
}

/// Waits until the URC queue can take the largest inbound message, then advances the
/// connection once, queueing an inbound message as `+MQTTSUBRECV`. Cancel-safe.
async fn step<IO: Io, const URC: usize>(
    conn: &mut Connection<'_, '_, IO>,
    urcs: &UrcQueue<URC>,
    room: usize,
) -> Step {
    urcs.wait_room(room).await;
    let polled = match conn.poll().await {
        Ok(Some(message)) => {
            if !urc::try_push_subrecv(urcs, message.topic(), message.payload()) {
                // Unreachable while the runner is the queue's only producer.
                error!("inbound message lost: no room in the URC queue");
            }
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    };
    match polled {
        Ok(()) => Step::Progress,
        Err(minimq::Error::Peer(_)) => Step::Refused,
        Err(error) if conn.is_connected() => {
            debug!("session: {:?}", crate::fmt::Debug2Format(&error));
            Step::Progress
        }
        Err(_) => Step::Down,
    }
}

/// Advances the connection until `op` is acknowledged (no deadline of its own).
async fn acknowledged<IO: Io, const URC: usize>(
    conn: &mut Connection<'_, '_, IO>,
    op: &minimq::Op,
    urcs: &UrcQueue<URC>,
    room: usize,
) -> Ack {
    loop {
        if conn.is_complete(op) {
            return Ack::Done;
        }
        if conn.is_invalidated(op) || !conn.is_connected() {
            return Ack::Down;
        }
        match step(conn, urcs, room).await {
            // A failure reason code in the acknowledgement completes the operation.
            Step::Refused if conn.is_complete(op) => return Ack::Refused,
            Step::Down => return Ack::Down,
            Step::Progress | Step::Refused => {}
        }
    }
}

/// Answers `pending` if it is a credential request (store, erase, read back); gives any
/// other request back.
#[cfg(feature = "tls-cert")]
async fn answer_credential<'m, S: CredentialStore, const P: usize, const SUBS: usize>(
    store: &mut S,
    state: &MqttState<P, SUBS>,
    mut pending: Pending<'m>,
) -> Option<Pending<'m>> {
    let Request::Credential(request) = pending.request() else {
        return Some(pending);
    };
    let reply = crate::credentials::upload::carry_out(store, &state.slot, request).await;
    pending.answer(reply);
    None
}

/// Answers a request while no link is up; returns `AT+MQTTCLEAN`'s, which the caller
/// answers once the link is gone.
fn answer_unlinked<'m, const P: usize, const S: usize>(
    state: &MqttState<P, S>,
    mut pending: Pending<'m>,
) -> Option<Pending<'m>> {
    let reply = match pending.request() {
        Request::Clean => return Some(pending),
        Request::Connect { .. } => Reply::Failed(ALREADY_CONNECTED),
        Request::Publish { .. } | Request::Subscribe { .. } => {
            let configured = state
                .config
                .try_borrow()
                .map_or(true, |config| config.user.is_some());
            Reply::Failed(if configured {
                IN_DISCONNECTED_STATE
            } else {
                NULL_LINK
            })
        }
        // Answered before, by `answer_credential`.
        #[cfg(feature = "tls-cert")]
        Request::Credential(request) => Reply::Failed(request.failure()),
        Request::Unsubscribe { .. } => {
            // Without a link there is nothing to tell the broker: forget the filter.
            if let Ok(slot) = state.slot.try_borrow() {
                state.view.borrow_mut().remove(&slot.topic);
            }
            Reply::NotSubscribed
        }
    };
    pending.answer(reply);
    None
}

/// Sets the link state.
fn set_link<const P: usize, const S: usize>(state: &MqttState<P, S>, link: LinkState) {
    state.view.borrow_mut().state = link;
}

/// `AT+MQTTCLEAN`: no link, no subscriptions.
fn forget_link<const P: usize, const S: usize>(state: &MqttState<P, S>) {
    let mut view = state.view.borrow_mut();
    view.state = LinkState::Idle;
    view.subscriptions.clear();
}

/// Queues a line of the runner's own (it always fits: the queue holds the largest
/// inbound message).
async fn push<const URC: usize>(urcs: &UrcQueue<URC>, line: &[u8]) {
    if urcs.push(&[line]).await.is_err() {
        error!("URC larger than the URC queue");
    }
}

/// Doubles a back-off delay up to `max`, without overflow.
fn double(delay: Duration, max: Duration) -> Duration {
    min(
        Duration::from_ticks(delay.as_ticks().saturating_mul(2)),
        max,
    )
}

/// Builds minimq's configuration.
fn session_config<'b>(
    config: &'b MqttConfig,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<ConfigBuilder<'b>, ErrorCode> {
    let Some(user) = &config.user else {
        return Err(NO_CONFIGURED);
    };
    if user.scheme != 1 && !cfg!(feature = "tls-psk") {
        // MQTT over TLS-PSK needs the `tls-psk` transport, which this build lacks.
        return Err(TLS_CONFIG_ERROR);
    }
    let login = &user.login;
    let client_id = core::str::from_utf8(login.client_id()).map_err(|_| CLIENT_START_FAILED)?;
    let mut builder = ConfigBuilder::new(Buffers::new(rx, tx))
        .client_id(client_id)
        .map_err(|_| CLIENT_ID_IS_OVERLENGTH)?
        .keepalive_interval(config.conn.keepalive());
    if config.conn.keep_session {
        // The broker may have kept the session while the modem was away: every connect
        // asks to resume it until a CONNACK answers.
        builder = builder
            .session_expiry_interval(KEEP_SESSION_EXPIRY)
            .resume_session();
    }
    if !login.username().is_empty() || !login.password().is_empty() {
        let username = core::str::from_utf8(login.username()).map_err(|_| CLIENT_START_FAILED)?;
        builder = builder
            .auth(username, login.password())
            .map_err(|_| CLIENT_START_FAILED)?;
    }
    let conn = &config.conn;
    if !conn.lwt_topic.is_empty() {
        let mut will = Will::new(&conn.lwt_topic, &conn.lwt_msg, &[])
            .map_err(|_| CLIENT_START_FAILED)?
            .qos(conn.lwt_qos);
        if conn.lwt_retain {
            will = will.retained();
        }
        builder = builder.will(will).map_err(|_| CLIENT_START_FAILED)?;
    }
    Ok(builder)
}
