//! An ESP-AT host built on the `atat` crate, for end-to-end tests: the MQTT commands as
//! `atat` derive structs, the modem's URCs as an `atat` URC enum, and [`Host`], which
//! runs `atat`'s ingress and client over a serial port (the simulator's
//! pseudo-terminal).
//!
//! Everything on the wire is `atat`'s own doing, with its defaults: each command ends
//! with a bare CR, strings are quoted by its serializer, echo is stripped by its
//! digester, URCs are recognised by their prefix. The one addition is
//! [`EspAtDigester`], which finds ESP-AT's URCs where `atat`'s digester expects an echo.
#![allow(
    clippy::panic,
    reason = "test support: a failure panics, with a message"
)]

pub mod commands;
mod digester;
mod serial;
pub mod urc;

use std::path::Path;
use std::time::Duration;

use atat::asynch::{AtatClient, Client};
use atat::{AtatCmd, AtatIngress, Config, Ingress, ResponseSlot, UrcChannel};
use embassy_futures::select::{Either, select};

pub use digester::EspAtDigester;
pub use serial::SerialHalves;
pub use urc::Urc;

/// Bytes of one response or URC the ingress can hold.
pub const INGRESS_BYTES: usize = 2048;
/// URCs the channel holds.
const URC_CAPACITY: usize = 16;
/// Subscribers of the URC channel.
const URC_SUBSCRIBERS: usize = 1;

/// The URC channel of a [`Host`].
pub type Urcs = UrcChannel<Urc, URC_CAPACITY, URC_SUBSCRIBERS>;

/// An `atat` host on the serial port at `path`: call [`run`](Self::run) with the flow to
/// drive while the ingress reads the port.
pub struct Host {
    serial: SerialHalves,
}

/// What a flow gets: `atat`'s client and its URC subscription.
pub struct Session<'a> {
    /// The `atat` client (commands and their responses).
    pub client:
        Client<'a, embedded_io_adapters::tokio_1::FromTokio<tokio::fs::File>, INGRESS_BYTES>,
    /// The URCs, in order.
    pub urcs: atat::UrcSubscription<'a, Urc, URC_CAPACITY, URC_SUBSCRIBERS>,
    /// The response slot the client and the ingress share (to see a raw-data prompt).
    pub responses: &'a ResponseSlot<INGRESS_BYTES>,
}

impl Session<'_> {
    /// Sends `command` and returns its response, or why not.
    pub async fn send<C: AtatCmd>(&mut self, command: &C) -> Result<C::Response, atat::Error> {
        self.client.send(command).await
    }

    /// The next URC, waiting up to `timeout`.
    pub async fn next_urc(&mut self, timeout: Duration) -> Option<Urc> {
        embassy_time::with_timeout(to_embassy(timeout), self.urcs.next_message_pure())
            .await
            .ok()
    }

    /// Waits up to `timeout` for the raw-data prompt `>` in the response slot.
    pub async fn prompt(&mut self, timeout: Duration) -> bool {
        match embassy_time::with_timeout(to_embassy(timeout), self.responses.get()).await {
            Ok(response) => matches!(*response, atat::Response::Prompt(b'>')),
            Err(_) => false,
        }
    }
}

/// A std duration as embassy-time's.
pub fn to_embassy(duration: Duration) -> embassy_time::Duration {
    embassy_time::Duration::from_micros(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
}

impl Host {
    /// Opens the serial port at `path` (raw mode).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            serial: SerialHalves::open(path)?,
        })
    }

    /// Runs `flow` with an `atat` client while `atat`'s ingress reads the port, on a
    /// runtime of its own; returns what `flow` returns.
    pub fn run<R>(self, flow: impl AsyncFnOnce(&mut Session<'_>) -> R) -> R {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => panic!("no tokio runtime: {e}"),
        };
        let SerialHalves { rx, tx } = self.serial;
        // A failing flow panics; the runtime is shut down first either way, without
        // waiting for the ingress's blocking read of the port (which ends with the port).
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async move {
                let responses = ResponseSlot::<INGRESS_BYTES>::new();
                let urcs = Urcs::new();
                let mut ingress_buf = [0u8; INGRESS_BYTES];
                let mut ingress = Ingress::new(
                    EspAtDigester::<Urc>::default(),
                    &mut ingress_buf,
                    &responses,
                    &urcs,
                );
                let mut command_buf = [0u8; INGRESS_BYTES];
                let client = Client::new(tx, &responses, &mut command_buf, Config::default());
                let Ok(subscription) = urcs.subscribe() else {
                    panic!("no URC subscription");
                };
                let mut session = Session {
                    client,
                    urcs: subscription,
                    responses: &responses,
                };
                match select(ingress.read_from(rx), flow(&mut session)).await {
                    Either::First(never) => match never {},
                    Either::Second(result) => result,
                }
            })
        }));
        runtime.shutdown_background();
        match result {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
