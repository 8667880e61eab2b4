//! The modem driven by an `atat` client, a host-side crate the project did not write,
//! over `at-host --serial pty:PATH`, in both profiles: configure, connect, subscribe,
//! publish QoS 0 and 1, PUBRAW, receive, unsubscribe, clean.
//!
//! `atat` ends every command with a bare CR (its default), so the PUBRAW data, which
//! starts with an LF, also shows SPEC.md section 2's rule: after a host's lone CR that
//! LF is data.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use atat_client_tests::commands::{
    At, Clean, Conn, ConnCfg, EchoOff, Pub, PubRaw, RawData, Sub, Unsub, UserCfg,
};
use atat_client_tests::{Host, Session, Urc};
use e2e_tests::{Broker, Peer, Process, TIMEOUT, at_host};

/// The PUBRAW data: an LF first, a comma and a quote inside (raw data is not escaped).
const RAW: &str = "\nraw,\"data\"";

/// Starts `at-host --serial pty:<dir>/modem --profile <profile>`.
fn modem(dir: &Path, profile: &str) -> (Process, std::path::PathBuf) {
    let link = dir.join("modem");
    let mut command = Command::new(at_host());
    command
        .arg("--serial")
        .arg(format!("pty:{}", link.display()))
        .args(["--profile", profile]);
    let mut process = Process::spawn("at-host", command);
    process.wait_for_line("at-host: serial port ", Duration::from_secs(30));
    (process, link)
}

/// Sends `command`, records `what` in `flow`, fails on an error.
async fn step<C: atat::AtatCmd>(
    session: &mut Session<'_>,
    flow: &mut Vec<String>,
    what: &str,
    command: &C,
) {
    match session.send(command).await {
        Ok(_) => flow.push(format!("{what}: OK")),
        Err(e) => panic!("{what}: {e:?}\nflow so far:\n{}", flow.join("\n")),
    }
}

/// The next URC, which must come within [`TIMEOUT`].
async fn urc(session: &mut Session<'_>, flow: &mut Vec<String>, what: &str) -> Urc {
    match session.next_urc(TIMEOUT).await {
        Some(urc) => {
            flow.push(format!("{what}: {urc:?}"));
            urc
        }
        None => panic!("{what}: no URC\nflow so far:\n{}", flow.join("\n")),
    }
}

