//! `at-host --verbose`: each `ERROR` explained on standard error (which command, the code,
//! what was wrong) while the serial line carries exactly the bytes it carries without it.

use e2e_tests::at::{echoed, error_code, mqtt_error};
use e2e_tests::{Modem, TIMEOUT};

/// The start of the log line the engine writes for an `ERROR`.
const ERROR_LOG: &str = "at-host: INFO  at_core::driver: ";

/// Sends `line`, checks its exact answer on the serial line, and returns the engine's log
/// line (after [`ERROR_LOG`]) explaining the `ERROR`.
fn refused(modem: &mut Modem, line: &str, answer: &[u8]) -> String {
    modem.exchange(line, &echoed(line, answer));
    modem.process().wait_for_line(ERROR_LOG, TIMEOUT)
}

#[test]
fn verbose_explains_a_wrong_qos_without_changing_the_serial_bytes() {
    let mut modem = Modem::ready(&["--verbose"]);
    modem.syslog_on();
    let line = "AT+MQTTPUB=0,\"t\",\"x\",7,0";
    modem.exchange(line, &echoed(line, b"ERR CODE:0x010a6048\r\n\r\nERROR\r\n"));
    let log = modem.process().wait_for_line(ERROR_LOG, TIMEOUT);
    assert_eq!(log, "AT+MQTTPUB: ERROR 0x010a6048: QoS must be 0, 1 or 2");
}

#[test]
fn verbose_explains_syntax_errors_with_their_numbers() {
    let mut modem = Modem::ready(&["-v"]);
    modem.syslog_on();
    assert_eq!(
        refused(&mut modem, "AT+MQTTPUB=0,\"t\"", &error_code(0x0106_0502)),
        "AT+MQTTPUB: ERROR 0x01060502: wrong number of parameters (need 5, given 2)"
    );
    assert_eq!(
        refused(&mut modem, "AT+NOPE", &error_code(0x0109_0000)),
        "AT+NOPE: ERROR 0x01090000: no command of that name"
    );
    assert_eq!(
        refused(&mut modem, "AT+MQTTPUB?", &error_code(0x010C_0000)),
        "AT+MQTTPUB: ERROR 0x010c0000: the command does not support this form (=?, ?, = or plain)"
    );
    assert_eq!(
        refused(
            &mut modem,
            "AT+MQTTPUB=0,\"t\",\"x\",0,0",
            &mqtt_error(0x6006)
        ),
        "AT+MQTTPUB: ERROR 0x010a6006: no MQTT client: send AT+MQTTUSERCFG and AT+MQTTCONN first"
    );
}

#[test]
fn without_verbose_errors_are_not_logged() {
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let line = "AT+MQTTPUB=0,\"t\",\"x\",7,0";
    modem.exchange(line, &echoed(line, &mqtt_error(0x6048)));
    modem.exchange("AT", &echoed("AT", e2e_tests::at::OK));
    let log = modem.process().log();
    assert!(!log.contains("0x010a6048"), "{log}");
}
