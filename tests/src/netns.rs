//! A private network for one test: a TAP device for `at-host --tap`, bridged to a
//! network namespace that stands for the rest of the world.
//!
//! ```text
//!  root namespace                                 namespace NS
//!  at-host --tap T (smoltcp, 10.213.X.2) ── T ─┐
//!                                              bridge B ── V ═══ veth0 10.213.X.1 (mosquitto)
//! ```
//!
//! The root namespace gets no address on any of these devices, so nothing of the
//! machine's own network (routes, services, other tests) can see them: the bridge is a
//! closed Ethernet segment with the modem's user-space stack on one end and the
//! namespace's kernel stack on the other. Each network has its own names (the test
//! process's id and a counter) and its own subnet 10.213.X.0/24, X from the same; two
//! test processes that pick the same X still do not meet, each bridge being closed.
//!
//! Building one needs root (namespaces, bridges, veth pairs and TAP devices), the
//! `ip` command of iproute2, and `/dev/net/tun`; a machine without them fails the test
//! with a message saying what is missing (never a skip). Everything built is removed
//! by name when the value drops, processes still running in the namespace are killed
//! by their ids first, and a set-up that fails half-way removes what it had built.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::run_to_end;

/// How long one `ip` command may take.
const IP_TIMEOUT: Duration = Duration::from_secs(10);

/// What to tell someone whose machine lacks `ip`.
const INSTALL_IP: &str = "the TAP tests need the `ip` command of iproute2, which was not \
    found. Install it, e.g. on Debian or Ubuntu: `apt-get install -y iproute2` (.ci/run does \
    this).";

/// A namespace, a bridge, a veth pair and a TAP device; see the module docs.
pub struct TapNetwork {
    namespace: String,
    bridge: String,
    veth: String,
    tap: String,
    subnet: u8,
    /// What exists so far, in creation order; removed in reverse on drop.
    created: Vec<Created>,
}

/// Something [`TapNetwork`] created.
#[derive(Clone, Debug)]
enum Created {
    Namespace(String),
    Link(String),
}

impl TapNetwork {
    /// The namespace's end of the veth pair (its name inside the namespace).
    pub const NAMESPACE_LINK: &str = "veth0";

    /// Checks the machine (root, `/dev/net/tun`, `ip`) and builds a fresh network.
    pub fn create() -> Self {
        require_tap_support();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Interface names have at most 15 bytes: 3 + up to 6 hex digits (Linux pids are
        // below 2^22) + `-` + the counter.
        let name = |kind: &str| format!("at{kind}{pid:x}-{n}");
        let subnet = u8::try_from(pid.wrapping_mul(17).wrapping_add(n) % 256)
            .expect("a value below 256 fits in u8");
        let mut network = Self {
            namespace: name("n"),
            bridge: name("b"),
            veth: name("v"),
            tap: name("t"),
            subnet,
            created: Vec::new(),
        };
        network.build();
        network
    }

    /// Builds the devices, recording each as soon as it exists (a panic half-way leaves
    /// the rest to `Drop`).
    fn build(&mut self) {
        let ns = self.namespace.clone();
        let (bridge, veth, tap) = (self.bridge.clone(), self.veth.clone(), self.tap.clone());
        let inner = Self::NAMESPACE_LINK;
        let broker = format!("{}/24", self.broker_address());

        ip(&["netns", "add", &ns]);
        self.created.push(Created::Namespace(ns.clone()));

        ip(&["link", "add", &bridge, "type", "bridge"]);
        self.created.push(Created::Link(bridge.clone()));
        ip(&["link", "set", &bridge, "up"]);

        ip(&["tuntap", "add", &tap, "mode", "tap"]);
        self.created.push(Created::Link(tap.clone()));
        ip(&["link", "set", &tap, "master", &bridge]);
        ip(&["link", "set", &tap, "up"]);

        // The peer is born inside the namespace: its name never meets the root's.
        ip(&[
            "link", "add", &veth, "type", "veth", "peer", "name", inner, "netns", &ns,
        ]);
        self.created.push(Created::Link(veth.clone()));
        ip(&["link", "set", &veth, "master", &bridge]);
        ip(&["link", "set", &veth, "up"]);

        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ip(&["-n", &ns, "addr", "add", &broker, "dev", inner]);
        ip(&["-n", &ns, "link", "set", inner, "up"]);
    }

    /// The namespace's name.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The TAP device's name, for `at-host --tap`.
    pub fn tap(&self) -> &str {
        &self.tap
    }

    /// The bridge's name.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// The address of this network's host `host` (1..=254): 10.213.X.host.
    pub fn address(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, host)
    }

