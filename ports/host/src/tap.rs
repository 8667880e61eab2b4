//! The simulated board's network on embassy-net (smoltcp) over a Linux TAP device.
//!
//! `--tap IFACE` attaches to an existing TAP device once, at start, so that a missing
//! device or permission is reported before the serial line opens. Every power-on then
//! builds a fresh embassy-net stack on that device ([`Tap::power_on`]): DHCP or the
//! static address start over, as on a board that reboots. The MAC address is random,
//! locally administered, and fixed for the life of the process, like a board's. A
//! device that fails under the stack (e.g. set down) loses frames instead of ending the
//! process ([`guard`]).

mod guard;

use std::convert::Infallible;
use std::hash::{BuildHasher, RandomState};
use std::path::Path;

use embassy_futures::join::join;
use embassy_net::{
    Config, ConfigV4, DhcpConfig, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4,
};
use embassy_net_tuntap::TunTapDevice;

use self::guard::Guarded;
use crate::cli::{InterfaceName, MAX_DNS_SERVERS, TapSettings};

/// The TAP device as the stack's driver.
pub type TapDriver = Guarded<TunTapDevice>;

/// Sockets one stack holds: the DHCP client, DNS, the broker's TCP connection, and the
/// UDP socket of an SNTP exchange.
pub const SOCKETS: usize = 4;

/// `IFF_UP` in `/sys/class/net/IFACE/flags`.
const IFF_UP: u32 = 0x1;
/// `IFF_TAP` in `/sys/class/net/IFACE/tun_flags`.
const IFF_TAP: u32 = 0x2;

/// The TAP device the board's stack runs on, and how the stack gets its address.
pub struct Tap {
    name: InterfaceName,
    device: TapDriver,
    mac: [u8; 6],
    config: Config,
    /// The random source standing in for a board's RNG (MAC address, stack seeds):
    /// std's hasher keys, drawn from the operating system, hashing a counter.
    random: RandomState,
    power_ons: u64,
}

impl Tap {
    /// Attaches to the TAP device `settings.name`, which must exist and be up.
    pub fn open(settings: &TapSettings) -> Result<Self, String> {
        let name = &settings.name;
        check_device(name)?;
        let mut device = TunTapDevice::new(name.as_str()).map_err(|e| {
            format!(
                "cannot attach to TAP device {name} through /dev/net/tun: {e} (this needs \
                 read-write access to /dev/net/tun, and root or the device's owner)"
            )
        })?;
        let random = RandomState::new();
        let mac = local_mac(random.hash_one("mac"));
        device.set_hardware_address(mac);
        Ok(Self {
            name: name.clone(),
            device: Guarded::new(device, name.as_str()),
            mac,
            config: stack_config(settings),
            random,
            power_ons: 0,
        })
    }

    /// What the stack is set up with, for the start-up message.
    pub fn describe(&self) -> String {
        let [a, b, c, d, e, f] = self.mac;
        let mac = format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}");
        let addressing = match &self.config.ipv4 {
            ConfigV4::Static(config) => {
                let mut text = format!("static {}", config.address);
                if let Some(gateway) = config.gateway {
                    text.push_str(&format!(", gateway {gateway}"));
                }
                for server in &config.dns_servers {
                    text.push_str(&format!(", DNS {server}"));
                }
                text
            }
            _ => "DHCP".to_owned(),
        };
        format!("TAP {}, MAC {mac}, {addressing}", self.name)
    }

    /// Whether the stack gets its address from DHCP (else it is static).
    pub fn uses_dhcp(&self) -> bool {
        !matches!(self.config.ipv4, ConfigV4::Static(_))
    }

    /// Powers the board's network on: a fresh stack on the device, in `resources`.
    ///
    /// The stack only moves while [`run`] drives its runner.
    pub fn power_on<'d>(
        &'d mut self,
        resources: &'d mut StackResources<SOCKETS>,
    ) -> (Stack<'d>, Runner<'d, &'d mut TapDriver>) {
        self.power_ons = self.power_ons.wrapping_add(1);
        let seed = self.random.hash_one(self.power_ons);
        embassy_net::new(&mut self.device, self.config.clone(), resources, seed)
    }
}

