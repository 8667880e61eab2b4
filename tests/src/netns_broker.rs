//! A real mosquitto broker inside a [`TapNetwork`]'s namespace, and mosquitto's
//! command-line clients run there as MQTT peers.
//!
//! The broker listens on the namespace's address only, plain on [`PORT`] and TLS 1.3
//! with a pre-shared key on [`PSK_PORT`] (and, started with a [`Pki`], TLS 1.3 with a
//! server certificate for that address on [`CERT_PORT`]), so the modem reaches it
//! through the TAP device and the bridge, never through the root namespace's loopback.
//!
//! [`PORT`]: NamespaceBroker::PORT
//! [`PSK_PORT`]: NamespaceBroker::PSK_PORT
//! [`CERT_PORT`]: NamespaceBroker::CERT_PORT

use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::pki::Pki;
use crate::{Process, TapNetwork, run_to_end};

/// How long mosquitto may take to open its listener.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What to tell someone whose machine lacks mosquitto or its clients.
const INSTALL: &str = "is required by the TAP tests and was not found (looked in PATH, \
    /usr/sbin and /usr/local/sbin). Install it, e.g. on Debian or Ubuntu: \
    `apt-get install -y mosquitto mosquitto-clients` (.ci/run does this).";

/// A mosquitto process in a network namespace, listening on the namespace's address
/// at ports [`PORT`](Self::PORT) and [`PSK_PORT`](Self::PSK_PORT) (and
/// [`CERT_PORT`](Self::CERT_PORT) with a [`Pki`]); killed by its process id when dropped.
pub struct NamespaceBroker {
    /// `None` while stopped.
    process: Option<Process>,
    namespace: String,
    address: Ipv4Addr,
    dir: TempDir,
    /// The certificate listener's PKI (its files are read at each start).
    pki: Option<Pki>,
}

impl NamespaceBroker {
    /// The plain MQTT port.
    pub const PORT: u16 = 1883;
    /// The MQTT over TLS 1.3 port, with the pre-shared key [`PSK_IDENTITY`](Self::PSK_IDENTITY)
    /// / [`PSK_KEY_HEX`](Self::PSK_KEY_HEX).
    pub const PSK_PORT: u16 = 8883;
    /// The PSK listener's identity.
    pub const PSK_IDENTITY: &str = "modem-psk";
    /// The PSK listener's key, in hex.
    pub const PSK_KEY_HEX: &str = "00112233445566778899aabbccddeeff";
    /// The MQTT over TLS 1.3 port with the server certificate `broker` of
    /// [`start_with_certificates`](Self::start_with_certificates)' PKI (no client
    /// certificate asked for).
    pub const CERT_PORT: u16 = 8884;
    /// The certificate listener's server certificate in the PKI (for the broker's address).
    pub const SERVER_CERTIFICATE: &str = "broker";

    /// Starts mosquitto in `network`'s namespace on its broker address and waits until
    /// it runs.
    pub fn start(network: &TapNetwork) -> Self {
        Self::start_with(network, None)
    }

    /// [`start`](Self::start), with a third listener on [`CERT_PORT`](Self::CERT_PORT)
    /// presenting a certificate from `pki`'s CA for the broker's address.
    pub fn start_with_certificates(network: &TapNetwork, pki: Pki) -> Self {
        pki.issue_for_address(Self::SERVER_CERTIFICATE, network.broker_address().into());
        Self::start_with(network, Some(pki))
    }

    /// The PKI of the certificate listener, if the broker has one.
    pub fn pki(&self) -> Option<&Pki> {
        self.pki.as_ref()
    }

