//! The hand-off between the command handlers and the runner: a single-slot mailbox for
//! one request and a one-shot reply that is always filled.
//!
//! A client [`submit`](Mailbox::submit)s a request and awaits its [`Ticket`]; the runner
//! [`receive`](Mailbox::receive)s it as a [`Pending`], which answers
//! [`Reply::Failed`] when it is dropped unanswered, so no path of the runner can leave an
//! accepted request without its reply. Tickets carry a sequence number, so a reply meant
//! for an abandoned request (its command gave up) never reaches the next one.
//!
//! The request's bulk data (topic, payload) lives in the [`Slot`] beside the mailbox,
//! written once by the client before it submits and read in place by the runner.

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Context, Poll};

use at_core::ErrorCode;
use embassy_sync::waitqueue::WakerRegistration;
use embassy_time::Duration;
use heapless::{String, Vec};
use minimq::QoS;

use crate::topic::MAX_TOPIC;

/// What a command asks of the runner; topic and payload travel in the [`Slot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Connect with the stored configuration and target, within `timeout`.
    Connect { timeout: Duration },
    /// Publish the slot's payload to the slot's topic.
    Publish {
        qos: QoS,
        retain: bool,
        timeout: Duration,
    },
    /// Subscribe to the slot's topic filter.
    Subscribe { qos: QoS, timeout: Duration },
    /// Unsubscribe from the slot's topic filter.
    Unsubscribe { timeout: Duration },
    /// Disconnect gracefully, stop reconnecting, forget the subscriptions.
    Clean,
    /// Store, erase or read back a certificate or key (the slot's payload carries it).
    #[cfg(feature = "tls-cert")]
    Credential(crate::credentials::upload::CredentialRequest),
}

impl Request {
    /// The code reported when the request fails without a more precise reason.
    pub(crate) fn failure(self) -> ErrorCode {
        use crate::error::*;
        match self {
            Request::Connect { .. } => CLIENT_START_FAILED,
            Request::Publish { .. } => CLIENT_PUBLISH_FAILED,
            Request::Subscribe { .. } => CLIENT_SUBSCRIBE_FAILED,
            Request::Unsubscribe { .. } => CLIENT_UNSUBSCRIBE_FAILED,
            Request::Clean => CLIENT_DISCONNECT_FAILED,
            #[cfg(feature = "tls-cert")]
            Request::Credential(request) => request.failure(),
        }
    }
}

/// The runner's answer to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Done: connected, acknowledged, disconnected.
    Done,
    /// `AT+MQTTSUB` of a filter already subscribed: nothing was sent.
    AlreadySubscribed,
    /// `AT+MQTTUNSUB` of a filter not subscribed (or with no link): nothing was sent.
    NotSubscribed,
    /// Refused, failed or timed out, with the error code to report.
    Failed(ErrorCode),
}

/// The data of the request in the mailbox.
pub(crate) struct Slot<const PAYLOAD: usize> {
    /// The topic (publish) or topic filter (subscribe, unsubscribe).
    pub(crate) topic: String<MAX_TOPIC>,
    /// The payload (publish).
    pub(crate) payload: Vec<u8, PAYLOAD>,
}

impl<const PAYLOAD: usize> Slot<PAYLOAD> {
    pub(crate) const fn new() -> Self {
        Self {
            topic: String::new(),
            payload: Vec::new(),
        }
    }
}

/// Where the single request stands. (`repr(u8)` makes `Empty` all zeros, so a static
/// holding the mailbox needs no flash.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// No request.
    Empty,
    /// Submitted, not yet taken by the runner.
    Submitted(Request),
    /// Taken by the runner; the reply is owed.
    Taken,
    /// Taken, but its client gave up: the reply is dropped.
    Abandoned,
    /// Answered when `urcs` URCs were queued; the client has not collected it yet.
    Answered { reply: Reply, urcs: usize },
}

/// The single-slot mailbox.
pub(crate) struct Mailbox {
    phase: Cell<Phase>,
    seq: Cell<u32>,
    runner: RefCell<WakerRegistration>,
    client: RefCell<WakerRegistration>,
}

/// A submitted request's claim on its reply.
pub(crate) struct Ticket<'m> {
    mailbox: &'m Mailbox,
    seq: u32,
    collected: bool,
}

/// A request the runner has taken: it must be answered, and is answered
/// [`Reply::Failed`] if dropped.
pub(crate) struct Pending<'m> {
    mailbox: &'m Mailbox,
    seq: u32,
    request: Request,
    answered: bool,
}

impl Mailbox {
    pub(crate) const fn new() -> Self {
        Self {
            phase: Cell::new(Phase::Empty),
            seq: Cell::new(0),
            runner: RefCell::new(WakerRegistration::new()),
            client: RefCell::new(WakerRegistration::new()),
        }
    }

