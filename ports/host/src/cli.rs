//! The command line: which serial line the simulated modem is attached to, its protocol
//! profile, its network (the host's TCP or a TAP device), and the script mode.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use at_core::Profile;
use clap::{Parser, ValueEnum};

use crate::wifi::AccessPointSettings;

/// The long help of `--serial`.
const SERIAL_HELP: &str = r"The serial line a host talks to.

stdio      Read the host's bytes from standard input and write the modem's bytes
           to standard output (interactive use; end of input powers the modem off
           and exits). A terminal in its usual mode echoes what you type and sends
           LF at Enter; the modem echoes too, so turn its echo off with ATE0 if
           you like.

pty:PATH   Open a pseudo-terminal in raw mode and make PATH a symbolic link to it
           (e.g. /tmp/modem -> /dev/pts/5). Any serial program can open PATH:
           picocom, `socat - PATH,raw,echo=0`, pyserial, or a host driver under
           test. Programs may close and reopen it; the modem keeps running. The
           link is removed when the simulator exits (Ctrl-C or SIGTERM included).
           Bytes the modem writes while no program has the port open wait in the
           terminal's buffer and are read by the next program that opens it
           (pyserial discards them when it opens a port). The kernel's terminal
           buffers hold about 16 KB that a host has not read before the modem
           blocks; they cannot be made smaller.

tcp:ADDR   Listen on ADDR (e.g. 127.0.0.1:5000) like a serial-over-TCP bridge.
           One host connection is served at a time; further connections wait
           until it closes. Each accepted connection is a power-on: a fresh modem
           that prints `ready`. The bound address is printed to standard error as
           `at-host: listening on IP:PORT` (useful with port 0). The socket's
           buffers are kept small (2 KiB SO_SNDBUF and SO_RCVBUF), so that a host
           that reads slowly pushes back on the modem as a UART does: about 5 KB
           of output wait in the line when the host's own receive buffer is as
           small, and up to 1 KiB more in the modem's write buffer.";

/// The long help of `--script`.
const SCRIPT_HELP: &str = r"Run the AT lines of FILE against a fresh modem instead of serving a serial line, as if a host typed them, and print the transcript to standard output.

FILE holds one command line per line; empty lines and lines starting with `#` are skipped. Each line is sent with CR LF, then the next is held back until the modem's final result: `OK`, `ERROR`, `busy p...`, or a result line such as `+MQTTPUBRAW:OK` or `+MQTTPUB:FAIL`. After the OK of `AT+RST` the next `ready` is awaited too. A command that enters raw data mode (`AT+MQTTPUBRAW=...`, `AT+MQTTLONG...=...`) waits for the `>` prompt, and the next line of FILE is sent as its data, without CR LF (if the command is refused instead, that line is skipped).

The transcript shows every byte: lines starting with `> ` were sent by the host, lines starting with `< ` were written by the modem. CR, LF, tab and backslash are written as \r, \n, \t and \\, other bytes outside printable ASCII as \xNN, and each transcript line ends after an LF of the serial stream.

After the last result the transcript goes on until the line has been quiet for half a second, so that URCs on their way (such as a message the last command published, coming back) are shown.

Exits 0 when every line got its result, 1 when a result did not come within --result-timeout (or the script cannot be read).";

/// The long help of `--tap`.
const TAP_HELP: &str = r"Run the modem's network on an embassy-net (smoltcp) TCP/IP stack, the one the boards run, over the Linux TAP device IFACE, instead of on the host's own TCP. The stack sends and receives Ethernet frames on IFACE with a random locally administered MAC address, chosen at start and kept across power-ons; whatever IFACE is connected to (a bridge, a network namespace) is the board's network.

Each power-on (the start, every accepted tcp: connection, AT+RST) starts a fresh stack, as a board reboot does: DHCP runs again or the static --tap-address is set again, and an address set with AT+CIPSTA= is forgotten. AT+CIPSTA? reports the stack's address and AT+CIPSTA= sets it. Until the stack has an address (no DHCP lease yet), AT+CIPSTA? shows 0.0.0.0 and AT+MQTTCONN answers ERROR at once.

