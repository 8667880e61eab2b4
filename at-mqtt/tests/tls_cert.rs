//! The certificate schemes at unit level: the real modem (engine, runner, embedded-tls
//! with its RustCrypto verifier) against OpenSSL TLS 1.3 servers over the mock network,
//! with certificates made by OpenSSL at test time. Schemes 3, 4 and 5, the esp-at
//! profile's scheme 2, SNI and ALPN, P-384 chains of Let's Encrypt's shape (feature
//! `tls-p384`), and every refusal code (under `AT+SYSLOG=1`), each followed by a command
//! that shows the modem still usable.

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

use at_core::mock::{block_on, show};
use at_core::{Config, Profile};
use at_mqtt::credentials::{CredentialKind, CredentialStore, RamCredentials};
use openssl::nid::Nid;
use support::pki::{self, Curve, Issued, Seen, Spec};
use support::run::{ERROR, OK, run_modem};
use support::{Broker, HostLine, Sent};

type Store = RamCredentials<2048, 12>;

/// Fills a store.
fn store(items: &[(CredentialKind, u8, Vec<u8>)]) -> Store {
    let mut store = Store::new();
    block_on(async {
        for (kind, index, der) in items {
            store.store(*kind, *index, der).await.expect("store");
        }
    });
    store
}

/// Runs `script` against a modem with `credentials`, whose connections reach `broker`.
fn scenario(
    profile: Profile,
    broker: &Broker,
    credentials: Store,
    script: impl AsyncFnOnce(HostLine, Broker),
) {
    pki::set_modem_clock();
    let config = Config::new("mock").with_profile(profile);
    let options = support::run::options(profile, pki::HANDSHAKE_BOUND);
    run_modem(broker, config, options, credentials, script);
}

/// The test PKI: a CA, a server certificate for `broker` and 127.0.0.1, a client
/// certificate.
struct Pki {
    ca: Issued,
    server: Issued,
    client: Issued,
}

fn pki() -> Pki {
    let ca = pki::ca("test CA");
    let server = pki::issue(
        &ca,
        &Spec {
            dns: &["broker"],
            ips: &["127.0.0.1"],
            ..Spec::named("broker")
        },
    );
    let client = pki::issue(&ca, &Spec::named("modem"));
    Pki { ca, server, client }
}

impl Pki {
    /// A TLS broker presenting the server certificate, recording what it sees in `seen`.
    fn broker(&self, seen: &Seen) -> Broker {
        Broker::tls_with(pki::server(&self.server, &[], None, seen))
    }

    /// A TLS broker presenting the server certificate that requires a client
    /// certificate of the test CA.
    fn client_checking_broker(&self) -> Broker {
        Broker::tls_with(pki::server(
            &self.server,
            &[],
            Some(&self.ca.cert),
            &Seen::default(),
        ))
    }
}

/// A store with the CA at `CA_ID` 0 and the client certificate and key at 0.
fn full_store(pki: &Pki) -> Store {
    store(&[
        (CredentialKind::Ca, 0, pki.ca.der()),
        (CredentialKind::ClientCert, 0, pki.client.der()),
        (CredentialKind::ClientKey, 0, pki.client.key_sec1()),
    ])
}

/// Echo and the code lines on, then `AT+MQTTUSERCFG` with `scheme`.
async fn configure(host: &HostLine, scheme: u8, cert_key_id: u8, ca_id: u8) {
    host.exchange("ATE0", OK).await;
    host.exchange("AT+SYSLOG=1", OK).await;
    let line = format!("AT+MQTTUSERCFG=0,{scheme},\"mock\",\"\",\"\",{cert_key_id},{ca_id},\"\"");
    host.exchange(&line, OK).await;
}

