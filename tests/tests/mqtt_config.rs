//! `AT+MQTTUSERCFG` and `AT+MQTTCONNCFG`: every success path and every error path with
//! its exact `ERR CODE` (SPEC.md sections 6 and 7, docs/PROTOCOL.md section 6).

use e2e_tests::at::{CONNECTED, ERROR, OK, conn, echoed, error_code, mqtt_error, user_cfg};
use e2e_tests::{Broker, Modem, TIMEOUT};

/// Sends each line and checks that it is refused with its code.
fn refuse_all(modem: &mut Modem, refused: &[(&str, u16)]) {
    for &(line, code) in refused {
        modem.exchange(line, &echoed(line, &mqtt_error(code)));
    }
}

#[test]
fn usercfg_accepts_the_full_range_of_each_parameter() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let accepted = [
        user_cfg("a"),
        // The longest username, password and path (one at a time: a line holds 254
        // bytes).
        format!(
            "AT+MQTTUSERCFG=0,1,\"c\",\"{}\",\"{}\",0,0,\"\"",
            "u".repeat(64),
            "p".repeat(64)
        ),
        format!(
            "AT+MQTTUSERCFG=0,1,\"c\",\"\",\"\",0,0,\"{}\"",
            "/".repeat(32)
        ),
        // Scheme 2 (TLS-PSK) is accepted and stored; connecting is what fails.
        "AT+MQTTUSERCFG=0,2,\"psk\",\"\",\"\",0,0,\"\"".to_owned(),
        // The certificate schemes with store indexes.
        "AT+MQTTUSERCFG=0,5,\"cert\",\"\",\"\",3,3,\"\"".to_owned(),
        // Unquoted strings, as the seed's own examples write them.
        "AT+MQTTUSERCFG=0,1,bare,user,pass,0,0,/path".to_owned(),
        // The longest client ID a 256-byte command line can carry.
        format!(
            "AT+MQTTUSERCFG=0,1,\"{}\",\"\",\"\",0,0,\"\"",
            "i".repeat(220)
        ),
    ];
    for line in &accepted {
        assert!(line.len() <= 254, "{line}");
        modem.exchange(line, &echoed(line, OK));
    }
    // Without syslog a refusal is a plain ERROR.
    modem.exchange("AT+SYSLOG=0", &echoed("AT+SYSLOG=0", OK));
    let line = "AT+MQTTUSERCFG=0,6,\"a\",\"\",\"\",0,0,\"\"";
    modem.exchange(line, &echoed(line, ERROR));
}

#[test]
fn usercfg_refuses_each_wrong_parameter_with_its_code() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let long_user = format!(
        "AT+MQTTUSERCFG=0,1,\"id\",\"{}\",\"\",0,0,\"\"",
        "u".repeat(65)
    );
    let long_password = format!(
        "AT+MQTTUSERCFG=0,1,\"id\",\"\",\"{}\",0,0,\"\"",
        "p".repeat(65)
    );
    let long_path = format!(
        "AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"{}\"",
        "/".repeat(33)
    );
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTUSERCFG=1,1,\"id\",\"\",\"\",0,0,\"\"", 0x6011),
        ("AT+MQTTUSERCFG=0,0,\"id\",\"\",\"\",0,0,\"\"", 0x6013),
        // Schemes 3..5 need the certificates of at-host's tls-cert build; 6.. (WebSocket)
        // do not exist here.
        ("AT+MQTTUSERCFG=0,6,\"id\",\"\",\"\",0,0,\"\"", 0x6013),
        ("AT+MQTTUSERCFG=0,1,\"\",\"\",\"\",0,0,\"\"", 0x6015),
        (&long_user, 0x6019),
        (&long_password, 0x601C),
        // cert_key_ID and CA_ID are credential store indexes, 0..=3.
        ("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",4,0,\"\"", 0x601E),
        ("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,4,\"\"", 0x6020),
        (&long_path, 0x6029),
    ];
    refuse_all(&mut modem, refused);
    // Parameter counts: too few (need 8, given 7), too many (at most 8, given 9).
    let counts = [
        ("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0", 0x0106_0807),
        ("AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\",", 0x0106_0809),
        (
            "AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,\"\",1",
            0x0106_0809,
        ),
    ];
    for (line, code) in counts {
        modem.exchange(line, &echoed(line, &error_code(code)));
    }
    // The path is required: an empty field is an omission, not an empty path.
    let line = "AT+MQTTUSERCFG=0,1,\"id\",\"\",\"\",0,0,";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6027)));
    // Nothing was stored by the refused lines.
    modem.exchange(
        "AT+MQTTCONN?",
        b"AT+MQTTCONN?\r\n+MQTTCONN:0,disconnect,0,\"\",0,0\r\n\r\nOK\r\n",
    );
}

