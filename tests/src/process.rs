//! A child process owned by a test: its standard error collected, killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A running child process. Its standard error is read line by line (kept for failure
/// messages and offered to [`wait_for_line`](Self::wait_for_line)); standard input and
/// output are closed. Dropping it kills the process by its id and reaps it.
pub struct Process {
    name: String,
    child: Child,
    lines: Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Process {
    /// Spawns `command`, named `name` in messages.
    pub fn spawn(name: &str, mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (sender, lines) = channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
                // The receiver may be gone: keep collecting the log regardless.
                let _ = sender.send(line);
            }
        });
        Self {
            name: name.to_owned(),
            child,
            lines,
            log,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// Waits until the process's standard error contains `marker` (what a daemon prints
    /// once it serves); panics with its log if it exits first or `timeout` passes.
    pub fn wait_for_log(&mut self, marker: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(marker) {
            if let Some(status) = self.exited() {
                // Let the reader thread take the last of its output.
                std::thread::sleep(Duration::from_millis(50));
                panic!("{} exited with {status}:\n{}", self.name, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not print {marker:?} within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a line of standard error that starts with `prefix` and returns the rest
    /// of it. Fails if the process exits first or nothing comes within `timeout`.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_owned();
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} printed no line starting with {prefix:?} within {timeout:?}; \
                     its standard error:\n{}",
                    self.name,
                    self.log()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "{} exited ({status:?}) before printing {prefix:?}; \
                         its standard error:\n{}",
                        self.name,
                        self.log()
                    )
                }
            }
        }
    }

    /// Sends `signal` to the process (by its id).
    pub fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.id()).expect("process ids fit in i32");
        kill(Pid::from_raw(pid), signal)
            .unwrap_or_else(|e| panic!("cannot send {signal} to {}: {e}", self.name));
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = i32::try_from(self.id()).expect("process ids fit in i32");
        kill(Pid::from_raw(pid), Signal::SIGTERM)
            .unwrap_or_else(|e| panic!("cannot signal {}: {e}", self.name));
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() > deadline {
                panic!("{} did not exit within {timeout:?} of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too, without letting it run again: a broker a
        // test froze with SIGSTOP must not answer what it holds on its way out (a SIGCONT
        // first would let it acknowledge a publication). Only if the kill fails is the
        // process continued, so that it is never left stopped. `Child::kill` sends
        // SIGKILL to this child's process id; a no-op once reaped.
        if self.child.kill().is_err()
            && let Ok(pid) = i32::try_from(self.child.id())
            && self.child.try_wait().ok().flatten().is_none()
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
        }
        let _ = self.child.wait();
    }
}

/// Runs `command` to its end with standard output and error captured, killing it and
/// failing if it takes longer than `timeout`.
pub fn run_to_end(name: &str, mut command: Command, timeout: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{name} did not finish within {timeout:?}");
            }
            Err(e) => panic!("cannot wait for {name}: {e}"),
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Reads a pipe to its end on a thread.
fn collect(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}
