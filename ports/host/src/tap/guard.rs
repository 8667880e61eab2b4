//! A TAP driver that survives the device failing under it.
//!
//! embassy-net-tuntap panics when a read or write of the TAP device fails, e.g. with
//! `EIO` for every frame sent while the interface is down (`ip link set IFACE down`).
//! A board whose cable is pulled keeps running, so [`Guarded`] turns such a failure into
//! a lost frame: it runs each call into the inner driver under `catch_unwind`, keeps the
//! panic hook quiet for exactly those calls, and reports the failure once on standard
//! error (and its end once too). Panics of the network stack itself (the code that fills
//! a frame) are not contained and unwind as usual.
//!
//! This relies on `panic = "unwind"`, Rust's default, which the workspace keeps; with
//! `panic = "abort"` a failing device ends the process as before.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Once;
use std::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};

thread_local! {
    /// Set while a call into the inner driver runs: its panics are reported by
    /// [`Guarded`], not by the panic hook.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Whether failures of one direction are currently being reported.
struct Direction {
    /// The verb: `send` or `receive`.
    verb: &'static str,
    /// Its gerund, for the recovery message.
    gerund: &'static str,
    failing: Cell<bool>,
}

impl Direction {
    const fn new(verb: &'static str, gerund: &'static str) -> Self {
        Self {
            verb,
            gerund,
            failing: Cell::new(false),
        }
    }

    /// Reports the start of a failure streak.
    fn failed(&self, name: &str, payload: &(dyn Any + Send)) {
        if !self.failing.replace(true) {
            let why = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("unknown error");
            eprintln!(
                "at-host: TAP {name}: cannot {} frames ({why}); dropping them until it \
                 works again (is {name} up?)",
                self.verb
            );
        }
    }

    /// Reports the end of a failure streak.
    fn succeeded(&self, name: &str) {
        if self.failing.replace(false) {
            eprintln!("at-host: TAP {name}: {} frames again", self.gerund);
        }
    }
}

/// The failure state shared by the driver and its tokens.
struct Health {
    name: String,
    send: Direction,
    receive: Direction,
}

/// Wraps a driver whose device I/O may panic; see the module docs.
pub struct Guarded<D> {
    inner: D,
    health: Health,
}

impl<D: Driver> Guarded<D> {
    /// Guards `inner`, the device named `name` in reports.
    pub fn new(inner: D, name: &str) -> Self {
        install_hook();
        Self {
            inner,
            health: Health {
                name: name.to_owned(),
                send: Direction::new("send", "sending"),
                receive: Direction::new("receive", "receiving"),
            },
        }
    }
}

/// Installs, once per process, a panic hook that stays quiet for contained panics and
/// hands every other panic to the previous hook.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.get() {
                previous(info);
            }
        }));
    });
}

/// Runs `f` with its panics contained: caught, and not printed by the panic hook.
fn contain<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    let outer = CONTAINED.replace(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINED.set(outer);
    result
}

/// Runs `f` with panics not contained (stack code called back from the inner driver).
fn uncontained<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            CONTAINED.set(self.0);
        }
    }
    let _restore = Restore(CONTAINED.replace(false));
    f()
}

/// Consumes a token under [`contain`], running `f` uncontained; a panic of `f` unwinds
/// on, a panic of the token after `f` is reported and `f`'s result returned.
fn consume<R>(
    direction: &Direction,
    name: &str,
    token: impl FnOnce(&mut dyn FnMut(&mut [u8])),
    f: impl FnOnce(&mut [u8]) -> R,
) -> R {
    let mut f = Some(f);
    let mut result = None;
    let outcome = contain(|| {
        token(&mut |buffer| {
            if let Some(f) = f.take() {
                result = Some(uncontained(|| f(buffer)));
            }
        });
    });
    match (outcome, result) {
        (Ok(()), Some(result)) => {
            direction.succeeded(name);
            result
        }
        (Err(payload), Some(result)) => {
            direction.failed(name, payload.as_ref());
            result
        }
        // `f` panicked (the unwind passed through the token) or was never called.
        (Err(payload), None) => resume_unwind(payload),
        (Ok(()), None) => resume_unwind(Box::new("the TAP driver did not hand out a buffer")),
    }
}

