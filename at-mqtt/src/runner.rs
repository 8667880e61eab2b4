//! The runner: owns the minimq session and the broker connection.
//!
//! It waits for requests from the command handlers (connect, publish, subscribe,
//! unsubscribe, clean), keeps the link alive (keepalive, acknowledgements), turns inbound
//! messages into `+MQTTSUBRECV` URCs, and re-establishes a lost link with exponential
//! back-off when the host asked for `reconnect=1`.

use core::cmp::min;

use at_core::{ErrorCode, UrcQueue};
use embassy_futures::select::{Either, select};
#[cfg(feature = "tls-psk")]
use embassy_futures::select::{Either3, select3};
use embassy_time::{Duration, Instant, Timer, with_deadline};
use heapless::{String, Vec};
use minimq::{
    Buffers, ConfigBuilder, ConnectEvent, Connection, Io, Publication, QoS, Session,
    SubscriptionOptions, TopicFilter, Will,
};

use crate::error::{
    CLIENT_ID_IS_OVERLENGTH, CLIENT_PUBLISH_FAILED, CLIENT_START_FAILED, CLIENT_SUBSCRIBE_FAILED,
    CLIENT_UNSUBSCRIBE_FAILED, NO_CONFIGURED,
};
use crate::network::Network;
use crate::resume::ResumeSession;
use crate::state::{ConnConfig, Link, Request, Response, Shared, Target, UserConfig};
use crate::topic::MAX_TOPIC;
use crate::urc::{self, DISCONNECTED, SUBRECV_OVERHEAD};

/// Session expiry requested for `disable_clean_session=1`: never expires.
const KEEP_SESSION_EXPIRY: u32 = u32::MAX;

/// How a connected period ended.
enum Ended {
    /// The host asked (`AT+MQTTCLEAN`); the runner owes it a response.
    Clean,
    /// The link broke.
    Lost,
}

/// The configuration of one `AT+MQTTCONN`, copied out of the shared state.
struct Snapshot {
    user: UserConfig,
    conn: ConnConfig,
    target: Target,
    #[cfg(feature = "tls-psk")]
    psk: Option<crate::state::PskConfig>,
}

/// The runner's own copy of the request data.
struct Outbox<const PAYLOAD: usize> {
    topic: String<MAX_TOPIC>,
    payload: Vec<u8, PAYLOAD>,
}

/// What the runner shares with its helpers while a connection borrows the network.
struct Context<'r, const URC: usize, const PAYLOAD: usize, const SUBS: usize> {
    shared: &'r Shared<PAYLOAD, SUBS>,
    urcs: &'r UrcQueue<URC>,
    outbox: &'r mut Outbox<PAYLOAD>,
}

/// Drives the MQTT link; run it beside the engine (see the crate docs).
pub struct Runner<'a, N: Network, const URC: usize, const PAYLOAD: usize, const SUBS: usize> {
    shared: &'a Shared<PAYLOAD, SUBS>,
    urcs: &'a UrcQueue<URC>,
    network: N,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
    outbox: Outbox<PAYLOAD>,
    #[cfg(feature = "tls-psk")]
    tls: Option<crate::tls::TlsPsk<'a>>,
}