/// Drives a stack made by [`Tap::power_on`] (frames, DHCP, timers) and reports on
/// standard error when it gets or loses its address. Never returns.
pub async fn run(stack: Stack<'_>, runner: &mut Runner<'_, &mut TapDriver>) -> Infallible {
    let (never, _) = join(runner.run(), report(stack)).await;
    never
}

/// Reports each change of the stack's address.
async fn report(stack: Stack<'_>) -> Infallible {
    loop {
        stack.wait_config_up().await;
        if let Some(config) = stack.config_v4() {
            eprintln!("at-host: TAP network up: {}", config.address);
        }
        stack.wait_config_down().await;
        eprintln!("at-host: TAP network down");
    }
}

/// The stack's configuration from the command line.
fn stack_config(settings: &TapSettings) -> Config {
    let Some(address) = settings.address else {
        return Config::dhcpv4(DhcpConfig::default());
    };
    Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(address.address, address.len),
        gateway: settings.gateway,
        dns_servers: settings
            .dns_servers
            .iter()
            .copied()
            .take(MAX_DNS_SERVERS)
            .collect(),
    })
}

/// A unicast, locally administered MAC address made of random bits.
fn local_mac(random: u64) -> [u8; 6] {
    let [first, b, c, d, e, f, _, _] = random.to_le_bytes();
    [(first & 0xfc) | 0x02, b, c, d, e, f]
}

/// Checks that `name` is a TAP device and up, so that failures read as set-up advice.
fn check_device(name: &InterfaceName) -> Result<(), String> {
    let dir = Path::new("/sys/class/net").join(name.as_str());
    if !dir.exists() {
        return Err(format!(
            "there is no network interface {name}: create it as root with \
             `ip tuntap add {name} mode tap`"
        ));
    }
    let tun_flags = read_flags(&dir.join("tun_flags"));
    if tun_flags.is_none_or(|flags| flags & IFF_TAP == 0) {
        return Err(format!(
            "{name} is not a TAP device (`ip -d link show {name}` tells its kind): give \
             --tap a device made with `ip tuntap add NAME mode tap`"
        ));
    }
    let flags = read_flags(&dir.join("flags"));
    if flags.is_none_or(|flags| flags & IFF_UP == 0) {
        return Err(format!(
            "{name} is down: bring it up as root with `ip link set {name} up`"
        ));
    }
    Ok(())
}

/// A `0x...` flags file of sysfs.
fn read_flags(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    u32::from_str_radix(text.trim().strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::cli::Ipv4Prefix;

    fn settings(address: Option<&str>) -> TapSettings {
        TapSettings {
            name: "tap0".parse().unwrap(),
            address: address.and_then(|a| a.parse::<Ipv4Prefix>().ok()),
            gateway: None,
            dns_servers: vec![Ipv4Addr::new(10, 0, 0, 53)],
        }
    }

    #[test]
    fn macs_are_unicast_and_locally_administered() {
        for random in [0, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mac = local_mac(random);
            assert_eq!(mac[0] & 0x01, 0, "{mac:02x?} is multicast");
            assert_eq!(mac[0] & 0x02, 0x02, "{mac:02x?} is not local");
        }
        assert_eq!(local_mac(0x0000_0605_0403_02ff), [0xfe, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn without_an_address_the_stack_uses_dhcp() {
        assert!(matches!(
            stack_config(&settings(None)).ipv4,
            ConfigV4::Dhcp(_)
        ));
        let config = stack_config(&settings(Some("10.0.0.2/24")));
        let expected = StaticConfigV4 {
            address: Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 2), 24),
            gateway: None,
            dns_servers: [Ipv4Addr::new(10, 0, 0, 53)].into_iter().collect(),
        };
        assert_eq!(config.ipv4, ConfigV4::Static(expected));
    }

    #[test]
    fn sysfs_flags_parse() {
        let dir = std::env::temp_dir().join(format!("at-host-flags-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        let file = dir.join("flags");
        let _ = std::fs::write(&file, "0x1003\n");
        assert_eq!(read_flags(&file), Some(0x1003));
        let _ = std::fs::write(&file, "1003\n");
        assert_eq!(read_flags(&file), None);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read_flags(&dir.join("flags")), None);
    }

    #[test]
    fn a_missing_interface_is_explained() {
        let name: InterfaceName = "at-host-none0".parse().unwrap();
        let message = check_device(&name).unwrap_err();
        assert!(
            message.contains("ip tuntap add at-host-none0 mode tap"),
            "{message}"
        );
    }
}
