//! A real mosquitto broker on a free loopback port.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::Process;

/// How long mosquitto may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many free ports to try when another process takes the chosen one first.
const PORT_ATTEMPTS: usize = 5;

/// What to tell someone whose machine lacks mosquitto.
const INSTALL: &str = "mosquitto is required by the end-to-end tests and was not found \
    (looked in PATH, /usr/sbin and /usr/local/sbin). Install it, e.g. on Debian or Ubuntu: \
    `apt-get update && apt-get install -y mosquitto mosquitto-clients` (.ci/run does this).";

/// A mosquitto process listening on `127.0.0.1:port()`, killed when dropped.
///
/// Its configuration (in a temporary directory that lives as long as the broker) is:
/// `listener PORT 127.0.0.1`, `allow_anonymous true`, `log_dest stderr`, then any extra
/// lines given to [`with_config`](Self::with_config).
pub struct Broker {
    /// `None` while stopped.
    process: Option<Process>,
    port: u16,
    config: PathBuf,
    dir: TempDir,
}

impl Broker {
    /// Starts a broker with the default configuration.
    pub fn start() -> Self {
        Self::with_config(&[])
    }

    /// Starts a broker whose configuration ends with `extra_lines`, which apply to its
    /// listener (e.g. `psk_hint hint` and `psk_file PATH`). Files they name must exist
    /// before the call: write them to a temporary directory of the test's own.
    pub fn with_config(extra_lines: &[&str]) -> Self {
        let binary = mosquitto_binary();
        let dir = tempfile::tempdir().expect("a temporary directory for mosquitto");
        let config = dir.path().join("mosquitto.conf");
        let mut failures = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            write_config(&config, port, extra_lines);
            match launch(&binary, &config, port) {
                Ok(process) => {
                    return Self {
                        process: Some(process),
                        port,
                        config,
                        dir,
                    };
                }
                Err(log) => failures.push_str(&format!("port {port}:\n{log}\n")),
            }
        }
        panic!("mosquitto did not start in {PORT_ATTEMPTS} attempts:\n{failures}")
    }

    /// The loopback port the broker listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's temporary directory (holds its configuration; a place for files it
    /// should read on a restart).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What mosquitto logged so far (since its last start).
    pub fn log(&self) -> String {
        self.process.as_ref().map(Process::log).unwrap_or_default()
    }

    /// Waits up to `timeout` until mosquitto's log (since its last start) contains
    /// `needle` at least `count` times; fails with the log otherwise.
    pub fn wait_for_log(&self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.matches(needle).count() >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not log {needle:?} {count} time(s) within {timeout:?}; its log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Freezes the broker with SIGSTOP: its sockets stay open and the kernel keeps
    /// acknowledging TCP segments, but nothing is read or answered (a hung broker).
    /// [`thaw`](Self::thaw), [`stop`](Self::stop) and dropping the broker end it.
    pub fn freeze(&mut self) {
        let process = self.process.as_ref().expect("the broker runs");
        process.signal(nix::sys::signal::Signal::SIGSTOP);
        // The signal is delivered asynchronously: wait until the kernel reports the
        // process stopped (state `T` in /proc/PID/stat), so nothing it does comes after.
        let stat = format!("/proc/{}/stat", process.id());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(&stat).unwrap_or_default();
            // The state follows the command name, which is in parentheses.
            let state = text.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            if state.is_some_and(|rest| rest.starts_with('T')) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not stop on SIGSTOP; {stat}: {text}"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Resumes a broker frozen by [`freeze`](Self::freeze) (SIGCONT).
    pub fn thaw(&mut self) {
        if let Some(process) = &self.process {
            process.signal(nix::sys::signal::Signal::SIGCONT);
        }
    }

    /// Kills the broker (SIGKILL: clients lose the connection without a DISCONNECT) and
    /// waits until its port refuses connections.
    pub fn stop(&mut self) {
        // Dropping the process sends SIGKILL (which ends a frozen broker without letting it
        // run again) and reaps it.
        drop(self.process.take());
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still accepts connections after mosquitto was killed",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Configuration lines (for [`with_config`](Self::with_config)) that make mosquitto
    /// persist its database in `dir` (which must exist) as often as it can: a snapshot
    /// after every change it counts (`autosave_on_changes true`, `autosave_interval 1`).
    ///
    /// What that guarantees (mosquitto 2.0): there is no journal. A snapshot is the whole
    /// database written to `mosquitto.db.new`, fsync'd and renamed over `mosquitto.db`,
    /// from the main loop after the packets of one pass were handled; a SIGKILL keeps the
    /// last snapshot whose rename completed. Counted changes are subscriptions, persistent
    /// connects, retained messages, messages *queued* for a client (offline, or its
    /// in-flight window full) and acknowledgements from subscribers; a message written
    /// straight to an online subscriber is not counted (it is already on its socket).
    /// The PUBACK to a publisher is written while its PUBLISH is handled, before that
    /// pass's snapshot: a QoS 1 message acknowledged and only queued is lost if SIGKILL
    /// comes before the snapshot completes.
    pub fn persistence_lines(dir: &Path) -> Vec<String> {
        vec![
            "persistence true".to_owned(),
            // mosquitto joins the location and the file name without a separator.
            format!("persistence_location {}/", dir.display()),
            "autosave_on_changes true".to_owned(),
            "autosave_interval 1".to_owned(),
        ]
    }

    /// How many snapshots of its database mosquitto began since its last start (its
    /// `Saving in-memory database` log lines; a snapshot cut short by SIGKILL counts).
    pub fn snapshots_started(&self) -> usize {
        self.log().matches("Saving in-memory database").count()
    }

    /// The process id of the running broker (`None` while stopped).
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Process::id)
    }

    /// Stops the broker if it runs, then starts it again on the same port with the same
    /// configuration and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        match launch(&mosquitto_binary(), &self.config, self.port) {
            Ok(process) => self.process = Some(process),
            Err(log) => panic!("mosquitto did not restart on port {}:\n{log}", self.port),
        }
    }
}

/// Finds the mosquitto executable or fails with install instructions.
fn mosquitto_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("mosquitto"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{INSTALL}"))
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("a bound address").port()
}

fn write_config(config: &Path, port: u16, extra_lines: &[&str]) {
    let mut text = format!("listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\n");
    // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read
    // files in the test's private temporary directories.
    if nix::unistd::geteuid().is_root() {
        text.push_str("user root\n");
    }
    for line in extra_lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(config, text).expect("write mosquitto.conf");
}

/// Starts mosquitto and waits until it accepts connections on `port`; on failure
/// returns its log.
fn launch(binary: &Path, config: &Path, port: u16) -> Result<Process, String> {
    let mut command = Command::new(binary);
    command.arg("-c").arg(config);
    let mut process = Process::spawn("mosquitto", command);
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = process.exited() {
            // Give the log reader a moment to collect the last lines.
            std::thread::sleep(Duration::from_millis(50));
            return Err(format!("exited with {status}:\n{}", process.log()));
        }
        // Another process might hold the port: count it only once mosquitto reports
        // that it runs, which it does after opening its listeners.
        let running = process.log().contains(" running\n");
        if running && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(process);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not accepting connections after {START_TIMEOUT:?}:\n{}",
                process.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
