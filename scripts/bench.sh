#!/usr/bin/env bash
# Runs the benchmarks in release mode and writes their tables into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

table=$(cargo bench -q -p at-core --bench engine 2>/dev/null | grep '^|')
{
  echo "Engine hot paths (\`cargo bench -p at-core --bench engine\`), measured on $(nproc) cores"
  echo "of $(uname -m) on $(date -u +%Y-%m-%d):"
  echo
  echo "$table"
} | scripts/write-section.py BENCHMARKS.md engine-bench "at-core engine"
echo "BENCHMARKS.md: engine-bench section updated"

table=$(cargo bench -q -p at-host --bench roundtrip 2>/dev/null | grep '^|')
{
  echo "The simulator end to end (\`cargo bench -p at-host --bench roundtrip\`): at-host (release) over"
  echo "its TCP serial line with echo off, a real mosquitto on loopback, an MQTT peer; $(nproc) cores"
  echo "of $(uname -m) on $(date -u +%Y-%m-%d). This is the modem's own overhead on a fast link; a"
  echo "board's UART at 115200 baud adds about 87 µs per byte."
  echo
  echo "$table"
} | scripts/write-section.py BENCHMARKS.md roundtrip-bench "Simulator round trips"
echo "BENCHMARKS.md: roundtrip-bench section updated"

scripts/emulator-bench.sh | scripts/write-section.py BENCHMARKS.md emulator "RP2040 in the emulator"
echo "BENCHMARKS.md: emulator section updated"
