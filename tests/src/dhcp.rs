//! A DHCP server for one test network: dnsmasq (Debian `dnsmasq-base`), DHCP only, in a
//! [`TapNetwork`]'s namespace on its veth end, so the modem's stack (the simulator's or
//! the emulated board's) gets its address as a board on a LAN does.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use tempfile::TempDir;

use crate::{Process, TapNetwork};

/// How long dnsmasq may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// dnsmasq in a namespace, handing out 10.213.X.[`FIRST`](Self::FIRST)..=
/// [`LAST`](Self::LAST) with the namespace's address as the router; killed by its
/// process id when dropped.
pub struct DhcpServer {
    process: Process,
    network_prefix: [u8; 3],
    _dir: TempDir,
}

impl DhcpServer {
    /// The first address of the pool.
    pub const FIRST: u8 = 100;
    /// The last address of the pool.
    pub const LAST: u8 = 150;

    /// Starts dnsmasq in `network`'s namespace and waits until it serves.
    pub fn start(network: &TapNetwork) -> Self {
        let binary = dnsmasq();
        let dir = tempfile::tempdir().expect("a temporary directory for dnsmasq");
        let first = network.address(Self::FIRST);
        let last = network.address(Self::LAST);
        let mut command = network.command(&binary.to_string_lossy());
        command
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--port=0",
                "--bind-interfaces",
                "--log-facility=-",
                "--log-dhcp",
                "--user=root",
                "--dhcp-authoritative",
            ])
            .arg(format!("--interface={}", TapNetwork::NAMESPACE_LINK))
            .arg(format!("--dhcp-range={first},{last},255.255.255.0,1h"))
            .arg(format!(
                "--dhcp-option=option:router,{}",
                network.broker_address()
            ))
            .arg(format!(
                "--dhcp-leasefile={}",
                dir.path().join("leases").display()
            ))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()));
        let name = format!("dnsmasq in namespace {}", network.namespace());
        let mut process = Process::spawn(&name, command);
        process.wait_for_log("DHCP, IP range", START_TIMEOUT);
        let octets = first.octets();
        Self {
            process,
            network_prefix: [octets[0], octets[1], octets[2]],
            _dir: dir,
        }
    }

    /// Whether `address` is one this server hands out.
    pub fn in_pool(&self, address: Ipv4Addr) -> bool {
        let [a, b, c, d] = address.octets();
        [a, b, c] == self.network_prefix && (Self::FIRST..=Self::LAST).contains(&d)
    }

    /// What dnsmasq logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Drop for DhcpServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("dnsmasq log at failure:\n{}", self.log());
        }
    }
}

/// Finds dnsmasq or fails with install instructions.
fn dnsmasq() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("dnsmasq"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "dnsmasq is required by the board tests (their DHCP server) and was not found. \
                 Install it, e.g. on Debian or Ubuntu: `apt-get install -y dnsmasq-base` \
                 (scripts/setup.sh does this)."
            )
        })
}
