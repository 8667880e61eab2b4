//! Fault injection at unit level: the real engine and runner (assembled by `at_mqtt::Modem`)
//! against a scripted broker and an interactive host line, no sockets. Every accepted
//! command must end with exactly one result within its bound, whatever the broker or the
//! host does, and the modem must stay usable.

#![allow(missing_docs, reason = "test crate")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::unwrap_used,
    reason = "tests fail by panicking; test data is built from small integers"
)]

mod support;

use at_core::Config;
use at_mqtt::Options;
use at_mqtt::credentials::NoCredentials;
use embassy_time::{Duration, Instant, Timer};
use embedded_io_async::ErrorKind;
use support::run::{CONNECTED, DISCONNECTED, ERROR, OK, run_modem};
use support::{Broker, HostLine, Sent, count, since};

/// The acknowledgement bound the scenarios use (SPEC's 15 s, shortened).
const BOUND: Duration = Duration::from_millis(300);

fn options() -> Options {
    support::run::options(at_core::Profile::Seed, BOUND)
}

/// Runs `script` against a fresh modem (echo off once the script sends `ATE0`).
fn scenario(config: Config, options: Options, script: impl AsyncFnOnce(HostLine, Broker)) {
    scenario_with(&Broker::new(), config, options, script);
}

/// [`scenario`] against `broker`; the modem can do scheme 2.
fn scenario_with(
    broker: &Broker,
    config: Config,
    options: Options,
    script: impl AsyncFnOnce(HostLine, Broker),
) {
    run_modem(broker, config, options, NoCredentials, script);
}

fn seed(script: impl AsyncFnOnce(HostLine, Broker)) {
    scenario(Config::new("mock"), options(), script);
}

/// The same scenario over plain TCP and over TLS-PSK (scheme 2: embedded-tls against an
/// OpenSSL server, through the runner's pumps and pipes).
fn both_transports(script: impl AsyncFn(HostLine, Broker, Scheme)) {
    for scheme in [Scheme::Tcp, Scheme::TlsPsk] {
        let broker = match scheme {
            Scheme::Tcp => Broker::new(),
            Scheme::TlsPsk => Broker::tls(),
        };
        scenario_with(
            &broker,
            Config::new("mock"),
            options(),
            async |host, broker| {
                script(host, broker, scheme).await;
            },
        );
    }
}

/// How the modem reaches the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Tcp,
    TlsPsk,
}

/// Echo off, configured, connected.
async fn connect(host: &HostLine, reconnect: u8) {
    connect_with(host, Scheme::Tcp, reconnect).await;
}

