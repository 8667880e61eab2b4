//! The real RP2040 firmware on an emulated W5500-EVB-Pico: the Node harness of
//! `tests/emulator/` (rp2040js with the project's ROM, UART and W5500 models) started as
//! the modem's process, its UART0 reached over TCP like `at-host`'s serial line, its
//! Ethernet on a [`TapNetwork`]'s TAP device, and its defmt RTT log kept in a file that
//! [`FirmwareLog::decoded`] turns into text with `defmt-print`.
//!
//! The firmware image is the release ELF `scripts/build-firmware.sh --emulator` builds (the
//! one place that builds it); a missing ELF, Node, harness dependencies (`npm ci`) or
//! `defmt-print` fail the test with what to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

use crate::{Modem, TapNetwork};

/// The board name the RP2040 firmware reports in `AT+GMR`.
pub const RP2040_BOARD: &str = "w5500-evb-pico";

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// The release ELF of `ports/rp2040`, with `defmt`, as `scripts/build-firmware.sh --emulator` writes it.
pub fn rp2040_elf() -> PathBuf {
    root().join("target/firmware/emulator/at-modem-rp2040")
}

/// The harness's directory.
fn harness() -> PathBuf {
    root().join("tests/emulator")
}

/// Whether the RP2040's W5500 is on its SPI bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ethernet<'a> {
    /// The W5500 model, its Ethernet on this TAP device.
    Tap(&'a str),
    /// No W5500: nothing answers on SPI0.
    Unplugged,
}

/// Starts the emulated board and connects to its UART0 (reading nothing yet: `ready`
/// comes first). The board powers on when the host connects.
pub fn start_rp2040(ethernet: Ethernet<'_>) -> Modem {
    let elf = rp2040_elf();
    assert!(
        elf.is_file(),
        "the RP2040 firmware {} is missing: build it with `scripts/build-firmware.sh --emulator` \
         (scripts/test.sh does this before the tests)",
        elf.display()
    );
    let dir = harness();
    assert!(
        dir.join("node_modules/rp2040js/package.json").is_file(),
        "the emulator's dependencies are missing in {}: run `npm ci` there (scripts/setup.sh \
         does this)",
        dir.display()
    );
    require_program(
        "node",
        "the emulated board needs Node.js (>= 18): `apt-get install -y nodejs npm` \
         (scripts/setup.sh does this)",
    );
    require_program(
        "defmt-print",
        "the emulated board's log is decoded with defmt-print: `cargo install defmt-print \
         --locked` (scripts/setup.sh does this)",
    );
    let log_dir = tempfile::tempdir().expect("a temporary directory for the RTT log");
    let rtt = log_dir.path().join("rtt.bin");
    let mut command = Command::new("node");
    command
        .arg(dir.join("src/main.js"))
        .arg("--elf")
        .arg(&elf)
        .arg("--rtt")
        .arg(&rtt);
    match ethernet {
        Ethernet::Tap(tap) => command.args(["--tap", tap]),
        Ethernet::Unplugged => command.arg("--unplugged"),
    };
    let log = FirmwareLog {
        elf,
        rtt,
        _dir: log_dir,
    };
    Modem::spawn(
        "emulated rp2040",
        command,
        "emulator: listening on ",
        Some(log),
    )
}

/// Starts the emulated board with its W5500 on `network`'s TAP device.
pub fn start_rp2040_on(network: &TapNetwork) -> Modem {
    start_rp2040(Ethernet::Tap(network.tap()))
}

/// The raw defmt RTT bytes an emulated board wrote, in a file of the test's own.
pub struct FirmwareLog {
    elf: PathBuf,
    rtt: PathBuf,
    _dir: TempDir,
}

impl FirmwareLog {
    /// The log so far, decoded by `defmt-print -e ELF` (with its error output if it
    /// fails; never panics).
    pub fn decoded(&self) -> String {
        let input = match std::fs::File::open(&self.rtt) {
            Ok(file) => file,
            Err(e) => return format!("(no RTT log at {}: {e})\n", self.rtt.display()),
        };
        let output = Command::new("defmt-print")
            .arg("-e")
            .arg(&self.elf)
            .stdin(Stdio::from(input))
            .output();
        match output {
            Ok(output) => {
                let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
                if !output.status.success() {
                    text.push_str(&format!(
                        "(defmt-print {}: {})\n",
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    ));
                }
                text
            }
            Err(e) => format!("(cannot run defmt-print: {e})\n"),
        }
    }
}

/// Fails with `install` unless `program` runs (`program --version`).
fn require_program(program: &str, install: &str) {
    let ran = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(ran.is_ok_and(|status| status.success()), "{install}");
}
