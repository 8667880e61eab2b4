//! Reliability against the broker: mosquitto killed (SIGKILL) and restarted with its
//! persistence on while the host publishes, over TCP and over TLS-PSK; and a persistent
//! session that keeps what was published while the modem was off (SPEC.md sections 3, 5
//! and 6; docs/PROTOCOL.md section 6). Each test records its figures for RELIABILITY.md
//! (`e2e_tests::figures`; printed with `--nocapture`).
//!
//! What mosquitto 2.0 guarantees on SIGKILL is described at
//! [`Broker::persistence_lines`]: a snapshot after every counted change, no journal. The
//! restart test keeps its subscriber online until the kill, so every message the modem
//! got a PUBACK for had already been written to the subscriber's socket (mosquitto routes
//! a QoS 1 message to online subscribers before it acknowledges it); the subscriber's
//! session, saved with its subscription, is what must survive in the snapshot, and the
//! test checks that it did (Session Present on the subscriber's reconnection).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::sync::mpsc::{Sender, channel};
use std::time::{Duration, Instant};

use e2e_tests::at::{CONNECTED, DISCONNECTED, ERROR, OK, conn, echoed, subrecv, user_cfg};
use e2e_tests::figures::Figures;
use e2e_tests::{Broker, Modem, Peer, TIMEOUT, escape};

/// The host publishes at this pace.
const PERIOD: Duration = Duration::from_millis(50);
/// Publishing before the broker is killed: it is killed right after the first publish
/// sent this long after the start has been written, while that one waits for its PUBACK.
const BEFORE_KILL: Duration = Duration::from_millis(1500);
/// How long the broker stays dead (from the port refusing connections to the restart).
const OUTAGE: Duration = Duration::from_secs(2);
/// Publishes that must get `OK` after `+MQTTCONNECTED` before the run ends.
const AFTER_RECONNECT: usize = 20;
/// `AT+MQTTPUB`'s 15 s bound plus a margin for scheduling.
const PUBLISH_DEADLINE: Duration = Duration::from_secs(17);
/// From the restart to `+MQTTCONNECTED`: the back-off step then pending (1 s, 2 s, 4 s
/// after the loss...) plus one attempt.
const RECONNECT_BOUND: Duration = Duration::from_secs(20);
/// The whole publishing run.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// Publishes answered `ERROR` while the broker is down, at least (it is down for 40
/// periods; a refusal is immediate).
const MIN_OUTAGE_PUBLISHES: usize = 10;
/// Publishes answered `OK` before the kill, at least.
const MIN_OK_BEFORE_KILL: usize = 10;
/// The modem publishes here; the subscriber listens.
const UP: &str = "rb/up";
/// The modem subscribes here.
const DOWN: &str = "rb/down";
/// The last publish of the run, after every numbered one.
const END: &[u8] = b"end";

/// The identity and key the PSK listener knows.
const IDENTITY: &str = "modem-psk";
const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

/// The transport between the modem and the broker (the subscriber always uses TCP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    Tcp,
    TlsPsk,
}

/// A broker with persistence in `dir` and, for TLS-PSK, a PSK listener beside its plain
/// one; returns the broker and the port the modem connects to.
fn persistent_broker(scheme: Scheme, dir: &Path) -> (Broker, u16) {
    let store = dir.join("db");
    std::fs::create_dir(&store).unwrap_or_else(|e| panic!("persistence directory: {e}"));
    let mut lines = Broker::persistence_lines(&store);
    let mut psk_port = None;
    if scheme == Scheme::TlsPsk {
        let psk_file = dir.join("psk.txt");
        std::fs::write(&psk_file, format!("{IDENTITY}:{KEY_HEX}\n"))
            .unwrap_or_else(|e| panic!("psk file: {e}"));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("a free port: {e}"))
            .port();
        psk_port = Some(port);
        lines.extend([
            format!("listener {port} 127.0.0.1"),
            "psk_hint at-mqtt-modem".to_owned(),
            format!("psk_file {}", psk_file.display()),
            "tls_version tlsv1.3".to_owned(),
        ]);
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let broker = Broker::with_config(&lines);
    let port = psk_port.unwrap_or(broker.port());
    (broker, port)
}

