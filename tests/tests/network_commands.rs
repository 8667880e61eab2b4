//! The network set-up commands on the simulator: `AT+CIPSTA` (the host's address, or a
//! recorded static one) and the Wi-Fi station commands over the simulated radio
//! (`--wifi SSID:PASSWORD`), byte for byte as on a board (docs/PROTOCOL.md section 6).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::net::Ipv4Addr;

use e2e_tests::at::{OK, echoed, error_code};
use e2e_tests::{Modem, TIMEOUT};

/// `AT+CIPSTA?`'s answer for the given address, gateway and netmask.
fn cipsta(ip: &str, gateway: &str, netmask: &str) -> Vec<u8> {
    format!(
        "+CIPSTA:ip:\"{ip}\"\r\n+CIPSTA:gateway:\"{gateway}\"\r\n+CIPSTA:netmask:\"{netmask}\"\r\n"
    )
    .into_bytes()
}

#[test]
fn cipsta_query_reports_an_ipv4_configuration() {
    let mut modem = Modem::ready(&[]);
    modem.send_line("AT+CIPSTA?");
    let answer = modem.read_until(OK, TIMEOUT);
    let text = String::from_utf8(answer).unwrap_or_else(|e| panic!("not text: {e}"));
    let fields: Vec<(&str, Ipv4Addr)> = text
        .lines()
        .filter_map(|line| line.strip_prefix("+CIPSTA:"))
        .map(|rest| {
            let (name, value) = rest.split_once(':').unwrap_or_else(|| panic!("{rest}"));
            let value = value.trim_matches('"');
            (
                name,
                value.parse().unwrap_or_else(|e| panic!("{value}: {e}")),
            )
        })
        .collect();
    let names: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["ip", "gateway", "netmask"], "answer: {text:?}");
    assert!(
        text.starts_with("AT+CIPSTA?\r\n+CIPSTA:ip:\""),
        "answer: {text:?}"
    );
}

#[test]
fn cipsta_set_records_a_static_address_with_defaults() {
    let mut modem = Modem::ready(&[]);
    let set = "AT+CIPSTA=\"10.1.2.3\"";
    modem.exchange(set, &echoed(set, OK));
    let query = [cipsta("10.1.2.3", "10.1.2.1", "255.255.255.0"), OK.to_vec()].concat();
    modem.exchange("AT+CIPSTA?", &echoed("AT+CIPSTA?", &query));
    let set = "AT+CIPSTA=\"192.168.7.20\",\"192.168.0.1\",\"255.255.0.0\"";
    modem.exchange(set, &echoed(set, OK));
    let query = [
        cipsta("192.168.7.20", "192.168.0.1", "255.255.0.0"),
        OK.to_vec(),
    ]
    .concat();
    modem.exchange("AT+CIPSTA?", &echoed("AT+CIPSTA?", &query));
}

#[test]
fn cipsta_refuses_bad_addresses_and_counts() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let refused: &[(&str, u32)] = &[
        ("AT+CIPSTA=\"10.1.2\"", 0x0107_0000),
        ("AT+CIPSTA=\"10.1.2.300\"", 0x0107_0000),
        ("AT+CIPSTA=\"0.0.0.0\"", 0x0107_0000),
        (
            "AT+CIPSTA=\"10.1.2.3\",\"10.1.2.1\",\"255.0.255.0\"",
            0x0107_0000,
        ),
        ("AT+CIPSTA=\"10.1.2.3\",\"10.1.2.1\"", 0x0106_0302),
        (
            "AT+CIPSTA=\"10.1.2.3\",\"10.1.2.1\",\"255.0.0.0\",1",
            0x0106_0304,
        ),
        ("AT+CIPSTA=?", 0x010C_0000),
        ("AT+CIPSTA", 0x010C_0000),
    ];
    for (line, code) in refused {
        modem.exchange(line, &echoed(line, &error_code(*code)));
    }
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn wifi_station_joins_only_the_simulated_access_point() {
    let mut modem = Modem::ready(&["--wifi", "home-net:s3cret pass"]);
    modem.syslog_on();
    modem.exchange(
        "AT+CWMODE?",
        &echoed("AT+CWMODE?", b"+CWMODE:1\r\n\r\nOK\r\n"),
    );
    modem.exchange("AT+CWMODE=1", &echoed("AT+CWMODE=1", OK));
    modem.exchange(
        "AT+CWMODE=2",
        &echoed("AT+CWMODE=2", &error_code(0x0107_0000)),
    );
    modem.exchange("AT+CWJAP?", &echoed("AT+CWJAP?", b"No AP\r\n\r\nOK\r\n"));

    let wrong = "AT+CWJAP=\"home-net\",\"guess\"";
    let failed = [&b"+CWJAP:2\r\n"[..], &error_code(0x010A_0001)].concat();
    modem.exchange(wrong, &echoed(wrong, &failed));
    let unknown = "AT+CWJAP=\"elsewhere\",\"s3cret pass\"";
    let failed = [&b"+CWJAP:3\r\n"[..], &error_code(0x010A_0001)].concat();
    modem.exchange(unknown, &echoed(unknown, &failed));

    let join = "AT+CWJAP=\"home-net\",\"s3cret pass\"";
    modem.exchange(
        join,
        &echoed(
            join,
            &[&b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"[..], OK].concat(),
        ),
    );
    modem.exchange(
        "AT+CWJAP?",
        &echoed(
            "AT+CWJAP?",
            &[
                &b"+CWJAP:\"home-net\",\"02:00:5e:00:00:01\",6,-42\r\n"[..],
                OK,
            ]
            .concat(),
        ),
    );
    modem.exchange(
        "AT+CWQAP",
        &echoed("AT+CWQAP", &[&b"WIFI DISCONNECT\r\n"[..], OK].concat()),
    );
    modem.exchange("AT+CWJAP?", &echoed("AT+CWJAP?", b"No AP\r\n\r\nOK\r\n"));
    modem.exchange("AT+CWQAP", &echoed("AT+CWQAP", OK));
}

#[test]
fn wifi_without_an_access_point_in_range_finds_none() {
    let mut modem = Modem::ready(&[]);
    let join = "AT+CWJAP=\"home-net\",\"pw\"";
    modem.exchange(
        join,
        &echoed(join, &[&b"+CWJAP:3\r\n"[..], b"\r\nERROR\r\n"].concat()),
    );
    let bad = "AT+CWJAP=\"\",\"pw\"";
    modem.exchange(bad, &echoed(bad, b"\r\nERROR\r\n"));
}
