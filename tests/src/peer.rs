//! An MQTT v5 client on the far side of the broker (rumqttc).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, SubscribeReasonCode};
use rumqttc::v5::{Client, Connection, Event, MqttOptions};

use crate::TIMEOUT;

/// A message the peer received: topic, payload, QoS (0..=2) and retain flag.
pub type Message = (String, Vec<u8>, u8, bool);

/// Broker acknowledgements the peer waits for.
#[derive(Debug)]
enum Ack {
    Connected,
    Subscribed(Vec<SubscribeReasonCode>),
    Unsubscribed,
    /// A publish was written to the socket (all QoS).
    Sent,
    /// PUBACK (QoS 1).
    Acknowledged,
    /// PUBCOMP (QoS 2).
    Completed,
}

/// An MQTT v5 client connected to a broker on `127.0.0.1`.
///
/// A thread drives rumqttc's event loop; the methods wait for the broker's
/// acknowledgements, so a subscription is in force when [`subscribe`](Self::subscribe)
/// returns and a QoS 1/2 message has reached the broker when
/// [`publish`](Self::publish) returns.
pub struct Peer {
    client: Option<Client>,
    messages: Receiver<Message>,
    acks: Receiver<Ack>,
    stop: Arc<AtomicBool>,
    driver: Option<JoinHandle<()>>,
    /// Every CONNACK's Session Present flag, in order (the first connect and every
    /// reconnection rumqttc makes on its own).
    connacks: Arc<Mutex<Vec<bool>>>,
}

impl Peer {
    /// Connects with a fresh client id and a clean start, waiting for CONNACK.
    pub fn connect(port: u16) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let id = format!(
            "e2e-peer-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_start(true);
        Self::connect_with(options)
    }

    /// Connects as `client_id` with a persistent session (Clean Start = 0 and a Session
    /// Expiry Interval of one hour), waiting for CONNACK. When the link is lost the
    /// peer's event loop connects again on its own (every 100 ms while that fails), with
    /// the same client id and session: [`connacks`](Self::connacks) tells whether the
    /// broker still had it.
    pub fn connect_persistent(port: u16, client_id: &str) -> Self {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_start(false);
        options.set_session_expiry_interval(Some(3600));
        Self::connect_with(options)
    }

    /// Starts the event loop's thread for `options` and waits for the first CONNACK.
    fn connect_with(options: MqttOptions) -> Self {
        let (client, connection) = Client::new(options, 16);
        let (message_tx, messages) = channel();
        let (ack_tx, acks) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let connacks = Arc::new(Mutex::new(Vec::new()));
        let sessions = Arc::clone(&connacks);
        let driver = std::thread::spawn(move || {
            drive(connection, &message_tx, &ack_tx, &flag, &sessions);
        });
        let peer = Self {
            client: Some(client),
            messages,
            acks,
            stop,
            driver: Some(driver),
            connacks,
        };
        peer.wait_ack("CONNACK", |ack| matches!(ack, Ack::Connected));
        peer
    }

