//! `AT+CIPSTA?` and `AT+CIPSTA=<"ip">[,<"gateway">,<"netmask">]`; `AT+CWDHCP?` and
//! `AT+CWDHCP=<operate>,<mode>`.
//!
//! Both change the interface's addressing: a static `AT+CIPSTA=` turns DHCP off (as in
//! ESP-AT), and `AT+CWDHCP=1,<mode with bit 0>` turns it back on. `AT+CWDHCP`'s mode is
//! ESP-AT's bit mask (bit 0 station, bit 1 SoftAP, bit 2 Ethernet): the modem's one
//! interface answers to bits 0 and 2; bit 1 is accepted and has no interface to act on.

use core::net::Ipv4Addr;

use at_core::{Args, CommandInfo, CommandSet, Context, ErrorCode, Form, LineBuf, Outcome};

at_core::command_table! {
    /// The IP configuration commands.
    pub enum IpCommand {
        /// `AT+CIPSTA`: the station's IPv4 address, gateway and netmask.
        Cipsta = "+CIPSTA": QUERY | SET,
        /// `AT+CWDHCP`: DHCP on or off.
        Cwdhcp = "+CWDHCP": QUERY | SET,
    }
}

/// An IPv4 configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Settings {
    /// The address.
    pub address: Ipv4Addr,
    /// The default gateway.
    pub gateway: Ipv4Addr,
    /// The netmask.
    pub netmask: Ipv4Addr,
}

impl Ipv4Settings {
    /// `address` with netmask 255.255.255.0 and the gateway at `.1` of its subnet, as
    /// used when `AT+CIPSTA` gives only the address.
    pub fn with_defaults(address: Ipv4Addr) -> Self {
        let netmask = Ipv4Addr::new(255, 255, 255, 0);
        let network = address.to_bits() & netmask.to_bits();
        Self {
            address,
            gateway: Ipv4Addr::from_bits(network | 1),
            netmask,
        }
    }
}

/// What `AT+CIPSTA` needs from a port's network interface.
pub trait IpInterface {
    /// The current IPv4 configuration, if the interface has one (DHCP done or static).
    fn ipv4(&self) -> Option<Ipv4Settings>;

    /// Switches to the static configuration `settings` (DHCP off).
    fn set_static(&mut self, settings: Ipv4Settings);

    /// Whether the address comes from DHCP.
    fn dhcp(&self) -> bool;

    /// Switches DHCP on (asking for a lease from now on) or off (the current address, if
    /// any, stays as a static one until `AT+CIPSTA=` sets another).
    fn set_dhcp(&mut self, enabled: bool);
}

/// `AT+CWDHCP`'s mode bits for the modem's one interface: station and Ethernet.
const OWN_INTERFACE_BITS: u8 = 0b101;

/// `AT+CIPSTA` over an [`IpInterface`].
pub struct IpCommands<I> {
    interface: I,
}

impl<I: IpInterface> IpCommands<I> {
    /// Commands for `interface`.
    pub fn new(interface: I) -> Self {
        Self { interface }
    }

    /// The interface.
    pub fn interface(&mut self) -> &mut I {
        &mut self.interface
    }
}

impl<I: IpInterface> IpCommands<I> {
    /// `AT+CWDHCP?` (`+CWDHCP:<state>`, bit 0 set while DHCP is on) and
    /// `AT+CWDHCP=<0|1>,<mode 0..7>`.
    async fn dhcp<C: Context>(
        &mut self,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        if form == Form::Query {
            let mut line = LineBuf::<16>::new();
            line.push_str(if self.interface.dhcp() {
                "+CWDHCP:1"
            } else {
                "+CWDHCP:0"
            });
            cx.write_line(line.as_bytes()).await;
            return Ok(Outcome::Ok);
        }
        args.expect_count(2..=2)?;
        let enable = args.int(0u8..=1)? == 1;
        let mode = args.int(0u8..=7)?;
        args.finish()?;
        if mode & OWN_INTERFACE_BITS != 0 && enable != self.interface.dhcp() {
            self.interface.set_dhcp(enable);
        }
        Ok(Outcome::Ok)
    }
}

/// Appends `address` as a dotted quad.
fn push_ipv4<const N: usize>(line: &mut LineBuf<N>, address: Ipv4Addr) {
    for (i, octet) in address.octets().into_iter().enumerate() {
        if i > 0 {
            line.push_str(".");
        }
        line.push_decimal(octet);
    }
}

/// Parses a dotted-quad IPv4 address.
fn address(args: &mut Args<'_>) -> Result<Ipv4Addr, ErrorCode> {
    let text = args.str()?;
    core::str::from_utf8(text)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or(ErrorCode::INVALID_PARAMETER)
}

impl<I: IpInterface> CommandSet for IpCommands<I> {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        IpCommand::TABLE.get(index)
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        mut args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        if IpCommand::from_index(index) == Some(IpCommand::Cwdhcp) {
            return self.dhcp(form, args, cx).await;
        }
        if form == Form::Query {
            let unset = Ipv4Addr::UNSPECIFIED;
            let settings = self.interface.ipv4().unwrap_or(Ipv4Settings {
                address: unset,
                gateway: unset,
                netmask: unset,
            });
            for (name, value) in [
                ("ip", settings.address),
                ("gateway", settings.gateway),
                ("netmask", settings.netmask),
            ] {
                let mut line = LineBuf::<48>::new();
                line.push_str("+CIPSTA:");
                line.push_str(name);
                line.push_str(":\"");
                push_ipv4(&mut line, value);
                line.push_str("\"");
                cx.write_line(line.as_bytes()).await;
            }
            return Ok(Outcome::Ok);
        }
        if args.len() == 2 {
            return Err(ErrorCode::parameter_count(3, 2));
        }
        args.expect_count(1..=3)?;
        let ip = address(&mut args)?;
        let settings = if args.len() == 3 {
            Ipv4Settings {
                address: ip,
                gateway: address(&mut args)?,
                netmask: address(&mut args)?,
            }
        } else {
            Ipv4Settings::with_defaults(ip)
        };
        args.finish()?;
        if !valid_netmask(settings.netmask) || settings.address.is_unspecified() {
            return Err(ErrorCode::INVALID_PARAMETER);
        }
        self.interface.set_static(settings);
        Ok(Outcome::Ok)
    }
}

/// Whether `mask` is a run of ones followed by zeros.
fn valid_netmask(mask: Ipv4Addr) -> bool {
    let bits = mask.to_bits();
    bits.leading_ones() + bits.trailing_zeros() == 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_derive_gateway_and_netmask() {
        let s = Ipv4Settings::with_defaults(Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(s.gateway, Ipv4Addr::new(10, 1, 2, 1));
        assert_eq!(s.netmask, Ipv4Addr::new(255, 255, 255, 0));
    }

    #[test]
    fn netmasks() {
        assert!(valid_netmask(Ipv4Addr::new(255, 255, 255, 0)));
        assert!(valid_netmask(Ipv4Addr::new(255, 255, 0, 0)));
        assert!(valid_netmask(Ipv4Addr::new(0, 0, 0, 0)));
        assert!(!valid_netmask(Ipv4Addr::new(255, 0, 255, 0)));
    }
}