Set-up: IFACE must exist as a TAP device and be up before at-host starts; at-host attaches to it but never creates, configures or removes it. As root:

    ip tuntap add IFACE mode tap      (add `user NAME` to let NAME attach)
    ip link set IFACE up

then connect IFACE to a network, e.g. a bridge joined by a veth pair whose other end is in a network namespace running the broker:

    ip link add br0 type bridge && ip link set br0 up
    ip link set IFACE master br0
    ip netns add broker
    ip link add veth0 type veth peer name veth1 netns broker
    ip link set veth0 master br0 && ip link set veth0 up
    ip -n broker addr add 10.0.0.1/24 dev veth1 && ip -n broker link set veth1 up
    ip netns exec broker mosquitto -c CONF      (CONF: `listener 1883 10.0.0.1`)
    at-host --tap IFACE --tap-address 10.0.0.2/24

Attaching needs read-write access to /dev/net/tun and either root (CAP_NET_ADMIN) or being the user the device was created for. If IFACE goes down while the modem runs, its frames are lost (reported on standard error) and the modem keeps running, as a board with a pulled cable does.";

/// Simulates the AT-command MQTT modem on Linux.
///
/// The modem speaks AT commands on a serial line, exactly as the firmware of a board does
/// on its UART: it prints `ready` at power-on, echoes command lines, and answers `OK` or
/// `ERROR`. Only the serial line is simulated; everything behind it is the same library
/// code a board runs.
#[derive(Debug, Parser)]
#[command(name = "at-host", version, about, long_about)]
pub struct Cli {
    /// The serial line a host talks to: `stdio`, `pty:PATH` or `tcp:ADDR`.
    #[arg(
        long,
        value_name = "LINE",
        default_value = "stdio",
        long_help = SERIAL_HELP
    )]
    pub serial: SerialLine,

    /// The protocol profile: `seed` (the default) or `esp-at` (byte-compatible with
    /// current Espressif ESP-AT, for unchanged ESP-AT host drivers).
    #[arg(long, value_enum, value_name = "PROFILE", default_value_t = ProfileArg::Seed)]
    pub profile: ProfileArg,

    /// Pace the serial line as a UART at BAUD would (10 bits per byte, both
    /// directions); without it the line is as fast as its transport.
    #[arg(long, value_name = "BAUD", value_parser = clap::value_parser!(u32).range(300..=16_000_000))]
    pub baud: Option<u32>,

    /// Run the AT lines of FILE against a fresh modem, print the transcript, and exit.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "serial",
        long_help = SCRIPT_HELP
    )]
    pub script: Option<PathBuf>,

    /// With --script: how long to wait for each command's final result, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        requires = "script"
    )]
    pub result_timeout: u64,

    /// Run the network on embassy-net (smoltcp) over the TAP device IFACE instead of the
    /// host's TCP (needs an existing, up TAP device and root: see --help).
    #[arg(long, value_name = "IFACE", long_help = TAP_HELP)]
    pub tap: Option<InterfaceName>,

    /// With --tap: a static address with its prefix length, e.g. 10.0.0.2/24 (without
    /// it the address comes from DHCP).
    #[arg(long, value_name = "A.B.C.D/NN", requires = "tap")]
    pub tap_address: Option<Ipv4Prefix>,

    /// With --tap-address: the default gateway (inside the address's subnet); without it
    /// only the subnet itself is reachable.
    #[arg(long, value_name = "A.B.C.D", requires = "tap_address")]
    pub tap_gateway: Option<Ipv4Addr>,

    /// With --tap-address: a DNS server for host names in AT+MQTTCONN (up to 3 times).
    #[arg(long, value_name = "A.B.C.D", requires = "tap_address")]
    pub tap_dns: Vec<Ipv4Addr>,

    /// The Wi-Fi network the simulated radio can join with AT+CWJAP (the host's own
    /// network carries the traffic either way).
    #[arg(
        long,
        value_name = "SSID:PASSWORD",
        long_help = "The Wi-Fi network the simulated radio can join, so that scripts \
written for a Wi-Fi board run unchanged: AT+CWJAP=\"SSID\",\"PASSWORD\" answers WIFI \
CONNECTED, WIFI GOT IP and OK; a wrong password gives +CWJAP:2 and another SSID \
+CWJAP:3, then ERROR. AT+CWMODE, AT+CWJAP? and AT+CWQAP work as on the ESP32-C3 port. \
Without this option no access point is in range. The host's own network (or --tap) \
carries the MQTT traffic whether or not the radio has joined."
    )]
    pub wifi: Option<AccessPointSettings>,

    /// Keep the modem's certificates and keys in DIR (`DIR/credentials/`), so that they
    /// survive AT+RST and simulator restarts; without it they live in memory and
    /// survive AT+RST only.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Log what the simulator and its libraries do on standard error, each ERROR
    /// explained in words (debug level; give it twice for trace).
    #[arg(
        short,
        long,
        action = clap::ArgAction::Count,
        long_help = "Log what the simulator does on standard error, as `at-host: LEVEL \
target: message` lines: serial connections accepted and closed with their buffer sizes, \
power-ons, and the records of the library crates (the engine, the MQTT client) when they \
are built with their `log` feature. Every ERROR the modem answers gets a line saying \
which command failed, its code and what was wrong, e.g. `at-host: INFO  at_core::driver: \
AT+MQTTPUB: ERROR 0x010a6048: QoS must be 0, 1 or 2`, while the serial line carries the \
same bytes as without --verbose. Once: debug level; twice (-vv): trace level too. \
Without it standard error shows only the simulator's usual lines."
    )]
    pub verbose: u8,
}

