//! A scheme that verifies the server while the modem does not know the time: refused
//! with `0x6062` before any connection, the modem usable after it (a test binary of its
//! own: the modem's wall time is one per process, and no other test here sets it).

#![allow(missing_docs, reason = "test crate")]
#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    reason = "tests fail by panicking; test data is built from small integers"
)]

mod support;

use at_core::Config;
use at_core::mock::{block_on, show};
use at_mqtt::Options;
use at_mqtt::credentials::{CredentialKind, CredentialStore, RamCredentials};
use support::Broker;
use support::pki::{self, Seen, Spec};
use support::run::{ERROR, OK, run_modem};

#[test]
fn verifying_a_server_needs_the_time() {
    assert_eq!(at_mqtt::setup::wall_time(), None, "no clock was set");
    let ca = pki::ca("test CA");
    let server = pki::issue(
        &ca,
        &Spec {
            dns: &["broker"],
            ..Spec::named("broker")
        },
    );
    let broker = Broker::tls_with(pki::server(&server, &[], None, &Seen::default()));
    let mut store = RamCredentials::<1024, 2>::new();
    block_on(store.store(CredentialKind::Ca, 0, &ca.der())).expect("store");
    let options = Options::new(at_core::Profile::Seed);
    run_modem(
        &broker,
        Config::new("mock"),
        options,
        store,
        async |host, broker| {
            host.exchange("ATE0", OK).await;
            host.exchange("AT+SYSLOG=1", OK).await;
            for scheme in [3, 5] {
                let line = format!("AT+MQTTUSERCFG=0,{scheme},\"mock\",\"\",\"\",0,0,\"\"");
                host.exchange(&line, OK).await;
                let reply = host
                    .exchange(r#"AT+MQTTCONN=0,"broker",8883,0"#, ERROR)
                    .await;
                assert_eq!(
                    reply,
                    b"ERR CODE:0x010a6062\r\n\r\nERROR\r\n",
                    "{}",
                    show(&reply)
                );
                host.exchange("AT", OK).await;
            }
            assert_eq!(broker.connects(), 0, "no connection was opened");
        },
    );
}
