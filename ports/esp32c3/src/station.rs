//! The Wi-Fi station behind `AT+CWJAP`, `AT+CWJAP?` and `AT+CWQAP`: at-mqtt's
//! [`WifiStation`] over esp-radio's [`WifiController`] and the embassy-net stack.

use at_mqtt::station::{AccessPoint, JoinError, WifiStation};
use embassy_net::Stack;
use embassy_time::{Duration, with_timeout};
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config, ConnectionError, DisconnectReason, Password, Ssid,
    WifiController,
};
use heapless::String;

/// How long one association attempt may take before it is abandoned as a timeout. It is
/// shorter than the Wi-Fi commands' 15 s limit so that the attempt is aborted here, and
/// the radio is idle again, before `AT+CWJAP` answers.
const ASSOCIATION_LIMIT: Duration = Duration::from_secs(12);
/// How long leaving an access point (or aborting an attempt) may take.
const LEAVE_LIMIT: Duration = Duration::from_secs(2);

/// The ESP32-C3's station interface: the radio controller and the TCP/IP stack on it.
pub struct Station {
    wifi: WifiController<'static>,
    net: Stack<'static>,
}

impl Station {
    /// The station of `wifi`, whose frames `net` carries.
    pub fn new(wifi: WifiController<'static>, net: Stack<'static>) -> Self {
        Self { wifi, net }
    }

    /// Disconnects from the access point or aborts an association in progress; returns
    /// at once when there is neither.
    async fn disconnect(&mut self) {
        // `Err` means "not connected" or that the driver refused; either way there is
        // nothing more to undo.
        let _ = with_timeout(LEAVE_LIMIT, self.wifi.disconnect_async()).await;
    }
}

impl WifiStation for Station {
    async fn join(&mut self, ssid: &str, password: &str) -> Result<(), JoinError> {
        // A station joins one network at a time: leave the current one first.
        self.disconnect().await;
        let ssid = Ssid::try_from(ssid).map_err(|_| JoinError::Failed)?;
        let authentication = if password.is_empty() {
            AuthenticationMethodConfig::Open
        } else {
            // WPA2-Personal is the weakest security accepted; WPA2/WPA3 and WPA3 access
            // points are joined too.
            let password = Password::try_from(password).map_err(|_| JoinError::Failed)?;
            AuthenticationMethodConfig::Wpa2Personal(password)
        };
        let config = Config::Station(
            StationConfig::default()
                .with_ssid(ssid)
                .with_authentication(authentication),
        );
        self.wifi
            .set_config(&config)
            .map_err(|_| JoinError::Failed)?;
        match with_timeout(ASSOCIATION_LIMIT, self.wifi.connect_async()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(ConnectionError::Failed(info))) => Err(join_error(info.reason)),
            Ok(Err(_)) => Err(JoinError::Failed),
            Err(_) => {
                // Stop the attempt, so the radio does not join behind the host's back.
                self.disconnect().await;
                Err(JoinError::Timeout)
            }
        }
    }

    async fn wait_for_ip(&mut self) {
        // DHCP starts once the link is up; a static address (`AT+CIPSTA=`) is up at once.
        self.net.wait_config_up().await;
    }

    fn access_point(&self) -> Option<AccessPoint> {
        // Fails while the station is not associated.
        let info = self.wifi.ap_info().ok()?;
        Some(AccessPoint {
            ssid: String::try_from(info.ssid.as_str()).ok()?,
            bssid: info.bssid,
            channel: info.channel,
            rssi: info.signal_strength,
        })
    }

    async fn leave(&mut self) {
        self.disconnect().await;
    }
}

/// Maps the driver's disconnect reason for a failed association to ESP-AT's
/// `+CWJAP:<code>`.
fn join_error(reason: DisconnectReason) -> JoinError {
    match reason {
        // A WPA2 four-way handshake that never completes, a failed SAE (WPA3)
        // authentication and a MIC failure are what a wrong password looks like.
        DisconnectReason::FourWayHandshakeTimeout
        | DisconnectReason::HandshakeTimeout
        | DisconnectReason::AuthenticationFailed
        | DisconnectReason::MicFailure => JoinError::WrongPassword,
        DisconnectReason::NoAccessPointFound
        | DisconnectReason::NoAccessPointFoundWithCompatibleSecurity
        | DisconnectReason::NoAccessPointFoundInAuthmodeThreshold
        | DisconnectReason::NoAccessPointFoundInRssiThreshold => JoinError::NoAccessPoint,
        DisconnectReason::Timeout | DisconnectReason::BeaconTimeout => JoinError::Timeout,
        _ => JoinError::Failed,
    }
}
