//! The command line: which serial line the simulated modem is attached to, its protocol
//! profile, and the script mode.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use at_core::Profile;
use clap::{Parser, ValueEnum};

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
           (pyserial discards them when it opens a port).

tcp:ADDR   Listen on ADDR (e.g. 127.0.0.1:5000) like a serial-over-TCP bridge.
           One host connection is served at a time; further connections wait
           until it closes. Each accepted connection is a power-on: a fresh modem
           that prints `ready`. The bound address is printed to standard error as
           `at-host: listening on IP:PORT` (useful with port 0).";

/// The long help of `--script`.
const SCRIPT_HELP: &str = r"Run the AT lines of FILE against a fresh modem instead of serving a serial line, as if a host typed them, and print the transcript to standard output.

FILE holds one command line per line; empty lines and lines starting with `#` are skipped. Each line is sent with CR LF, then the next is held back until the modem's final result: `OK`, `ERROR`, `busy p...`, or a result line such as `+MQTTPUBRAW:OK` or `+MQTTPUB:FAIL`. After the OK of `AT+RST` the next `ready` is awaited too. A command that enters raw data mode (`AT+MQTTPUBRAW=...`, `AT+MQTTLONG...=...`) waits for the `>` prompt, and the next line of FILE is sent as its data, without CR LF (if the command is refused instead, that line is skipped).

The transcript shows every byte: lines starting with `> ` were sent by the host, lines starting with `< ` were written by the modem. CR, LF, tab and backslash are written as \r, \n, \t and \\, other bytes outside printable ASCII as \xNN, and each transcript line ends after an LF of the serial stream.

Exits 0 when every line got its result, 1 when a result did not come within --result-timeout (or the script cannot be read).";

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
}

impl Cli {
    /// The result timeout of the script mode.
    pub fn result_timeout(&self) -> Duration {
        Duration::from_secs(self.result_timeout)
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
    fn script_conflicts_with_serial() {
        let parsed = Cli::try_parse_from(["at-host", "--serial", "stdio", "--script", "f"]);
        assert!(parsed.is_err());
        let parsed = Cli::try_parse_from(["at-host", "--script", "f", "--profile", "esp-at"]);
        assert!(matches!(parsed, Ok(cli) if cli.profile == ProfileArg::EspAt));
    }
}