impl<'a, N: Network, const URC: usize, const PAYLOAD: usize, const SUBS: usize>
    Runner<'a, N, URC, PAYLOAD, SUBS>
{
    /// A runner for `shared`, writing URCs to `urcs`, connecting through `network`, with
    /// minimq's packet buffers `rx` (the largest inbound message) and `tx` (outbound
    /// packets and in-flight state).
    ///
    /// `rx` is used only up to what one URC record can carry, so every message the broker
    /// may send (it is told the limit in CONNECT) fits in the URC queue.
    pub fn new(
        shared: &'a Shared<PAYLOAD, SUBS>,
        urcs: &'a UrcQueue<URC>,
        network: N,
        rx: &'a mut [u8],
        tx: &'a mut [u8],
    ) -> Self {
        let usable = min(rx.len(), urcs.max_record().saturating_sub(SUBRECV_OVERHEAD));
        let (rx, _) = rx.split_at_mut(usable);
        Self {
            shared,
            urcs,
            network,
            rx,
            tx,
            outbox: Outbox {
                topic: String::new(),
                payload: Vec::new(),
            },
            #[cfg(feature = "tls-psk")]
            tls: None,
        }
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

    /// Runs forever. Cancelling it drops the broker connection without `DISCONNECT`
    /// (as a power cut would).
    pub async fn run(&mut self) -> ! {
        loop {
            let request = self.shared.request.wait().await;
            let response = match request {
                Request::Connect { timeout } => {
                    self.connect_and_serve(timeout).await;
                    continue;
                }
                Request::Clean => Response::Done,
                _ => Response::NotConnected,
            };
            self.shared.response.signal(response);
        }
    }

    async fn connect_and_serve(&mut self, timeout: Duration) {
        let Runner {
            shared,
            urcs,
            network,
            rx,
            tx,
            outbox,
            #[cfg(feature = "tls-psk")]
            tls,
        } = self;
        let shared = *shared;
        let mut cx = Context {
            shared,
            urcs,
            outbox,
        };
        let snapshot = shared.with(|inner| {
            inner.user.clone().map(|user| Snapshot {
                user,
                conn: inner.conn.clone(),
                target: inner.target.clone(),
                #[cfg(feature = "tls-psk")]
                psk: inner.psk.clone(),
            })
        });
        let Some(snapshot) = snapshot else {
            return cx.respond_failed(NO_CONFIGURED);
        };
        let config = match session_config(&snapshot, rx, tx) {
            Ok(config) => config,
            Err(code) => return cx.respond_failed(code),
        };
        #[cfg(feature = "tls-psk")]
        if snapshot.user.scheme == 2 && (tls.is_none() || snapshot.psk.is_none()) {
            return cx.respond_failed(crate::error::TLS_CONFIG_ERROR);
        }
        let mut session = Session::new(config);
        let host = snapshot.target.host.as_str();
        let port = snapshot.target.port;
        let reconnect = snapshot.target.reconnect;
        let mut first = true;
        let mut delay = shared.options.reconnect_min;
        loop {
            if !first && !cx.back_off(delay).await {
                return;
            }
            let limit = if first {
                timeout
            } else {
                shared.options.command_timeout
            };
            // A persistent session is resumed if the broker kept it while the modem
            // was away; later reconnects resume it through minimq itself.
            let resume = first && snapshot.conn.keep_session;
            let deadline = Instant::now() + limit;
            let stream = with_deadline(deadline, network.connect(host, port)).await;
            let ended = match stream {
                Ok(Ok(stream)) if snapshot.user.scheme == 1 => {
                    let io = ResumeSession::new(stream, resume);
                    cx.link(&mut session, io, deadline, first).await
                }
                #[cfg(feature = "tls-psk")]
                Ok(Ok(mut stream)) => match (tls.as_mut(), snapshot.psk.as_ref()) {
                    (Some(tls), Some(psk)) => {
                        let halves = crate::tls::split(&mut stream);
                        let opened = with_deadline(
                            deadline,
                            crate::tls::open(&halves, tls, &psk.identity, &psk.key),
                        )
                        .await;
                        match opened {
                            Ok(Ok(mut connection)) => {
                                let (mut reader, mut writer) = connection.split();
                                let pipes = crate::tls::Pipes::new();
                                let io = ResumeSession::new(pipes.io(), resume);
                                match select3(
                                    pipes.pump_in(&mut reader),
                                    pipes.pump_out(&mut writer),
                                    cx.link(&mut session, io, deadline, first),
                                )
                                .await
                                {
                                    Either3::Third(ended) => ended,
                                    // The TLS stream ended: a loss if CONNACK was in.
                                    _ if shared.is_connected() => Some(Ended::Lost),
                                    _ => None,
                                }
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                },
                _ => None,
            };
            let Some(ended) = ended else {
                if first {
                    return cx.respond_failed(CLIENT_START_FAILED);
                }
                delay = min(delay * 2, shared.options.reconnect_max);
                continue;
            };
            first = false;
            delay = shared.options.reconnect_min;
            if let Ended::Clean = ended {
                return cx.answer_clean();
            }
            shared.with(|inner| {
                inner.link = if reconnect {
                    Link::Reconnecting
                } else {
                    Link::Lost
                };
            });
            cx.push(DISCONNECTED).await;
            if !reconnect {
                return;
            }
        }
    }
}

/// Builds minimq's configuration from a snapshot.
fn session_config<'b>(
    snapshot: &'b Snapshot,
    rx: &'b mut [u8],
    tx: &'b mut [u8],
) -> Result<ConfigBuilder<'b>, ErrorCode> {
    if snapshot.user.scheme != 1 && !cfg!(feature = "tls-psk") {
        // MQTT over TLS-PSK needs the `tls-psk` transport, which this build lacks.
        return Err(crate::error::TLS_CONFIG_ERROR);
    }
    let client_id =
        core::str::from_utf8(&snapshot.user.client_id).map_err(|_| CLIENT_START_FAILED)?;
    let mut config = ConfigBuilder::new(Buffers::new(rx, tx))
        .client_id(client_id)
        .map_err(|_| CLIENT_ID_IS_OVERLENGTH)?
        .keepalive_interval(snapshot.conn.keepalive);
    if snapshot.conn.keep_session {
        config = config.session_expiry_interval(KEEP_SESSION_EXPIRY);
    }
    let user = &snapshot.user;
    if !user.username.is_empty() || !user.password.is_empty() {
        let username = core::str::from_utf8(&user.username).map_err(|_| CLIENT_START_FAILED)?;
        config = config
            .auth(username, &user.password)
            .map_err(|_| CLIENT_START_FAILED)?;
    }
    let conn = &snapshot.conn;
    if !conn.lwt_topic.is_empty() {
        let mut will = Will::new(&conn.lwt_topic, &conn.lwt_msg, &[])
            .map_err(|_| CLIENT_START_FAILED)?
            .qos(conn.lwt_qos);
        if conn.lwt_retain {
            will = will.retained();
        }
        config = config.will(will).map_err(|_| CLIENT_START_FAILED)?;
    }
    Ok(config)
}

impl<const URC: usize, const PAYLOAD: usize, const SUBS: usize> Context<'_, URC, PAYLOAD, SUBS> {
    fn respond_failed(&mut self, code: ErrorCode) {
        self.shared.with(|inner| {
            if inner.link == Link::Connecting {
                inner.link = Link::Lost;
            }
        });
        self.shared.response.signal(Response::Failed(code));
    }

    /// The link is gone at the host's request (`AT+MQTTCLEAN`): answer it.
    fn answer_clean(&self) {
        self.shared.with(|inner| inner.link = Link::Idle);
        self.shared.response.signal(Response::Done);
    }

    /// Waits `delay` before a reconnect attempt, answering requests meanwhile. Returns
    /// `false` when the host cleaned the link up (and has been answered).
    async fn back_off(&mut self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        loop {
            match select(Timer::at(until), self.shared.request.wait()).await {
                Either::First(()) => return true,
                Either::Second(Request::Clean) => {
                    self.answer_clean();
                    return false;
                }
                Either::Second(Request::Connect { .. }) => {
                    self.shared
                        .response
                        .signal(Response::Failed(crate::error::ALREADY_CONNECTED));
                }
                Either::Second(_) => self.shared.response.signal(Response::NotConnected),
            }
        }
    }

    async fn push(&self, line: &[u8]) {
        // A line always fits: the queue holds at least one maximal inbound message.
        let _ = self.urcs.push(&[line]).await;
    }

    /// One connected period over `io`: CONNECT (by `deadline`), then serve until the
    /// link ends. `None` when CONNECT failed.
    async fn link<IO: Io>(
        &mut self,
        session: &mut Session<'_>,
        io: IO,
        deadline: Instant,
        first: bool,
    ) -> Option<Ended> {
        let mut conn = with_deadline(deadline, session.connect(io))
            .await
            .ok()?
            .ok()?;
        self.after_connect(&mut conn).await;
        let line = self.shared.with(|inner| {
            inner.link = Link::Connected;
            urc::connected_for(self.shared.options.profile, inner)
        });
        if first {
            // The command writes the connect URC before its `OK`.
            self.shared.response.signal(Response::Done);
        } else {
            self.push(line.as_bytes()).await;
        }
        Some(self.serve(&mut conn).await)
    }

    /// Restores subscriptions when the broker started a fresh session.
    async fn after_connect<IO: Io>(&mut self, conn: &mut Connection<'_, '_, IO>) {
        if conn.connect_event() != ConnectEvent::Connected {
            return;
        }
        let count = self.shared.with(|inner| inner.subscriptions.len());
        for index in 0..count {
            let Some((filter, qos)) = self.shared.with(|inner| {
                inner
                    .subscriptions
                    .get(index)
                    .map(|sub| (sub.filter.clone(), sub.qos))
            }) else {
                break;
            };
            let deadline = Instant::now() + self.shared.options.command_timeout;
            let _ = self.subscribe(conn, &filter, qos, deadline).await;
        }
    }

    /// Serves requests and inbound traffic until the link ends.
    async fn serve<IO: Io>(&mut self, conn: &mut Connection<'_, '_, IO>) -> Ended {
        loop {
            let request = match select(conn.poll(), self.shared.request.wait()).await {
                Either::First(Ok(Some(message))) => {
                    let _ = urc::push_subrecv(self.urcs, message.topic(), message.payload()).await;
                    continue;
                }
                Either::First(Ok(None)) => continue,
                Either::First(Err(_)) => {
                    if conn.is_connected() {
                        continue;
                    }
                    return Ended::Lost;
                }
                Either::Second(request) => request,
            };
            let response = match request {
                Request::Clean => {
                    let _ = conn.disconnect().await;
                    return Ended::Clean;
                }
                Request::Connect { .. } => Response::Failed(crate::error::ALREADY_CONNECTED),
                Request::Publish {
                    qos,
                    retain,
                    timeout,
                } => {
                    self.take_outbox(true);
                    let deadline = Instant::now() + timeout;
                    self.publish(conn, qos, retain, deadline).await
                }
                Request::Subscribe { qos, timeout } => {
                    self.take_outbox(false);
                    let filter = self.outbox.topic.clone();
                    let deadline = Instant::now() + timeout;
                    self.subscribe(conn, &filter, qos, deadline).await
                }
                Request::Unsubscribe { timeout } => {
                    self.take_outbox(false);
                    let deadline = Instant::now() + timeout;
                    self.unsubscribe(conn, deadline).await
                }
            };
            self.shared.response.signal(response);
            if !conn.is_connected() {
                return Ended::Lost;
            }
        }
    }

    /// Copies the request's topic (and payload) out of the shared state.
    fn take_outbox(&mut self, with_payload: bool) {
        let outbox = &mut *self.outbox;
        self.shared.with(|inner| {
            outbox.topic.clone_from(&inner.outbox_topic);
            outbox.payload.clear();
            if with_payload {
                outbox.payload.clone_from(&inner.outbox_payload);
            }
        });
    }

    async fn publish<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        qos: QoS,
        retain: bool,
        deadline: Instant,
    ) -> Response {
        let mut publication = Publication::bytes(&self.outbox.topic, &self.outbox.payload).qos(qos);
        if retain {
            publication = publication.retain();
        }
        let op = match with_deadline(deadline, conn.publish(publication)).await {
            Ok(Ok(None)) => return Response::Done,
            Ok(Ok(Some(op))) => op,
            Ok(Err(_)) => return Response::Failed(CLIENT_PUBLISH_FAILED),
            Err(_) => {
                // A cancelled write may leave half a packet on the stream: drop the link.
                conn.handle_disconnect();
                return Response::Failed(CLIENT_PUBLISH_FAILED);
            }
        };
        self.complete(conn, op, deadline, CLIENT_PUBLISH_FAILED)
            .await
    }

    async fn subscribe<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        filter: &str,
        qos: QoS,
        deadline: Instant,
    ) -> Response {
        let filters =
            [TopicFilter::new(filter).options(SubscriptionOptions::default().maximum_qos(qos))];
        let Ok(Ok(op)) = with_deadline(deadline, conn.subscribe(&filters, &[])).await else {
            return Response::Failed(CLIENT_SUBSCRIBE_FAILED);
        };
        self.complete(conn, op, deadline, CLIENT_SUBSCRIBE_FAILED)
            .await
    }

    async fn unsubscribe<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        deadline: Instant,
    ) -> Response {
        let topic = self.outbox.topic.clone();
        let Ok(Ok(op)) = with_deadline(deadline, conn.unsubscribe(&[topic.as_str()], &[])).await
        else {
            return Response::Failed(CLIENT_UNSUBSCRIBE_FAILED);
        };
        self.complete(conn, op, deadline, CLIENT_UNSUBSCRIBE_FAILED)
            .await
    }

    /// Polls the connection until `op` is acknowledged, delivering inbound messages.
    async fn complete<IO: Io>(
        &mut self,
        conn: &mut Connection<'_, '_, IO>,
        op: minimq::Op,
        deadline: Instant,
        failure: ErrorCode,
    ) -> Response {
        loop {
            if conn.is_complete(&op) {
                return Response::Done;
            }
            if conn.is_invalidated(&op) || !conn.is_connected() {
                return Response::Failed(failure);
            }
            match with_deadline(deadline, conn.poll()).await {
                Err(_) => return Response::Failed(failure),
                Ok(Ok(Some(message))) => {
                    let _ = urc::push_subrecv(self.urcs, message.topic(), message.payload()).await;
                }
                Ok(Ok(None)) => {}
                Ok(Err(minimq::Error::Peer(_))) => return Response::Failed(failure),
                Ok(Err(_)) => {}
            }
        }
    }
}
