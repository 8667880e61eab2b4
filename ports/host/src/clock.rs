//! [`HostClock`]: the time source of the simulator on the host's own network.

use std::time::{SystemTime, UNIX_EPOCH};

use at_mqtt::setup::TimeSource;

/// Answers every SNTP server with the host's clock: on the host's own network the
/// simulator takes the time the host keeps (with `--tap`, it asks real SNTP servers
/// instead).
#[derive(Clone, Copy, Debug, Default)]
pub struct HostClock;

impl TimeSource for HostClock {
    async fn unix_time(&mut self, server: &str) -> Option<u64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        log::info!("SNTP server {server}: answered by the host clock");
        Some(now.as_secs())
    }
}
