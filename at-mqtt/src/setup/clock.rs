//! The modem's wall clock: unset until SNTP (or `AT+SYSTIMESTAMP=`) sets it, then
//! running on embassy-time, and the SNTP configuration of `AT+CIPSNTPCFG`.

use core::sync::atomic::{AtomicU32, Ordering};

use embassy_time::{Duration, Instant};
use heapless::{String, Vec};

use super::calendar::Timezone;

/// The most SNTP servers `AT+CIPSNTPCFG` takes (ESP-AT's three).
pub const MAX_SNTP_SERVERS: usize = 3;
/// The longest SNTP server name.
pub const MAX_SNTP_SERVER: usize = 64;
/// How long one SNTP server may take to answer (DNS and the UDP exchange).
pub const SNTP_SERVER_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a time from SNTP is trusted before the next query asks again (ESP-AT's
/// default `AT+CIPSNTPINTV` of one hour).
pub const SNTP_INTERVAL: Duration = Duration::from_secs(3600);
/// ESP-AT's servers when `AT+CIPSNTPCFG` names none.
pub const DEFAULT_SNTP_SERVERS: [&str; MAX_SNTP_SERVERS] =
    ["cn.ntp.org.cn", "ntp.sjtu.edu.cn", "us.pool.ntp.org"];

/// Where the modem's clock gets the time when SNTP is on.
///
/// Boards ask an SNTP server over UDP (`EmbassySntp`, feature `embassy-net`); the host
/// simulator on the host's own network reads the host clock instead.
#[allow(async_fn_in_trait)]
pub trait TimeSource {
    /// The current UTC time according to `server` (a host name or an IPv4 address), in
    /// seconds since 1970-01-01 00:00:00 (Unix time); `None` if it cannot tell. The
    /// caller bounds the wait ([`SNTP_SERVER_TIMEOUT`]).
    async fn unix_time(&mut self, server: &str) -> Option<u64>;
}

/// `AT+CIPSNTPCFG`'s settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SntpConfig {
    /// Whether SNTP is on.
    pub enabled: bool,
    /// The timezone of `AT+CIPSNTPTIME?`.
    pub timezone: Timezone,
    /// The servers, asked in order.
    pub servers: Vec<String<MAX_SNTP_SERVER>, MAX_SNTP_SERVERS>,
}

impl Default for SntpConfig {
    /// ESP-AT's power-on settings: off, UTC, its default servers.
    fn default() -> Self {
        let mut servers = Vec::new();
        for name in DEFAULT_SNTP_SERVERS {
            if let Ok(name) = String::try_from(name) {
                let _ = servers.push(name);
            }
        }
        Self {
            enabled: false,
            timezone: Timezone::UTC,
            servers,
        }
    }
}

/// The wall clock: a Unix time and the instant it was true.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    set: Option<(u64, Instant, Source)>,
}

/// Who set the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Sntp,
    Host,
}

impl Clock {
    /// The Unix time now, if the clock was set.
    pub fn now(&self) -> Option<u64> {
        let (unix, at, _) = self.set?;
        Some(unix.saturating_add(at.elapsed().as_secs()))
    }

    /// Sets the clock from SNTP.
    pub fn set_from_sntp(&mut self, unix: u64) {
        self.set = Some((unix, Instant::now(), Source::Sntp));
        publish(unix);
    }

    /// Sets the clock by hand (`AT+SYSTIMESTAMP=`).
    pub fn set_by_host(&mut self, unix: u64) {
        self.set = Some((unix, Instant::now(), Source::Host));
        publish(unix);
    }

    /// Whether SNTP should be asked (again): never set by it, or longer ago than
    /// [`SNTP_INTERVAL`]. A time the host set is kept until SNTP answers.
    pub fn wants_sntp(&self) -> bool {
        match self.set {
            Some((_, at, Source::Sntp)) => at.elapsed() >= SNTP_INTERVAL,
            _ => true,
        }
    }
}

/// The Unix time at embassy-time's instant zero, as the clock was last set; 0 while it
/// never was. The one copy of the wall time outside [`Clock`], for the TLS certificate
/// checks of the runner, which does not own the clock (a 32-bit atomic: load and store
/// exist on every target, thumbv6m included; it holds times up to 2106).
static UNIX_AT_ZERO: AtomicU32 = AtomicU32::new(0);

/// Records that the Unix time is `unix` now.
fn publish(unix: u64) {
    let at_zero = unix.saturating_sub(Instant::now().as_secs());
    UNIX_AT_ZERO.store(
        u32::try_from(at_zero).unwrap_or(u32::MAX),
        Ordering::Relaxed,
    );
}

/// The Unix time now, if any [`Clock`] was ever set (by SNTP or `AT+SYSTIMESTAMP`).
pub fn wall_time() -> Option<u64> {
    match UNIX_AT_ZERO.load(Ordering::Relaxed) {
        0 => None,
        at_zero => Some(u64::from(at_zero).saturating_add(Instant::now().as_secs())),
    }
}