/// One `AT+MQTTPUB` of the run.
struct Publish {
    seq: u32,
    sent: Instant,
    answered: Instant,
    /// `OK` (else `ERROR`).
    ok: bool,
    /// The `ERR CODE` before an `ERROR`.
    code: Option<String>,
    /// `+MQTTDISCONNECTED` / `+MQTTCONNECTED` URCs read before the result.
    losses_before: usize,
    connects_before: usize,
}

/// What the publishing run saw.
#[derive(Default)]
struct Run {
    publishes: Vec<Publish>,
    /// When each `+MQTTDISCONNECTED:0` / `+MQTTCONNECTED:0` was read.
    losses: Vec<Instant>,
    connects: Vec<Instant>,
    /// The publish written right before the kill was asked for.
    in_flight_at_kill: Option<u32>,
}

/// When the broker was killed and restarted.
struct Outage {
    /// Snapshots mosquitto had begun before the kill.
    snapshots: usize,
    /// SIGKILL sent.
    kill: Instant,
    /// The port refuses connections.
    down: Instant,
    /// The restart begins.
    restart: Instant,
    /// The restarted broker accepts connections.
    up: Instant,
}

impl Run {
    /// Takes link URCs off the front of `bytes`, noting them at `now`.
    fn take_urcs<'a>(&mut self, mut bytes: &'a [u8], now: Instant) -> &'a [u8] {
        loop {
            if let Some(rest) = bytes.strip_prefix(DISCONNECTED) {
                self.losses.push(now);
                bytes = rest;
            } else if let Some(rest) = bytes.strip_prefix(CONNECTED) {
                self.connects.push(now);
                bytes = rest;
            } else {
                return bytes;
            }
        }
    }
}

/// Publishes `<seq>` at QoS 1 to [`UP`] every [`PERIOD`] (the next one when the last one's
/// result is in, if that took longer) until [`AFTER_RECONNECT`] publishes got `OK` after a
/// `+MQTTCONNECTED`. Checks every answer byte: the echo, link URCs, then `OK` or
/// `ERR CODE:...` and `ERROR`.
/// The first publish sent [`BEFORE_KILL`] after `started` is followed by a message on
/// `kill`, at once, before its result is read.
fn publish_until_reconnected(modem: &mut Modem, started: Instant, kill: &Sender<()>) -> Run {
    let mut run = Run::default();
    let mut kill_sent = false;
    let mut next = started;
    let mut ok_after_reconnect = 0;
    let mut seq = 0u32;
    while ok_after_reconnect < AFTER_RECONNECT {
        if started.elapsed() > RUN_LIMIT {
            let message = format!(
                "the run took over {RUN_LIMIT:?}: {} publishes, {ok_after_reconnect} OK after \
                 a reconnection, link URCs: {} lost, {} connected",
                run.publishes.len(),
                run.losses.len(),
                run.connects.len()
            );
            modem.fail(&message);
        }
        // Until the next slot, take link URCs as they come.
        loop {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let Ok((_, bytes)) = modem.wait_for_any(&[DISCONNECTED, CONNECTED], left) else {
                break;
            };
            if !run.take_urcs(&bytes, Instant::now()).is_empty() {
                modem.fail(&format!(
                    "between two publishes the modem sent {}",
                    escape(&bytes)
                ));
            }
        }
        seq += 1;
        let line = format!("AT+MQTTPUB=0,\"{UP}\",\"{seq}\",1,0");
        let sent = Instant::now();
        next = sent + PERIOD;
        modem.send_line(&line);
        if !kill_sent && sent >= started + BEFORE_KILL {
            kill_sent = true;
            run.in_flight_at_kill = Some(seq);
            let _ = kill.send(());
        }
        let (_, bytes) = modem
            .wait_for_any(&[OK, ERROR], PUBLISH_DEADLINE)
            .unwrap_or_else(|why| {
                modem.fail(&format!(
                    "publish {seq} got no result within {PUBLISH_DEADLINE:?}: {why}"
                ))
            });
        let answered = Instant::now();
        // A URC written just before the line was read comes before its echo.
        let rest = run.take_urcs(&bytes, sent);
        let echo = echoed(&line, b"");
        let rest = rest.strip_prefix(echo.as_slice()).unwrap_or_else(|| {
            modem.fail(&format!(
                "publish {seq} was answered {} (expected its echo first)",
                escape(&bytes)
            ))
        });
        let rest = run.take_urcs(rest, answered);
        let (ok, code) = if rest == OK {
            (true, None)
        } else {
            let code = rest
                .strip_suffix(ERROR)
                .and_then(|head| head.strip_prefix(b"ERR CODE:"))
                .and_then(|code| code.strip_suffix(b"\r\n"))
                .filter(|code| code.len() == 10 && !code.contains(&b'\r'))
                .unwrap_or_else(|| {
                    modem.fail(&format!(
                        "publish {seq}: after the echo and the link URCs came {} (expected OK, \
                         or ERR CODE:0x........ and ERROR)",
                        escape(rest)
                    ))
                });
            (false, Some(String::from_utf8_lossy(code).into_owned()))
        };
        if ok && !run.connects.is_empty() {
            ok_after_reconnect += 1;
        }
        run.publishes.push(Publish {
            seq,
            sent,
            answered,
            ok,
            code,
            losses_before: run.losses.len(),
            connects_before: run.connects.len(),
        });
    }
    run
}

