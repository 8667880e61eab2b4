//! `AT+MQTTSUB` (set and query), `AT+MQTTUNSUB` and the `+MQTTSUBRECV` URC: messages a
//! peer publishes reach the host exactly, one URC each, never inside a command line
//! (SPEC.md sections 5 and 6, docs/PROTOCOL.md sections 5 and 6).

use std::time::Duration;

use e2e_tests::at::{OK, echoed, error_code, mqtt_error, subrecv, user_cfg};
use e2e_tests::{Broker, Modem, Peer, TIMEOUT};

/// A broker, a peer on it, and a modem connected as `client_id` with syslog on.
fn setup(client_id: &str) -> (Broker, Peer, Modem) {
    let broker = Broker::start();
    let peer = Peer::connect(broker.port());
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect(client_id, broker.port());
    (broker, peer, modem)
}

/// `AT+MQTTSUB=0,"<filter>",<qos>` answered `OK`.
fn subscribe(modem: &mut Modem, filter: &str, qos: u8) {
    let line = format!("AT+MQTTSUB=0,\"{filter}\",{qos}");
    modem.exchange(&line, &echoed(&line, OK));
}

#[test]
fn messages_at_each_qos_arrive_as_one_urc_each() {
    let (_broker, mut peer, mut modem) = setup("sub-qos");
    subscribe(&mut modem, "in/#", 2);
    for qos in 0..=2u8 {
        let topic = format!("in/{qos}");
        let payload = format!("qos {qos} message");
        peer.publish(&topic, payload.as_bytes(), qos, false);
        modem.expect(&subrecv(&topic, payload.as_bytes()), TIMEOUT);
    }
    // A payload that looks like protocol text is data.
    peer.publish("in/tricky", b"\r\nOK\r\n,\"x\"", 1, false);
    modem.expect(&subrecv("in/tricky", b"\r\nOK\r\n,\"x\""), TIMEOUT);
    modem.expect_silence(Duration::from_millis(200));
}

