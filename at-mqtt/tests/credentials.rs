//! Provisioning over AT at unit level: the real modem (engine, runner, store) with a RAM
//! store. `AT+MQTTCERT` (seed) and `AT+SYSMFG` (esp-at) upload PEM and DER, read back,
//! list and erase; every refusal has its code (under `AT+SYSLOG=1`), stores nothing and
//! leaves the modem usable; an upload while a link is up keeps the link; credentials
//! uploaded over AT serve a scheme 5 connect; on the flash store they survive a restart,
//! and a power cut during an upload keeps the item stored before.

#![allow(missing_docs, reason = "test crate")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::unwrap_used,
    reason = "tests fail by panicking; test data is built from small integers"
)]

mod support;

use at_core::mock::show;
use at_core::{Config, Profile};
use at_mqtt::credentials::{CredentialStore, FlashCredentials, NoCredentials, RamCredentials};
use embassy_time::Duration;
use support::flash::{RANGE, SimulatedFlash};
use support::pki::{self, Seen, Spec};
use support::run::{ERROR, OK, run_modem};
use support::{Broker, HostLine, Sent};

const CERT_PEM: &[u8] = include_bytes!("fixtures/client.crt.pem");
const CERT_DER: &[u8] = include_bytes!("fixtures/client.crt.der");
const KEY_SEC1_DER: &[u8] = include_bytes!("fixtures/client.key.sec1.der");
const KEY_PKCS8_PEM: &[u8] = include_bytes!("fixtures/client.key.pkcs8.pem");

type Store = RamCredentials<1024, 12>;

/// Runs `script` against a modem in `profile` with `credentials`, whose connections
/// reach `broker`.
fn scenario<S: CredentialStore>(
    profile: Profile,
    broker: &Broker,
    credentials: S,
    script: impl AsyncFnOnce(HostLine, Broker),
) {
    pki::set_modem_clock();
    let config = Config::new("mock")
        .with_profile(profile)
        .with_raw_data_timeout(Duration::from_millis(300));
    let options = support::run::options(profile, pki::HANDSHAKE_BOUND);
    run_modem(broker, config, options, credentials, script);
}

/// Echo off, code lines on.
async fn start(host: &HostLine) {
    host.exchange("ATE0", OK).await;
    host.exchange("AT+SYSLOG=1", OK).await;
}

/// Sends `command`, then after its prompt `data`; expects `OK`.
async fn upload(host: &HostLine, command: &str, data: &[u8]) {
    host.send(command);
    host.expect(b"\r\nOK\r\n\r\n>").await;
    host.send_bytes(data);
    let reply = host.expect(OK).await;
    assert_eq!(support::count(&reply, b"ERROR"), 0, "{}", show(&reply));
}

/// Expects `reply` to end in one `ERROR` with `code`.
fn refused_with(reply: &[u8], code: u32) {
    let expected = format!("ERR CODE:0x{code:08x}\r\n\r\nERROR\r\n");
    assert!(
        reply.ends_with(expected.as_bytes()),
        "expected code {code:#010x}: {}",
        show(reply)
    );
    assert_eq!(support::count(reply, b"ERROR"), 1, "{}", show(reply));
}

/// The modem still answers at once.
async fn usable(host: &HostLine) {
    let reply = host.exchange("AT", OK).await;
    assert!(!reply.windows(4).any(|w| w == b"busy"), "{}", show(&reply));
}

/// `AT+MQTTCERT?`'s item lines.
async fn listed(host: &HostLine) -> String {
    let reply = host.exchange("AT+MQTTCERT?", OK).await;
    let text = String::from_utf8_lossy(&reply);
    let lines = text.strip_suffix("\r\nOK\r\n").expect("ends with OK");
    lines.trim_end().to_owned()
}

#[test]
fn mqttcert_uploads_pem_and_der_lists_and_erases() {
    scenario(
        Profile::Seed,
        &Broker::new(),
        Store::new(),
        async |host, _| {
            start(&host).await;
            assert_eq!(listed(&host).await, "", "nothing stored yet");
            let cert_pem = format!("AT+MQTTCERT=\"ca\",0,{}", CERT_PEM.len());
            upload(&host, &cert_pem, CERT_PEM).await;
            let cert_der = format!("AT+MQTTCERT=\"cert\",2,{}", CERT_DER.len());
            upload(&host, &cert_der, CERT_DER).await;
            let key = format!("AT+MQTTCERT=\"key\",2,{}", KEY_PKCS8_PEM.len());
            upload(&host, &key, KEY_PKCS8_PEM).await;
            // Stored as DER; the key as the SEC1 key inside the PKCS#8 one (109 bytes: the
            // curve is named outside it), from a 241-byte PEM.
            let expected = format!(
                "+MQTTCERT:\"ca\",0,{0}\r\n+MQTTCERT:\"cert\",2,{0}\r\n+MQTTCERT:\"key\",2,109",
                CERT_DER.len(),
            );
            assert_eq!(listed(&host).await, expected);

            host.exchange("AT+MQTTCERT=\"cert\",2,0", OK).await;
            host.exchange("AT+MQTTCERT=\"cert\",3,0", OK).await;
            let expected = format!(
                "+MQTTCERT:\"ca\",0,{}\r\n+MQTTCERT:\"key\",2,109",
                CERT_DER.len(),
            );
            assert_eq!(
                listed(&host).await,
                expected,
                "only the erased item is gone"
            );
        },
    );
}