/// Milliseconds from `from` to `to` (0 if `to` is earlier).
fn ms(from: Instant, to: Instant) -> u128 {
    to.saturating_duration_since(from).as_millis()
}

/// Kills the broker (SIGKILL, persistence on) while the modem publishes at QoS 1 every
/// 50 ms with `reconnect=1`, restarts it on the same port, and checks: one
/// `+MQTTDISCONNECTED:0`, then one `+MQTTCONNECTED:0`; every publish answered while the
/// broker was down (or while the modem reported the link down) got `ERROR`; every
/// publish that got `OK` reached the subscriber, whose persistent session the broker
/// restored; the modem's subscription made before the kill delivers afterwards.
fn broker_killed_and_restarted(scheme: Scheme) {
    let (scenario, title, name) = match scheme {
        Scheme::Tcp => (
            "broker_restart_tcp",
            "Broker killed and restarted (TCP)",
            "tcp",
        ),
        Scheme::TlsPsk => (
            "broker_restart_tls",
            "Broker killed and restarted (TLS-PSK)",
            "tls",
        ),
    };
    let mut figures = Figures::new(scenario, title);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let (mut broker, modem_port) = persistent_broker(scheme, dir.path());
    let peer_port = broker.port();

    // The independent subscriber: a persistent session over the plain listener.
    let subscriber_id = format!("rb-sub-{name}-{}", std::process::id());
    let mut subscriber = Peer::connect_persistent(peer_port, &subscriber_id);
    subscriber.subscribe(UP, 1);

    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    let client = format!("rb-modem-{name}");
    let user = match scheme {
        Scheme::Tcp => user_cfg(&client),
        Scheme::TlsPsk => format!("AT+MQTTUSERCFG=0,2,\"{client}\",\"\",\"\",0,0,\"\""),
    };
    modem.exchange(&user, &echoed(&user, OK));
    if scheme == Scheme::TlsPsk {
        let psk = format!("AT+MQTTPSK=0,\"{IDENTITY}\",\"{KEY_HEX}\"");
        modem.exchange(&psk, &echoed(&psk, OK));
    }
    let line = conn(modem_port, 1);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    let line = format!("AT+MQTTSUB=0,\"{DOWN}\",1");
    modem.exchange(&line, &echoed(&line, OK));
    subscriber.publish(DOWN, b"before", 1, false);
    modem.expect(&subrecv(DOWN, b"before"), TIMEOUT);

    let started = Instant::now();
    let (run, outage) = std::thread::scope(|scope| {
        let broker = &mut broker;
        let (kill_tx, kill_rx) = channel();
        let killer = scope.spawn(move || {
            // The signal comes right after a publish was written (or the run failed).
            let _ = kill_rx.recv_timeout(BEFORE_KILL + PUBLISH_DEADLINE);
            let snapshots = broker.snapshots_started();
            let kill = Instant::now();
            broker.stop();
            let down = Instant::now();
            std::thread::sleep(OUTAGE);
            let restart = Instant::now();
            broker.restart();
            let up = Instant::now();
            Outage {
                snapshots,
                kill,
                down,
                restart,
                up,
            }
        });
        let run = publish_until_reconnected(&mut modem, started, &kill_tx);
        let outage = killer
            .join()
            .unwrap_or_else(|_| panic!("the thread killing the broker failed"));
        (run, outage)
    });

    // The subscriber reconnects on its own; its session must have survived the kill.
    let connacks = subscriber.wait_for_connacks(2, RECONNECT_BOUND);
    let resumed = connacks.last() == Some(&true);

    // The modem's subscription made before the kill delivers again.
    subscriber.publish(DOWN, b"after", 1, false);
    modem.expect(&subrecv(DOWN, b"after"), TIMEOUT);
    // The last publish, after all numbered ones: the subscriber reads until it.
    let line = format!("AT+MQTTPUB=0,\"{UP}\",\"end\",1,0");
    modem.exchange(&line, &echoed(&line, OK));
    let mut received: BTreeMap<u32, usize> = BTreeMap::new();
    let mut strays = Vec::new();
    let deadline = Instant::now() + 2 * TIMEOUT;
    let mut end_seen = false;
    while !end_seen {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some((topic, payload, _, _)) = subscriber.try_recv(left) else {
            break;
        };
        if topic == UP && payload == END {
            end_seen = true;
        } else if let Some(seq) = std::str::from_utf8(&payload)
            .ok()
            .and_then(|text| text.parse::<u32>().ok())
            .filter(|_| topic == UP)
        {
            *received.entry(seq).or_default() += 1;
        } else {
            strays.push(format!("{topic}: {}", escape(&payload)));
        }
    }

    // The figures.
    let publishes = &run.publishes;
    let ok: Vec<&Publish> = publishes.iter().filter(|p| p.ok).collect();
    let errors: Vec<&Publish> = publishes.iter().filter(|p| !p.ok).collect();
    let while_down: Vec<&Publish> = publishes
        .iter()
        .filter(|p| p.sent >= outage.down && p.answered <= outage.restart)
        .collect();
    let ok_while_down = while_down.iter().filter(|p| p.ok).count();
    // Answered while the modem itself reported the link lost and not yet back.
    let ok_while_reported_down: Vec<u32> = publishes
        .iter()
        .filter(|p| p.ok && p.losses_before > p.connects_before)
        .map(|p| p.seq)
        .collect();
    let ok_before_kill = ok.iter().filter(|p| p.answered < outage.kill).count();
    let lost: Vec<u32> = ok
        .iter()
        .map(|p| p.seq)
        .filter(|seq| !received.contains_key(seq))
        .collect();
    let unique_ok_received = ok.len() - lost.len();
    let duplicates: usize = received.values().map(|n| n - 1).sum();
    let errors_delivered = errors
        .iter()
        .filter(|p| received.contains_key(&p.seq))
        .count();
    let sent_seqs = u32::try_from(publishes.len()).unwrap_or(u32::MAX);
    let unknown: Vec<u32> = received
        .keys()
        .copied()
        .filter(|seq| *seq == 0 || *seq > sent_seqs)
        .collect();
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for publish in &errors {
        *codes
            .entry(publish.code.as_deref().unwrap_or("?"))
            .or_default() += 1;
    }
    let codes = codes.iter().fold(String::new(), |mut text, (code, count)| {
        let _ = write!(
            text,
            "{}{code} x{count}",
            if text.is_empty() { "" } else { ", " }
        );
        text
    });
    let loss = run.losses.first().copied();
    let connect = run.connects.first().copied();

    figures.record("publishes sent (QoS 1, every 50 ms)", publishes.len());
    figures.record("OK", ok.len());
    figures.record("OK before the kill", ok_before_kill);
    figures.record("ERROR", errors.len());
    figures.record("error codes", &codes);
    figures.record("published while the broker was down", while_down.len());
    figures.record("OK while the broker was down (must be 0)", ok_while_down);
    figures.record(
        "OK'd publishes received by the subscriber (unique)",
        unique_ok_received,
    );
    figures.record("duplicates received", duplicates);
    figures.record("ERROR'd publishes received anyway", errors_delivered);
    figures.record("lost (OK but never received; must be 0)", lost.len());
    figures.record(
        "outage: SIGKILL to accepting again (ms)",
        ms(outage.kill, outage.up),
    );
    figures.record(
        "SIGKILL to +MQTTDISCONNECTED (ms)",
        loss.map_or("none".to_owned(), |at| ms(outage.kill, at).to_string()),
    );
    figures.record(
        "restart (accepting) to +MQTTCONNECTED (ms)",
        connect.map_or("none".to_owned(), |at| ms(outage.up, at).to_string()),
    );
    figures.record(
        "+MQTTDISCONNECTED to +MQTTCONNECTED (ms)",
        match (loss, connect) {
            (Some(loss), Some(connect)) => ms(loss, connect).to_string(),
            _ => "none".to_owned(),
        },
    );
    figures.record(
        "subscriber's session resumed after the restart",
        if resumed { "yes" } else { "no" },
    );
    let at_kill = run
        .in_flight_at_kill
        .and_then(|seq| publishes.iter().find(|p| p.seq == seq))
        .map_or("none".to_owned(), |p| {
            let delivered = if received.contains_key(&p.seq) {
                "received"
            } else {
                "not received"
            };
            match &p.code {
                None => format!("OK, {delivered}"),
                Some(code) => format!("ERROR {code}, {delivered}"),
            }
        });
    figures.record("the publish in flight at the kill", at_kill);
    figures.record("broker snapshots begun before the kill", outage.snapshots);

    // The checks.
    let mut failures = Vec::new();
    if run.losses.len() != 1 || run.connects.len() != 1 {
        failures.push(format!(
            "expected one +MQTTDISCONNECTED:0 then one +MQTTCONNECTED:0, got {} and {}",
            run.losses.len(),
            run.connects.len()
        ));
    }
    if let (Some(loss), Some(connect)) = (loss, connect) {
        if connect < loss {
            failures.push("+MQTTCONNECTED:0 came before +MQTTDISCONNECTED:0".to_owned());
        }
        if loss < outage.kill {
            failures.push("+MQTTDISCONNECTED:0 came before the broker was killed".to_owned());
        }
        if connect < outage.restart {
            failures.push("+MQTTCONNECTED:0 came before the broker was restarted".to_owned());
        }
        if ms(outage.up, connect) > RECONNECT_BOUND.as_millis() {
            failures.push(format!(
                "+MQTTCONNECTED:0 came {} ms after the restart (bound {RECONNECT_BOUND:?})",
                ms(outage.up, connect)
            ));
        }
    }
    if ok_while_down > 0 {
        let seqs: Vec<u32> = while_down.iter().filter(|p| p.ok).map(|p| p.seq).collect();
        failures.push(format!(
            "publishes {seqs:?} were sent after the broker died and answered OK before it \
             was restarted (a silent OK)"
        ));
    }
    if !ok_while_reported_down.is_empty() {
        failures.push(format!(
            "publishes {ok_while_reported_down:?} were answered OK after +MQTTDISCONNECTED \
             and before +MQTTCONNECTED"
        ));
    }
    if while_down.len() < MIN_OUTAGE_PUBLISHES {
        failures.push(format!(
            "only {} publishes were made while the broker was down (at least \
             {MIN_OUTAGE_PUBLISHES} expected): the run did not test the outage",
            while_down.len()
        ));
    }
    if ok_before_kill < MIN_OK_BEFORE_KILL {
        failures.push(format!(
            "only {ok_before_kill} publishes got OK before the kill (at least \
             {MIN_OK_BEFORE_KILL} expected)"
        ));
    }
    if !resumed {
        failures.push(format!(
            "the subscriber's CONNACKs had Session Present {connacks:?}: the restarted \
             broker did not restore its session from the snapshot"
        ));
    }
    if !end_seen {
        failures.push(format!(
            "the subscriber did not receive the final \"end\" publish within {:?}",
            2 * TIMEOUT
        ));
    }
    if !lost.is_empty() {
        failures.push(format!(
            "{} publishes got OK but never reached the subscriber: {lost:?}",
            lost.len()
        ));
    }
    if !unknown.is_empty() || !strays.is_empty() {
        failures.push(format!(
            "the subscriber received messages never published: {unknown:?} {strays:?}"
        ));
    }
    if !failures.is_empty() {
        let timeline = publishes.iter().fold(String::new(), |mut text, p| {
            let _ = write!(
                text,
                "{}@{}{} ",
                p.seq,
                ms(started, p.answered),
                if p.ok { "ok" } else { "E" }
            );
            text
        });
        let message = format!(
            "{scheme:?}: {}\nkilled at {} ms, down at {} ms, restart at {} ms, up at {} ms; \
             publishes (seq@ms result): {timeline}\nmosquitto since the restart:\n{}",
            failures.join("\n"),
            ms(started, outage.kill),
            ms(started, outage.down),
            ms(started, outage.restart),
            ms(started, outage.up),
            broker.log()
        );
        modem.fail(&message);
    }
}

