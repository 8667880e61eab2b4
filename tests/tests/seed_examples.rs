//! The seed document's own examples, typed as its reader would type them, against a real
//! broker: the exact transcript, and what an MQTT peer and `mosquitto_sub` see.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e_tests::at::{CONNECTED, OK, PROMPT, READY, echoed, subrecv};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT, run_to_end};

const USERCFG: &str = "AT+MQTTUSERCFG=0,1,\"ESP32\",\"espressif\",\"1234567890\",0,0,\"\"";
const CONNCFG: &str = "AT+MQTTCONNCFG=0,180,0,\"test/aaa\",\"good bye\",1,0";
const SUB: &str = "AT+MQTTSUB=0,\"test/abc\",1";
const PUB: &str = "AT+MQTTPUB=0,test/abc,987654321,1,0";

/// Plays the seed's examples up to its publication; the modem gets its own message.
fn play_examples(modem: &mut Modem, port: u16) {
    modem.exchange(USERCFG, &echoed(USERCFG, OK));
    modem.exchange(CONNCFG, &echoed(CONNCFG, OK));
    let conn = format!("AT+MQTTCONN=0,\"127.0.0.1\",{port},1");
    modem.exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
    modem.exchange(SUB, &echoed(SUB, OK));
    modem.send_line(PUB);
    modem.expect(&echoed(PUB, b""), TIMEOUT);
    // Subscribed to its own topic, the modem receives the message too, before or after
    // the publication's OK.
    let urc = subrecv("test/abc", b"987654321");
    assert_eq!(urc, b"+MQTTSUBRECV:0,\"test/abc\",9,987654321\r\n");
    modem.expect_one_of(&[&[&urc, OK].concat(), &[OK, &urc].concat()], TIMEOUT);
}

#[test]
fn seed_examples_give_the_exact_transcript_and_reach_a_peer() {
    let broker = Broker::start();
    let port = broker.port();
    let mut peer = Peer::connect(port);
    peer.subscribe("test/#", 2);
    let mut modem = Modem::ready(&[]);
    play_examples(&mut modem, port);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("test/abc".to_owned(), b"987654321".to_vec(), 1, false)
    );
    let query = format!("+MQTTCONN:0,connected,1,\"127.0.0.1\",{port},1\r\n");
    modem.exchange(
        "AT+MQTTCONN?",
        &echoed("AT+MQTTCONN?", &[query.as_bytes(), OK].concat()),
    );
    modem.exchange(
        "AT+MQTTSUB?",
        &echoed(
            "AT+MQTTSUB?",
            &[&b"+MQTTSUB:0,connected,\"test/abc\",1\r\n"[..], OK].concat(),
        ),
    );
    // The seed's PUBRAW form.
    let line = "AT+MQTTPUBRAW=0,\"test/abc\",5,1,0";
    modem.exchange(line, &echoed(line, PROMPT));
    modem.send(b"12345");
    let urc = subrecv("test/abc", b"12345");
    let ok = b"+MQTTPUBRAW:OK\r\n";
    modem.expect_one_of(
        &[&[&urc, &ok[..]].concat(), &[&ok[..], &urc].concat()],
        TIMEOUT,
    );
    assert_eq!(
        peer.recv(TIMEOUT),
        ("test/abc".to_owned(), b"12345".to_vec(), 1, false)
    );
    let line = "AT+MQTTUNSUB=0,\"test/abc\"";
    modem.exchange(line, &echoed(line, OK));
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    // A clean disconnect: the will "good bye" is not published.
    broker.wait_for_log("Client ESP32 disconnected.", 1, TIMEOUT);
    peer.publish("test/marker", b"end", 1, false);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("test/marker".to_owned(), b"end".to_vec(), 1, false)
    );
}

#[test]
fn seed_examples_will_says_good_bye_on_a_power_cut() {
    let broker = Broker::start();
    let mut peer = Peer::connect(broker.port());
    peer.subscribe("test/aaa", 1);
    let mut modem = Modem::ready(&[]);
    play_examples(&mut modem, broker.port());
    modem.reconnect();
    modem.expect(READY, TIMEOUT);
    assert_eq!(
        peer.recv(TIMEOUT),
        ("test/aaa".to_owned(), b"good bye".to_vec(), 1, false)
    );
}

/// Finds `mosquitto_sub` or fails with install instructions.
fn mosquitto_sub() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("mosquitto_sub"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto_sub is required by this test and was not found in PATH. Install \
                 it, e.g. `apt-get install -y mosquitto-clients` (.ci/run does this)."
            )
        })
}

#[test]
fn seed_examples_publication_is_printed_by_mosquitto_sub() {
    let broker = Broker::with_config(&["log_type all"]);
    let port = broker.port();
    // One message, at most 20 s; run_to_end kills it by process id if it overstays.
    let binary = mosquitto_sub();
    let subscriber = std::thread::spawn(move || {
        let mut command = Command::new(binary);
        command.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
        command.args(["-i", "seed-sub", "-t", "test/abc", "-q", "1"]);
        command.args(["-C", "1", "-W", "20", "-v"]);
        run_to_end("mosquitto_sub", command, Duration::from_secs(30))
    });
    // The SUBACK is logged after the subscription is in place.
    broker.wait_for_log("Sending SUBACK to seed-sub", 1, Duration::from_secs(20));
    let mut modem = Modem::ready(&[]);
    play_examples(&mut modem, port);
    let output = subscriber
        .join()
        .unwrap_or_else(|_| panic!("the mosquitto_sub thread panicked"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert_eq!(stdout, "test/abc 987654321\n", "standard error: {stderr}");
}
