//! [`IpInterface`] for an embassy-net stack.

use embassy_net::{ConfigV4, DhcpConfig, Ipv4Cidr, Stack, StaticConfigV4};

use super::{IpInterface, Ipv4Settings};

/// An embassy-net stack as an [`IpInterface`].
#[derive(Clone, Copy)]
pub struct EmbassyInterface<'a> {
    stack: Stack<'a>,
    dhcp: bool,
}

impl<'a> EmbassyInterface<'a> {
    /// Wraps `stack`, which was started with DHCP (as the boards start theirs).
    pub fn new(stack: Stack<'a>) -> Self {
        Self { stack, dhcp: true }
    }

    /// The same interface for a stack started with DHCP (`true`) or a static address.
    pub fn with_dhcp(mut self, dhcp: bool) -> Self {
        self.dhcp = dhcp;
        self
    }
}

impl IpInterface for EmbassyInterface<'_> {
    fn ipv4(&self) -> Option<Ipv4Settings> {
        let config = self.stack.config_v4()?;
        let prefix = config.address.prefix_len();
        let netmask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix.min(32)))
        };
        Some(Ipv4Settings {
            address: config.address.address(),
            gateway: config.gateway.unwrap_or(core::net::Ipv4Addr::UNSPECIFIED),
            netmask: netmask.into(),
        })
    }

    fn set_static(&mut self, settings: Ipv4Settings) {
        let prefix = u8::try_from(settings.netmask.to_bits().leading_ones()).unwrap_or(32);
        let dns_servers = self
            .stack
            .config_v4()
            .map(|c| c.dns_servers)
            .unwrap_or_default();
        self.stack.set_config_v4(ConfigV4::Static(StaticConfigV4 {
            address: Ipv4Cidr::new(settings.address, prefix),
            // 0.0.0.0 means "no gateway", not a default route through it.
            gateway: (!settings.gateway.is_unspecified()).then_some(settings.gateway),
            dns_servers,
        }));
        self.dhcp = false;
    }

    fn dhcp(&self) -> bool {
        self.dhcp
    }

    fn set_dhcp(&mut self, enabled: bool) {
        if enabled {
            self.stack
                .set_config_v4(ConfigV4::Dhcp(DhcpConfig::default()));
            self.dhcp = true;
            return;
        }
        match self.stack.config_v4() {
            // The leased address stays, now static (as ESP-IDF's stopped DHCP client).
            Some(config) => self.stack.set_config_v4(ConfigV4::Static(config)),
            None => self.stack.set_config_v4(ConfigV4::None),
        }
        self.dhcp = false;
    }
}
