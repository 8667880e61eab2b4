#!/usr/bin/env python3
"""Runs the reliability scenarios and writes RELIABILITY.md from what they measured.

Usage: scripts/reliability.py [--print] [--no-run]

The scenarios are end-to-end tests (tests/tests/reliability_*.rs and faults.rs) that
record their figures through e2e_tests::figures when RELIABILITY_OUT is set; this script
runs them with it set, then renders one table per scenario, with the fuzzing figures of
the last scripts/fuzz.sh run (fuzz/REPORT.tsv), the machine and the commit. Nothing in
RELIABILITY.md is written by hand.

  --print   print the document instead of writing RELIABILITY.md
  --no-run  render the figures of the previous run (target/reliability) without testing
"""

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "target" / "reliability"
TESTS = ["reliability_broker", "reliability_link", "reliability_load", "faults"]


def output(cmd):
    try:
        return subprocess.run(
            cmd, cwd=ROOT, check=True, text=True, capture_output=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_scenarios():
    FIGURES.mkdir(parents=True, exist_ok=True)
    for old in FIGURES.glob("*.tsv"):
        old.unlink()
    env = dict(os.environ, RELIABILITY_OUT=str(FIGURES))
    present = [t for t in TESTS if (ROOT / "tests" / "tests" / f"{t}.rs").exists()]
    args = ["cargo", "test", "-p", "e2e-tests"]
    for test in present:
        args += ["--test", test]
    print("reliability: running", " ".join(present), file=sys.stderr)
    result = subprocess.run(args + ["--", "--nocapture"], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit("reliability: a scenario failed; RELIABILITY.md not written")


def read_tsv(path):
    rows = []
    for line in path.read_text().splitlines():
        key, _, value = line.partition("\t")
        rows.append((key, value))
    return rows


def machine():
    cores = os.cpu_count()
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) // (1024 * 1024)} GiB"
    except OSError:
        pass
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cores} cores ({cpu}), {memory}"


def render():
    commit = output(["git", "rev-parse", "--short", "HEAD"])
    dirty = output(["git", "status", "--porcelain", "--untracked-files=no"])
    lines = [
        "# Reliability figures",
        "",
        "Written by `scripts/reliability.py` from one run of the reliability scenarios "
        "(end-to-end tests against real mosquitto processes; see `tests/README.md`). "
        "Do not edit by hand.",
        "",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- commit: `{commit}`" + (" (with uncommitted changes)" if dirty else ""),
        f"- machine: {machine()}",
        f"- toolchain: {output(['rustc', '--version'])}",
        f"- broker: {output(['sh', '-c', 'mosquitto -h | head -1'])}",
        "",
    ]
    files = sorted(FIGURES.glob("*.tsv")) if FIGURES.exists() else []
    if not files:
        lines += ["No scenario figures were recorded.", ""]
    for path in files:
        rows = read_tsv(path)
        title = next((v for k, v in rows if k == "title"), path.stem)
        lines += [f"## {title}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows if k != "title"]
        lines.append("")
    report = ROOT / "fuzz" / "REPORT.tsv"
    lines += ["## Fuzzing", ""]
    if report.exists():
        table = [row.split("\t") for row in report.read_text().splitlines() if row]
        header, body = table[0], table[1:]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in body]
        lines += [
            "",
            "From the last `scripts/fuzz.sh` run (`fuzz/REPORT.tsv`; libFuzzer's final "
            "statistics).",
        ]
    else:
        lines.append("No fuzzing report (`scripts/fuzz.sh` writes `fuzz/REPORT.tsv`).")
    lines.append("")
    return "\n".join(lines)


def main():
    args = sys.argv[1:]
    if "--no-run" not in args:
        run_scenarios()
    document = render()
    if "--print" in args:
        print(document)
    else:
        (ROOT / "RELIABILITY.md").write_text(document)
        print("reliability: wrote RELIABILITY.md", file=sys.stderr)


if __name__ == "__main__":
    main()
