//! `at-host --serial pty:PATH` driven by a serial client that opens PATH like a host
//! program opens a serial port.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::process::Command;
use std::time::Duration;

use e2e_tests::{Process, SerialPort, TIMEOUT, at_host};

#[test]
fn pty_serial_line_serves_a_serial_client_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let link = dir.path().join("modem");
    let mut command = Command::new(at_host());
    command
        .arg("--serial")
        .arg(format!("pty:{}", link.display()));
    let mut process = Process::spawn("at-host", command);
    let announced = process.wait_for_line("at-host: serial port ", Duration::from_secs(30));
    let target = std::fs::read_link(&link)
        .unwrap_or_else(|e| panic!("{} is not a symbolic link: {e}", link.display()));
    assert_eq!(
        announced,
        format!("{} -> {}", link.display(), target.display())
    );
    assert!(target.starts_with("/dev/pts/"), "{}", target.display());

    let mut port = SerialPort::open(&link);
    port.expect(b"\r\nready\r\n", TIMEOUT);
    port.send(b"AT\r\n");
    port.expect(b"AT\r\n\r\nOK\r\n", TIMEOUT);
    port.send(b"AT+GMR\r\n");
    port.expect(b"AT+GMR\r\nAT version:", TIMEOUT);
    port.expect(env!("CARGO_PKG_VERSION").as_bytes(), TIMEOUT);
    port.expect(
        b"(at-mqtt-modem)\r\nProtocol profile:seed\r\nBuild profile:",
        TIMEOUT,
    );
    let build: &[u8] = if cfg!(debug_assertions) {
        b"debug"
    } else {
        b"release"
    };
    port.expect(build, TIMEOUT);
    port.expect(b"\r\nBoard:host\r\n\r\nOK\r\n", TIMEOUT);
    // Bytes pass unchanged: a bare CR is not turned into LF, nor LF into CR LF.
    port.send(b"ATE0\r");
    port.expect(b"ATE0\r\n\r\nOK\r\n", TIMEOUT);

    // Close the port and open it again: the same modem (still without echo) answers.
    drop(port);
    let mut port = SerialPort::open(&link);
    port.send(b"AT\n");
    port.expect(b"\r\nOK\r\n", TIMEOUT);
    drop(port);

    let status = process.terminate(TIMEOUT);
    assert!(status.success(), "at-host exited with {status} on SIGTERM");
    assert!(
        link.symlink_metadata().is_err(),
        "{} was left behind",
        link.display()
    );
}

#[test]
fn pty_link_replaces_a_stale_link_but_not_a_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let link = dir.path().join("modem");
    std::os::unix::fs::symlink("/nonexistent/pts", &link)
        .unwrap_or_else(|e| panic!("cannot make a stale link: {e}"));
    let mut command = Command::new(at_host());
    command
        .arg("--serial")
        .arg(format!("pty:{}", link.display()));
    let mut process = Process::spawn("at-host", command);
    process.wait_for_line("at-host: serial port ", Duration::from_secs(30));
    let mut port = SerialPort::open(&link);
    port.expect(b"\r\nready\r\n", TIMEOUT);
    drop(port);
    drop(process);

    let file = dir.path().join("file");
    std::fs::write(&file, b"keep").unwrap_or_else(|e| panic!("cannot write a file: {e}"));
    let output = e2e_tests::run_to_end(
        "at-host",
        {
            let mut command = Command::new(at_host());
            command
                .arg("--serial")
                .arg(format!("pty:{}", file.display()));
            command
        },
        Duration::from_secs(30),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot link"), "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap_or_default(), b"keep");
}
