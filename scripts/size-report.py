#!/usr/bin/env python3
"""Writes the firmware image sizes into BENCHMARKS.md (section `firmware-sizes`).

Usage: scripts/size-report.py [--print]

Reads the release ELF of each board that scripts/build-firmware.sh built and measures it
with the toolchain's own `llvm-size` and `llvm-readobj` (rustup component llvm-tools).
With --print the table goes to standard output and BENCHMARKS.md is left alone.

Columns, all from the ELF section headers:
- flash bytes: every allocated section with contents in the image (SHT_PROGBITS): vector
  table and boot code, text, read-only data, the initial values of .data, app descriptors;
- static RAM bytes: every allocated writable section (.data, .bss, uninitialised RAM and
  statically reserved heap), i.e. RAM in use before the first stack frame;
- llvm-size text/data/bss: llvm-size's Berkeley totals as printed, for reference.
"""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTION = "firmware-sizes"
TITLE = "Firmware sizes"

# board, port directory, target triple
BOARDS = [
    ("Nucleo-F429ZI (STM32F429ZI, Ethernet)", "stm32", "thumbv7em-none-eabihf"),
    ("W5500-EVB-Pico (RP2040 + W5500)", "rp2040", "thumbv6m-none-eabi"),
    ("ESP32-C3 (Wi-Fi)", "esp32c3", "riscv32imc-unknown-none-elf"),
]

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4


def llvm_tool(name: str) -> str:
    """The path of an llvm-tools binary of the active Rust toolchain.

    Only the toolchain's own copy is used: a distribution's older LLVM (Debian 12's
    llvm-readobj 14, for one) may lack the JSON output read here and would make the
    report depend on what else is installed. scripts/setup.sh installs llvm-tools.
    """
    sysroot = subprocess.run(
        ["rustc", "--print", "sysroot"], check=True, capture_output=True, text=True
    ).stdout.strip()
    host = subprocess.run(
        ["rustc", "-vV"], check=True, capture_output=True, text=True
    ).stdout.split("host: ")[1].split()[0]
    tool = pathlib.Path(sysroot, "lib", "rustlib", host, "bin", name)
    if tool.is_file():
        return str(tool)
    sys.exit(
        f"{name} not found at {tool}: run `rustup component add llvm-tools` "
        f"(or scripts/setup.sh)"
    )


