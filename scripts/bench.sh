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