/// Echo off, configured for `scheme`, connected.
async fn connect_with(host: &HostLine, scheme: Scheme, reconnect: u8) {
    host.exchange("ATE0", OK).await;
    match scheme {
        Scheme::Tcp => {
            host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
                .await;
        }
        Scheme::TlsPsk => {
            host.exchange(r#"AT+MQTTUSERCFG=0,2,"mock","","",0,0,"""#, OK)
                .await;
            let psk = format!(
                "AT+MQTTPSK=0,\"{}\",\"{}\"",
                support::tls::IDENTITY,
                support::tls::KEY_HEX
            );
            host.exchange(&psk, OK).await;
        }
    }
    let line = format!("AT+MQTTCONN=0,\"broker\",1883,{reconnect}");
    let reply = host.exchange(&line, OK).await;
    assert!(reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"));
}

async fn subscribe(host: &HostLine, filter: &str) {
    let reply = host
        .exchange(&format!("AT+MQTTSUB=0,\"{filter}\",1"), OK)
        .await;
    assert_eq!(reply, OK, "subscribe {filter}");
}

/// The modem still answers.
async fn usable(host: &HostLine) {
    let reply = host.exchange("AT", OK).await;
    assert!(!reply.windows(4).any(|w| w == b"busy"), "still busy");
}

async fn ms(n: u64) {
    Timer::after(Duration::from_millis(n)).await;
}

/// Asserts `reply` (all output from the command to its result) holds `result` once and
/// no other final result.
fn one_result(reply: &[u8], result: &[u8]) {
    let results = count(reply, OK) + count(reply, ERROR);
    assert_eq!(results, 1, "one result: {}", at_core::mock::show(reply));
    assert!(reply.ends_with(result), "ends with the expected result");
}

/// `disable_clean_session=1` asks the broker to resume on every CONNECT, the first after
/// power-on included; `0` starts clean (and minimq's reconnect then asks to resume what
/// the broker may still hold).
#[test]
fn a_persistent_session_asks_to_resume_from_the_first_connect() {
    for keep in [1, 0] {
        seed(async |host, broker| {
            host.exchange("ATE0", OK).await;
            host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
                .await;
            let cfg = format!(r#"AT+MQTTCONNCFG=0,60,{keep},"","",0,0"#);
            host.exchange(&cfg, OK).await;
            let reply = host.exchange(r#"AT+MQTTCONN=0,"broker",1883,1"#, OK).await;
            assert!(reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"));
            broker.close();
            host.expect(DISCONNECTED).await;
            host.expect(CONNECTED).await;
            let connects: Vec<_> = broker
                .sent()
                .into_iter()
                .filter(|sent| matches!(sent, Sent::Connect { .. }))
                .collect();
            let first = Sent::Connect {
                clean_start: keep == 0,
            };
            let again = Sent::Connect { clean_start: false };
            assert_eq!(connects, [first, again], "disable_clean_session={keep}");
        });
    }
}

#[test]
fn broker_closes_while_publish_waits_for_puback() {
    both_transports(async |host, broker, scheme| {
        connect_with(&host, scheme, 0).await;
        broker.freeze();
        let start = Instant::now();
        host.send(r#"AT+MQTTPUB=0,"x/y","hello",1,0"#);
        ms(30).await;
        broker.close();
        let reply = host.expect(ERROR).await;
        one_result(&reply, ERROR);
        assert!(since(start) < BOUND, "ended at the loss, not at the bound");
        host.expect(DISCONNECTED).await;
        usable(&host).await;
    });
}

#[test]
fn broker_closes_while_subscribe_waits_for_suback() {
    both_transports(async |host, broker, scheme| {
        connect_with(&host, scheme, 0).await;
        broker.freeze();
        host.send(r#"AT+MQTTSUB=0,"a/#",1"#);
        ms(30).await;
        broker.close();
        one_result(&host.expect(ERROR).await, ERROR);
        usable(&host).await;
        let query = host.exchange("AT+MQTTSUB?", OK).await;
        assert_eq!(query, OK, "nothing subscribed");
    });
}

#[test]
fn broker_closes_while_unsubscribe_waits_for_unsuback() {
    both_transports(async |host, broker, scheme| {
        connect_with(&host, scheme, 0).await;
        subscribe(&host, "a/#").await;
        broker.freeze();
        host.send(r#"AT+MQTTUNSUB=0,"a/#""#);
        ms(30).await;
        broker.close();
        one_result(&host.expect(ERROR).await, ERROR);
        usable(&host).await;
    });
}

#[test]
fn connect_ends_with_error_when_the_stream_ends_before_connack() {
    seed(async |host, broker| {
        host.exchange("ATE0", OK).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
            .await;
        broker.freeze();
        host.send(r#"AT+MQTTCONN=0,"broker",1883,1"#);
        ms(30).await;
        broker.close();
        one_result(&host.expect(ERROR).await, ERROR);
        let query = host.exchange("AT+MQTTCONN?", OK).await;
        assert!(query.starts_with(b"+MQTTCONN:0,disconnect,1,\"broker\",1883,1"));
        broker.thaw();
        let line = r#"AT+MQTTCONN=0,"broker",1883,1"#;
        assert!(
            host.exchange(line, OK)
                .await
                .ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n")
        );
    });
}

#[test]
fn stalled_broker_times_publish_out_and_keeps_the_link() {
    both_transports(async |host, broker, scheme| {
        connect_with(&host, scheme, 0).await;
        broker.freeze();
        let start = Instant::now();
        let reply = host
            .exchange(r#"AT+MQTTPUB=0,"x/y","stuck",1,0"#, ERROR)
            .await;
        one_result(&reply, ERROR);
        assert!(since(start) >= BOUND, "waited for the acknowledgement");
        broker.thaw();
        // The link is still the same one: no disconnect, no new connection.
        let reply = host.exchange(r#"AT+MQTTPUB=0,"x/y","next",1,0"#, OK).await;
        one_result(&reply, OK);
        assert_eq!(count(&host.output(), DISCONNECTED), 0);
        assert_eq!(broker.connects(), 1);
    });
}

#[test]
fn a_full_urc_queue_while_publish_waits_ends_with_one_result_and_loses_nothing() {
    seed(async |host, broker| {
        connect(&host, 0).await;
        subscribe(&host, "in/#").await;
        broker.freeze();
        host.send(r#"AT+MQTTPUB=0,"x/y","behind",1,0"#);
        ms(30).await;
        // The host stops reading; the broker sends more than the URC queue holds, then
        // the PUBACK behind it.
        host.stall(true);
        let payload = [b'm'; 200];
        for _ in 0..20 {
            broker.publish("in/flood", &payload);
        }
        broker.thaw();
        ms(2 * BOUND.as_millis()).await;
        host.stall(false);
        let reply = host.expect(ERROR).await;
        assert_eq!(count(&reply, OK), 0, "only the ERROR");
        // Every accepted message reaches the host.
        let header = b"+MQTTSUBRECV:0,\"in/flood\",200,";
        for _ in 0..100 {
            if count(&host.output(), header) == 20 {
                break;
            }
            ms(20).await;
        }
        assert_eq!(count(&host.output(), header), 20, "no message lost");
        usable(&host).await;
    });
}

#[test]
fn a_command_is_answered_before_a_thousand_queued_urcs_drain() {
    seed(async |host, broker| {
        connect(&host, 0).await;
        subscribe(&host, "in/#").await;
        for n in 0..1000 {
            broker.publish("in/x", format!("{n:04}").as_bytes());
        }
        // The flood is flowing: the queue stays full from here on.
        ms(5).await;
        let sent_at = host.output().len();
        host.exchange("AT", OK).await;
        let output = host.output();
        let answered_at = sent_at
            + output[sent_at..]
                .windows(OK.len())
                .position(|w| w == OK)
                .expect("OK after the AT");
        let between = count(&output[sent_at..answered_at], b"+MQTTSUBRECV");
        assert!(
            between <= 2,
            "{between} URCs went between the AT and its OK"
        );
        host.expect(b"+MQTTSUBRECV:0,\"in/x\",4,0999\r\n").await;
        assert_eq!(count(&host.output(), b"+MQTTSUBRECV"), 1000);
    });
}

#[test]
fn unsubscribe_during_resubscription_keeps_the_others() {
    seed(async |host, broker| {
        connect(&host, 1).await;
        for filter in ["a", "b", "c"] {
            subscribe(&host, filter).await;
        }
        broker.hold_subacks();
        broker.close();
        host.expect(DISCONNECTED).await;
        // Wait for the reconnect's first SUBSCRIBE.
        for _ in 0..200 {
            if broker.connects() == 2 && matches!(broker.sent().last(), Some(Sent::Subscribe(_))) {
                break;
            }
            ms(5).await;
        }
        let reply = host.exchange(r#"AT+MQTTUNSUB=0,"b""#, OK).await;
        assert_eq!(reply, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n");
        broker.release_subacks();
        host.expect(CONNECTED).await;
        let query = host.exchange("AT+MQTTSUB?", OK).await;
        assert_eq!(
            query,
            b"+MQTTSUB:0,connected,\"a\",1\r\n+MQTTSUB:0,connected,\"c\",1\r\n\r\nOK\r\n"
        );
        let restored: Vec<_> = broker
            .sent()
            .into_iter()
            .skip_while(|sent| !matches!(sent, Sent::Connect { .. }))
            .skip(1)
            .skip_while(|sent| !matches!(sent, Sent::Connect { .. }))
            .filter_map(|sent| match sent {
                Sent::Subscribe(filters) => Some(filters),
                _ => None,
            })
            .collect();
        assert!(
            restored.contains(&vec!["c".to_owned()]),
            "c restored: {restored:?}"
        );
    });
}

#[test]
fn a_refused_resubscription_is_reported_and_dropped() {
    seed(async |host, broker| {
        connect(&host, 1).await;
        subscribe(&host, "a").await;
        subscribe(&host, "b").await;
        broker.refuse("b");
        broker.close();
        host.expect(DISCONNECTED).await;
        host.expect(b"+MQTTSUBFAIL:0,\"b\"\r\n").await;
        host.expect(CONNECTED).await;
        let query = host.exchange("AT+MQTTSUB?", OK).await;
        assert_eq!(query, b"+MQTTSUB:0,connected,\"a\",1\r\n\r\nOK\r\n");
    });
}

#[test]
fn clean_against_a_frozen_broker_answers_within_two_seconds() {
    seed(async |host, broker| {
        connect(&host, 1).await;
        broker.freeze();
        let start = Instant::now();
        let reply = host.exchange("AT+MQTTCLEAN=0", OK).await;
        one_result(&reply, OK);
        assert!(
            since(start) <= Duration::from_millis(2100),
            "{:?}",
            since(start)
        );
        let query = host.exchange("AT+MQTTCONN?", OK).await;
        assert_eq!(query, b"+MQTTCONN:0,disconnect,0,\"\",0,0\r\n\r\nOK\r\n");
    });
}

#[test]
fn clean_while_reconnecting_stops_the_attempts() {
    seed(async |host, broker| {
        connect(&host, 1).await;
        broker.refuse_connects(Some(at_mqtt::ConnectError::Refused));
        broker.close();
        host.expect(DISCONNECTED).await;
        ms(150).await;
        one_result(&host.exchange("AT+MQTTCLEAN=0", OK).await, OK);
        let attempts = broker.connects();
        ms(300).await;
        assert_eq!(broker.connects(), attempts, "no attempt after AT+MQTTCLEAN");
        assert_eq!(count(&host.output(), CONNECTED), 1);
    });
}

#[test]
fn duration_max_options_never_panic() {
    let forever = Duration::MAX;
    let config = Config::new("mock")
        .with_raw_data_timeout(forever)
        .with_partial_line_timeout(forever);
    let options = Options::new(at_core::Profile::Seed)
        .with_command_timeout(forever)
        .with_reconnect_delays(forever, forever);
    scenario(config, options, async |host, broker| {
        connect(&host, 1).await;
        one_result(
            &host
                .exchange(r#"AT+MQTTPUB=0,"x/y","forever",1,0"#, OK)
                .await,
            OK,
        );
        subscribe(&host, "a").await;
        host.send(r#"AT+MQTTPUBRAW=0,"x/y",3,0,0"#);
        host.expect(b">").await;
        host.send_bytes(b"raw");
        host.expect(b"+MQTTPUBRAW:OK\r\n").await;
        // A loss with a back-off of `Duration::MAX`: the host can still clean up.
        broker.close();
        host.expect(DISCONNECTED).await;
        one_result(&host.exchange("AT+MQTTCLEAN=0", OK).await, OK);
    });
}

#[test]
fn a_receive_error_while_a_command_waits_keeps_its_result() {
    seed(async |host, broker| {
        connect(&host, 0).await;
        broker.freeze();
        host.send(r#"AT+MQTTPUB=0,"x/y","hello",1,0"#);
        ms(30).await;
        host.inject_read_error(ErrorKind::Other);
        ms(30).await;
        broker.thaw();
        one_result(&host.expect(OK).await, OK);
        usable(&host).await;
    });
}

#[test]
fn the_request_slot_holds_a_pubraw_payload_straight_from_the_uart() {
    seed(async |host, broker| {
        connect(&host, 0).await;
        host.send(r#"AT+MQTTPUBRAW=0,"raw/t",5,1,0"#);
        host.expect(b"\r\nOK\r\n\r\n>").await;
        host.send_bytes(b"a\r\n\0b");
        host.expect(b"+MQTTPUBRAW:OK\r\n").await;
        let published = broker.sent().into_iter().any(|sent| {
            sent == Sent::Publish {
                topic: "raw/t".into(),
                payload: b"a\r\n\0b".to_vec(),
                qos: 1,
            }
        });
        assert!(published, "{:?}", broker.sent());
    });
}

/// The client ID, username and password share 2,048 bytes: a long value that would take
/// them past it is refused with its own overlength code after its data, and the values
/// set before stay (they still connect).
#[test]
fn long_credentials_past_the_shared_login_bytes_are_refused() {
    seed(async |host, broker| {
        host.exchange("ATE0", OK).await;
        host.exchange("AT+SYSLOG=1", OK).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
            .await;
        // 300 + 1000 + 748: exactly the 2,048 bytes.
        send_long(&host, "MQTTLONGCLIENTID", &[b'c'; 300]).await;
        send_long(&host, "MQTTLONGUSERNAME", &[b'u'; 1000]).await;
        send_long(&host, "MQTTLONGPASSWORD", &[b'p'; 748]).await;
        // One byte more in any of them (each within its own 1,024) is refused.
        for (command, length, code) in [
            ("MQTTLONGCLIENTID", 301, "0x010a6016"),
            ("MQTTLONGUSERNAME", 1001, "0x010a6019"),
            ("MQTTLONGPASSWORD", 749, "0x010a601c"),
        ] {
            host.exchange(&format!("AT+{command}=0,{length}"), at_core::wire::PROMPT)
                .await;
            host.send_bytes(&vec![b'x'; length]);
            let reply = host.expect(ERROR).await;
            assert!(
                reply.ends_with(format!("ERR CODE:{code}\r\n\r\nERROR\r\n").as_bytes()),
                "{command}: {}",
                at_core::mock::show(&reply)
            );
            usable(&host).await;
        }
        // A value that shrinks makes room again.
        send_long(&host, "MQTTLONGPASSWORD", &[b'p'; 8]).await;
        send_long(&host, "MQTTLONGUSERNAME", &[b'u'; 1024]).await;
        let reply = host.exchange(r#"AT+MQTTCONN=0,"broker",1883,0"#, OK).await;
        assert!(reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"));
        assert_eq!(broker.connects(), 1);
    });
}

/// Sends a long credential command and its raw data (echo off).
async fn send_long(host: &HostLine, command: &str, value: &[u8]) {
    host.exchange(
        &format!("AT+{command}=0,{}", value.len()),
        at_core::wire::PROMPT,
    )
    .await;
    host.send_bytes(value);
    host.expect(OK).await;
}

/// With the boards' 2 KiB transmit buffer, long credentials that make CONNECT larger than
/// it (all of the 2,048 login bytes) end `AT+MQTTCONN` in one `ERROR`, and the modem stays
/// usable; shorter ones connect.
#[test]
fn a_connect_larger_than_the_transmit_buffer_ends_in_error() {
    seed(async |host, broker| {
        host.exchange("ATE0", OK).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
            .await;
        send_long(&host, "MQTTLONGCLIENTID", &[b'c'; 1000]).await;
        send_long(&host, "MQTTLONGUSERNAME", &[b'u'; 1024]).await;
        send_long(&host, "MQTTLONGPASSWORD", &[b'p'; 24]).await;
        host.exchange("AT+SYSLOG=1", OK).await;
        let conn = r#"AT+MQTTCONN=0,"broker",1883,0"#;
        let reply = host.exchange(conn, ERROR).await;
        one_result(&reply, ERROR);
        assert!(
            reply == b"ERR CODE:0x010a600b\r\n\r\nERROR\r\n",
            "{}",
            at_core::mock::show(&reply)
        );
        usable(&host).await;

        send_long(&host, "MQTTLONGUSERNAME", &[b'u'; 16]).await;
        let reply = host.exchange(conn, OK).await;
        assert!(reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"));
        assert_eq!(broker.connects(), 2, "a connection for each attempt");
    });
}
