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

use std::future::pending;

use at_core::Config;
use at_core::mock::{block_on, show};
use at_mqtt::credentials::{CredentialKind, CredentialStore, RamCredentials};
use at_mqtt::{Modem, ModemResources, Options};
use embassy_futures::select::{Either, select};
use support::pki::{self, Seen, Spec};
use support::{Broker, HostLine, MockNetwork};

const OK: &[u8] = b"\r\nOK\r\n";
const ERROR: &[u8] = b"\r\nERROR\r\n";

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
    let host = HostLine::new();
    let mut resources = Box::new(ModemResources::<2048, 1024, 2048, 1024, 4>::new());
    let (mut rx, mut tx) = host.uart();
    let mut rng = rand_core::OsRng;
    let options = Options::new(at_core::Profile::Seed);
    let mut modem = Modem::with_options(
        &mut resources,
        Config::new("mock"),
        options,
        MockNetwork(broker.clone()),
        (),
    )
    .with_credentials(store)
    .with_tls_psk(&mut rng);
    block_on(async {
        let script = async {
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
        };
        match select(modem.run_once(&mut rx, &mut tx, pending()), script).await {
            Either::First(stop) => panic!("the modem stopped: {stop:?}"),
            Either::Second(()) => {}
        }
    });
}
