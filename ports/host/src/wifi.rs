//! A simulated Wi-Fi radio, so that scripts written for a Wi-Fi board (`AT+CWJAP`) run on
//! the simulator too.
//!
//! The radio sees at most one access point, the one given with `--wifi SSID:PASSWORD`.
//! Joining it with the right password succeeds at once (the host's own network is used
//! either way); a wrong password or another SSID fails as a board would.

use std::fmt;
use std::str::FromStr;

use at_mqtt::station::{AccessPoint, JoinError, WifiStation};
use heapless::String;

/// The access point a simulated radio can join.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessPointSettings {
    ssid: std::string::String,
    password: std::string::String,
}

impl FromStr for AccessPointSettings {
    type Err = std::string::String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ssid, password) = text
            .split_once(':')
            .ok_or_else(|| format!("expected SSID:PASSWORD, got {text:?}"))?;
        if ssid.is_empty() || ssid.len() > 32 {
            return Err(format!(
                "the SSID must have 1 to 32 bytes, got {}",
                ssid.len()
            ));
        }
        if password.len() > 64 {
            return Err(format!(
                "the password must have at most 64 bytes, got {}",
                password.len()
            ));
        }
        Ok(Self {
            ssid: ssid.to_owned(),
            password: password.to_owned(),
        })
    }
}

impl fmt::Display for AccessPointSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ssid, self.password)
    }
}

/// The simulated radio of one power-on.
#[derive(Debug, Default)]
pub struct SimulatedWifi {
    in_range: Option<AccessPointSettings>,
    joined: Option<AccessPoint>,
}

impl SimulatedWifi {
    /// A radio that can see `in_range` (or nothing).
    pub fn new(in_range: Option<AccessPointSettings>) -> Self {
        Self {
            in_range,
            joined: None,
        }
    }
}

impl WifiStation for SimulatedWifi {
    async fn join(&mut self, ssid: &str, password: &str) -> Result<(), JoinError> {
        self.joined = None;
        let Some(ap) = self.in_range.as_ref().filter(|ap| ap.ssid == ssid) else {
            return Err(JoinError::NoAccessPoint);
        };
        if ap.password != password {
            return Err(JoinError::WrongPassword);
        }
        self.joined = Some(AccessPoint {
            ssid: String::try_from(ssid).map_err(|_| JoinError::Failed)?,
            bssid: [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01],
            channel: 6,
            rssi: -42,
        });
        Ok(())
    }

    async fn wait_for_ip(&mut self) {}

    fn access_point(&self) -> Option<AccessPoint> {
        self.joined.clone()
    }

    async fn leave(&mut self) {
        self.joined = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radio() -> SimulatedWifi {
        SimulatedWifi::new(Some("home:secret".parse().unwrap()))
    }

    #[test]
    fn joins_only_the_access_point_in_range_with_its_password() {
        let mut wifi = radio();
        let join = |wifi: &mut SimulatedWifi, ssid, password| {
            embassy_futures::block_on(wifi.join(ssid, password))
        };
        assert_eq!(
            join(&mut wifi, "other", "secret"),
            Err(JoinError::NoAccessPoint)
        );
        assert_eq!(
            join(&mut wifi, "home", "wrong"),
            Err(JoinError::WrongPassword)
        );
        assert!(wifi.access_point().is_none());
        assert_eq!(join(&mut wifi, "home", "secret"), Ok(()));
        assert_eq!(
            wifi.access_point().map(|ap| ap.ssid.to_string()),
            Some("home".into())
        );
        embassy_futures::block_on(wifi.leave());
        assert!(wifi.access_point().is_none());
        let mut empty = SimulatedWifi::default();
        assert_eq!(
            join(&mut empty, "home", "secret"),
            Err(JoinError::NoAccessPoint)
        );
    }

    #[test]
    fn settings_parse() {
        assert!("home:".parse::<AccessPointSettings>().is_ok());
        assert!("home".parse::<AccessPointSettings>().is_err());
        assert!(":pw".parse::<AccessPointSettings>().is_err());
        assert!(
            format!("{}:x", "s".repeat(33))
                .parse::<AccessPointSettings>()
                .is_err()
        );
        assert_eq!(
            "a:b:c"
                .parse::<AccessPointSettings>()
                .map(|s| s.to_string()),
            Ok("a:b:c".to_owned())
        );
    }
}
