//! The state shared by the command handlers and the runner: configuration, link state,
//! subscriptions, and the request/response hand-over between them.

use core::cell::RefCell;

use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::signal::Signal;
use embassy_time::Duration;
use heapless::{String, Vec};
use minimq::QoS;

use crate::Options;
use crate::topic::MAX_TOPIC;

/// The longest client ID `AT+MQTTUSERCFG` accepts.
pub const MAX_CLIENT_ID: usize = 256;
/// The longest username or password.
pub const MAX_CREDENTIAL: usize = 64;
/// The longest `path`.
pub const MAX_PATH: usize = 32;
/// The longest host name (esp-at profile; the seed profile allows 64).
pub const MAX_HOST: usize = 128;
/// The longest will message (esp-at profile; the seed profile allows 64).
pub const MAX_LWT_MSG: usize = 128;
/// The longest PSK identity.
pub const MAX_PSK_IDENTITY: usize = 64;
/// The longest PSK, in bytes.
pub const MAX_PSK_KEY: usize = 64;

/// `AT+MQTTUSERCFG`'s values.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserConfig {
    pub(crate) scheme: u8,
    pub(crate) client_id: Vec<u8, MAX_CLIENT_ID>,
    pub(crate) username: Vec<u8, MAX_CREDENTIAL>,
    pub(crate) password: Vec<u8, MAX_CREDENTIAL>,
    pub(crate) path: Vec<u8, MAX_PATH>,
}

/// `AT+MQTTCONNCFG`'s values (defaults until it is sent).
#[derive(Clone, Debug)]
pub(crate) struct ConnConfig {
    pub(crate) keepalive: u16,
    pub(crate) keep_session: bool,
    pub(crate) lwt_topic: String<MAX_TOPIC>,
    pub(crate) lwt_msg: Vec<u8, MAX_LWT_MSG>,
    pub(crate) lwt_qos: QoS,
    pub(crate) lwt_retain: bool,
}

impl ConnConfig {
    /// The configuration before `AT+MQTTCONNCFG`: keepalive 120 s, clean session, no will.
    const fn new() -> Self {
        Self {
            keepalive: 120,
            keep_session: false,
            lwt_topic: String::new(),
            lwt_msg: Vec::new(),
            lwt_qos: QoS::AtMostOnce,
            lwt_retain: false,
        }
    }
}

impl Default for ConnConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `AT+MQTTPSK`'s values.
#[cfg_attr(
    not(feature = "tls-psk"),
    allow(dead_code, reason = "only the TLS-PSK transport reads the key")
)]
#[derive(Clone, Debug, Default)]
pub(crate) struct PskConfig {
    pub(crate) identity: Vec<u8, MAX_PSK_IDENTITY>,
    pub(crate) key: Vec<u8, MAX_PSK_KEY>,
}

/// The broker of the last `AT+MQTTCONN` attempt.
#[derive(Clone, Debug, Default)]
pub(crate) struct Target {
    pub(crate) host: String<MAX_HOST>,
    pub(crate) port: u16,
    pub(crate) reconnect: bool,
}

/// One subscription the host asked for.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) filter: String<MAX_TOPIC>,
    pub(crate) qos: QoS,
}

/// The broker link as the host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// No `AT+MQTTCONN` has succeeded since start-up or `AT+MQTTCLEAN`.
    Idle,
    /// `AT+MQTTCONN` is waiting for CONNACK.
    Connecting,
    /// Connected.
    Connected,
    /// The link was lost (or closed) and is not being re-established.
    Lost,
    /// The link was lost and the runner is re-establishing it.
    Reconnecting,
}

/// What a command asks of the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Connect with the stored configuration and target.
    Connect { timeout: Duration },
    /// Publish the outbox.
    Publish {
        qos: QoS,
        retain: bool,
        timeout: Duration,
    },
    /// Subscribe to the outbox topic.
    Subscribe { qos: QoS, timeout: Duration },
    /// Unsubscribe from the outbox topic.
    Unsubscribe { timeout: Duration },
    /// Disconnect gracefully and stop reconnecting.
    Clean,
}

/// The runner's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    /// Done (connected, acknowledged, disconnected).
    Done,
    /// Refused, failed or timed out, with the error code to report.
    Failed(at_core::ErrorCode),
    /// There is no link.
    NotConnected,
}

/// Everything behind the mutex.
pub(crate) struct Inner<const PAYLOAD: usize, const SUBS: usize> {
    pub(crate) user: Option<UserConfig>,
    pub(crate) conn: ConnConfig,
    pub(crate) conn_configured: bool,
    pub(crate) psk: Option<PskConfig>,
    pub(crate) target: Target,
    pub(crate) link: Link,
    pub(crate) subscriptions: Vec<Subscription, SUBS>,
    pub(crate) outbox_topic: String<MAX_TOPIC>,
    pub(crate) outbox_payload: Vec<u8, PAYLOAD>,
}

impl<const PAYLOAD: usize, const SUBS: usize> Inner<PAYLOAD, SUBS> {
    const fn new() -> Self {
        Self {
            user: None,
            conn: ConnConfig::new(),
            conn_configured: false,
            psk: None,
            target: Target {
                host: String::new(),
                port: 0,
                reconnect: false,
            },
            link: Link::Idle,
            subscriptions: Vec::new(),
            outbox_topic: String::new(),
            outbox_payload: Vec::new(),
        }
    }

    /// Whether the link is up.
    pub(crate) fn connected(&self) -> bool {
        self.link == Link::Connected
    }

    /// Fails with `ALREADY_CONNECTED` while a link is up, being set up or re-established:
    /// the configuration it uses may not change then.
    pub(crate) fn require_no_link(&self) -> Result<(), at_core::ErrorCode> {
        match self.link {
            Link::Connected | Link::Connecting | Link::Reconnecting => {
                Err(crate::error::ALREADY_CONNECTED)
            }
            Link::Idle | Link::Lost => Ok(()),
        }
    }
}

/// The MQTT state shared by [`MqttCommands`](crate::MqttCommands) and
/// [`Runner`](crate::Runner).
///
/// `PAYLOAD` bounds a published message (`AT+MQTTPUBRAW` length); `SUBS` is the number of
/// subscriptions held at once. Both halves must run in one task (e.g. joined with
/// `embassy_futures::select`), as the state uses a no-op mutex.
pub struct Shared<const PAYLOAD: usize = 1024, const SUBS: usize = 10> {
    pub(crate) options: Options,
    pub(crate) inner: Mutex<NoopRawMutex, RefCell<Inner<PAYLOAD, SUBS>>>,
    pub(crate) request: Signal<NoopRawMutex, Request>,
    pub(crate) response: Signal<NoopRawMutex, Response>,
}

impl<const PAYLOAD: usize, const SUBS: usize> Shared<PAYLOAD, SUBS> {
    /// Fresh state: nothing configured, not connected.
    pub const fn new(options: Options) -> Self {
        Self {
            options,
            inner: Mutex::new(RefCell::new(Inner::new())),
            request: Signal::new(),
            response: Signal::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs `f` on the state. `f` must not call back into `with`.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner<PAYLOAD, SUBS>) -> R) -> R {
        self.inner.lock(|inner| f(&mut inner.borrow_mut()))
    }

    /// Whether the broker link is up.
    pub fn is_connected(&self) -> bool {
        self.with(|inner| inner.connected())
    }

    /// Forgets everything, as at power-on. Call it only while no runner is active.
    pub fn reset(&self) {
        self.with(|inner| *inner = Inner::new());
        self.request.reset();
        self.response.reset();
    }
}