def sections(readobj: str, elf: pathlib.Path) -> list[dict]:
    out = subprocess.run(
        [readobj, "--elf-output-style=JSON", "--sections", str(elf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = []
    for entry in json.loads(out)[0]["Sections"]:
        s = entry["Section"]
        result.append(
            {
                "name": s["Name"]["Name"],
                "type": s["Type"]["Name"],
                "flags": s["Flags"]["Value"],
                "address": s["Address"],
                "size": s["Size"],
            }
        )
    return result


def berkeley(size: str, elf: pathlib.Path) -> tuple[int, int, int]:
    out = subprocess.run(
        [size, "-B", str(elf)], check=True, capture_output=True, text=True
    ).stdout
    fields = out.splitlines()[1].split()
    return int(fields[0]), int(fields[1]), int(fields[2])


def measure(size: str, readobj: str, elf: pathlib.Path) -> dict:
    secs = [s for s in sections(readobj, elf) if s["flags"] & SHF_ALLOC and s["size"]]
    flash = sum(s["size"] for s in secs if s["type"] == "SHT_PROGBITS")
    ram = sum(s["size"] for s in secs if s["flags"] & SHF_WRITE)
    # Allocated sections without contents that are not writable: address-space
    # placeholders and the stack region. llvm-size counts them as text.
    placeholders = [
        s for s in secs if s["type"] == "SHT_NOBITS" and not s["flags"] & SHF_WRITE
    ]
    text, data, bss = berkeley(size, elf)
    return {
        "flash": flash,
        "ram": ram,
        "berkeley": (text, data, bss),
        "placeholders": placeholders,
        "sections": secs,
    }


def esp32c3_iram_code(secs: list[dict]) -> int:
    """Bytes of code the ESP32-C3 copies from flash into internal SRAM (IRAM bus)."""
    return sum(
        s["size"]
        for s in secs
        if s["type"] == "SHT_PROGBITS"
        and s["flags"] & SHF_EXECINSTR
        and 0x4037C000 <= s["address"] < 0x403E0000
    )


def n(value: int) -> str:
    return f"{value:,}"


def report() -> str:
    size, readobj = llvm_tool("llvm-size"), llvm_tool("llvm-readobj")
    rustc = subprocess.run(
        ["rustc", "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    rows, notes, missing = [], [], []
    for board, port, target in BOARDS:
        elf = ROOT / "target" / "firmware" / target / target / "release" / f"at-modem-{port}"
        if not elf.exists():
            missing.append(port)
            continue
        m = measure(size, readobj, elf)
        text, data, bss = m["berkeley"]
        rows.append(
            f"| {board} | `{target}` | {n(m['flash'])} | {n(m['ram'])} "
            f"| {n(text)} / {n(data)} / {n(bss)} |"
        )
        if m["placeholders"]:
            listed = ", ".join(f"`{s['name']}` {n(s['size'])}" for s in m["placeholders"])
            notes.append(
                f"- {board}: llvm-size's text also counts allocated sections that hold no "
                f"bytes of the image ({listed}); they are address-space placeholders "
                f"(`.rotext_dummy` keeps flash-mapped code and data apart, "
                f"`.rwdata_dummy` is the data-bus alias of the RAM that holds code) and "
                f"the RAM left for the stack, so they are not in the flash column."
                if port == "esp32c3"
                else f"- {board}: llvm-size's text also counts {listed}, which hold no "
                f"bytes of the image; they are not in the flash column."
            )
        ram_code = [
            s
            for s in m["sections"]
            if s["type"] == "SHT_PROGBITS"
            and s["flags"] & SHF_WRITE
            and s["flags"] & SHF_EXECINSTR
        ]
        for s in ram_code:
            notes.append(
                f"- {board}: llvm-size counts `{s['name']}` ({n(s['size'])} bytes) as text "
                f"because it also holds functions that run from RAM; it is in both the "
                f"flash and the static RAM column, as initialised data is."
            )
        if port == "esp32c3":
            reclaimed = sum(
                s["size"] for s in m["sections"] if s["name"] == ".dram2_uninit"
            )
            notes.append(
                f"- {board}: besides the static RAM column, "
                f"{n(esp32c3_iram_code(m['sections']))} bytes of code (`.trap`, `.rwtext*`, "
                f"most of it the Wi-Fi driver's) are copied from flash into internal SRAM at "
                f"boot. The static RAM column includes the heaps the Wi-Fi driver allocates "
                f"from: {n(reclaimed)} bytes in the RAM reclaimed from the bootloader "
                f"(`.dram2_uninit`) and a second heap array in `.bss`. espflash adds its "
                f"second-stage bootloader and partition table to what it writes."
            )
    if missing:
        sys.exit(
            "no release ELF for: "
            + ", ".join(missing)
            + " (run scripts/build-firmware.sh first)"
        )
    lines = [
        f"Release images of the board ports (`scripts/build-firmware.sh`, then "
        f"`scripts/size-report.py`), built with {rustc}; release profile: opt-level "
        f'"s", fat LTO, one codegen unit. Each port is the complete modem: the at-core engine '
        f"on its AT UART with the MQTT and network set-up commands (and the Wi-Fi commands "
        f"on the ESP32-C3), the MQTT runner with scheme 2 (TLS-PSK), and the embassy-net "
        f"stack; its static RAM includes every buffer (URC queue, MQTT, TCP and TLS "
        f"records), as each port's README details.",
        "",
        "| board | target | flash bytes (text+rodata+data) | static RAM bytes (data+bss) "
        "| llvm-size text / data / bss |",
        "|---|---|---:|---:|---|",
        *rows,
        "",
        "Flash is the sum of the allocated sections with contents (`SHT_PROGBITS`), which "
        "is what gets written to the chip; static RAM is the sum of the allocated writable "
        "sections. Both come from the ELF section headers.",
    ]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def write_section(body: str) -> None:
    """Replaces the section in BENCHMARKS.md through the shared section writer."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "write-section.py"),
         str(ROOT / "BENCHMARKS.md"), SECTION, TITLE],
        input=body,
        check=True,
        text=True,
    )


def main() -> int:
    body = report()
    if "--print" in sys.argv[1:]:
        print(body)
        return 0
    write_section(body)
    print(f"BENCHMARKS.md: {SECTION} section updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
