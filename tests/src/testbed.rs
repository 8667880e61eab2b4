//! One modem target on a private network of its own: the board-level scenarios run
//! against each [`Target`] through the same [`Modem`] handle.
//!
//! ```text
//!  modem (at-host --tap T, or the emulated RP2040 on T) ── T ── bridge ── veth ═══ namespace
//!                                                                     dnsmasq (DHCP), mosquitto
//! ```
//!
//! A [`Testbed`] builds the [`TapNetwork`], starts dnsmasq and mosquitto (plain and
//! TLS-PSK listeners, and with [`Testbed::start_with_certificates`] a certificate one) in
//! its namespace, then the target, and checks its `ready`. The modem's stack gets its
//! address from DHCP, as a board on a LAN does. The host simulator keeps its credentials
//! in a state directory of the testbed's own (`--state-dir`), as a board keeps them in
//! its flash. Everything is removed when the testbed drops: the modem first, the
//! network last.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::at::{READY, echoed};
use crate::emulator::{RP2040_BOARD, start_rp2040_on};
use crate::pki::Pki;
use crate::{DhcpServer, Modem, NamespaceBroker, TapNetwork, at_host};

/// How long a target may take from power-on to `ready`.
const BOOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the first DHCP lease may take (smoltcp's DISCOVER retries included).
const LEASE_TIMEOUT: Duration = Duration::from_secs(30);

/// What runs the modem firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `at-host --tap`: the firmware's libraries on the host, embassy-net on a TAP device.
    HostSimulator,
    /// The RP2040 port's release ELF in the emulator (`tests/emulator/`), its W5500 model
    /// on a TAP device.
    EmulatedRp2040,
}

