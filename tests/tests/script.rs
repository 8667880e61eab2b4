//! `at-host --script FILE`: AT lines played against a fresh modem, with a transcript.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::process::Command;
use std::time::Duration;

use e2e_tests::{at_host, run_to_end};

const SCRIPT: &str = "# Basic commands\r\n\
AT\n\
ATE0\n\
AT+SYSLOG=1\n\
\n\
AT+FOO\n\
hello\n\
AT+RST\n\
at\n";

const TRANSCRIPT: &str = r"< \r\n
< ready\r\n
> AT\r\n
< AT\r\n
< \r\n
< OK\r\n
> ATE0\r\n
< ATE0\r\n
< \r\n
< OK\r\n
> AT+SYSLOG=1\r\n
< \r\n
< OK\r\n
> AT+FOO\r\n
< ERR CODE:0x01090000\r\n
< \r\n
< ERROR\r\n
> hello\r\n
< ERR CODE:0x01030000\r\n
< \r\n
< ERROR\r\n
> AT+RST\r\n
< \r\n
< OK\r\n
< \r\n
< ready\r\n
> at\r\n
< at\r\n
< \r\n
< OK\r\n
";

fn run_script(text: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let path = dir.path().join("script.at");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write the script: {e}"));
    let mut command = Command::new(at_host());
    command.arg("--script").arg(&path).args(args);
    run_to_end("at-host --script", command, Duration::from_secs(60))
}

#[test]
fn script_prints_the_exact_transcript_and_exits_0() {
    let output = run_script(SCRIPT, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{stderr}",
        output.status
    );
    assert_eq!(stdout, TRANSCRIPT, "standard error:\n{stderr}");
}

#[test]
fn script_uses_the_profile_flag() {
    let output = run_script("AT+GMR\n", &["--profile", "esp-at"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}\n{stdout}", output.status);
    assert!(
        stdout.contains("\n< Protocol profile:esp-at\\r\\n\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("< \\r\\n\n< OK\\r\\n\n"), "{stdout}");
}

#[test]
fn script_mode_fails_for_a_missing_file() {
    let mut command = Command::new(at_host());
    command.args(["--script", "/nonexistent/script.at"]);
    let output = run_to_end("at-host --script", command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read script /nonexistent/script.at"),
        "{stderr}"
    );
}

#[test]
fn a_urc_arriving_after_the_last_result_is_still_printed() {
    // The script's last command publishes at QoS 0 to a topic the modem subscribed to:
    // its OK comes as soon as the message is written, and the message comes back as a
    // URC a broker round trip later.
    let broker = e2e_tests::Broker::start();
    let script = format!(
        "AT+MQTTUSERCFG=0,1,\"script-linger\",\"\",\"\",0,0,\"\"\n\
         AT+MQTTCONN=0,\"127.0.0.1\",{},0\n\
         AT+MQTTSUB=0,\"linger/#\",2\n\
         AT+MQTTPUB=0,\"linger/last\",\"tail\",0,0\n",
        broker.port()
    );
    let output = run_script(&script, &[]);
    assert!(output.status.success(), "{output:?}");
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        transcript.contains(r#"< +MQTTSUBRECV:0,"linger/last",4,tail\r\n"#),
        "the returning message is missing from the transcript:\n{transcript}"
    );
}
