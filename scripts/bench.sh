#!/usr/bin/env bash
# Runs every benchmark and writes BENCHMARKS.md from their output: the one writer of that
# file (never edit it by hand). Not part of scripts/test.sh, which only builds the
# benchmarks (clippy --all-targets).
#
# Usage: scripts/bench.sh            (EMULATOR_RUNS=N sets the emulated board's run count)
#
# Sections, in order, each from the script or benchmark it names:
#   firmware-sizes   scripts/size-report.py --build --nightly (builds every measured image,
#                    and the no-TLS and TLS-PSK ones with the nightly size options)
#   engine-cost      scripts/engine-cost.py (instructions per byte under callgrind)
#   throughput       cargo bench -p at-host --bench throughput (AT beside minimq)
#   wire             the same benchmark's UART wire fractions (the serial line paced as
#                    at-host --baud paces it)
#   engine-bench     cargo bench -p at-core --bench engine (wall-clock reference)
#   roundtrip-bench  cargo bench -p at-host --bench roundtrip (wall-clock reference)
#   emulator         scripts/emulator-bench.sh RUNS (the emulated board's scenarios RUNS
#                    times: EMULATOR_RUNS, default 10; each run takes 1-2 minutes)
#   tls-handshake    cargo bench -p at-host --bench handshake (connect time per scheme)
# The file starts with the machine, date, toolchain and commit of the run.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
trap 'rm -f "$out"' EXIT

commit=$(git rev-parse --short=12 HEAD)
git diff --quiet HEAD -- . ':!BENCHMARKS.md' || commit="$commit (with uncommitted changes)"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat >"$out" <<EOF
# Benchmarks

Written by \`scripts/bench.sh\` from the output of the scripts and benchmarks named in each
section; never edited by hand. Every figure with a target says whether it is met.

- machine: $(nproc) cores of ${cpu:-$(uname -m)}, $(uname -sr)
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- toolchain: $(rustc --version), $(cargo --version)
- commit: $commit
EOF

# section NAME TITLE: writes standard input as section NAME of the new file.
section() {
  scripts/write-section.py "$out" "$1" "$2"
  echo "bench.sh: section $1 written"
}

scripts/size-report.py --build --nightly | section firmware-sizes "Firmware footprint"
scripts/engine-cost.py | section engine-cost "Engine cost (instructions per byte)"

throughput=$(cargo bench -q -p at-host --bench throughput 2>/dev/null)
# The benchmark prints two tables, each under a `## ` heading.
split() { awk -v want="$1" '/^## / { on = index($0, want) > 0; next } on' <<<"$throughput"; }
{
  echo "\`cargo bench -p at-host --bench throughput\`, against one mosquitto on loopback (its"
  echo "\`set_tcp_nodelay\` on, so that no delivery waits for the ACK of the one before). The AT"
  echo "path is the modem of at-host's library (the same \`modem::serve\` as the binary, echo"
  echo "off, built in release) in the benchmark's process, on its thread, over an in-memory"
  echo "serial line; beside it minimq is driven directly. The modem and the benchmark's"
  echo "workloads on both paths are tasks of one tokio \`LocalSet\`, so an answer wakes the"
  echo "host's side without a trip through the runtime's I/O driver. Both paths' broker connections are"
  echo "at-host's \`HostStream\` (tokio TCP, reads through its receive buffer). Publishes are"
  echo "sequential, and one is done when the broker has acknowledged it as far as its QoS asks"
  echo "(through AT: its result, \`OK\` / \`+MQTTPUBRAW:OK\`; on minimq: written, PUBACK or"
  echo "PUBCOMP) AND the benchmark's own subscriber (an MQTT peer on the same broker) has"
  echo "received it: the same round trip on both paths, so the ratio is what the AT interface"
  echo "(engine, commands, runner) adds. The serial line's own cost is in the wire fractions"
  echo "below."
  split "AT interface beside direct minimq"
} | section throughput "AT interface beside direct minimq"
{
  echo "The same benchmark's in-process modem with its serial line paced as \`at-host --baud N\`"
  echo "paces it (at-host's \`Paced\`: a board's buffered UART, 10 bits per byte each way, a"
  echo "512-byte transmit buffer, bytes delivered once they have left the line; the host's bytes"
  echo "start arriving when the host wrote them, never earlier). Outbound, a"
  echo "publish is its command line and its result one after the other (done at the result, no"
  echo "subscriber), so the wire limit is the baud rate over both (less the line's LF, which"
  echo "arrives while the answer goes out: a line ends at its CR); inbound, URCs back to back."
  split "UART wire fractions"
} | section wire "UART wire fractions"

engine=$(cargo bench -q -p at-core --bench engine 2>/dev/null | grep '^|')
{
  echo "Reference figures without a target: the engine's hot paths in wall-clock time"
  echo "(\`cargo bench -p at-core --bench engine\`); compare rows, not machines."
  echo
  echo "$engine"
} | section engine-bench "at-core engine (wall clock)"

roundtrip=$(cargo bench -q -p at-host --bench roundtrip 2>/dev/null | grep '^|')
{
  echo "Reference figures without a target (\`cargo bench -p at-host --bench roundtrip\`):"
  echo "at-host (release) over its TCP serial line with echo off, a real mosquitto on"
  echo "loopback, an MQTT peer. A board's UART at 115200 baud adds about 87 µs per byte."
  echo
  echo "$roundtrip"
} | section roundtrip-bench "Simulator round trips (wall clock)"

scripts/emulator-bench.sh "${EMULATOR_RUNS:-10}" | section emulator "RP2040 in the emulator"
handshake=$(cargo bench -q -p at-host --bench handshake 2>/dev/null | grep '^|')
{
  echo "\`cargo bench -p at-host --bench handshake\`: \`AT+MQTTCONN\` to its \`OK\` on at-host"
  echo "(release) against mosquitto's TLS 1.3 listeners on loopback, per scheme (wall clock)."
  echo
  echo "$handshake"
} | section tls-handshake "TLS handshake per scheme (simulator)"

mv "$out" BENCHMARKS.md
trap - EXIT
echo "bench.sh: BENCHMARKS.md written"
