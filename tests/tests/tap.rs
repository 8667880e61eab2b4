//! The modem's network on the boards' embassy-net (smoltcp) stack: `at-host --tap` on a
//! TAP device bridged to a network namespace where a real mosquitto runs, driven over
//! the serial line as a host MCU would.
//!
//! Each test builds its own [`TapNetwork`] (namespace, bridge, veth pair, TAP device,
//! subnet 10.213.X.0/24) and removes it when it ends, failed or not. These tests need
//! root, `ip` (iproute2) and `/dev/net/tun`, and fail without them: CI runs as root.

use std::time::{Duration, Instant};

use e2e_tests::at::{self, CONNECTED, ERROR, OK, READY, echoed};
use e2e_tests::{Modem, NamespaceBroker, TIMEOUT, TapNetwork};

/// The answer to `AT+CIPSTA?` (after its echo) for an address, gateway and netmask.
fn cipsta(ip: &str, gateway: &str, netmask: &str) -> Vec<u8> {
    format!(
        "+CIPSTA:ip:\"{ip}\"\r\n+CIPSTA:gateway:\"{gateway}\"\r\n\
         +CIPSTA:netmask:\"{netmask}\"\r\n\r\nOK\r\n"
    )
    .into_bytes()
}

/// `AT+MQTTCONN` to the namespace's broker, without automatic reconnection.
fn conn(broker: &NamespaceBroker) -> String {
    format!(
        "AT+MQTTCONN=0,\"{}\",{},0",
        broker.address(),
        NamespaceBroker::PORT
    )
}

/// Configures the client and connects to the namespace's broker (echo on), then checks
/// that the broker saw the connection come from `from`, i.e. over the TAP device.
fn connect(modem: &mut Modem, broker: &NamespaceBroker, client_id: &str, from: &str) {
    let user = at::user_cfg(client_id);
    modem.exchange(&user, &echoed(&user, OK));
    let conn = conn(broker);
    modem.exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
    broker.wait_for_log(&format!("New client connected from {from}:"), TIMEOUT);
}

#[test]
fn a_modem_on_a_tap_device_talks_mqtt_with_a_broker_in_a_namespace() {
    let network = TapNetwork::create();
    let broker = NamespaceBroker::start(&network);
    let ip = network.modem_address().to_string();
    let address = format!("{ip}/24");
    let mut modem = Modem::ready(&["--tap", network.tap(), "--tap-address", &address]);
    // The static address is applied after `ready`.
    modem.process().wait_for_log("TAP network up", TIMEOUT);

    // The stack's static address, as the board reports it.
    modem.exchange(
        "AT+CIPSTA?",
        &echoed("AT+CIPSTA?", &cipsta(&ip, "0.0.0.0", "255.255.255.0")),
    );
    connect(&mut modem, &broker, "tap-modem", &ip);

    let sub = "AT+MQTTSUB=0,\"tap/modem/#\",1";
    modem.exchange(sub, &echoed(sub, OK));

    // Its own message comes back through the broker; the URC may come before or
    // after the publish's OK.
    let publish = "AT+MQTTPUB=0,\"tap/modem/echo\",\"over smoltcp\",1,0";
    let received = at::subrecv("tap/modem/echo", b"over smoltcp");
    modem.send_line(publish);
    modem.expect_one_of(
        &[
            &echoed(publish, &[&received[..], OK].concat()),
            &echoed(publish, &[OK, &received[..]].concat()),
        ],
        TIMEOUT,
    );

    // A peer in the namespace gets what the modem publishes (retained, so that the
    // peer may subscribe after the publish)...
    let retained = "AT+MQTTPUB=0,\"tap/state\",\"online\",1,1";
    modem.exchange(retained, &echoed(retained, OK));
    assert_eq!(broker.receive_one("tap/state", TIMEOUT), "tap/state online");

    // ...and the modem gets what the peer publishes.
    broker.publish("tap/modem/in", "from the namespace", 1);
    modem.expect(&at::subrecv("tap/modem/in", b"from the namespace"), TIMEOUT);

    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    broker.wait_for_log("Client tap-modem disconnected", TIMEOUT);
    modem.expect_silence(Duration::from_millis(200));
}

#[test]
fn without_an_address_mqttconn_fails_at_once_until_cipsta_sets_one() {
    let network = TapNetwork::create();
    let broker = NamespaceBroker::start(&network);
    // No --tap-address: DHCP, and this network has no DHCP server.
    let mut modem = Modem::ready(&["--tap", network.tap()]);
    modem.syslog_on();
    let unset = cipsta("0.0.0.0", "0.0.0.0", "0.0.0.0");
    modem.exchange("AT+CIPSTA?", &echoed("AT+CIPSTA?", &unset));

    let user = at::user_cfg("tap-dhcp");
    modem.exchange(&user, &echoed(&user, OK));
    let conn = conn(&broker);
    let started = Instant::now();
    modem.exchange(&conn, &echoed(&conn, &at::mqtt_error(0x600B)));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "AT+MQTTCONN without an address took {took:?} to fail\n{}",
        modem.transcript()
    );

    // AT+CIPSTA= gives the stack an address: the connection now goes through.
    let ip = network.modem_address().to_string();
    let gateway = network.address(1).to_string();
    let set = format!("AT+CIPSTA=\"{ip}\"");
    modem.exchange(&set, &echoed(&set, OK));
    modem.exchange(
        "AT+CIPSTA?",
        &echoed("AT+CIPSTA?", &cipsta(&ip, &gateway, "255.255.255.0")),
    );
    modem.exchange(&conn, &echoed(&conn, &[CONNECTED, OK].concat()));
    broker.wait_for_log(&format!("New client connected from {ip}:"), TIMEOUT);

    // A restart is a board reboot: the network starts afresh, without the address.
    modem.exchange("AT+RST", &echoed("AT+RST", &[OK, READY].concat()));
    modem.exchange("AT+CIPSTA?", &echoed("AT+CIPSTA?", &unset));
    modem.exchange(&user, &echoed(&user, OK));
    modem.exchange(&conn, &echoed(&conn, ERROR));
}