impl<D: Driver> Driver for Guarded<D> {
    type RxToken<'a>
        = GuardedRx<'a, D::RxToken<'a>>
    where
        Self: 'a;
    type TxToken<'a>
        = GuardedTx<'a, D::TxToken<'a>>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let Self { inner, health } = self;
        match contain(|| inner.receive(cx)) {
            Ok(tokens) => {
                health.receive.succeeded(&health.name);
                let (rx, tx) = tokens?;
                let rx = GuardedRx { inner: rx, health };
                let tx = GuardedTx { inner: tx, health };
                Some((rx, tx))
            }
            Err(payload) => {
                health.receive.failed(&health.name, payload.as_ref());
                None
            }
        }
    }

    fn transmit(&mut self, cx: &mut Context) -> Option<Self::TxToken<'_>> {
        let Self { inner, health } = self;
        match contain(|| inner.transmit(cx)) {
            Ok(token) => Some(GuardedTx {
                inner: token?,
                health,
            }),
            Err(payload) => {
                health.send.failed(&health.name, payload.as_ref());
                None
            }
        }
    }

    fn link_state(&mut self, cx: &mut Context) -> LinkState {
        self.inner.link_state(cx)
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        self.inner.hardware_address()
    }
}

/// A received frame of a [`Guarded`] driver.
pub struct GuardedRx<'a, T> {
    inner: T,
    health: &'a Health,
}

impl<T: RxToken> RxToken for GuardedRx<'_, T> {
    fn consume<R, F>(self, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let Self { inner, health } = self;
        let token = |fill: &mut dyn FnMut(&mut [u8])| inner.consume(fill);
        consume(&health.receive, &health.name, token, f)
    }
}

/// A frame to send on a [`Guarded`] driver.
pub struct GuardedTx<'a, T> {
    inner: T,
    health: &'a Health,
}

impl<T: TxToken> TxToken for GuardedTx<'_, T> {
    fn consume<R, F>(self, len: usize, f: F) -> R
    where
        F: FnOnce(&mut [u8]) -> R,
    {
        let Self { inner, health } = self;
        let token = |fill: &mut dyn FnMut(&mut [u8])| inner.consume(len, fill);
        consume(&health.send, &health.name, token, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device whose writes fail while `down` is set, like a TAP device that is down.
    struct Flaky {
        down: bool,
        sent: Vec<Vec<u8>>,
    }

    struct FlakyTx<'a>(&'a mut Flaky);

    impl TxToken for FlakyTx<'_> {
        fn consume<R, F>(self, len: usize, f: F) -> R
        where
            F: FnOnce(&mut [u8]) -> R,
        {
            let mut frame = vec![0; len];
            let result = f(&mut frame);
            if self.0.down {
                panic!("transmit error: Input/output error");
            }
            self.0.sent.push(frame);
            result
        }
    }

    struct NoRx;

    impl RxToken for NoRx {
        fn consume<R, F>(self, f: F) -> R
        where
            F: FnOnce(&mut [u8]) -> R,
        {
            f(&mut [])
        }
    }

    impl Driver for Flaky {
        type RxToken<'a> = NoRx;
        type TxToken<'a> = FlakyTx<'a>;

        fn receive(&mut self, _: &mut Context) -> Option<(NoRx, FlakyTx<'_>)> {
            if self.down {
                panic!("read error: Bad file descriptor");
            }
            None
        }

        fn transmit(&mut self, _: &mut Context) -> Option<FlakyTx<'_>> {
            Some(FlakyTx(self))
        }

        fn link_state(&mut self, _: &mut Context) -> LinkState {
            LinkState::Up
        }

        fn capabilities(&self) -> Capabilities {
            Capabilities::default()
        }

        fn hardware_address(&self) -> HardwareAddress {
            HardwareAddress::Ethernet([2, 0, 0, 0, 0, 1])
        }
    }

    fn send(driver: &mut Guarded<Flaky>, byte: u8) -> u8 {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let token = driver.transmit(&mut cx).unwrap();
        token.consume(1, |frame| {
            frame[0] = byte;
            byte + 1
        })
    }

    #[test]
    fn a_failing_device_loses_frames_instead_of_panicking() {
        let mut driver = Guarded::new(
            Flaky {
                down: false,
                sent: Vec::new(),
            },
            "tap-test",
        );
        assert_eq!(send(&mut driver, 1), 2);
        driver.inner.down = true;
        // The stack still gets its closure's result; the frame is lost.
        assert_eq!(send(&mut driver, 2), 3);
        assert!(driver.health.send.failing.get());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(driver.receive(&mut cx).is_none());
        assert!(driver.health.receive.failing.get());
        driver.inner.down = false;
        assert_eq!(send(&mut driver, 3), 4);
        assert!(!driver.health.send.failing.get());
        assert_eq!(driver.inner.sent, [vec![1], vec![3]]);
        assert!(!CONTAINED.get());
    }

    #[test]
    fn panics_of_the_stack_itself_unwind_on() {
        let mut driver = Guarded::new(
            Flaky {
                down: false,
                sent: Vec::new(),
            },
            "tap-test",
        );
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let token = driver.transmit(&mut cx).unwrap();
            token.consume(1, |_| -> u8 { panic!("stack bug") })
        }));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"stack bug"));
        assert!(!CONTAINED.get());
        assert!(driver.inner.sent.is_empty());
    }
}