    fn start_with(network: &TapNetwork, pki: Option<Pki>) -> Self {
        let address = network.broker_address();
        let dir = tempfile::tempdir().expect("a temporary directory for mosquitto");
        let psk_file = dir.path().join("psk.txt");
        std::fs::write(
            &psk_file,
            format!("{}:{}\n", Self::PSK_IDENTITY, Self::PSK_KEY_HEX),
        )
        .expect("write the PSK file");
        // As root, mosquitto would switch to the `mosquitto` user otherwise.
        let mut text = format!(
            "per_listener_settings false\nallow_anonymous true\nlog_dest stderr\nuser root\n\
             listener {} {address}\n\
             listener {} {address}\npsk_hint at-mqtt-modem\npsk_file {}\ntls_version tlsv1.3\n",
            Self::PORT,
            Self::PSK_PORT,
            psk_file.display()
        );
        if let Some(pki) = &pki {
            let lines = pki.listener_on(
                address.into(),
                Self::CERT_PORT,
                Self::SERVER_CERTIFICATE,
                false,
            );
            for line in lines {
                text.push_str(&line);
                text.push('\n');
            }
        }
        std::fs::write(dir.path().join("mosquitto.conf"), text).expect("write mosquitto.conf");
        let mut broker = Self {
            process: None,
            namespace: network.namespace().to_owned(),
            address,
            dir,
            pki,
        };
        broker.launch();
        broker
    }

    /// Starts mosquitto with this broker's configuration and waits until it runs.
    fn launch(&mut self) {
        let binary = program("mosquitto");
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.namespace])
            .arg(binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"));
        let name = format!("mosquitto in namespace {}", self.namespace);
        let mut process = Process::spawn(&name, command);
        // mosquitto reports that it runs after opening its listeners.
        process.wait_for_log(" running\n", START_TIMEOUT);
        self.process = Some(process);
    }

    /// Kills mosquitto (SIGKILL by its process id): the broker is gone without a word
    /// to its clients' sessions, its sockets closed by the kernel.
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// Starts mosquitto again on the same addresses after [`stop`](Self::stop).
    pub fn restart(&mut self) {
        assert!(self.process.is_none(), "the broker is still running");
        self.launch();
    }

    /// The address the broker listens on.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// What mosquitto logged so far (since its last start).
    pub fn log(&self) -> String {
        self.process.as_ref().map(Process::log).unwrap_or_default()
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
        self.run_publisher(command);
    }

    /// Publishes the bytes of `payload` (any size, binary) like [`publish`](Self::publish)
    /// (`mosquitto_pub -f`).
    pub fn publish_bytes(&self, topic: &str, payload: &[u8], qos: u8) {
        let file = self.dir.path().join("payload.bin");
        std::fs::write(&file, payload).expect("write the payload file");
        let mut command = self.client("mosquitto_pub");
        command
            .args(["-t", topic, "-f"])
            .arg(&file)
            .arg("-q")
            .arg(qos.to_string());
        self.run_publisher(command);
    }

    /// Starts publishing QoS 0 messages from inside the namespace (`mosquitto_pub -l`,
    /// one message per line), `per_second` of them, each `payload(n)` (one line, no LF),
    /// until `count` were written or the flood is dropped.
    pub fn flood(
        &self,
        topic: &str,
        payload: fn(u32) -> String,
        per_second: u32,
        count: u32,
    ) -> NamespaceFlood {
        let mut command = self.client("mosquitto_pub");
        command.args(["-t", topic, "-q", "0", "-l"]);
        NamespaceFlood::start(command, payload, per_second, count)
    }

    fn run_publisher(&self, command: Command) {
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

/// A `mosquitto_pub -l` in a namespace fed lines at a fixed rate by a thread; stopped
/// (its input closed, then killed by its process id) and joined when dropped.
pub struct NamespaceFlood {
    child: Child,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU32>,
    writer: Option<JoinHandle<()>>,
}

impl NamespaceFlood {
    fn start(
        mut command: Command,
        payload: fn(u32) -> String,
        per_second: u32,
        count: u32,
    ) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start mosquitto_pub -l: {e}"));
        let mut input = child.stdin.take().expect("stdin is piped");
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU32::new(0));
        let (stop_flag, counter) = (Arc::clone(&stop), Arc::clone(&sent));
        let writer = std::thread::spawn(move || {
            let start = Instant::now();
            for n in 0..count {
                if stop_flag.load(Ordering::Relaxed) {
                    break;
                }
                let due = start + Duration::from_secs_f64(f64::from(n) / f64::from(per_second));
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                if writeln!(input, "{}", payload(n))
                    .and_then(|()| input.flush())
                    .is_err()
                {
                    break;
                }
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Self {
            child,
            stop,
            sent,
            writer: Some(writer),
        }
    }

    /// How many messages were handed to `mosquitto_pub` so far.
    pub fn sent(&self) -> u32 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for NamespaceFlood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
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
