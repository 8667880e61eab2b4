//! Firmware-author options: profile, limits and timeouts.

use at_core::Profile;
use embassy_time::Duration;

/// How the MQTT command set is set up by the firmware author.
///
/// Every timeout saturates: `Duration::MAX` means "no bound" and never panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The protocol profile; [`Modem`](crate::Modem) gives the engine the same one.
    pub profile: Profile,
    /// The largest `AT+MQTTPUBRAW` length (seed: 512; esp-at: 1024). Capped by the
    /// payload buffer of [`MqttState`](crate::MqttState).
    pub pubraw_max: usize,
    /// How long a command waits for CONNACK, PUBACK/PUBCOMP, SUBACK or UNSUBACK
    /// (15 s; in the esp-at profile a command's `timeout_ms` overrides it).
    pub command_timeout: Duration,
    /// The first reconnect delay; it doubles up to [`reconnect_max`](Self::reconnect_max).
    pub reconnect_min: Duration,
    /// The longest reconnect delay.
    pub reconnect_max: Duration,
}

impl Options {
    /// SPEC.md's defaults for `profile`.
    pub const fn new(profile: Profile) -> Self {
        Self {
            profile,
            pubraw_max: match profile {
                Profile::EspAt => 1024,
                _ => 512,
            },
            command_timeout: Duration::from_secs(15),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
        }
    }

    /// Options to be replaced before use (all zeros, so that a static holding them,
    /// e.g. [`ModemResources`](crate::ModemResources), needs no flash).
    pub(crate) const fn unset() -> Self {
        Self {
            profile: Profile::Seed,
            pubraw_max: 0,
            command_timeout: Duration::from_ticks(0),
            reconnect_min: Duration::from_ticks(0),
            reconnect_max: Duration::from_ticks(0),
        }
    }

    /// The same options with another PUBRAW cap.
    pub const fn with_pubraw_max(mut self, max: usize) -> Self {
        self.pubraw_max = max;
        self
    }

    /// The same options with another acknowledgement timeout.
    pub const fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The same options with another reconnect back-off range.
    pub const fn with_reconnect_delays(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self
    }

    /// The longest broker host name.
    pub const fn max_host(&self) -> usize {
        match self.profile {
            Profile::EspAt => 128,
            _ => 64,
        }
    }

    /// The longest will message.
    pub const fn max_lwt_msg(&self) -> usize {
        match self.profile {
            Profile::EspAt => 128,
            _ => 64,
        }
    }
}