impl Cli {
    /// The result timeout of the script mode.
    pub fn result_timeout(&self) -> Duration {
        Duration::from_secs(self.result_timeout)
    }

    /// The TAP network asked for with `--tap`, checked for consistency.
    pub fn tap(&self) -> Result<Option<TapSettings>, String> {
        let Some(name) = self.tap.clone() else {
            return Ok(None);
        };
        if self.tap_dns.len() > MAX_DNS_SERVERS {
            return Err(format!(
                "--tap-dns may be given at most {MAX_DNS_SERVERS} times"
            ));
        }
        if let (Some(address), Some(gateway)) = (self.tap_address, self.tap_gateway)
            && !address.contains(gateway)
        {
            return Err(format!(
                "--tap-gateway {gateway} is outside the subnet of --tap-address {address}"
            ));
        }
        Ok(Some(TapSettings {
            name,
            address: self.tap_address,
            gateway: self.tap_gateway,
            dns_servers: self.tap_dns.clone(),
        }))
    }
}

/// How many DNS servers the stack holds (embassy-net's limit).
pub const MAX_DNS_SERVERS: usize = 3;

/// The `--tap` options together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapSettings {
    /// The TAP device.
    pub name: InterfaceName,
    /// The static address, or `None` for DHCP.
    pub address: Option<Ipv4Prefix>,
    /// The default gateway of the static address.
    pub gateway: Option<Ipv4Addr>,
    /// DNS servers of the static address (at most [`MAX_DNS_SERVERS`]).
    pub dns_servers: Vec<Ipv4Addr>,
}

/// A Linux network interface name: 1 to 15 bytes, no `/`, whitespace, `:` or NUL, and
/// not `.` or `..` (the kernel's rules).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceName(String);

impl InterfaceName {
    /// The longest name the kernel accepts (`IFNAMSIZ` minus its NUL).
    pub const MAX_LEN: usize = 15;

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InterfaceName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(format!(
                "an interface name has 1 to {} bytes, `{text}` has {}",
                Self::MAX_LEN,
                text.len()
            ));
        }
        let bad = |c: char| c == '/' || c == ':' || c == '\0' || c.is_whitespace();
        if text.contains(bad) || text == "." || text == ".." {
            return Err(format!("`{text}` is not a valid interface name"));
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IPv4 address with a prefix length, written `A.B.C.D/NN`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    /// The address.
    pub address: Ipv4Addr,
    /// The prefix length, 1 to 32.
    pub len: u8,
}

