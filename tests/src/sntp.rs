//! A small SNTP server (Python) in a [`TapNetwork`]'s namespace, on UDP port 123 of the
//! broker's address, for the modem's `AT+CIPSNTPCFG`: it answers every request with a
//! fixed time or with the machine's own clock.

use std::time::Duration;

use crate::{Process, TIMEOUT, TapNetwork};

/// The server: binds `argv[1]`:123, answers every request of 48 bytes or more as a
/// stratum 1 server with `argv[2]` (Unix seconds, or `now`: the real time, its fraction
/// too) as its receive and transmit times, the request's transmit time as its originate
/// time, and logs each answer.
const SERVER: &str = r#"
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 123))
print("sntp: listening", file=sys.stderr, flush=True)
fixed = None if sys.argv[2] == "now" else int(sys.argv[2])
while True:
    data, peer = s.recvfrom(512)
    if len(data) < 48:
        continue
    now = time.time() if fixed is None else fixed
    seconds = int(now)
    fraction = int((now - seconds) * 2**32) & 0xFFFFFFFF
    header = struct.pack("!BBbbII4s", 0x24, 1, 0, -20, 0, 0, b"TEST")
    stamp = struct.pack("!II", seconds + 2208988800, fraction)
    s.sendto(header + stamp + data[40:48] + stamp + stamp, peer)
    print("sntp: answered", peer[0], file=sys.stderr, flush=True)
"#;

/// What the server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SntpTime {
    /// Always this Unix time (seconds).
    Fixed(u64),
    /// The machine's clock at each request.
    Now,
}

/// The SNTP server process in a namespace; killed by its process id when dropped.
pub struct SntpServer {
    process: Process,
}

impl SntpServer {
    /// Starts the server in `network`'s namespace on its broker address, answering
    /// `time`, and waits until it listens. Needs python3 (scripts/setup.sh).
    pub fn start(network: &TapNetwork, time: SntpTime) -> Self {
        let time = match time {
            SntpTime::Fixed(unix) => unix.to_string(),
            SntpTime::Now => "now".to_owned(),
        };
        let mut command = network.command("python3");
        command.args(["-c", SERVER, &network.broker_address().to_string(), &time]);
        let mut process = Process::spawn("sntp server", command);
        process.wait_for_line("sntp: listening", TIMEOUT);
        Self { process }
    }

    /// Waits for the server's next answer (to whom it went); fails if none comes within
    /// `timeout`.
    pub fn wait_for_answer(&mut self, timeout: Duration) -> String {
        self.process.wait_for_line("sntp: answered ", timeout)
    }
}