#[test]
fn a_1_kib_binary_message_arrives_as_exactly_one_urc() {
    let (_broker, mut peer, mut modem) = setup("sub-1k");
    subscribe(&mut modem, "bin/data", 1);
    let payload: Vec<u8> = (0..1024u32)
        .map(|i| match i % 64 {
            0 => b'\r',
            1 => b'\n',
            2 => 0,
            _ => u8::try_from(i % 251).unwrap_or(0),
        })
        .collect();
    peer.publish("bin/data", &payload, 1, false);
    modem.expect(&subrecv("bin/data", &payload), TIMEOUT);
    modem.expect_silence(Duration::from_millis(200));
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn a_retained_message_is_delivered_when_the_modem_subscribes() {
    let (_broker, mut peer, mut modem) = setup("sub-retained");
    peer.publish("state/lamp", b"on", 1, true);
    let line = "AT+MQTTSUB=0,\"state/+\",1";
    // SUBACK comes first, then the retained message.
    modem.exchange(line, &echoed(line, OK));
    modem.expect(&subrecv("state/lamp", b"on"), TIMEOUT);
}

#[test]
fn the_modem_receives_its_own_publication() {
    let (_broker, _peer, mut modem) = setup("sub-own");
    subscribe(&mut modem, "own/topic", 1);
    let line = "AT+MQTTPUB=0,\"own/topic\",\"echo me\",1,0";
    modem.send_line(line);
    modem.expect(&echoed(line, b""), TIMEOUT);
    // The message may overtake the PUBACK: a command that has written nothing yet lets
    // URCs out before its result.
    let urc = subrecv("own/topic", b"echo me");
    modem.expect_one_of(&[&[&urc, OK].concat(), &[OK, &urc].concat()], TIMEOUT);
}

#[test]
fn no_urc_is_written_inside_a_partly_received_command_line() {
    let (_broker, mut peer, mut modem) = setup("sub-partial");
    subscribe(&mut modem, "held/back", 0);
    modem.send(b"AT+GM");
    modem.expect(b"AT+GM", TIMEOUT);
    peer.publish("held/back", b"later", 1, false);
    modem.expect_silence(Duration::from_millis(500));
    modem.send(b"R\r\n");
    modem.expect(b"R\r\nAT version:", TIMEOUT);
    let answer = modem.read_until(b"\r\nOK\r\n", TIMEOUT);
    assert!(answer.ends_with(b"Board:host\r\n\r\nOK\r\n"));
    modem.expect(&subrecv("held/back", b"later"), TIMEOUT);
}

/// Ten filters, each matching exactly one of [`TEN_TOPICS`], with QoS 0, 1 or 2.
const TEN_FILTERS: [&str; 10] = [
    "ten/0",
    "ten/1/+",
    "ten/2/#",
    "+/ten3",
    "ten/4/+/z",
    "ten/5/#",
    "+/+/ten6",
    "ten/7",
    "ten/8/+",
    "ten9/#",
];
const TEN_TOPICS: [&str; 10] = [
    "ten/0",
    "ten/1/a",
    "ten/2/b/c",
    "x/ten3",
    "ten/4/q/z",
    "ten/5",
    "a/b/ten6",
    "ten/7",
    "ten/8/k",
    "ten9/x/y",
];

#[test]
fn ten_subscriptions_with_wildcards_all_deliver_and_an_eleventh_is_refused() {
    let (_broker, mut peer, mut modem) = setup("sub-ten");
    for (index, filter) in TEN_FILTERS.iter().enumerate() {
        subscribe(&mut modem, filter, u8::try_from(index % 3).unwrap_or(0));
    }
    let query: Vec<u8> = TEN_FILTERS
        .iter()
        .enumerate()
        .flat_map(|(index, filter)| {
            format!("+MQTTSUB:0,connected,\"{filter}\",{}\r\n", index % 3).into_bytes()
        })
        .collect();
    modem.exchange(
        "AT+MQTTSUB?",
        &echoed("AT+MQTTSUB?", &[&query, OK].concat()),
    );
    // A filter already held: nothing is sent, whatever QoS is asked; also when full.
    let line = "AT+MQTTSUB=0,\"ten/1/+\",2";
    modem.exchange(line, &echoed(line, b"ALREADY SUBSCRIBE\r\n\r\nOK\r\n"));
    let line = "AT+MQTTSUB=0,\"eleven\",0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x600D)));
    for topic in TEN_TOPICS {
        peer.publish(topic, topic.as_bytes(), 1, false);
        modem.expect(&subrecv(topic, topic.as_bytes()), TIMEOUT);
    }
    // Unsubscribing makes room for the eleventh filter.
    let line = "AT+MQTTUNSUB=0,\"ten/7\"";
    modem.exchange(line, &echoed(line, OK));
    subscribe(&mut modem, "eleven", 0);
    peer.publish("eleven", b"11", 0, false);
    modem.expect(&subrecv("eleven", b"11"), TIMEOUT);
}

#[test]
fn already_subscribe_and_no_unsubscribe() {
    let (_broker, mut peer, mut modem) = setup("sub-already");
    subscribe(&mut modem, "dup/+", 1);
    let line = "AT+MQTTSUB=0,\"dup/+\",0";
    modem.exchange(line, &echoed(line, b"ALREADY SUBSCRIBE\r\n\r\nOK\r\n"));
    modem.exchange(
        "AT+MQTTSUB?",
        b"AT+MQTTSUB?\r\n+MQTTSUB:0,connected,\"dup/+\",1\r\n\r\nOK\r\n",
    );
    let line = "AT+MQTTUNSUB=0,\"dup/x\"";
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
    // One subscription, one URC.
    peer.publish("dup/x", b"once", 1, false);
    modem.expect(&subrecv("dup/x", b"once"), TIMEOUT);
    modem.expect_silence(Duration::from_millis(300));
}

#[test]
fn after_unsubscribe_messages_stop() {
    let (_broker, mut peer, mut modem) = setup("sub-stop");
    subscribe(&mut modem, "stop/a", 1);
    subscribe(&mut modem, "stop/b", 1);
    peer.publish("stop/a", b"1", 1, false);
    modem.expect(&subrecv("stop/a", b"1"), TIMEOUT);
    let line = "AT+MQTTUNSUB=0,\"stop/a\"";
    modem.exchange(line, &echoed(line, OK));
    modem.exchange(
        "AT+MQTTSUB?",
        b"AT+MQTTSUB?\r\n+MQTTSUB:0,connected,\"stop/b\",1\r\n\r\nOK\r\n",
    );
    // Delivered in order: the next URC is stop/b's, so stop/a's was not sent.
    peer.publish("stop/a", b"2", 1, false);
    peer.publish("stop/b", b"3", 1, false);
    modem.expect(&subrecv("stop/b", b"3"), TIMEOUT);
    let line = "AT+MQTTUNSUB=0,\"stop/a\"";
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
}

#[test]
fn sub_refuses_each_wrong_parameter_with_its_code() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let long_filter = format!("AT+MQTTSUB=0,\"{}\",0", "f".repeat(129));
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTSUB=1,\"t\",0", 0x6011),
        ("AT+MQTTSUB=0,\"\",0", 0x6042),
        (&long_filter, 0x6043),
        ("AT+MQTTSUB=0,\"a/#/b\",0", 0x6041),
        ("AT+MQTTSUB=0,\"a+\",0", 0x6041),
        ("AT+MQTTSUB=0,\"#/a\",0", 0x6041),
        ("AT+MQTTSUB=0,\"a/b#\",0", 0x6041),
        ("AT+MQTTSUB=0,\"t\",3", 0x6048),
        // Well-formed, but there was never a client.
        ("AT+MQTTSUB=0,\"t\",0", 0x6006),
        ("AT+MQTTUNSUB=1,\"t\"", 0x6011),
        ("AT+MQTTUNSUB=0,\"a/#/b\"", 0x6041),
        ("AT+MQTTUNSUB=0,\"\"", 0x6042),
    ];
    for &(line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(code)));
    }
    let counts = [
        ("AT+MQTTSUB=0,\"t\"", 0x0106_0302),
        ("AT+MQTTSUB=0,\"t\",0,15000", 0x0106_0304),
        ("AT+MQTTUNSUB=0", 0x0106_0201),
        ("AT+MQTTUNSUB=0,\"t\",15000", 0x0106_0203),
    ];
    for (line, code) in counts {
        modem.exchange(line, &echoed(line, &error_code(code)));
    }
    // Without a link, UNSUB answers NO UNSUBSCRIBE.
    let line = "AT+MQTTUNSUB=0,\"t\"";
    modem.exchange(line, &echoed(line, b"NO UNSUBSCRIBE\r\n\r\nOK\r\n"));
    // Configured but not connected.
    let user = user_cfg("sub-errors");
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTSUB=0,\"t\",0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6051)));
    modem.exchange(line, &echoed(line, &mqtt_error(0x6051)));
    modem.exchange("AT+MQTTSUB?", b"AT+MQTTSUB?\r\n\r\nOK\r\n");
}

