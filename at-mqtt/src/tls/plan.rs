//! Which handshake the configured scheme makes, and its parameters: the PSK, the server
//! name (SNI), the ALPN protocols and, feature `tls-cert`, the credentials.
//!
//! | scheme | seed profile | esp-at profile |
//! |---|---|---|
//! | 2 | TLS-PSK (`AT+MQTTPSK`) | TLS without verifying the server (`tls-cert`; TLS-PSK without it) |
//! | 3 | verify the server against the CA of `CA_ID` | same |
//! | 4 | present the client certificate and key of `cert_key_ID` | same |
//! | 5 | both | same |
//!
//! The server name is `AT+MQTTSNI`'s (feature `tls-cert`) when set, else the connect host unless that is an
//! IP address (RFC 6066 forbids addresses as server names). It is the name the server
//! certificate must carry; with no server name, the certificate must carry the address.

use core::net::Ipv4Addr;
#[cfg(feature = "tls-cert")]
use core::{net::IpAddr, str::FromStr};

use at_core::{ErrorCode, Profile};
use heapless::Vec;

use super::{Handshake, TlsPsk};
use crate::config::{MAX_ALPNS, MqttConfig};
#[cfg(feature = "tls-cert")]
use crate::credentials::CredentialStore;
use crate::error::TLS_CONFIG_ERROR;

/// The handshake of a TLS scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// TLS-PSK.
    Psk,
    /// Certificates (or none: the esp-at profile's scheme 2).
    #[cfg(feature = "tls-cert")]
    Cert(super::cert::CertScheme),
}

/// The handshake of `scheme` (2..=5) in `profile`, if this build has it.
fn kind(scheme: u8, profile: Profile) -> Option<Kind> {
    #[cfg(feature = "tls-cert")]
    {
        use super::cert::CertScheme;
        let cert = |verify, client| Some(Kind::Cert(CertScheme { verify, client }));
        match (scheme, profile) {
            (2, Profile::EspAt) => cert(false, false),
            (2, _) => Some(Kind::Psk),
            (3, _) => cert(true, false),
            (4, _) => cert(false, true),
            (5, _) => cert(true, true),
            _ => None,
        }
    }
    #[cfg(not(feature = "tls-cert"))]
    {
        let _ = profile;
        (scheme == 2).then_some(Kind::Psk)
    }
}

/// Whether the configured scheme can run: `TLS_CONFIG_ERROR` when it needs TLS the
/// port did not enable, or a PSK that `AT+MQTTPSK` did not set.
pub(crate) fn usable(
    config: &MqttConfig,
    profile: Profile,
    tls: Option<&TlsPsk<'_>>,
) -> Result<(), ErrorCode> {
    let scheme = config.scheme();
    if scheme == 1 {
        return Ok(());
    }
    let (Some(kind), Some(tls)) = (kind(scheme, profile), tls) else {
        return Err(TLS_CONFIG_ERROR);
    };
    match kind {
        Kind::Psk if config.psk.is_none() => Err(TLS_CONFIG_ERROR),
        Kind::Psk => Ok(()),
        #[cfg(feature = "tls-cert")]
        Kind::Cert(_) if tls.certs.is_none() => Err(TLS_CONFIG_ERROR),
        #[cfg(feature = "tls-cert")]
        Kind::Cert(_) => Ok(()),
    }
    .map(|()| {
        let _ = tls;
    })
}

/// Reads the credentials of a certificate scheme from `store` (none for the others).
#[cfg(feature = "tls-cert")]
pub(crate) async fn load<C: CredentialStore>(
    config: &MqttConfig,
    profile: Profile,
    tls: Option<&mut TlsPsk<'_>>,
    store: &mut C,
) -> Result<Option<super::cert::Loaded>, ErrorCode> {
    let (Some(Kind::Cert(scheme)), Some(user)) = (kind(config.scheme(), profile), &config.user)
    else {
        return Ok(None);
    };
    let Some(buffers) = tls.and_then(|tls| tls.certs.as_mut()) else {
        return Err(TLS_CONFIG_ERROR);
    };
    super::cert::load(buffers, store, scheme, user.ca_id, user.cert_key_id)
        .await
        .map(Some)
}

/// The ALPN protocols of `AT+MQTTALPN` (feature `tls-cert`), as embedded-tls takes them.
pub(crate) fn alpn(config: &MqttConfig) -> Vec<&[u8], MAX_ALPNS> {
    #[cfg(feature = "tls-cert")]
    let alpn = config
        .tls_names
        .alpn
        .iter()
        .map(|name| name.as_bytes())
        .collect();
    #[cfg(not(feature = "tls-cert"))]
    let alpn = {
        let _ = config;
        Vec::new()
    };
    alpn
}

/// The server name of `AT+MQTTSNI` (feature `tls-cert`); empty when unset.
fn sni(config: &MqttConfig) -> &str {
    #[cfg(feature = "tls-cert")]
    let sni = config.tls_names.sni.as_str();
    #[cfg(not(feature = "tls-cert"))]
    let sni = {
        let _ = config;
        ""
    };
    sni
}

/// Whether `host` is an IP address, which RFC 6066 forbids as a server name: an IPv4
/// address, or anything with a colon, as IPv6 addresses have and host names never do.
/// (The image without `tls-cert` then links only the IPv4 parser, which connecting
/// uses too.)
fn is_ip_literal(host: &str) -> bool {
    host.parse::<Ipv4Addr>().is_ok() || host.contains(':')
}

/// The handshake for `config`; `loaded` are a certificate scheme's credentials.
pub(crate) fn handshake<'p>(
    config: &'p MqttConfig,
    profile: Profile,
    alpn: &'p [&'p [u8]],
    #[cfg(feature = "tls-cert")] loaded: Option<super::cert::Loaded>,
) -> Handshake<'p> {
    let host = config.target.host.as_str();
    let sni = sni(config);
    let server_name = if !sni.is_empty() {
        Some(sni)
    } else if is_ip_literal(host) {
        None
    } else {
        Some(host)
    };
    let psk = match kind(config.scheme(), profile) {
        Some(Kind::Psk) => config
            .psk
            .as_ref()
            .map(|psk| (psk.identity.as_slice(), psk.key.as_slice())),
        _ => None,
    };
    Handshake {
        psk,
        server_name,
        alpn,
        #[cfg(feature = "tls-cert")]
        cert: loaded.map(|loaded| {
            let ip = IpAddr::from_str(host).ok();
            (loaded, ip.filter(|_| sni.is_empty()))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::is_ip_literal;

    /// IPv4 and IPv6 addresses are no server names; host names are, whatever their
    /// digits.
    #[test]
    fn addresses_are_told_from_host_names() {
        for address in [
            "192.0.2.7",
            "127.0.0.1",
            "::1",
            "2001:db8::7",
            "::ffff:192.0.2.7",
        ] {
            assert!(is_ip_literal(address), "{address}");
        }
        for name in [
            "broker.example",
            "localhost",
            "192.0.2.7.example",
            "1.2.3",
            "256.1.1.1",
        ] {
            assert!(!is_ip_literal(name), "{name}");
        }
    }
}