    /// The Session Present flag of every CONNACK so far, in order: one entry per
    /// connection the peer made (its first one and each reconnection).
    pub fn connacks(&self) -> Vec<bool> {
        self.connacks.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Waits up to `timeout` until the peer has had `count` CONNACKs (its first
    /// connection counts as one) and returns their Session Present flags; fails if it
    /// has not.
    pub fn wait_for_connacks(&self, count: usize, timeout: Duration) -> Vec<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let connacks = self.connacks();
            if connacks.len() >= count {
                return connacks;
            }
            assert!(
                Instant::now() < deadline,
                "the peer had {} CONNACK(s) within {timeout:?}, expected {count}",
                connacks.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Subscribes to `filter` with `qos` (0..=2) and waits for a SUBACK granting it.
    pub fn subscribe(&mut self, filter: &str, qos: u8) {
        self.client()
            .subscribe(filter, qos_of(qos))
            .unwrap_or_else(|e| panic!("cannot subscribe to {filter}: {e}"));
        let ack = self.wait_ack("SUBACK", |ack| matches!(ack, Ack::Subscribed(_)));
        if let Ack::Subscribed(codes) = ack {
            assert!(
                matches!(codes.as_slice(), [SubscribeReasonCode::Success(_)]),
                "the broker refused the subscription to {filter}: {codes:?}"
            );
        }
    }

    /// Unsubscribes from `filter` and waits for UNSUBACK.
    pub fn unsubscribe(&mut self, filter: &str) {
        self.client()
            .unsubscribe(filter)
            .unwrap_or_else(|e| panic!("cannot unsubscribe from {filter}: {e}"));
        self.wait_ack("UNSUBACK", |ack| matches!(ack, Ack::Unsubscribed));
    }

    /// Publishes and waits until the message is written (QoS 0), acknowledged with
    /// PUBACK (QoS 1) or completed with PUBCOMP (QoS 2).
    pub fn publish(&mut self, topic: &str, payload: &[u8], qos: u8, retain: bool) {
        self.client()
            .publish(topic, qos_of(qos), retain, payload.to_vec())
            .unwrap_or_else(|e| panic!("cannot publish to {topic}: {e}"));
        match qos {
            0 => self.wait_ack("the publish to be sent", |ack| matches!(ack, Ack::Sent)),
            1 => self.wait_ack("PUBACK", |ack| matches!(ack, Ack::Acknowledged)),
            _ => self.wait_ack("PUBCOMP", |ack| matches!(ack, Ack::Completed)),
        };
    }

    /// The next message received, waiting up to `timeout`; fails if none comes.
    pub fn recv(&mut self, timeout: Duration) -> Message {
        self.try_recv(timeout)
            .unwrap_or_else(|| panic!("the peer received no message within {timeout:?}"))
    }

    /// The next message received within `timeout`, if any.
    pub fn try_recv(&mut self, timeout: Duration) -> Option<Message> {
        self.messages.recv_timeout(timeout).ok()
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the client lives until drop")
    }

    /// Waits up to [`TIMEOUT`] for an acknowledgement `wanted` accepts, skipping others.
    fn wait_ack(&self, what: &str, wanted: impl Fn(&Ack) -> bool) -> Ack {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.acks.recv_timeout(left) {
                Ok(ack) if wanted(&ack) => return ack,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the peer got no {what} from the broker within {TIMEOUT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the peer's event loop ended while waiting for {what}")
                }
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(client) = self.client.take() {
            let _ = client.try_disconnect();
            // Dropping the last client closes the request channel: the loop then ends.
        }
        if let Some(driver) = self.driver.take() {
            let deadline = Instant::now() + TIMEOUT;
            while !driver.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if driver.is_finished() {
                let _ = driver.join();
            }
        }
    }
}

/// Runs the event loop, forwarding messages and acknowledgements, until told to stop.
fn drive(
    mut connection: Connection,
    messages: &Sender<Message>,
    acks: &Sender<Ack>,
    stop: &AtomicBool,
    connacks: &Mutex<Vec<bool>>,
) {
    for event in connection.iter() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let ack = match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let message = (
                    String::from_utf8_lossy(&publish.topic).into_owned(),
                    publish.payload.to_vec(),
                    publish.qos as u8,
                    publish.retain,
                );
                let _ = messages.send(message);
                continue;
            }
            Ok(Event::Incoming(Packet::ConnAck(connack))) => {
                if let Ok(mut flags) = connacks.lock() {
                    flags.push(connack.session_present);
                }
                Ack::Connected
            }
            Ok(Event::Incoming(Packet::SubAck(suback))) => Ack::Subscribed(suback.return_codes),
            Ok(Event::Incoming(Packet::UnsubAck(_))) => Ack::Unsubscribed,
            Ok(Event::Incoming(Packet::PubAck(_))) => Ack::Acknowledged,
            Ok(Event::Incoming(Packet::PubComp(_))) => Ack::Completed,
            Ok(Event::Outgoing(Outgoing::Publish(_))) => Ack::Sent,
            Ok(_) => continue,
            Err(_) => {
                // rumqttc reconnects on the next poll; do not spin meanwhile.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let _ = acks.send(ack);
    }
}

fn qos_of(qos: u8) -> QoS {
    match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        _ => panic!("QoS {qos} does not exist (0, 1 or 2)"),
    }
}