/// `AT+MQTTCONN` to `host` succeeds.
async fn connects(host: &HostLine, to: &str) {
    let reply = host
        .exchange(&format!("AT+MQTTCONN=0,\"{to}\",8883,0"), OK)
        .await;
    assert!(
        reply.ends_with(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n")
            || reply.ends_with(b"\"8883\",\"\",0\r\n\r\nOK\r\n"),
        "{}",
        show(&reply)
    );
}

/// `AT+MQTTCONN` to `to` ends in one `ERROR` with `code`; the modem is usable after it.
async fn refused(host: &HostLine, to: &str, code: u16) {
    let reply = host
        .exchange(&format!("AT+MQTTCONN=0,\"{to}\",8883,0"), ERROR)
        .await;
    let expected = format!("ERR CODE:0x010a{code:04x}\r\n\r\nERROR\r\n");
    assert!(
        reply.ends_with(expected.as_bytes()),
        "expected code {code:#06x}: {}",
        show(&reply)
    );
    assert_eq!(support::count(&reply, b"ERROR"), 1, "{}", show(&reply));
    usable(host).await;
}

/// Scheme 3 against `broker` with the CA `wrong` (`CA_ID` 0) is refused as untrusted
/// (`0x6060`); the same modem then connects with `right` (`CA_ID` 1).
fn untrusted_then_trusted(broker: &Broker, wrong: Vec<u8>, right: Vec<u8>) {
    let store = store(&[
        (CredentialKind::Ca, 0, wrong),
        (CredentialKind::Ca, 1, right),
    ]);
    scenario(Profile::Seed, broker, store, async |host, _| {
        configure(&host, 3, 0, 0).await;
        refused(&host, "broker", 0x6060).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,3,"mock","","",0,1,"""#, OK)
            .await;
        connects(&host, "broker").await;
    });
}

/// The modem answers, and is disconnected.
async fn usable(host: &HostLine) {
    host.exchange("AT", OK).await;
    let reply = host.exchange("AT+MQTTCONN?", OK).await;
    assert!(!reply.windows(4).any(|w| w == b"busy"), "{}", show(&reply));
}

/// Publishes at every QoS and receives at every QoS over the link.
async fn carries_messages(host: &HostLine, broker: &Broker) {
    for qos in 0..=2u8 {
        let reply = host
            .exchange(&format!("AT+MQTTSUB=0,\"in/{qos}\",{qos}"), OK)
            .await;
        assert_eq!(reply, OK, "{}", show(&reply));
        host.exchange(
            &format!("AT+MQTTPUB=0,\"out/{qos}\",\"m{qos}\",{qos},0"),
            OK,
        )
        .await;
        broker.publish(&format!("in/{qos}"), format!("r{qos}").as_bytes());
        host.expect(format!("+MQTTSUBRECV:0,\"in/{qos}\",2,r{qos}\r\n").as_bytes())
            .await;
    }
    for qos in 0..=2u8 {
        let published = broker.sent().into_iter().any(|sent| {
            sent == Sent::Publish {
                topic: format!("out/{qos}"),
                payload: format!("m{qos}").into_bytes(),
                qos,
            }
        });
        assert!(published, "QoS {qos}: {:?}", broker.sent());
    }
}

#[test]
fn scheme_3_verifies_the_server_and_carries_every_qos() {
    let pki = pki();
    let seen = Seen::default();
    let broker = pki.broker(&seen);
    scenario(
        Profile::Seed,
        &broker,
        full_store(&pki),
        async |host, broker| {
            configure(&host, 3, 0, 0).await;
            connects(&host, "broker").await;
            carries_messages(&host, &broker).await;
            assert_eq!(seen.sni().as_deref(), Some("broker"), "the host is the SNI");
            assert_eq!(seen.alpn(), None, "no ALPN unless set");
        },
    );
}

#[test]
fn scheme_3_refuses_a_server_of_another_ca() {
    let pki = pki();
    let other = pki::ca("other CA");
    let server = pki::issue(
        &other,
        &Spec {
            dns: &["broker"],
            ..Spec::named("broker")
        },
    );
    let broker = Broker::tls_with(pki::server(&server, &[], None, &Seen::default()));
    untrusted_then_trusted(&broker, pki.ca.der(), other.der());
}

#[test]
fn scheme_3_refuses_an_expired_or_not_yet_valid_server() {
    let pki = pki();
    for (from_days, to_days) in [(-30, -1), (2, 30)] {
        let server = pki::issue(
            &pki.ca,
            &Spec {
                dns: &["broker"],
                from_days,
                to_days,
                ..Spec::named("broker")
            },
        );
        let broker = Broker::tls_with(pki::server(&server, &[], None, &Seen::default()));
        scenario(Profile::Seed, &broker, full_store(&pki), async |host, _| {
            configure(&host, 3, 0, 0).await;
            refused(&host, "broker", 0x6061).await;
        });
    }
}

#[test]
fn scheme_3_refuses_a_wrong_host_name() {
    let pki = pki();
    let broker = pki.broker(&Seen::default());
    scenario(Profile::Seed, &broker, full_store(&pki), async |host, _| {
        configure(&host, 3, 0, 0).await;
        refused(&host, "elsewhere.example", 0x6052).await;
        // An IP address the certificate does not carry.
        refused(&host, "127.0.0.2", 0x6052).await;
        connects(&host, "broker").await;
    });
}

#[test]
fn scheme_3_checks_an_ip_host_against_the_address_names_and_sends_no_sni() {
    let pki = pki();
    let seen = Seen::default();
    let broker = pki.broker(&seen);
    scenario(Profile::Seed, &broker, full_store(&pki), async |host, _| {
        configure(&host, 3, 0, 0).await;
        connects(&host, "127.0.0.1").await;
        assert_eq!(seen.sni(), None, "no server name for an address (RFC 6066)");
    });
}

#[test]
fn sni_is_sent_and_verified_instead_of_the_host_and_alpn_is_offered() {
    let pki = pki();
    let seen = Seen::default();
    let broker = pki.broker(&seen);
    scenario(
        Profile::EspAt,
        &broker,
        full_store(&pki),
        async |host, _| {
            configure(&host, 3, 0, 0).await;
            host.exchange(r#"AT+MQTTSNI=0,"broker""#, OK).await;
            host.exchange(r#"AT+MQTTALPN=0,2,"mqtt","x-amzn-mqtt-ca""#, OK)
                .await;
            // The connect host names a different machine; the SNI is what is checked.
            connects(&host, "10.9.8.7").await;
            assert_eq!(seen.sni().as_deref(), Some("broker"));
            assert_eq!(
                seen.alpn().as_deref(),
                Some(&b"\x04mqtt\x0ex-amzn-mqtt-ca"[..])
            );
            host.exchange("AT+MQTTCLEAN=0", OK).await;
            // A wrong SNI is refused like a wrong host.
            configure(&host, 3, 0, 0).await;
            host.exchange(r#"AT+MQTTSNI=0,"not-the-broker""#, OK).await;
            refused(&host, "broker", 0x6052).await;
        },
    );
}

#[test]
fn sni_and_alpn_commands_check_their_parameters() {
    let broker = Broker::new();
    scenario(Profile::EspAt, &broker, Store::new(), async |host, _| {
        host.exchange("ATE0", OK).await;
        host.exchange("AT+SYSLOG=1", OK).await;
        let before = host.exchange(r#"AT+MQTTSNI=0,"broker""#, ERROR).await;
        assert!(
            before.starts_with(b"ERR CODE:0x010a6001"),
            "{}",
            show(&before)
        );
        host.exchange(r#"AT+MQTTUSERCFG=0,1,"mock","","",0,0,"""#, OK)
            .await;
        let long = format!("AT+MQTTSNI=0,\"{}\"", "a".repeat(65));
        let reply = host.exchange(&long, ERROR).await;
        assert!(
            reply.starts_with(b"ERR CODE:0x010a6065"),
            "{}",
            show(&reply)
        );
        host.exchange(&format!("AT+MQTTSNI=0,\"{}\"", "a".repeat(64)), OK)
            .await;
        for bad in [
            r#"AT+MQTTALPN=0,6,"a","b","c","d","e","f""#,
            r#"AT+MQTTALPN=0,2,"mqtt""#,
            r#"AT+MQTTALPN=0,1,"mqtt","extra""#,
            r#"AT+MQTTALPN=0,1,"""#,
        ] {
            host.exchange(bad, ERROR).await;
        }
        host.exchange(r#"AT+MQTTALPN=0,1,"mqtt""#, OK).await;
        host.exchange("AT+MQTTALPN=0,0", OK).await;
        host.exchange("AT+MQTTSNI=1,\"x\"", ERROR).await;
        usable(&host).await;
    });
}

#[test]
fn scheme_3_without_a_stored_ca_is_refused_before_connecting() {
    let pki = pki();
    let broker = pki.broker(&Seen::default());
    scenario(
        Profile::Seed,
        &broker,
        Store::new(),
        async |host, broker| {
            configure(&host, 3, 0, 2).await;
            refused(&host, "broker", 0x6022).await;
            assert_eq!(broker.connects(), 0, "no connection was opened");
        },
    );
}

#[test]
fn cert_key_id_and_ca_id_are_store_indexes() {
    let broker = Broker::new();
    scenario(Profile::Seed, &broker, Store::new(), async |host, _| {
        host.exchange("ATE0", OK).await;
        host.exchange("AT+SYSLOG=1", OK).await;
        for (line, code) in [
            (r#"AT+MQTTUSERCFG=0,3,"mock","","",0,4,"""#, "6020"),
            (r#"AT+MQTTUSERCFG=0,4,"mock","","",4,0,"""#, "601e"),
            (r#"AT+MQTTUSERCFG=0,6,"mock","","",0,0,"""#, "6013"),
        ] {
            let reply = host.exchange(line, ERROR).await;
            let expected = format!("ERR CODE:0x010a{code}");
            assert!(
                reply.starts_with(expected.as_bytes()),
                "{line}: {}",
                show(&reply)
            );
        }
        host.exchange(r#"AT+MQTTUSERCFG=0,5,"mock","","",3,3,"""#, OK)
            .await;
    });
}

#[test]
fn scheme_4_presents_the_client_certificate_to_a_server_that_requires_one() {
    let pki = pki();
    // The server's certificate is from a CA the modem does not hold: scheme 4 does not
    // verify the server.
    let other = pki::ca("other CA");
    let server = pki::issue(&other, &Spec::named("whoever"));
    let broker = Broker::tls_with(pki::server(
        &server,
        &[],
        Some(&pki.ca.cert),
        &Seen::default(),
    ));
    scenario(
        Profile::Seed,
        &broker,
        full_store(&pki),
        async |host, broker| {
            configure(&host, 4, 0, 0).await;
            connects(&host, "broker").await;
            carries_messages(&host, &broker).await;
        },
    );
}

#[test]
fn scheme_4_takes_a_pkcs8_key_too() {
    let pki = pki();
    let broker = pki.client_checking_broker();
    let store = store(&[
        (CredentialKind::ClientCert, 1, pki.client.der()),
        (CredentialKind::ClientKey, 1, pki.client.key_pkcs8()),
    ]);
    scenario(Profile::Seed, &broker, store, async |host, _| {
        configure(&host, 4, 1, 0).await;
        connects(&host, "broker").await;
    });
}

/// In TLS 1.3 the server checks the client's certificate after the client's Finished:
/// the modem's handshake has ended, and the server's alert closes the link before
/// CONNACK (`0x600B`, as any connection lost before CONNACK).
#[test]
fn a_server_that_requires_a_client_certificate_refuses_scheme_3() {
    let pki = pki();
    let broker = pki.client_checking_broker();
    scenario(
        Profile::Seed,
        &broker,
        full_store(&pki),
        async |host, broker| {
            configure(&host, 3, 0, 0).await;
            refused(&host, "broker", 0x600b).await;
            assert!(broker.tls_failed(), "the server refused the handshake");
        },
    );
}

/// As above: the server refuses after the modem's handshake ended.
#[test]
fn a_client_certificate_of_another_ca_is_refused_by_the_server() {
    let pki = pki();
    let other = pki::ca("other CA");
    let stranger = pki::issue(&other, &Spec::named("stranger"));
    let broker = pki.client_checking_broker();
    let store = store(&[
        (CredentialKind::Ca, 0, pki.ca.der()),
        (CredentialKind::ClientCert, 0, stranger.der()),
        (CredentialKind::ClientKey, 0, stranger.key_sec1()),
    ]);
    scenario(Profile::Seed, &broker, store, async |host, _| {
        configure(&host, 5, 0, 0).await;
        refused(&host, "broker", 0x600b).await;
        assert!(broker.tls_failed(), "the server refused the handshake");
    });
}

#[test]
fn scheme_4_without_a_client_certificate_or_key_is_refused() {
    let pki = pki();
    let broker = pki.client_checking_broker();
    let store = store(&[
        (CredentialKind::ClientCert, 0, pki.client.der()),
        (CredentialKind::ClientKey, 1, pki.client.key_sec1()),
        (CredentialKind::ClientCert, 2, pki.client.der()),
        (CredentialKind::ClientKey, 2, b"not a key".to_vec()),
    ]);
    scenario(Profile::Seed, &broker, store, async |host, broker| {
        configure(&host, 4, 0, 0).await;
        refused(&host, "broker", 0x6026).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,4,"mock","","",1,0,"""#, OK)
            .await;
        refused(&host, "broker", 0x6024).await;
        host.exchange(r#"AT+MQTTUSERCFG=0,4,"mock","","",2,0,"""#, OK)
            .await;
        refused(&host, "broker", 0x6026).await;
        assert_eq!(broker.connects(), 0, "no connection was opened");
    });
}

#[test]
fn scheme_5_verifies_the_server_and_presents_the_client_certificate() {
    let pki = pki();
    let broker = pki.client_checking_broker();
    scenario(
        Profile::EspAt,
        &broker,
        full_store(&pki),
        async |host, broker| {
            configure(&host, 5, 0, 0).await;
            connects(&host, "broker").await;
            carries_messages(&host, &broker).await;
        },
    );
}

#[test]
fn esp_at_scheme_2_does_not_verify_the_server() {
    let other = pki::ca("other CA");
    let server = pki::issue(
        &other,
        &Spec {
            from_days: -30,
            to_days: -1,
            ..Spec::named("whoever")
        },
    );
    let broker = Broker::tls_with(pki::server(&server, &[], None, &Seen::default()));
    scenario(Profile::EspAt, &broker, Store::new(), async |host, _| {
        configure(&host, 2, 0, 0).await;
        connects(&host, "broker").await;
    });
}

#[test]
fn a_chain_through_an_intermediate_is_verified() {
    let pki = pki();
    let intermediate = pki::issue_ca(&pki.ca, "intermediate");
    let server = pki::issue(
        &intermediate,
        &Spec {
            dns: &["broker"],
            ..Spec::named("broker")
        },
    );
    let broker = Broker::tls_with(pki::server(
        &server,
        &[&intermediate.cert],
        None,
        &Seen::default(),
    ));
    scenario(Profile::Seed, &broker, full_store(&pki), async |host, _| {
        configure(&host, 3, 0, 0).await;
        connects(&host, "broker").await;
    });
}

#[test]
fn a_server_chain_larger_than_the_buffers_fails_cleanly() {
    let pki = pki();
    let names: Vec<String> = (0..120)
        .map(|i| format!("name-{i:03}.broker.example"))
        .collect();
    let mut dns: Vec<&str> = names.iter().map(String::as_str).collect();
    dns.insert(0, "broker");
    let server = pki::issue(
        &pki.ca,
        &Spec {
            dns: &dns,
            ..Spec::named("broker")
        },
    );
    assert!(server.der().len() > at_mqtt::budget::TLS_SERVER_CHAIN_BYTES);
    let broker = Broker::tls_with(pki::server(&server, &[], None, &Seen::default()));
    scenario(Profile::Seed, &broker, full_store(&pki), async |host, _| {
        configure(&host, 3, 0, 0).await;
        refused(&host, "broker", 0x6063).await;
    });
}

/// A chain of Let's Encrypt's ECDSA shape: a P-384 root (as ISRG Root X2), a P-384
/// intermediate it signs (as E5..E9), a server key on `leaf` the intermediate signs, all
/// with ECDSA SHA-384.
struct P384Chain {
    root: Issued,
    intermediate: Issued,
    server: Issued,
}

fn p384_chain(leaf: Curve) -> P384Chain {
    let root = pki::ca_on(Curve::P384, "root X2");
    let intermediate = pki::issue_ca_on(&root, Curve::P384, "E5");
    let server = pki::issue(
        &intermediate,
        &Spec {
            dns: &["broker"],
            curve: leaf,
            ..Spec::named("broker")
        },
    );
    for issued in [&root, &intermediate, &server] {
        assert_eq!(
            issued.cert.signature_algorithm().object().nid(),
            Nid::ECDSA_WITH_SHA384,
            "signed with ECDSA SHA-384"
        );
    }
    assert_eq!(Curve::of(&intermediate.key), Curve::P384);
    assert_eq!(Curve::of(&server.key), leaf);
    P384Chain {
        root,
        intermediate,
        server,
    }
}

impl P384Chain {
    /// A broker presenting the server certificate and the intermediate, and `extra`
    /// after them.
    fn broker(&self, extra: &[&openssl::x509::X509]) -> Broker {
        let mut chain = vec![&self.intermediate.cert];
        chain.extend_from_slice(extra);
        Broker::tls_with(pki::server(&self.server, &chain, None, &Seen::default()))
    }
}

#[test]
fn scheme_3_verifies_a_lets_encrypt_shaped_p384_chain_and_carries_every_qos() {
    let chain = p384_chain(Curve::P256);
    let broker = chain.broker(&[]);
    let store = store(&[(CredentialKind::Ca, 0, chain.root.der())]);
    scenario(Profile::Seed, &broker, store, async |host, broker| {
        configure(&host, 3, 0, 0).await;
        connects(&host, "broker").await;
        carries_messages(&host, &broker).await;
    });
}

/// The server signs its CertificateVerify with ECDSA P-384 SHA-384: the modem offers
/// the scheme and verifies it.
#[test]
fn scheme_3_verifies_a_p384_server_key() {
    let chain = p384_chain(Curve::P384);
    let broker = chain.broker(&[]);
    let store = store(&[(CredentialKind::Ca, 0, chain.root.der())]);
    scenario(Profile::Seed, &broker, store, async |host, _| {
        configure(&host, 3, 0, 0).await;
        connects(&host, "broker").await;
    });
}

#[test]
fn scheme_3_refuses_a_p384_chain_of_another_root() {
    let chain = p384_chain(Curve::P256);
    let other = pki::ca_on(Curve::P384, "root X2");
    let broker = chain.broker(&[]);
    untrusted_then_trusted(&broker, other.der(), chain.root.der());
}

/// Let's Encrypt's default ECDSA chain ends in ISRG Root X2 cross-signed by ISRG Root
/// X1: the stored root's own name and key, which ends the chain. (X1 is RSA; a P-384
/// cross-signer here makes a chain checked past the root fail as untrusted.)
#[test]
fn a_chain_ending_in_the_root_cross_signed_by_another_is_verified() {
    let chain = p384_chain(Curve::P256);
    let older = pki::ca_on(Curve::P384, "root X1");
    let cross = pki::cross_signed(&chain.root, &older);
    let broker = chain.broker(&[&cross.cert]);
    let store = store(&[
        (CredentialKind::Ca, 0, chain.root.der()),
        (
            CredentialKind::Ca,
            1,
            pki::ca_on(Curve::P384, "root X2").der(),
        ),
    ]);
    scenario(Profile::Seed, &broker, store, async |host, _| {
        configure(&host, 3, 0, 0).await;
        connects(&host, "broker").await;
        host.exchange("AT+MQTTCLEAN=0", OK).await;
        // A root of the same name with another key is not the cross-signed one.
        configure(&host, 3, 0, 1).await;
        refused(&host, "broker", 0x6060).await;
    });
}