#[test]
fn tcp_broker_killed_and_restarted_while_publishing() {
    broker_killed_and_restarted(Scheme::Tcp);
}

#[test]
fn tls_broker_killed_and_restarted_while_publishing() {
    broker_killed_and_restarted(Scheme::TlsPsk);
}

/// Messages queued by the broker while the modem was off.
const QUEUED: usize = 20;
/// The persistent session's topic.
const INBOX: &str = "ps/in";

/// `AT+MQTTUSERCFG` and `AT+MQTTCONNCFG` for a persistent session as `client_id`.
fn configure_persistent(modem: &mut Modem, client_id: &str) {
    let user = user_cfg(client_id);
    modem.exchange(&user, &echoed(&user, OK));
    let line = "AT+MQTTCONNCFG=0,60,1,\"\",\"\",0,0";
    modem.exchange(line, &echoed(line, OK));
}

/// `+MQTTSUBRECV:0,"<INBOX>",<len>,<data>` as one line without its CR LF: the data.
fn inbox_payload(line: &[u8]) -> Option<Vec<u8>> {
    let rest = line.strip_prefix(format!("+MQTTSUBRECV:0,\"{INBOX}\",").as_bytes())?;
    let comma = rest.iter().position(|&b| b == b',')?;
    let length: usize = std::str::from_utf8(rest.get(..comma)?).ok()?.parse().ok()?;
    let data = rest.get(comma + 1..)?;
    (data.len() == length).then(|| data.to_vec())
}

