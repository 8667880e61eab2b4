#!/usr/bin/env bash
# The project's test command: formatting, lints, and every test of the workspace (unit,
# transcript, property and end-to-end tests), the no_std and fuzz-target checks, and the
# firmware builds. The end-to-end tests start the at-host simulator and a real mosquitto
# broker.
#
# It is the one command a newcomer and CI run (.ci/run only calls it), so it first
# installs what it needs on a fresh Debian/Ubuntu machine with rustup: mosquitto,
# iproute2 and the other Debian packages (as root or with sudo), the rustup components
# and the board targets (scripts/setup.sh; quick when everything is there).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== set-up (scripts/setup.sh)"
scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

# The board tests run the RP2040 port's release ELF, with defmt logging, in the emulator
# (tests/emulator): build it first. The firmware section below builds and lints the
# production images (without defmt).
echo "== firmware: the RP2040 release build the emulator runs"
scripts/build-firmware.sh --emulator

echo "== cargo test"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
cargo test --workspace 2>&1 | tee "$results"

# The library crates must build without the standard library.
scripts/check-no-std.sh

# The fuzz targets (a standalone crate; fuzzing itself needs nightly) must keep compiling.
echo "== fuzz targets: cargo fmt --check, cargo check"
cargo fmt --check --manifest-path fuzz/Cargo.toml
cargo check -q --manifest-path fuzz/Cargo.toml

# The patched minimq (patches/minimq, PATCHED.md says what changed) keeps its own tests,
# those of the changes included. Its `real_broker` tests need a broker named by an
# environment variable and would only skip: they are left out by name.
echo "== patched minimq: its own tests"
cargo test -q --manifest-path patches/minimq/Cargo.toml --target-dir target/minimq \
    -- --skip real_broker 2>&1 | tee -a "$results"

# ---------------------------------------------------------------------------------------
# Firmware builds and size reports.
#
# The board crates (ports/stm32, ports/rp2040, ports/esp32c3) are outside the workspace
# (own target, linker set-up and lockfile), so the checks above do not reach them: their
# formatting is checked here, then each is built in release and linted with warnings as
# errors (about 6 minutes on 2 cores from a cold target directory, seconds when warm).
# The size report then builds the measured images (each board without TLS, and the
# at-core-only floor) and prints the footprint table; scripts/bench.sh writes it into
# BENCHMARKS.md.
# ---------------------------------------------------------------------------------------
echo "== cargo fmt --check (board ports)"
for port in stm32 rp2040 esp32c3; do
    cargo fmt --check --manifest-path "ports/$port/Cargo.toml"
done

echo "== firmware: release builds and clippy"
scripts/build-firmware.sh --clippy

echo "== firmware sizes"
scripts/size-report.py --build

# One closing line for the whole run: the sum of every `cargo test` result above.
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$results"