    /// Places `request`; `None` while another request is still in the mailbox (its
    /// command gave up and the runner has not answered yet).
    pub(crate) fn submit(&self, request: Request) -> Option<Ticket<'_>> {
        match self.phase.get() {
            Phase::Empty | Phase::Answered { .. } => {}
            Phase::Submitted(_) | Phase::Taken | Phase::Abandoned => return None,
        }
        let seq = self.seq.get().wrapping_add(1);
        self.seq.set(seq);
        self.phase.set(Phase::Submitted(request));
        wake(&self.runner);
        Some(Ticket {
            mailbox: self,
            seq,
            collected: false,
        })
    }

    /// Waits for the next request.
    pub(crate) async fn receive(&self) -> Pending<'_> {
        poll_fn(|cx| self.poll_receive(cx)).await
    }

    /// Takes the next request, or registers `cx` to be woken when one arrives.
    pub(crate) fn poll_receive(&self, cx: &mut Context<'_>) -> Poll<Pending<'_>> {
        match self.phase.get() {
            Phase::Submitted(request) => {
                self.phase.set(Phase::Taken);
                Poll::Ready(Pending {
                    mailbox: self,
                    seq: self.seq.get(),
                    request,
                    answered: false,
                })
            }
            _ => {
                register(&self.runner, cx.waker());
                Poll::Pending
            }
        }
    }

    /// Whether the data slot may be written: no request is using it.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.phase.get(), Phase::Empty | Phase::Answered { .. })
    }

    fn answer(&self, seq: u32, reply: Reply, urcs: usize) {
        if seq != self.seq.get() {
            return;
        }
        match self.phase.get() {
            Phase::Taken => {
                self.phase.set(Phase::Answered { reply, urcs });
                wake(&self.client);
            }
            Phase::Abandoned => self.phase.set(Phase::Empty),
            Phase::Empty | Phase::Submitted(_) | Phase::Answered { .. } => {}
        }
    }
}

impl Ticket<'_> {
    /// Waits for the runner's reply, and how many URCs were queued when it answered
    /// (they belong before the command's result).
    pub(crate) async fn reply(&mut self) -> (Reply, usize) {
        let reply = poll_fn(|cx| match self.mailbox.phase.get() {
            Phase::Answered { reply, urcs } if self.mailbox.seq.get() == self.seq => {
                self.mailbox.phase.set(Phase::Empty);
                Poll::Ready((reply, urcs))
            }
            _ => {
                register(&self.mailbox.client, cx.waker());
                Poll::Pending
            }
        })
        .await;
        self.collected = true;
        reply
    }
}

impl Drop for Ticket<'_> {
    /// Gives the request up: not yet taken, it is withdrawn; taken, its reply is dropped.
    fn drop(&mut self) {
        if self.collected || self.mailbox.seq.get() != self.seq {
            return;
        }
        match self.mailbox.phase.get() {
            Phase::Submitted(_) | Phase::Answered { .. } => self.mailbox.phase.set(Phase::Empty),
            Phase::Taken => self.mailbox.phase.set(Phase::Abandoned),
            Phase::Empty | Phase::Abandoned => {}
        }
    }
}

impl Pending<'_> {
    /// The request.
    pub(crate) fn request(&self) -> Request {
        self.request
    }

    /// Answers the request; only the first answer counts.
    pub(crate) fn answer(&mut self, reply: Reply) {
        self.answer_behind(reply, 0);
    }

    /// Answers the request, telling the client that the `urcs` URCs now queued go before
    /// its result (the connect URC, or the esp-at profile's disconnect URC).
    pub(crate) fn answer_behind(&mut self, reply: Reply, urcs: usize) {
        if !core::mem::replace(&mut self.answered, true) {
            self.mailbox.answer(self.seq, reply, urcs);
        }
    }

    /// Answers with a failure.
    #[cfg(test)]
    pub(crate) fn fail(&mut self, code: ErrorCode) {
        self.answer(Reply::Failed(code));
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.answered {
            warn!("request dropped unanswered; answering it failed");
            self.answer(Reply::Failed(self.request.failure()));
        }
    }
}

fn wake(registration: &RefCell<WakerRegistration>) {
    if let Ok(mut registration) = registration.try_borrow_mut() {
        registration.wake();
    }
}

fn register(registration: &RefCell<WakerRegistration>, waker: &core::task::Waker) {
    if let Ok(mut registration) = registration.try_borrow_mut() {
        registration.register(waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLEAN: Request = Request::Clean;

    #[test]
    fn a_request_travels_and_is_answered_once() {
        let mailbox = Mailbox::new();
        embassy_futures::block_on(async {
            let mut ticket = mailbox.submit(CLEAN).expect("empty mailbox");
            assert!(mailbox.submit(CLEAN).is_none(), "one request at a time");
            let mut pending = mailbox.receive().await;
            assert_eq!(pending.request(), CLEAN);
            pending.answer(Reply::Done);
            pending.answer(Reply::NotSubscribed);
            assert_eq!(ticket.reply().await, (Reply::Done, 0));
        });
        assert!(mailbox.is_idle());
    }

    #[test]
    fn a_dropped_request_is_answered_failed() {
        let mailbox = Mailbox::new();
        embassy_futures::block_on(async {
            let mut ticket = mailbox.submit(CLEAN).expect("empty mailbox");
            drop(mailbox.receive().await);
            assert_eq!(
                ticket.reply().await.0,
                Reply::Failed(crate::error::CLIENT_DISCONNECT_FAILED)
            );
        });
    }

    #[test]
    fn an_abandoned_request_does_not_answer_the_next() {
        let mailbox = Mailbox::new();
        embassy_futures::block_on(async {
            let ticket = mailbox.submit(CLEAN).expect("empty mailbox");
            let mut pending = mailbox.receive().await;
            drop(ticket);
            assert!(mailbox.submit(CLEAN).is_none(), "still owed to the runner");
            pending.answer(Reply::Done);
            let mut next = mailbox.submit(CLEAN).expect("freed by the late answer");
            let mut taken = mailbox.receive().await;
            taken.fail(crate::error::CLIENT_PUBLISH_FAILED);
            assert_eq!(
                next.reply().await.0,
                Reply::Failed(crate::error::CLIENT_PUBLISH_FAILED)
            );
        });
    }

    #[test]
    fn a_withdrawn_request_is_never_taken() {
        let mailbox = Mailbox::new();
        drop(mailbox.submit(CLEAN));
        assert!(mailbox.is_idle());
    }
}