#[test]
fn sysmfg_writes_reads_and_erases_the_mqtt_namespaces() {
    scenario(
        Profile::EspAt,
        &Broker::new(),
        Store::new(),
        async |host, _| {
            start(&host).await;
            let reply = host.exchange("AT+SYSMFG?", OK).await;
            assert_eq!(
            reply,
            b"+SYSMFG:\"mqtt_ca\"\r\n+SYSMFG:\"mqtt_cert\"\r\n+SYSMFG:\"mqtt_key\"\r\n\r\nOK\r\n"
        );
            let write = format!("AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca.1\",8,{}", CERT_PEM.len());
            upload(&host, &write, CERT_PEM).await;
            let write = format!(
                "AT+SYSMFG=2,\"mqtt_key\",\"mqtt_key.0\",8,{}",
                KEY_SEC1_DER.len()
            );
            upload(&host, &write, KEY_SEC1_DER).await;

            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca.1""#, OK)
                .await;
            let mut expected =
                format!("+SYSMFG:\"mqtt_ca\",\"mqtt_ca.1\",8,{},", CERT_DER.len()).into_bytes();
            expected.extend_from_slice(CERT_DER);
            expected.extend_from_slice(b"\r\n\r\nOK\r\n");
            assert_eq!(reply, expected, "the PEM upload reads back as its DER");
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca.1",2,4"#, OK)
                .await;
            let mut expected = b"+SYSMFG:\"mqtt_ca\",\"mqtt_ca.1\",8,4,".to_vec();
            expected.extend_from_slice(&CERT_DER[2..6]);
            expected.extend_from_slice(b"\r\n\r\nOK\r\n");
            assert_eq!(reply, expected, "offset and length");

            host.exchange(r#"AT+SYSMFG=0,"mqtt_ca","mqtt_ca.1""#, OK)
                .await;
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca.1""#, ERROR)
                .await;
            refused_with(&reply, 0x010a_0005);
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_key","mqtt_key.0""#, OK)
                .await;
            assert!(reply.starts_with(b"+SYSMFG:\"mqtt_key\",\"mqtt_key.0\",8,121,"));
            host.exchange(r#"AT+SYSMFG=0,"mqtt_key""#, OK).await;
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_key","mqtt_key.0""#, ERROR)
                .await;
            refused_with(&reply, 0x010a_0005);
            usable(&host).await;
        },
    );
}

/// Uploads that are refused after the data: the code, and the old item kept.
#[test]
fn malformed_items_are_refused_after_the_data_and_store_nothing() {
    let refusals: &[(&str, &[u8], u32)] = &[
        (
            r#"AT+MQTTCERT="ca",0,{}"#,
            b"not a certificate",
            0x010a_6022,
        ),
        (r#"AT+MQTTCERT="ca",0,{}"#, KEY_SEC1_DER, 0x010a_6022),
        (r#"AT+MQTTCERT="cert",0,{}"#, KEY_PKCS8_PEM, 0x010a_6024),
        (r#"AT+MQTTCERT="cert",0,{}"#, &CERT_DER[..200], 0x010a_6024),
        (r#"AT+MQTTCERT="key",0,{}"#, CERT_PEM, 0x010a_6026),
        (
            r#"AT+MQTTCERT="key",0,{}"#,
            b"\x30\x03\x02\x01\x01",
            0x010a_6026,
        ),
        (
            r#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca.0",8,{}"#,
            b"-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n",
            0x010a_6022,
        ),
    ];
    scenario(
        Profile::Seed,
        &Broker::new(),
        Store::new(),
        async |host, _| {
            start(&host).await;
            for (kind, item) in [("ca", CERT_DER), ("cert", CERT_DER), ("key", KEY_SEC1_DER)] {
                let line = format!("AT+MQTTCERT=\"{kind}\",0,{}", item.len());
                upload(&host, &line, item).await;
            }
            let before = listed(&host).await;
            for &(command, data, code) in refusals {
                host.send(&command.replace("{}", &data.len().to_string()));
                host.expect(b">").await;
                host.send_bytes(data);
                refused_with(&host.expect(ERROR).await, code);
                usable(&host).await;
            }
            assert_eq!(listed(&host).await, before, "the old items are kept");
        },
    );
}

/// Commands refused before the prompt: the code, no `>`.
#[test]
fn bad_parameters_are_refused_without_a_prompt() {
    let refusals: &[(&str, u32)] = &[
        (r#"AT+MQTTCERT="ca",0,1025"#, 0x010a_6021),
        (r#"AT+MQTTCERT="cert",0,2000"#, 0x010a_6023),
        (r#"AT+MQTTCERT="key",0,1025"#, 0x010a_6025),
        (r#"AT+MQTTCERT="ca",4,100"#, 0x010a_6020),
        (r#"AT+MQTTCERT="key",9,100"#, 0x010a_601e),
        (r#"AT+MQTTCERT="ca",x,100"#, 0x010a_601f),
        (r#"AT+MQTTCERT="psk",0,100"#, 0x0107_0000),
        (r#"AT+MQTTCERT="ca",0"#, 0x0106_0302),
        (r#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca.0",8,0"#, 0x010a_6021),
        (r#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca.0",8,1025"#, 0x010a_6021),
        (r#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca.0",7,100"#, 0x0107_0000),
        (
            r#"AT+SYSMFG=2,"client_ca","client_ca.0",8,100"#,
            0x0107_0000,
        ),
        (r#"AT+SYSMFG=2,"mqtt_ca","mqtt_cert.0",8,100"#, 0x0107_0000),
        (
            r#"AT+SYSMFG=2,"mqtt_cert","mqtt_cert.x",8,100"#,
            0x010a_601d,
        ),
        (r#"AT+SYSMFG=2,"mqtt_ca","mqtt_ca.4",8,100"#, 0x010a_6020),
        (r#"AT+SYSMFG=3,"mqtt_ca","mqtt_ca.0",8,100"#, 0x0107_0000),
        (r#"AT+SYSMFG=1,"mqtt_ca""#, 0x0108_0000),
    ];
    scenario(
        Profile::EspAt,
        &Broker::new(),
        Store::new(),
        async |host, _| {
            start(&host).await;
            for &(command, code) in refusals {
                let reply = host.exchange(command, ERROR).await;
                assert!(
                    !reply.contains(&b'>'),
                    "{command}: no prompt: {}",
                    show(&reply)
                );
                refused_with(&reply, code);
                usable(&host).await;
            }
        },
    );
}

#[test]
fn data_that_stops_short_is_refused_at_the_raw_data_timeout() {
    scenario(
        Profile::Seed,
        &Broker::new(),
        Store::new(),
        async |host, _| {
            start(&host).await;
            host.send(r#"AT+MQTTCERT="key",1,121"#);
            host.expect(b">").await;
            host.send_bytes(&KEY_SEC1_DER[..60]);
            refused_with(&host.expect(ERROR).await, 0x010a_6026);
            usable(&host).await;
            assert_eq!(listed(&host).await, "");
        },
    );
}

#[test]
fn a_modem_without_a_store_refuses_uploads_as_having_no_room() {
    scenario(
        Profile::Seed,
        &Broker::new(),
        NoCredentials,
        async |host, _| {
            start(&host).await;
            host.send(&format!("AT+MQTTCERT=\"ca\",0,{}", CERT_DER.len()));
            host.expect(b">").await;
            host.send_bytes(CERT_DER);
            refused_with(&host.expect(ERROR).await, 0x010a_6021);
            usable(&host).await;
        },
    );
}

#[test]
fn an_upload_while_connected_keeps_the_link() {
    scenario(
        Profile::Seed,
        &Broker::new(),
        Store::new(),
        async |host, broker| {
            start(&host).await;
            host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
                .await;
            let reply = host.exchange(r#"AT+MQTTCONN=0,"broker",1883,0"#, OK).await;
            assert!(reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"));
            let line = format!("AT+MQTTCERT=\"ca\",0,{}", CERT_PEM.len());
            upload(&host, &line, CERT_PEM).await;
            assert_eq!(
                listed(&host).await,
                format!("+MQTTCERT:\"ca\",0,{}", CERT_DER.len())
            );
            host.exchange(r#"AT+MQTTPUB=0,"after/upload","still up",1,0"#, OK)
                .await;
            let published = broker.sent().into_iter().any(|sent| {
                sent == Sent::Publish {
                    topic: "after/upload".into(),
                    payload: b"still up".to_vec(),
                    qos: 1,
                }
            });
            assert!(published, "{:?}", broker.sent());
            let reply = host.exchange("AT+MQTTCONN?", OK).await;
            assert!(
                reply.starts_with(b"+MQTTCONN:0,connected"),
                "{}",
                show(&reply)
            );
        },
    );
}

#[test]
fn credentials_uploaded_over_at_serve_a_scheme_5_connect() {
    let ca = pki::ca("test CA");
    let server = pki::issue(
        &ca,
        &Spec {
            dns: &["broker"],
            ..Spec::named("broker")
        },
    );
    let client = pki::issue(&ca, &Spec::named("modem"));
    let seen = Seen::default();
    let broker = Broker::tls_with(pki::server(&server, &[], Some(&ca.cert), &seen));
    let uploads = [
        ("ca", ca.cert.to_pem().expect("PEM")),
        ("cert", client.cert.to_pem().expect("PEM")),
        ("key", client.key.private_key_to_pem_pkcs8().expect("PEM")),
    ];
    scenario(Profile::Seed, &broker, Store::new(), async |host, _| {
        start(&host).await;
        for (kind, item) in &uploads {
            let line = format!("AT+MQTTCERT=\"{kind}\",1,{}", item.len());
            upload(&host, &line, item).await;
        }
        host.exchange(r#"AT+MQTTUSERCFG=0,5,"mock","","",1,1,"""#, OK)
            .await;
        let reply = host.exchange(r#"AT+MQTTCONN=0,"broker",8883,0"#, OK).await;
        assert!(
            reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"),
            "{}",
            show(&reply)
        );
    });
}

type Flash = FlashCredentials<SimulatedFlash, 1100>;

fn flash_store(flash: SimulatedFlash) -> Flash {
    Flash::new(flash, RANGE).expect("a valid range")
}

/// The flash store across modem power-ons: an upload stays; a power cut in the middle of
/// replacing it (the store fails, `0x010A0004`) leaves the old item after the next
/// power-on, and the modem answers meanwhile.
#[test]
fn the_flash_store_keeps_uploads_across_power_ons_and_power_cuts() {
    let mut store = flash_store(SimulatedFlash::erased());
    scenario(
        Profile::EspAt,
        &Broker::new(),
        &mut store,
        async |host, _| {
            start(&host).await;
            let write = format!("AT+SYSMFG=2,\"mqtt_ca\",\"mqtt_ca.0\",8,{}", CERT_PEM.len());
            upload(&host, &write, CERT_PEM).await;
        },
    );

    let mut flash = store.into_flash();
    // The next write loses power after a few words.
    flash.budget = Some(40);
    let mut store = flash_store(flash);
    scenario(
        Profile::Seed,
        &Broker::new(),
        &mut store,
        async |host, _| {
            start(&host).await;
            assert_eq!(
                listed(&host).await,
                format!("+MQTTCERT:\"ca\",0,{}", CERT_DER.len()),
                "kept across the power-on"
            );
            let line = format!("AT+MQTTCERT=\"ca\",0,{}", KEY_SEC1_DER.len());
            // A key is not a CA: refused before the store is touched.
            host.send(&line);
            host.expect(b">").await;
            host.send_bytes(KEY_SEC1_DER);
            refused_with(&host.expect(ERROR).await, 0x010a_6022);
            let line = format!("AT+MQTTCERT=\"cert\",0,{}", CERT_DER.len());
            host.send(&line);
            host.expect(b">").await;
            host.send_bytes(CERT_DER);
            refused_with(&host.expect(ERROR).await, 0x010a_0004);
            usable(&host).await;
        },
    );

    let mut flash = store.into_flash();
    flash.budget = None;
    let mut store = flash_store(flash);
    scenario(
        Profile::EspAt,
        &Broker::new(),
        &mut store,
        async |host, _| {
            start(&host).await;
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_ca","mqtt_ca.0""#, OK)
                .await;
            let mut expected =
                format!("+SYSMFG:\"mqtt_ca\",\"mqtt_ca.0\",8,{},", CERT_DER.len()).into_bytes();
            expected.extend_from_slice(CERT_DER);
            expected.extend_from_slice(b"\r\n\r\nOK\r\n");
            assert_eq!(reply, expected, "the CA survived the cut write");
            let reply = host
                .exchange(r#"AT+SYSMFG=1,"mqtt_cert","mqtt_cert.0""#, ERROR)
                .await;
            refused_with(&reply, 0x010a_0005);
            // The store takes writes again.
            let line = format!("AT+MQTTCERT=\"cert\",0,{}", CERT_DER.len());
            upload(&host, &line, CERT_DER).await;
        },
    );
}