/// The whole flow against the broker on `port`; returns its log.
async fn flow(session: &mut Session<'_>, port: u16, peer: &mut Peer, esp_at: bool) -> Vec<String> {
    let mut flow = Vec::new();
    // The first command may meet the power-on `ready`; `atat` answers it like any other.
    let mut ready = false;
    for _ in 0..5 {
        if session.send(&At).await.is_ok() {
            ready = true;
            break;
        }
    }
    assert!(ready, "AT never got OK");
    flow.push("AT: OK".to_owned());
    step(session, &mut flow, "ATE0", &EchoOff).await;
    let user = UserCfg {
        link_id: 0,
        scheme: 1,
        client_id: "atat-client",
        username: "",
        password: "",
        cert_key_id: 0,
        ca_id: 0,
        path: "",
    };
    step(session, &mut flow, "AT+MQTTUSERCFG", &user).await;
    let conn_cfg = ConnCfg {
        link_id: 0,
        keepalive: 60,
        disable_clean_session: 0,
        lwt_topic: "atat/will",
        lwt_msg: "gone",
        lwt_qos: 0,
        lwt_retain: 0,
    };
    step(session, &mut flow, "AT+MQTTCONNCFG", &conn_cfg).await;
    let conn = Conn {
        link_id: 0,
        host: "127.0.0.1",
        port,
        reconnect: 0,
    };
    step(session, &mut flow, "AT+MQTTCONN", &conn).await;
    match urc(session, &mut flow, "connect URC").await {
        Urc::Connected(connected) => {
            assert_eq!(connected.link_id, 0);
            assert_eq!(connected.port.is_some(), esp_at, "{connected:?}");
        }
        other => panic!("expected +MQTTCONNECTED, got {other:?}"),
    }
    let sub = Sub {
        link_id: 0,
        topic: "atat/in",
        qos: 1,
    };
    step(session, &mut flow, "AT+MQTTSUB atat/in", &sub).await;
    for qos in [0, 1] {
        let data = format!("hello-qos{qos}");
        let publish = Pub {
            link_id: 0,
            topic: "atat/out",
            data: &data,
            qos,
            retain: 0,
        };
        step(
            session,
            &mut flow,
            &format!("AT+MQTTPUB QoS {qos}"),
            &publish,
        )
        .await;
        let message = peer.recv(TIMEOUT);
        assert_eq!(
            (message.0.as_str(), message.1.as_slice()),
            ("atat/out", data.as_bytes())
        );
        flow.push(format!("peer received {:?} on {}", data, message.0));
    }
    let raw = PubRaw {
        link_id: 0,
        topic: "atat/out",
        length: RAW.len(),
        qos: 1,
        retain: 0,
    };
    step(session, &mut flow, "AT+MQTTPUBRAW", &raw).await;
    let prompt = session.prompt(Duration::from_millis(500)).await;
    // atat's client returns at the `OK`; the `>` right behind it usually finds the
    // response slot still full and is dropped by atat. The modem reads the data either way.
    flow.push(format!("prompt '>' seen by atat: {prompt}"));
    step(session, &mut flow, "raw data", &RawData { data: RAW }).await;
    match urc(session, &mut flow, "PUBRAW result").await {
        Urc::PubRawResult(result) if !esp_at => assert_eq!(result.result, "OK"),
        Urc::PubResult(result) if esp_at => assert_eq!(result.result, "OK"),
        other => panic!("expected the PUBRAW result, got {other:?}"),
    }
    let message = peer.recv(TIMEOUT);
    assert_eq!(
        message.1,
        RAW.as_bytes(),
        "the raw data, leading LF included"
    );
    flow.push(format!("peer received {RAW:?} on {}", message.0));

    peer.publish("atat/in", b"from-peer", 1, false);
    match urc(session, &mut flow, "message URC").await {
        Urc::Received(received) => {
            assert_eq!(
                (
                    received.topic.as_str(),
                    received.length,
                    received.data.as_str()
                ),
                ("atat/in", 9, "from-peer")
            );
        }
        other => panic!("expected +MQTTSUBRECV, got {other:?}"),
    }
    let unsub = Unsub {
        link_id: 0,
        topic: "atat/in",
    };
    step(session, &mut flow, "AT+MQTTUNSUB atat/in", &unsub).await;
    // Proof of the unsubscription: a message on `atat/in`, then one on a new
    // subscription; the new one is the next URC.
    let mark = Sub {
        link_id: 0,
        topic: "atat/mark",
        qos: 1,
    };
    step(session, &mut flow, "AT+MQTTSUB atat/mark", &mark).await;
    peer.publish("atat/in", b"after-unsub", 1, false);
    peer.publish("atat/mark", b"mark", 1, false);
    match urc(session, &mut flow, "next URC").await {
        Urc::Received(received) => assert_eq!(received.topic.as_str(), "atat/mark"),
        other => panic!("expected +MQTTSUBRECV on atat/mark, got {other:?}"),
    }
    step(session, &mut flow, "AT+MQTTCLEAN", &Clean { link_id: 0 }).await;
    flow
}

fn run(profile: &str) {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("atat/out", 1);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let (mut process, link) = modem(dir.path(), profile);
    let host = Host::open(&link).unwrap_or_else(|e| panic!("cannot open {}: {e}", link.display()));
    let port = broker.port();
    let log = host.run(async |session| flow(session, port, &mut peer, profile == "esp-at").await);
    eprintln!("--- atat flow, {profile} profile ---\n{}", log.join("\n"));
    let status = process.terminate(TIMEOUT);
    assert!(status.success(), "at-host exited with {status}");
}

#[test]
fn atat_client_drives_the_seed_profile() {
    run("seed");
}

#[test]
fn atat_client_drives_the_esp_at_profile() {
    run("esp-at");
}
