//! A real mosquitto broker inside a [`TapNetwork`]'s namespace, and mosquitto's
//! command-line clients run there as MQTT peers.
//!
//! The broker listens on the namespace's address only, so the modem reaches it through
//! the TAP device and the bridge, never through the root namespace's loopback.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::{Process, TapNetwork, run_to_end};

/// How long mosquitto may take to open its listener.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What to tell someone whose machine lacks mosquitto or its clients.
const INSTALL: &str = "is required by the TAP tests and was not found (looked in PATH, \
    /usr/sbin and /usr/local/sbin). Install it, e.g. on Debian or Ubuntu: \
    `apt-get install -y mosquitto mosquitto-clients` (.ci/run does this).";

/// A mosquitto process in a network namespace, listening on the namespace's address
/// at port [`PORT`](Self::PORT); killed by its process id when dropped.
pub struct NamespaceBroker {
    process: Process,
    namespace: String,
    address: Ipv4Addr,
    _dir: TempDir,
}

impl NamespaceBroker {
    /// The port the broker listens on (the namespace has no other listener).
    pub const PORT: u16 = 1883;

    /// Starts mosquitto in `network`'s namespace on its broker address and waits until
    /// it runs.
    pub fn start(network: &TapNetwork) -> Self {
        let binary = program("mosquitto");
        let address = network.broker_address();
        let dir = tempfile::tempdir().expect("a temporary directory for mosquitto");
        let config = dir.path().join("mosquitto.conf");
        // As root, mosquitto would switch to the `mosquitto` user otherwise.
        let text = format!(
            "listener {} {address}\nallow_anonymous true\nlog_dest stderr\nuser root\n",
            Self::PORT
        );
        std::fs::write(&config, text).expect("write mosquitto.conf");
        let mut command = network.command(&binary.to_string_lossy());
        command.arg("-c").arg(&config);
        let name = format!("mosquitto in namespace {}", network.namespace());
        let mut process = Process::spawn(&name, command);
        let deadline = Instant::now() + START_TIMEOUT;
        // mosquitto reports that it runs after opening its listeners.
        while !process.log().contains(" running\n") {
            if let Some(status) = process.exited() {
                std::thread::sleep(Duration::from_millis(50));
                panic!("{name} exited with {status}:\n{}", process.log());
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not start within {START_TIMEOUT:?}:\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            process,
            namespace: network.namespace().to_owned(),
            address,
            _dir: dir,
        }
    }

    /// The address the broker listens on.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// What mosquitto logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Waits up to `timeout` until mosquitto's log contains `needle`; fails with the
    /// log otherwise.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not log {needle:?} within {timeout:?}; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Publishes `payload` to `topic` with `qos` from inside the namespace
    /// (`mosquitto_pub`), failing unless the broker took it.
    pub fn publish(&self, topic: &str, payload: &str, qos: u8) {
        let mut command = self.client("mosquitto_pub");
        command
            .args(["-t", topic, "-m", payload, "-q"])
            .arg(qos.to_string());
        let output = run_to_end("mosquitto_pub", command, START_TIMEOUT);
        assert!(
            output.status.success(),
            "mosquitto_pub in namespace {} failed ({}): {}\nbroker log:\n{}",
            self.namespace,
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
    }

    /// Subscribes to `topic` from inside the namespace (`mosquitto_sub -C 1`) and
    /// returns the first message as `topic payload`, waiting up to `timeout` for it
    /// (a retained message arrives at once).
    pub fn receive_one(&self, topic: &str, timeout: Duration) -> String {
        let mut command = self.client("mosquitto_sub");
        command
            .args(["-t", topic, "-C", "1", "-v", "-W"])
            .arg(timeout.as_secs().max(1).to_string());
        let output = run_to_end("mosquitto_sub", command, timeout + START_TIMEOUT);
        assert!(
            output.status.success(),
            "mosquitto_sub in namespace {} got no message on {topic} ({}): {}\nbroker log:\n{}",
            self.namespace,
            output.status,
            String::from_utf8_lossy(&output.stderr),
            self.log()
        );
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned()
    }

    /// A mosquitto client run in the namespace, pointed at this broker.
    fn client(&self, name: &str) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.namespace])
            .arg(program(name))
            .arg("-h")
            .arg(self.address.to_string())
            .arg("-p")
            .arg(Self::PORT.to_string());
        command
    }
}

impl Drop for NamespaceBroker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "log of mosquitto in namespace {} at failure:\n{}",
                self.namespace,
                self.log()
            );
        }
    }
}

/// Finds a mosquitto program or fails with install instructions.
fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{name} {INSTALL}"))
}