#[test]
fn no_urc_is_written_during_raw_data_entry() {
    let (_broker, mut peer, mut modem) = setup("sub-raw");
    subscribe(&mut modem, "raw/in", 0);
    let line = "AT+MQTTPUBRAW=0,\"raw/out\",6,1,0";
    modem.exchange(line, &echoed(line, e2e_tests::at::PROMPT));
    modem.send(b"abc");
    peer.publish("raw/in", b"waits", 1, false);
    modem.expect_silence(Duration::from_millis(500));
    modem.send(b"def");
    // Once the data is complete the URC may come out while the publish waits.
    let urc = subrecv("raw/in", b"waits");
    let ok = b"+MQTTPUBRAW:OK\r\n";
    modem.expect_one_of(
        &[&[&urc, &ok[..]].concat(), &[&ok[..], &urc].concat()],
        TIMEOUT,
    );
}

#[test]
fn a_full_urc_queue_holds_the_broker_back_and_loses_nothing() {
    let (_broker, mut peer, mut modem) = setup("sub-full");
    subscribe(&mut modem, "flood/+", 1);
    // A partly typed line holds URCs back (echo on) while 40 KiB arrive: more than the
    // simulator's 16 KiB URC queue.
    modem.send(b"AT");
    modem.expect(b"AT", TIMEOUT);
    let payloads: Vec<Vec<u8>> = (0..40u8)
        .map(|n| [&[n; 1020][..], b"\r\n\r\n"].concat())
        .collect();
    for (n, payload) in payloads.iter().enumerate() {
        peer.publish(&format!("flood/{n}"), payload, 1, false);
    }
    modem.expect_silence(Duration::from_millis(300));
    modem.send(b"\r\n");
    modem.expect(&[&b"\r\n"[..], OK].concat(), TIMEOUT);
    for (n, payload) in payloads.iter().enumerate() {
        modem.expect(&subrecv(&format!("flood/{n}"), payload), TIMEOUT);
    }
    // The link is still fine both ways.
    let line = "AT+MQTTPUB=0,\"flood/back\",\"done\",1,0";
    modem.send_line(line);
    modem.expect(&echoed(line, b""), TIMEOUT);
    let urc = subrecv("flood/back", b"done");
    modem.expect_one_of(&[&[&urc, OK].concat(), &[OK, &urc].concat()], TIMEOUT);
}

#[test]
fn a_message_too_large_for_the_modem_is_not_delivered_and_the_link_stays() {
    let (_broker, mut peer, mut modem) = setup("sub-oversized");
    subscribe(&mut modem, "size/+", 1);
    // The modem tells the broker its largest packet (8 KiB in the simulator).
    peer.publish("size/big", &[b'x'; 9000], 1, false);
    peer.publish("size/small", b"fits", 1, false);
    modem.expect(&subrecv("size/small", b"fits"), TIMEOUT);
    let almost = vec![b'y'; 8000];
    peer.publish("size/almost", &almost, 1, false);
    modem.expect(&subrecv("size/almost", &almost), TIMEOUT);
}

#[test]
fn with_echo_off_a_partial_line_does_not_hold_urcs_back() {
    let (_broker, mut peer, mut modem) = setup("sub-echo-off");
    subscribe(&mut modem, "quiet/+", 1);
    modem.exchange("ATE0", &echoed("ATE0", OK));
    modem.send(b"AT+GM");
    peer.publish("quiet/x", b"now", 1, false);
    modem.expect(&subrecv("quiet/x", b"now"), TIMEOUT);
    modem.send(b"R\r\n");
    modem.expect(b"AT version:", TIMEOUT);
    modem.read_until(b"Board:host\r\n\r\nOK\r\n", TIMEOUT);
    let line = "AT+MQTTPUB=0,\"quiet/y\",\"x\",0,0";
    modem.send_line(line);
    let urc = subrecv("quiet/y", b"x");
    modem.expect_one_of(&[&[&urc, OK].concat(), &[OK, &urc].concat()], TIMEOUT);
}
