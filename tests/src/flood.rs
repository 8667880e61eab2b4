//! A peer that publishes QoS 0 messages at a steady rate on a thread of its own, for
//! tests that keep the modem's serial line saturated while they do something else.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Peer;

/// A flood of QoS 0 messages to one topic, bounded in count and time; stopped (and its
/// thread joined) when dropped.
///
/// Message `n` is `payload(n)`; publications are paced at `per_second`, so the flood
/// neither depends on how fast the peer's event loop is nor grows without bound.
pub struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Flood {
    /// Connects a fresh peer to the broker on loopback `port` and starts publishing to
    /// `topic` at `per_second` messages a second, at most `max_count` messages and for
    /// at most `max_time`. Returns once the peer is connected.
    pub fn start(
        port: u16,
        topic: &str,
        payload: impl Fn(usize) -> Vec<u8> + Send + 'static,
        per_second: u32,
        max_count: usize,
        max_time: Duration,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let (flag, counter) = (Arc::clone(&stop), Arc::clone(&sent));
        let topic = topic.to_owned();
        let (connected_tx, connected) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut peer = Peer::connect(port);
            let _ = connected_tx.send(());
            let start = Instant::now();
            let interval = Duration::from_secs(1) / per_second.max(1);
            for n in 0..max_count {
                if flag.load(Ordering::Relaxed) || start.elapsed() > max_time {
                    return;
                }
                // Keep to the schedule without bursts after a slow publish.
                let due = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                peer.publish(&topic, &payload(n), 0, false);
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        connected
            .recv_timeout(crate::TIMEOUT * 2)
            .unwrap_or_else(|_| panic!("the flooding peer did not connect"));
        Self {
            stop,
            sent,
            thread: Some(thread),
        }
    }

    /// How many messages have been published so far.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// Whether the flood is still publishing (it ends at its bounds or on a failure).
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