impl Target {
    /// The board name `AT+GMR` reports.
    pub fn board(self) -> &'static str {
        match self {
            Self::HostSimulator => "host",
            Self::EmulatedRp2040 => RP2040_BOARD,
        }
    }

    /// The build profile `AT+GMR` reports.
    pub fn build_profile(self) -> &'static str {
        match self {
            // at-host as cargo test builds it.
            Self::HostSimulator if cfg!(debug_assertions) => "debug",
            Self::HostSimulator => "release",
            // scripts/build-firmware.sh builds the board in release.
            Self::EmulatedRp2040 => "release",
        }
    }

    /// Starts the target's modem with its network on `network`'s TAP device (DHCP); the
    /// host simulator keeps its credentials in `state_dir`.
    fn start(self, network: &TapNetwork, state_dir: &Path) -> Modem {
        match self {
            Self::HostSimulator => {
                let mut command = Command::new(at_host());
                command
                    .args(["--serial", "tcp:127.0.0.1:0", "--tap"])
                    .arg(network.tap())
                    .arg("--state-dir")
                    .arg(state_dir);
                Modem::spawn("at-host", command, "at-host: listening on ", None)
            }
            Self::EmulatedRp2040 => start_rp2040_on(network),
        }
    }

    /// The machine's turn for a scenario on this target: the emulated board's run one at
    /// a time and alone (each keeps a core busy; beside another scenario's TLS handshakes
    /// or flood on 2 cores it falls behind the line it should saturate); the host
    /// simulator's share their turns with one another.
    pub fn exclusive(self) -> Turn {
        static MACHINE: RwLock<()> = RwLock::new(());
        // A scenario that failed poisoned the lock; the next one still runs.
        match self {
            Self::HostSimulator => Turn::Shared(MACHINE.read().unwrap_or_else(|e| e.into_inner())),
            Self::EmulatedRp2040 => Turn::Alone(MACHINE.write().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// A scenario's turn on the machine ([`Target::exclusive`]), held until dropped.
pub enum Turn {
    /// Beside other host-simulator scenarios.
    Shared(RwLockReadGuard<'static, ()>),
    /// Alone.
    Alone(RwLockWriteGuard<'static, ()>),
}

/// A target's modem on a network with a DHCP server and a broker; see the module docs.
pub struct Testbed {
    /// The host's side of the modem's serial line.
    pub modem: Modem,
    /// mosquitto in the namespace.
    pub broker: NamespaceBroker,
    /// dnsmasq in the namespace.
    pub dhcp: DhcpServer,
    /// The namespace, bridge and TAP device.
    pub network: TapNetwork,
    /// What runs the modem.
    pub target: Target,
    /// When the modem's process was started.
    pub started: Instant,
    /// How long from starting the modem to its `ready`.
    pub boot: Duration,
    /// The host simulator's `--state-dir` (its credential store).
    _state: TempDir,
    _exclusive: Turn,
}

impl Testbed {
    /// Builds the network, starts dnsmasq, mosquitto and the target, and checks that
    /// the modem powers on with `ready`.
    pub fn start(target: Target) -> Self {
        Self::start_with(target, NamespaceBroker::start)
    }

    /// [`start`](Self::start) with a PKI made now and the broker's certificate listener
    /// ([`NamespaceBroker::start_with_certificates`]; the PKI is `broker.pki()`).
    pub fn start_with_certificates(target: Target) -> Self {
        Self::start_with(target, |network| {
            NamespaceBroker::start_with_certificates(network, Pki::generate())
        })
    }

    fn start_with(target: Target, broker: impl FnOnce(&TapNetwork) -> NamespaceBroker) -> Self {
        let exclusive = target.exclusive();
        let network = TapNetwork::create();
        let dhcp = DhcpServer::start(&network);
        let broker = broker(&network);
        let state = tempfile::tempdir().expect("a temporary state directory for the modem");
        let started = Instant::now();
        let mut modem = target.start(&network, state.path());
        modem.expect(READY, BOOT_TIMEOUT);
        let boot = started.elapsed();
        Self {
            modem,
            broker,
            dhcp,
            network,
            target,
            started,
            boot,
            _state: state,
            _exclusive: exclusive,
        }
    }

    /// Asks `AT+CIPSTA?` (echo on) until the stack has an address from DHCP, then checks
    /// that it is one of the pool's and that dnsmasq acknowledged it; returns it.
    pub fn wait_for_lease(&mut self) -> Ipv4Addr {
        let deadline = Instant::now() + LEASE_TIMEOUT;
        loop {
            let address = self.cipsta_address();
            if address != Ipv4Addr::UNSPECIFIED {
                if !self.dhcp.in_pool(address) {
                    self.modem.fail(&format!(
                        "AT+CIPSTA? reports {address}, outside the DHCP pool; dnsmasq's log:\n{}",
                        self.dhcp.log()
                    ));
                }
                let acked = format!("DHCPACK({}) {address}", TapNetwork::NAMESPACE_LINK);
                if !self.dhcp.log().contains(&acked) {
                    self.modem.fail(&format!(
                        "the modem has {address} but dnsmasq logged no `{acked}`:\n{}",
                        self.dhcp.log()
                    ));
                }
                return address;
            }
            if Instant::now() > deadline {
                self.modem.fail(&format!(
                    "no DHCP lease within {LEASE_TIMEOUT:?}; dnsmasq's log:\n{}",
                    self.dhcp.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The `ip` line of `AT+CIPSTA?` (echo on), checking the answer's form.
    pub fn cipsta_address(&mut self) -> Ipv4Addr {
        self.modem.send_line("AT+CIPSTA?");
        let answer = self.modem.read_until(b"\r\nOK\r\n", crate::TIMEOUT);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let address = text
            .strip_prefix("AT+CIPSTA?\r\n+CIPSTA:ip:\"")
            .and_then(|rest| rest.split('"').next())
            .and_then(|ip| ip.parse().ok());
        let Some(address) = address else {
            self.modem
                .fail(&format!("AT+CIPSTA? answered {}", crate::escape(&answer)));
        };
        let expected_tail = "\r\n\r\nOK\r\n";
        if !text.contains("+CIPSTA:gateway:\"") || !text.ends_with(expected_tail) {
            self.modem
                .fail(&format!("AT+CIPSTA? answered {}", crate::escape(&answer)));
        }
        address
    }

    /// `AT+RST` (echo on): `OK`, then the restarted modem's `ready`.
    pub fn restart(&mut self) {
        self.modem.send_line("AT+RST");
        self.modem
            .expect(&echoed("AT+RST", crate::at::OK), crate::TIMEOUT);
        self.modem.expect(READY, BOOT_TIMEOUT);
    }
}
