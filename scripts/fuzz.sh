#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ in turn, SECONDS_PER_TARGET each (default 600),
# with their seed corpus (fuzz/seeds.py) and dictionary, one fuzzer process at a time,
# then writes fuzz/REPORT.tsv (target, seconds, executions, coverage, corpus size,
# crashes found) and prints it.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz; both are installed when absent (rustup and
# crates.io). Not part of the default test command (scripts/test.sh only checks that the
# targets compile on stable).
#
# A crash stops libFuzzer; the target is then started again for the rest of its time (at
# most 3 restarts), so one finding does not end the run. Crash inputs are kept in
# fuzz/artifacts/<target>/ and libFuzzer's logs in fuzz/logs/<target>.log; reproduce one
# with `cargo +nightly fuzz run --fuzz-dir fuzz <target> fuzz/artifacts/<target>/crash-...`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(line_assembler args engine modem credential_check)
fi

# --- set-up -----------------------------------------------------------------------------
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "== rustup toolchain install nightly"
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== cargo install cargo-fuzz"
    cargo install cargo-fuzz
fi

echo "== seed corpora (fuzz/seeds.py)"
python3 fuzz/seeds.py fuzz/corpus

dict_for() {
    case "$1" in
        modem) echo fuzz/mqtt.dict ;;
        *) echo fuzz/at.dict ;;
    esac
}

max_len_for() {
    case "$1" in
        args) echo 512 ;;
        *) echo 4096 ;;
    esac
}

mkdir -p fuzz/logs
report=fuzz/REPORT.tsv
rows=()

for target in "${targets[@]}"; do
    echo "== build $target"
    cargo +nightly fuzz build --fuzz-dir fuzz "$target"

    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    log=fuzz/logs/$target.log
    : >"$log"
    before=$(find "$artifacts" -type f | sort)

    echo "== fuzz $target for ${seconds}s (log: $log)"
    start=$(date +%s)
    executions=0
    coverage=0
    restarts=0
    while :; do
        elapsed=$(($(date +%s) - start))
        remaining=$((seconds - elapsed))
        [ "$remaining" -gt 0 ] || break
        part=$(mktemp)
        status=0
        # One process (no -jobs/-workers: with them libFuzzer forks its runs off).
        cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$corpus" -- \
            -max_total_time="$remaining" \
            -dict="$(dict_for "$target")" \
            -max_len="$(max_len_for "$target")" \
            -timeout=30 \
            -rss_limit_mb=2048 \
            -artifact_prefix="$artifacts/" \
            -print_final_stats=1 >"$part" 2>&1 || status=$?
        cat "$part" >>"$log"
        # Executions: the final stats, else the last status line (#N ...).
        runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$part" | tail -n1)
        if [ -z "$runs" ]; then
            runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$part" | tail -n1)
        fi
        executions=$((executions + ${runs:-0}))
        cov=$(sed -n 's/^#[0-9].* cov: \([0-9]*\).*/\1/p' "$part" | tail -n1)
        if [ -n "$cov" ] && [ "$cov" -gt "$coverage" ]; then
            coverage=$cov
        fi
        rm -f "$part"
        if [ "$status" -eq 0 ]; then
            break
        fi
        echo "   $target stopped with status $status (a finding?), see $log"
        restarts=$((restarts + 1))
        [ "$restarts" -le 3 ] || break
    done
    took=$(($(date +%s) - start))
    after=$(find "$artifacts" -type f | sort)
    crashes=$(comm -13 <(echo "$before") <(echo "$after") | grep -c . || true)
    size=$(find "$corpus" -type f | wc -l)
    row=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$target" "$took" "$executions" "$coverage" "$size" "$crashes")
    echo "   $row"
    rows+=("$row")
done

{
    printf 'target\tseconds\texecutions\tcoverage\tcorpus\tcrashes\n'
    printf '%s\n' "${rows[@]}"
} >"$report"
echo "== $report"
column -t -s $'\t' "$report" 2>/dev/null || cat "$report"