#[test]
fn usercfg_with_a_257_byte_client_id_does_not_fit_a_command_line() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    // SPEC.md allows 256-byte client IDs, but a command line holds 254 bytes: such a
    // line is refused as too long and the modem stays usable.
    let line = format!(
        "AT+MQTTUSERCFG=0,1,\"{}\",\"\",\"\",0,0,\"\"",
        "i".repeat(257)
    );
    modem.exchange(&line, &echoed(&line, &error_code(0x0104_0000)));
    modem.exchange("AT", &echoed("AT", OK));
}

#[test]
fn client_ids_longer_than_64_bytes_connect() {
    // minimq copied the client ID into 64 bytes; the project's patched minimq borrows it
    // (patches/minimq/PATCHED.md), so USERCFG's longest ID on a line reaches the broker.
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let connect = conn(broker.port(), 0);
    for length in [65, 200] {
        let id = "x".repeat(length);
        let line = user_cfg(&id);
        modem.exchange(&line, &echoed(&line, OK));
        modem.exchange(&connect, &echoed(&connect, &[CONNECTED, OK].concat()));
        broker.wait_for_log(&format!(" as {id} "), 1, TIMEOUT);
        modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    }
}

#[test]
fn usercfg_and_conncfg_are_refused_while_connected() {
    let broker = Broker::start();
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    modem.mqtt_connect("cfg-connected", broker.port());
    let user = user_cfg("other");
    let refused: &[(&str, u16)] = &[
        (&user, 0x6004),
        ("AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0", 0x6004),
    ];
    refuse_all(&mut modem, refused);
    // After AT+MQTTCLEAN both are accepted again.
    modem.exchange("AT+MQTTCLEAN=0", &echoed("AT+MQTTCLEAN=0", OK));
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTCONNCFG=0,60,0,\"\",\"\",0,0";
    modem.exchange(line, &echoed(line, OK));
}

#[test]
fn conncfg_needs_usercfg_first() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let line = "AT+MQTTCONNCFG=0,180,0,\"test/aaa\",\"good bye\",1,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6001)));
    let user = user_cfg("cfg");
    modem.exchange(&user, &echoed(&user, OK));
    modem.exchange(line, &echoed(line, OK));
}

#[test]
fn conncfg_accepts_the_full_range_of_each_parameter() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("cfg");
    modem.exchange(&user, &echoed(&user, OK));
    let accepted = [
        "AT+MQTTCONNCFG=0,0,0,\"\",\"\",0,0".to_owned(),
        "AT+MQTTCONNCFG=0,7200,1,\"will\",\"\",2,1".to_owned(),
        format!(
            "AT+MQTTCONNCFG=0,1,0,\"{}\",\"{}\",1,0",
            "t".repeat(128),
            "m".repeat(64)
        ),
        "AT+MQTTCONNCFG=0,180,0,test/aaa,good bye,1,0".to_owned(),
    ];
    for line in &accepted {
        modem.exchange(line, &echoed(line, OK));
    }
}

#[test]
fn conncfg_refuses_each_wrong_parameter_with_its_code() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let user = user_cfg("cfg");
    modem.exchange(&user, &echoed(&user, OK));
    let long_topic = format!("AT+MQTTCONNCFG=0,60,0,\"{}\",\"m\",0,0", "t".repeat(129));
    let long_msg = format!("AT+MQTTCONNCFG=0,60,0,\"t\",\"{}\",0,0", "m".repeat(65));
    let refused: &[(&str, u16)] = &[
        ("AT+MQTTCONNCFG=1,60,0,\"t\",\"m\",0,0", 0x6011),
        ("AT+MQTTCONNCFG=0,7201,0,\"t\",\"m\",0,0", 0x602D),
        ("AT+MQTTCONNCFG=0,-1,0,\"t\",\"m\",0,0", 0x602D),
        ("AT+MQTTCONNCFG=0,60,2,\"t\",\"m\",0,0", 0x602F),
        (&long_topic, 0x6032),
        ("AT+MQTTCONNCFG=0,60,0,\"will/+\",\"m\",0,0", 0x6030),
        ("AT+MQTTCONNCFG=0,60,0,\"will/#\",\"m\",0,0", 0x6030),
        (&long_msg, 0x6035),
        ("AT+MQTTCONNCFG=0,60,0,\"t\",\"m\",3,0", 0x6037),
        ("AT+MQTTCONNCFG=0,60,0,\"t\",\"m\",0,2", 0x6039),
    ];
    refuse_all(&mut modem, refused);
    let counts = [
        ("AT+MQTTCONNCFG=0,60,0,\"t\",\"m\",0", 0x0106_0706),
        ("AT+MQTTCONNCFG=0,60,0,\"t\",\"m\",0,0,0", 0x0106_0708),
    ];
    for (line, code) in counts {
        modem.exchange(line, &echoed(line, &error_code(code)));
    }
}
