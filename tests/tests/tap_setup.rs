//! The set-up commands that act on the boards' embassy-net stack, through `at-host --tap`
//! (as `tap.rs`): `AT+CWDHCP` really switching DHCP (against dnsmasq in the network
//! namespace), and `AT+CIPSNTPTIME?` asking a real SNTP server over UDP ([`SntpServer`]
//! in the namespace, answering a fixed time). These tests need root, `ip`,
//! `/dev/net/tun`, dnsmasq and python3 (scripts/setup.sh), and fail without them.
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::time::{Duration, Instant};

use e2e_tests::at::{OK, echoed};
use e2e_tests::{DhcpServer, Modem, SntpServer, SntpTime, TIMEOUT, TapNetwork};

/// The SNTP server's time: 2021-10-19 17:47:56 UTC.
const SERVER_UNIX: u64 = 1_634_665_676;

/// `AT+CIPSTA?`'s address, asked until `wanted` accepts it or `timeout` passes.
fn wait_for_address(modem: &mut Modem, wanted: impl Fn(&str) -> bool, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        modem.send_line("AT+CIPSTA?");
        let answer = modem.read_until(b"\r\nOK\r\n", TIMEOUT);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let ip = text
            .split("+CIPSTA:ip:\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        if wanted(&ip) {
            return ip;
        }
        if Instant::now() > deadline {
            modem.fail(&format!("the address is still {ip:?}"));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn cwdhcp_switches_dhcp_on_the_stack_and_cipsta_switches_it_off() {
    let network = TapNetwork::create();
    let dhcp = DhcpServer::start(&network);
    let pool = |ip: &str| ip.parse().is_ok_and(|address| dhcp.in_pool(address));
    // No --tap-address: the stack starts with DHCP and gets a lease from the pool.
    let mut modem = Modem::ready(&["--profile", "esp-at", "--tap", network.tap()]);
    modem.exchange("ATE0", &echoed("ATE0", OK));
    let leased = wait_for_address(&mut modem, pool, Duration::from_secs(20));
    modem.exchange("AT+CWDHCP?", &[b"+CWDHCP:1\r\n".as_slice(), OK].concat());

    // A static address turns DHCP off.
    let fixed = network.modem_address().to_string();
    modem.exchange(&format!("AT+CIPSTA=\"{fixed}\""), OK);
    modem.exchange("AT+CWDHCP?", &[b"+CWDHCP:0\r\n".as_slice(), OK].concat());
    wait_for_address(&mut modem, |ip| ip == fixed, TIMEOUT);

    // DHCP on again: the stack asks dnsmasq for a lease and gets one from the pool.
    modem.exchange("AT+CWDHCP=1,1", OK);
    modem.exchange("AT+CWDHCP?", &[b"+CWDHCP:1\r\n".as_slice(), OK].concat());
    let again = wait_for_address(&mut modem, pool, Duration::from_secs(20));
    eprintln!("leased {leased}, static {fixed}, leased again {again}");

    // DHCP off keeps the leased address, now static.
    modem.exchange("AT+CWDHCP=0,1", OK);
    modem.exchange("AT+CWDHCP?", &[b"+CWDHCP:0\r\n".as_slice(), OK].concat());
    wait_for_address(&mut modem, |ip| ip == again, TIMEOUT);
}

#[test]
fn cipsntptime_asks_a_real_sntp_server_over_udp() {
    let network = TapNetwork::create();
    let mut server = SntpServer::start(&network, SntpTime::Fixed(SERVER_UNIX));
    let address = format!("{}/24", network.modem_address());
    let mut modem = Modem::ready(&[
        "--profile",
        "esp-at",
        "--tap",
        network.tap(),
        "--tap-address",
        &address,
    ]);
    modem.exchange("ATE0", &echoed("ATE0", OK));
    let unset = b"+CIPSNTPTIME:Thu Jan 01 00:00:00 1970\r\n";
    modem.exchange("AT+CIPSNTPTIME?", &[unset.as_slice(), OK].concat());
    let config = format!("AT+CIPSNTPCFG=1,8,\"{}\"", network.broker_address());
    modem.exchange(&config, OK);
    // The server's 17:47:56 UTC, in UTC+8.
    modem.exchange(
        "AT+CIPSNTPTIME?",
        &[b"+CIPSNTPTIME:Wed Oct 20 01:47:56 2021\r\n".as_slice(), OK].concat(),
    );
    server.wait_for_answer(TIMEOUT);
    modem.send_line("AT+SYSTIMESTAMP?");
    let answer = modem.read_until(b"\r\nOK\r\n", TIMEOUT);
    let text = String::from_utf8_lossy(&answer);
    let unix: u64 = text
        .trim_start_matches("+SYSTIMESTAMP:")
        .split('\r')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| modem.fail("no +SYSTIMESTAMP"));
    assert!((SERVER_UNIX..SERVER_UNIX + 5).contains(&unix), "{unix}");
    // A server that does not answer: the clock keeps the time it has, and the query
    // ends within its bound (3 s per server).
    let silent = format!("AT+CIPSNTPCFG=1,0,\"{}\"", network.address(9));
    modem.exchange(&silent, OK);
    let started = Instant::now();
    modem.send_line("AT+CIPSNTPTIME?");
    let answer = modem.read_until(b"\r\nOK\r\n", Duration::from_secs(10));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        String::from_utf8_lossy(&answer).starts_with("+CIPSNTPTIME:Tue Oct 19 17:4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}