#[test]
fn persistent_session_delivers_what_was_published_while_the_modem_was_off() {
    let mut figures = Figures::new(
        "persistent_session",
        "Persistent session across a modem power cut",
    );
    let broker = Broker::start();
    let port = broker.port();
    let client = "ps-modem";
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    configure_persistent(&mut modem, client);
    let line = conn(port, 0);
    modem.exchange(&line, &echoed(&line, &[CONNECTED, OK].concat()));
    let line = format!("AT+MQTTSUB=0,\"{INBOX}\",1");
    modem.exchange(&line, &echoed(&line, OK));
    let mut peer = Peer::connect(port);
    peer.publish(INBOX, b"live", 1, false);
    modem.expect(&subrecv(INBOX, b"live"), TIMEOUT);

    // SIGKILL to the simulator: the broker keeps the session and queues for it.
    drop(modem);
    broker.wait_for_log(
        &format!("Client {client} closed its connection."),
        1,
        TIMEOUT,
    );
    let published: Vec<Vec<u8>> = (1..=QUEUED)
        .map(|i| format!("queued-{i:02}").into_bytes())
        .collect();
    for payload in &published {
        peer.publish(INBOX, payload, 1, false);
    }

    // A new simulator (power-on), the same client ID, no AT+MQTTSUB.
    let mut modem = Modem::ready(&[]);
    modem.syslog_on();
    configure_persistent(&mut modem, client);
    let line = conn(port, 0);
    let sent = Instant::now();
    modem.send_line(&line);
    modem.expect(&echoed(&line, b""), TIMEOUT);
    // +MQTTCONNECTED:0, the empty line and OK of the result, and the messages (which
    // may come before the OK), one line each.
    let deadline = sent + PUBLISH_DEADLINE;
    let mut received = Vec::new();
    let mut connected = 0;
    let mut ok_at = None;
    let mut last_at = None;
    let mut unexpected = Vec::new();
    let mut blank = false;
    while ok_at.is_none() || received.len() < QUEUED {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((_, bytes)) = modem.wait_for_any(&[b"\r\n"], left) else {
            break;
        };
        let text = bytes.strip_suffix(b"\r\n").unwrap_or(&bytes);
        if let Some(payload) = inbox_payload(text) {
            received.push(payload);
            last_at = Some(Instant::now());
        } else if text == b"+MQTTCONNECTED:0" && ok_at.is_none() {
            connected += 1;
        } else if text.is_empty() && !blank && ok_at.is_none() {
            blank = true;
        } else if text == b"OK" && blank && ok_at.is_none() {
            ok_at = Some(Instant::now());
        } else {
            unexpected.push(escape(&bytes));
        }
    }
    let in_order = received == published;
    figures.record("published while the modem was off (QoS 1)", QUEUED);
    figures.record("received as +MQTTSUBRECV", received.len());
    figures.record("all of them, in order", if in_order { "yes" } else { "no" });
    figures.record(
        "AT+MQTTCONN sent to OK (ms)",
        ok_at.map_or("none".to_owned(), |at| ms(sent, at).to_string()),
    );
    figures.record(
        "AT+MQTTCONN sent to the last message (ms)",
        last_at.map_or("none".to_owned(), |at| ms(sent, at).to_string()),
    );

    let mut failures = Vec::new();
    if connected != 1 || ok_at.is_none() {
        failures.push(format!(
            "AT+MQTTCONN: {connected} +MQTTCONNECTED:0 and {} OK (expected one each)",
            if ok_at.is_some() { "an" } else { "no" }
        ));
    }
    if !in_order {
        let shown: Vec<String> = received.iter().map(|p| escape(p)).collect();
        failures.push(format!(
            "expected queued-01..queued-{QUEUED:02} in order, received {shown:?}"
        ));
    }
    if !unexpected.is_empty() {
        failures.push(format!("unexpected lines: {unexpected:?}"));
    }
    if !failures.is_empty() {
        modem.fail(&failures.join("\n"));
    }
    // Nothing else was queued (no duplicate follows): the next message comes next.
    peer.publish(INBOX, b"after", 1, false);
    modem.expect(&subrecv(INBOX, b"after"), TIMEOUT);
}