impl Ipv4Prefix {
    /// The netmask of the prefix.
    pub fn netmask(self) -> u32 {
        u32::MAX << (32 - u32::from(self.len))
    }

    /// Whether `other` is in this address's subnet.
    pub fn contains(self, other: Ipv4Addr) -> bool {
        (self.address.to_bits() ^ other.to_bits()) & self.netmask() == 0
    }
}

impl FromStr for Ipv4Prefix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let usage = || format!("`{text}` is not A.B.C.D/NN (e.g. 10.0.0.2/24)");
        let (address, len) = text.split_once('/').ok_or_else(usage)?;
        let address: Ipv4Addr = address.parse().map_err(|_| usage())?;
        let len: u8 = len.parse().map_err(|_| usage())?;
        if !(1..=32).contains(&len) {
            return Err(format!("the prefix length of `{text}` must be 1 to 32"));
        }
        if address.is_unspecified() || address.is_broadcast() || address.is_multicast() {
            return Err(format!("{address} cannot be the modem's address"));
        }
        Ok(Self { address, len })
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.len)
    }
}

/// Where the modem's serial line is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialLine {
    /// Standard input and output.
    Stdio,
    /// A pseudo-terminal linked at this path.
    Pty(PathBuf),
    /// A TCP listener on this address (`host:port`).
    Tcp(String),
}

impl FromStr for SerialLine {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "stdio" {
            return Ok(Self::Stdio);
        }
        if let Some(path) = text.strip_prefix("pty:") {
            if path.is_empty() {
                return Err("pty: needs a path, e.g. pty:/tmp/modem".into());
            }
            return Ok(Self::Pty(PathBuf::from(path)));
        }
        if let Some(addr) = text.strip_prefix("tcp:") {
            if !addr.contains(':') {
                return Err("tcp: needs HOST:PORT, e.g. tcp:127.0.0.1:5000".into());
            }
            return Ok(Self::Tcp(addr.to_owned()));
        }
        Err(format!(
            "unknown serial line `{text}`: use stdio, pty:PATH or tcp:ADDR"
        ))
    }
}

impl fmt::Display for SerialLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdio => f.write_str("stdio"),
            Self::Pty(path) => write!(f, "pty:{}", path.display()),
            Self::Tcp(addr) => write!(f, "tcp:{addr}"),
        }
    }
}

/// The `--profile` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    /// The protocol as this project specifies it (the default).
    Seed,
    /// Byte-compatible with current ESP-AT.
    #[value(name = "esp-at")]
    EspAt,
}

