#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test of the workspace (unit,
# transcript, property and end-to-end tests). The end-to-end tests start the at-host
# simulator and a real mosquitto broker; they fail, with install instructions, when
# mosquitto is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

# The library crates must build without the standard library.
scripts/check-no-std.sh

# ---------------------------------------------------------------------------------------
# Firmware builds and size reports.
#
# The board crates (ports/stm32, ports/rp2040, ports/esp32c3) are outside the workspace
# (own target, linker set-up and lockfile). Their builds and size reports are appended
# below this comment, e.g. a call to scripts/build-firmware.sh.
# ---------------------------------------------------------------------------------------
