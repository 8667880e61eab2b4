#!/usr/bin/env bash
# Runs the emulated RP2040's board scenarios (tests/tests/board.rs, the `emulated_rp2040`
# tests) RUNS times in a row and prints their figures as a markdown table on standard
# output, after one preamble line: runs passed, boot to `ready` (simulated and wall
# time, from the emulator), the emulated clock rate while executing, the TLS 1.3-PSK
# and the scheme 3 (server certificate verified against a stored CA) handshakes' wall
# time and the simulated time the core spent executing during each (at the chip's
# clock: what the real RP2040 spends computing), and the suite's run time; min / median
# / max over the runs.
#
# Usage: scripts/emulator-bench.sh [RUNS]     (default 20)
#
# Needs what scripts/test.sh needs (run scripts/setup.sh first) and the RP2040 release
# ELF (scripts/build-firmware.sh --emulator); run as root (network namespaces). Each run's
# output goes to target/emulator-bench/run-N.log; progress goes to standard error.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [RUNS]" >&2; exit 2; }

scripts/build-firmware.sh --emulator >&2
cargo test -q -p e2e-tests --test board --no-run >&2 2>&1
logs=target/emulator-bench
rm -rf "$logs"
mkdir -p "$logs"

for ((run = 1; run <= runs; run++)); do
    log="$logs/run-$run.log"
    start=$(date +%s.%N)
    if cargo test -q -p e2e-tests --test board -- emulated_rp2040 --nocapture >"$log" 2>&1; then
        status=pass
    else
        status=fail
    fi
    end=$(date +%s.%N)
    echo "run $run $status $start $end" >>"$logs/runs.txt"
    echo "emulator-bench: run $run/$runs: $status" >&2
done

python3 - "$logs" "$runs" "$(nproc)" <<'PY'
import pathlib, re, statistics, sys

logs, runs, cores = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
passed, suite = 0, []
for line in (logs / "runs.txt").read_text().splitlines():
    _, _, status, start, end = line.split()
    passed += status == "pass"
    suite.append(float(end) - float(start))

wanted = {
    ("emulated_rp2040_boot", "boot_ready_simulated_ms"): "boot to `ready`, simulated (ms)",
    ("emulated_rp2040_boot", "boot_ready_wall_ms"): "boot to `ready`, wall (ms)",
    ("emulated_rp2040_tls", "emulated_mhz"): "emulated clock while executing (MHz)",
    ("emulated_rp2040_tls", "handshake_wall_ms"): "TLS 1.3-PSK handshake, wall (ms)",
    ("emulated_rp2040_tls", "handshake_busy_simulated_ms"): "TLS 1.3-PSK handshake, core executing, simulated (ms)",
    ("emulated_rp2040_tls_cert", "handshake_wall_ms"): "TLS 1.3 scheme 3 handshake, wall (ms)",
    ("emulated_rp2040_tls_cert", "handshake_busy_simulated_ms"): "TLS 1.3 scheme 3 handshake, core executing, simulated (ms)",
}
values = {key: [] for key in wanted}
figure = re.compile(r"^figure (\S+): (\S+) = (\S+)$")
for n in range(1, runs + 1):
    for line in (logs / f"run-{n}.log").read_text(errors="replace").splitlines():
        match = figure.match(line)
        if match and (match[1], match[2]) in values:
            values[(match[1], match[2])].append(float(match[3]))

def row(name, numbers, digits):
    if not numbers:
        return f"| {name} | - | - | - |"
    fmt = f"{{:.{digits}f}}"
    return "| {} | {} | {} | {} |".format(
        name, fmt.format(min(numbers)), fmt.format(statistics.median(numbers)), fmt.format(max(numbers))
    )

print(f"The emulated RP2040's board scenarios (`scripts/emulator-bench.sh {runs}`), {runs} runs in a row on {cores} cores:")
print()
print("| figure | min | median | max |")
print("|---|---:|---:|---:|")
print(f"| runs passed | {passed} / {runs} | | |")
for key, name in wanted.items():
    print(row(name, values[key], 1))
print(row("suite run time, wall (s)", suite, 1))
PY