    /// The namespace's address, where its broker listens: 10.213.X.1.
    pub fn broker_address(&self) -> Ipv4Addr {
        self.address(1)
    }

    /// The address for the modem's stack: 10.213.X.2.
    pub fn modem_address(&self) -> Ipv4Addr {
        self.address(2)
    }

    /// A command that runs `program` inside the namespace (`ip netns exec NS ...`; `ip`
    /// replaces itself with the program, so the child's id is the program's).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.namespace, program]);
        command
    }

    /// Takes the namespace's end of the veth pair down (`up == false`) or up again,
    /// inside the namespace (`ip -n NS link set veth0 down|up`): a cable pulled out on
    /// the broker's side. Nothing is sent to the modem (no FIN, no RST); its TAP device
    /// and the bridge stay up, so it sees only silence. The namespace's address stays,
    /// so once up again the broker is reachable at the same address.
    pub fn set_namespace_link(&self, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&[
            "-n",
            &self.namespace,
            "link",
            "set",
            Self::NAMESPACE_LINK,
            state,
        ]);
    }

    /// The devices on the bridge and the namespace's addresses, as `ip` shows them.
    pub fn describe(&self) -> String {
        let show = |args: &[&str]| {
            quietly(args).map_or_else(
                || "(cannot run ip)\n".to_owned(),
                |output| String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        };
        format!(
            "--- ip link show master {} ---\n{}--- ip -n {} addr ---\n{}",
            self.bridge,
            show(&["link", "show", "master", &self.bridge]),
            self.namespace,
            show(&["-n", &self.namespace, "addr"]),
        )
    }
}

impl Drop for TapNetwork {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test network at failure:\n{}", self.describe());
        }
        // Processes still running in the namespace (started by this test) go first.
        let pids = quietly(&["netns", "pids", &self.namespace]);
        let pids = pids.map(|output| output.stdout).unwrap_or_default();
        for pid in String::from_utf8_lossy(&pids).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let mut failures = Vec::new();
        for created in self.created.iter().rev() {
            let args = match created {
                Created::Link(name) => ["link", "del", name.as_str()],
                Created::Namespace(name) => ["netns", "del", name.as_str()],
            };
            match quietly(&args) {
                Some(output) if output.status.success() => {}
                Some(output) => failures.push(format!(
                    "ip {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
                None => failures.push(format!("ip {}: cannot run ip", args.join(" "))),
            }
        }
        // Never panic in drop (the test may be unwinding already): report instead.
        if !failures.is_empty() {
            eprintln!(
                "warning: could not remove the test network: {}",
                failures.join("; ")
            );
        }
    }
}

/// Fails, saying what is missing, unless this process can build a [`TapNetwork`].
pub fn require_tap_support() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the TAP tests must run as root: they create a network namespace, a bridge, a veth \
         pair and a TAP device (CI runs the tests as root; run `sudo -E cargo test` or \
         `scripts/test.sh` as root)"
    );
    assert!(
        Path::new("/dev/net/tun").exists(),
        "the TAP tests need /dev/net/tun, which is missing: load the tun module \
         (`modprobe tun`), or in a container pass the device in (e.g. \
         `docker run --device /dev/net/tun --cap-add NET_ADMIN ...`)"
    );
    let version = Command::new("ip").arg("-V").output();
    assert!(
        version.is_ok_and(|output| output.status.success()),
        "{INSTALL_IP}"
    );
}

/// Runs `ip ARGS` and returns its output, whatever its exit status.
fn run(args: &[&str]) -> Output {
    let mut command = Command::new("ip");
    command.args(args);
    run_to_end("ip", command, IP_TIMEOUT)
}

/// Runs `ip ARGS` without ever panicking (for `Drop`).
fn quietly(args: &[&str]) -> Option<Output> {
    Command::new("ip").args(args).output().ok()
}

/// Runs `ip ARGS` and fails with its error output unless it succeeds.
fn ip(args: &[&str]) {
    let output = run(args);
    assert!(
        output.status.success(),
        "`ip {}` failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
}