impl From<ProfileArg> for Profile {
    fn from(arg: ProfileArg) -> Self {
        match arg {
            ProfileArg::Seed => Profile::Seed,
            ProfileArg::EspAt => Profile::EspAt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn serial_lines_parse() {
        assert_eq!("stdio".parse(), Ok(SerialLine::Stdio));
        assert_eq!(
            "pty:/tmp/m".parse(),
            Ok(SerialLine::Pty(PathBuf::from("/tmp/m")))
        );
        assert_eq!(
            "tcp:127.0.0.1:0".parse(),
            Ok(SerialLine::Tcp("127.0.0.1:0".into()))
        );
        assert!("pty:".parse::<SerialLine>().is_err());
        assert!("tcp:5000".parse::<SerialLine>().is_err());
        assert!("uart".parse::<SerialLine>().is_err());
    }

    #[test]
    fn display_round_trips() {
        for text in ["stdio", "pty:/tmp/m", "tcp:[::1]:80"] {
            let line: SerialLine = text.parse().unwrap_or(SerialLine::Stdio);
            assert_eq!(line.to_string(), text);
        }
    }

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn interface_names_follow_the_kernel_rules() {
        assert_eq!(
            "tap0".parse::<InterfaceName>().map(|n| n.to_string()),
            Ok("tap0".to_owned())
        );
        assert!("a23456789012345".parse::<InterfaceName>().is_ok());
        for bad in ["", "a234567890123456", "a/b", "a b", "a:1", ".", ".."] {
            assert!(bad.parse::<InterfaceName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_parse_and_contain_their_subnet() {
        let prefix: Ipv4Prefix = "10.1.2.3/24".parse().unwrap();
        assert_eq!(prefix.address, Ipv4Addr::new(10, 1, 2, 3));
        assert_eq!(prefix.len, 24);
        assert_eq!(prefix.to_string(), "10.1.2.3/24");
        assert!(prefix.contains(Ipv4Addr::new(10, 1, 2, 1)));
        assert!(!prefix.contains(Ipv4Addr::new(10, 1, 3, 1)));
        let host: Ipv4Prefix = "10.1.2.3/32".parse().unwrap();
        assert!(host.contains(Ipv4Addr::new(10, 1, 2, 3)));
        assert!(!host.contains(Ipv4Addr::new(10, 1, 2, 4)));
        for bad in [
            "10.1.2.3",
            "10.1.2.3/",
            "10.1.2.3/0",
            "10.1.2.3/33",
            "10.1.2/24",
            "0.0.0.0/8",
            "224.0.0.1/4",
            "255.255.255.255/32",
            "10.1.2.3/24 ",
        ] {
            assert!(bad.parse::<Ipv4Prefix>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tap_options_need_their_base_option() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["at-host"], args].concat());
        assert!(parse(&["--tap-address", "10.0.0.2/24"]).is_err());
        assert!(parse(&["--tap", "t", "--tap-gateway", "10.0.0.1"]).is_err());
        assert!(parse(&["--tap", "t", "--tap-dns", "10.0.0.1"]).is_err());
        let dhcp = parse(&["--tap", "t"]).unwrap().tap().unwrap().unwrap();
        assert_eq!(dhcp.address, None);
        assert_eq!(parse(&[]).unwrap().tap(), Ok(None));
    }

    #[test]
    fn tap_settings_are_checked() {
        let tap = |args: &[&str]| {
            Cli::try_parse_from(
                [
                    &["at-host", "--tap", "t", "--tap-address", "10.0.0.2/24"],
                    args,
                ]
                .concat(),
            )
            .map_err(|e| e.to_string())
            .and_then(|cli| cli.tap())
        };
        let settings = tap(&["--tap-gateway", "10.0.0.1", "--tap-dns", "10.0.0.53"]);
        assert_eq!(
            settings,
            Ok(Some(TapSettings {
                name: InterfaceName("t".into()),
                address: Some(Ipv4Prefix {
                    address: Ipv4Addr::new(10, 0, 0, 2),
                    len: 24
                }),
                gateway: Some(Ipv4Addr::new(10, 0, 0, 1)),
                dns_servers: vec![Ipv4Addr::new(10, 0, 0, 53)],
            }))
        );
        assert!(tap(&["--tap-gateway", "10.0.1.1"]).is_err());
        let four = ["--tap-dns", "1.1.1.1"].repeat(4);
        assert!(tap(&four).is_err());
    }

    #[test]
    fn verbose_counts() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["at-host"], args].concat());
        assert!(matches!(parse(&[]), Ok(cli) if cli.verbose == 0));
        assert!(matches!(parse(&["--verbose"]), Ok(cli) if cli.verbose == 1));
        assert!(matches!(parse(&["-vv"]), Ok(cli) if cli.verbose == 2));
    }

    #[test]
    fn script_conflicts_with_serial() {
        let parsed = Cli::try_parse_from(["at-host", "--serial", "stdio", "--script", "f"]);
        assert!(parsed.is_err());
        let parsed = Cli::try_parse_from(["at-host", "--script", "f", "--profile", "esp-at"]);
        assert!(matches!(parsed, Ok(cli) if cli.profile == ProfileArg::EspAt));
    }
}
