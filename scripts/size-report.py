#!/usr/bin/env python3
"""Prints the firmware footprint report (Markdown) that scripts/bench.sh writes into
BENCHMARKS.md (section `firmware-sizes`).

Usage: scripts/size-report.py [--build] [--nightly]

  --build    first build every measured image with scripts/build-firmware.sh: each board
             without TLS (`--no-default-features`), with TLS-PSK (the default features)
             and with TLS-cert, and the at-core-only floor (`ports/stm32` example
             `engine_only`); the images are kept in target/firmware/sizes/. Without it
             the images kept there by an earlier `--build` are measured.
  --nightly  adds a column for the no-TLS and TLS-PSK images built with the size options
             only nightly Rust has (`build-firmware.sh --nightly`: -Zfmt-debug=none,
             -Zlocation-detail=none, core rebuilt with optimize_for_size), marked as not
             counted: the targets are for the stable toolchain. With --build they are
             built too (kept as `<port>-<variant>-nightly.elf`).

Every image is the production configuration: release profile, defmt logging off (a panic
resets the chip). Measured with the toolchain's own `llvm-size`, `llvm-readobj` and
`llvm-nm` (rustup component llvm-tools, which scripts/setup.sh installs), never a
distribution's older LLVM.

Columns, all from the ELF section headers:
- flash bytes: every allocated section with contents in the image (SHT_PROGBITS): vector
  table and boot code, text, read-only data, the initial values of .data, app descriptors;
- static RAM bytes: every allocated writable section (.data, .bss, uninitialised RAM and
  statically reserved heap), i.e. RAM in use before the first stack frame;
- llvm-size text/data/bss: llvm-size's Berkeley totals as printed, for reference.

The per-crate table sums the sizes of the symbols `llvm-nm --print-size` lists, each
given to the crate of its demangled path (for `<T as Trait>::f`, the crate of `T`).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
KEPT = ROOT / "target" / "firmware" / "sizes"
KIB = 1024

# board, port directory, target triple
BOARDS = [
    ("Nucleo-F429ZI (STM32F429ZI, Ethernet)", "stm32", "thumbv7em-none-eabihf"),
    ("W5500-EVB-Pico (RP2040 + W5500)", "rp2040", "thumbv6m-none-eabi"),
    ("ESP32-C3 (Wi-Fi)", "esp32c3", "riscv32imc-unknown-none-elf"),
]
# The measured configurations: name, build-firmware.sh options.
VARIANTS = [
    ("no TLS", ["--no-default-features"]),
    ("TLS-PSK", []),
    # Certificates (schemes 3, 4, 5): not in the default image, and without a target.
    ("TLS-cert", ["--features", "tls-cert"]),
]
# Targets (flash bytes, static RAM bytes) per port and configuration. The ESP32-C3's are
# its sizes before this footprint work (flash of each configuration, static RAM of the
# TLS-PSK build): no larger than that.
TARGETS = {
    ("stm32", "no TLS"): (88 * KIB, 36 * KIB),
    ("stm32", "TLS-PSK"): (128 * KIB, 48 * KIB),
    ("rp2040", "no TLS"): (96 * KIB, 36 * KIB),
    ("rp2040", "TLS-PSK"): (144 * KIB, 48 * KIB),
    ("esp32c3", "no TLS"): (628_668, 189_448),
    ("esp32c3", "TLS-PSK"): (708_858, 189_448),
}
# The configurations --nightly also measures.
NIGHTLY_VARIANTS = ("no TLS", "TLS-PSK")
FLOOR = ("stm32", "thumbv7em-none-eabihf", "engine_only")
TOP_CRATES = 15
TOP_STATICS = 10


def kept(port: str, variant: str, nightly: bool = False) -> pathlib.Path:
    suffix = "-nightly" if nightly else ""
    return KEPT / f"{port}-{variant.replace(' ', '-').lower()}{suffix}.elf"


def build(nightly: bool) -> None:
    """Builds every measured image and keeps a copy of each under target/firmware/sizes."""
    KEPT.mkdir(parents=True, exist_ok=True)
    script = str(ROOT / "scripts" / "build-firmware.sh")
    env = {k: v for k, v in os.environ.items() if k != "FEATURES"}
    for variant, options in VARIANTS:
        subprocess.run([script, *options], check=True, env=env, stdout=sys.stderr)
        for _, port, target in BOARDS:
            elf = ROOT / "target/firmware" / target / target / "release" / f"at-modem-{port}"
            shutil.copyfile(elf, kept(port, variant))
    if nightly:
        for variant, options in VARIANTS:
            if variant not in NIGHTLY_VARIANTS:
                continue
            subprocess.run(
                [script, "--nightly", *options], check=True, env=env, stdout=sys.stderr
            )
            for _, port, target in BOARDS:
                elf = (
                    ROOT / "target/firmware" / f"{target}-nightly" / target / "release"
                    / f"at-modem-{port}"
                )
                shutil.copyfile(elf, kept(port, variant, nightly=True))
    port, target, example = FLOOR
    subprocess.run(
        [script, "--example", example, port], check=True, env=env, stdout=sys.stderr
    )
    elf = ROOT / "target/firmware" / target / target / "release" / "examples" / example
    shutil.copyfile(elf, KEPT / f"{port}-{example}.elf")


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


def verdict(value: int, limit: int) -> str:
    return "met" if value <= limit else f"**missed** by {n(value - limit)}"


def limit_text(limit: int) -> str:
    return f"{limit // KIB} KiB" if limit % KIB == 0 else n(limit)


# A symbol's crate: the first path segment of the demangled name, after any `<`, `&`,
# `*const`/`*mut`, `dyn` and `impl` prefixes (so `<minimq::Foo as Bar>::f` is minimq's).
PREFIX = re.compile(r"^(?:[<&(\[ ]|\*const |\*mut |mut |dyn |impl )+")
CRATE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)::")
# `<u8 as core::fmt::Display>::fmt`: a primitive's impl counts for the trait's crate.
AS_TRAIT = re.compile(r" as ([A-Za-z_][A-Za-z0-9_]*)::")


# Rust's legacy mangling escapes, which llvm-nm leaves in the names it demangles.
ESCAPES = [("$LT$", "<"), ("$GT$", ">"), ("$RF$", "&"), ("$BP$", "*"), ("$u20$", " "),
           ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"), ("..", "::")]


def crate_of(symbol: str) -> str:
    name = symbol[1:] if symbol.startswith("_$") else symbol
    for escape, text in ESCAPES:
        name = name.replace(escape, text)
    name = PREFIX.sub("", name)
    match = CRATE.match(name) or AS_TRAIT.search(name)
    if match:
        return match.group(1).replace("_", "-")
    if name.startswith(".L"):
        return "(anonymous constants)"
    return "(other symbols: vector table, compiler intrinsics, linker)"


def symbol_sizes(nm: str, elf: pathlib.Path, kinds: str, key) -> dict[str, int]:
    """Bytes of the image's symbols of the `nm` kinds `kinds`, summed by `key(name)`."""
    out = subprocess.run(
        [nm, "--print-size", "--demangle", str(elf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    totals: dict[str, int] = {}
    for line in out.splitlines():
        fields = line.split(maxsplit=3)
        if len(fields) < 4 or fields[2] not in kinds:
            continue
        name = key(fields[3])
        totals[name] = totals.get(name, 0) + int(fields[1], 16)
    return totals


def crates(nm: str, elf: pathlib.Path) -> dict[str, int]:
    """Flash bytes (code, read-only and initialised data) of each crate's symbols."""
    return symbol_sizes(nm, elf, "tTrRdD", crate_of)


# The Rust hash suffix of a legacy-mangled symbol, and the path segments of embassy's
# task macros and closures, which say nothing about what a buffer is.
HASH = re.compile(r"::h[0-9a-f]{16}$")
NOISE = re.compile(r"::(?:_?\{\{closure\}\}|_*embassy_main_task(?:_inner_function)?)(?=::)")
# llvm-nm's suffix for a static LLVM split into pieces: `CLOCK_FREQS (.7)`.
PIECE = re.compile(r" \(\.\d+\)$")


def buffer_name(symbol: str) -> str:
    """A static's demangled path without its hash, closure and task-macro segments."""
    name = symbol[1:] if symbol.startswith("_$") else symbol
    for escape, text in ESCAPES:
        name = name.replace(escape, text)
    name = PIECE.sub("", HASH.sub("", PIECE.sub("", name)))
    return NOISE.sub("", name)


def ram_symbols(nm: str, elf: pathlib.Path) -> dict[str, int]:
    """Static RAM bytes (.data, .bss and the like) of each named static of the image."""
    return symbol_sizes(nm, elf, "bBdD", buffer_name)


def nightly_cell(size: str, readobj: str, port: str, variant: str) -> str:
    """The nightly image's `flash / RAM (flash difference)`, or `-` when not measured."""
    elf = kept(port, variant, nightly=True)
    if variant not in NIGHTLY_VARIANTS:
        return "-"
    if not elf.exists():
        sys.exit(f"no image {elf}: run scripts/size-report.py --build --nightly")
    night, stable = measure(size, readobj, elf), measure(size, readobj, kept(port, variant))
    return (
        f"{n(night['flash'])} / {n(night['ram'])} "
        f"({night['flash'] - stable['flash']:+,} / {night['ram'] - stable['ram']:+,})"
    )


def footprint(size: str, readobj: str, nightly: bool) -> list[str]:
    rows, notes = [], []
    for board, port, target in BOARDS:
        for variant, _ in VARIANTS:
            elf = kept(port, variant)
            if not elf.exists():
                sys.exit(f"no image {elf}: run scripts/size-report.py --build")
            m = measure(size, readobj, elf)
            text, data, bss = m["berkeley"]
            if (port, variant) in TARGETS:
                flash_limit, ram_limit = TARGETS[(port, variant)]
                flash_target = f"<= {limit_text(flash_limit)}: {verdict(m['flash'], flash_limit)}"
                ram_target = f"<= {limit_text(ram_limit)}: {verdict(m['ram'], ram_limit)}"
            else:
                flash_target = ram_target = "-"
            extra = f" {nightly_cell(size, readobj, port, variant)} |" if nightly else ""
            rows.append(
                f"| {board} | {variant} | {n(m['flash'])} | {flash_target} | {n(m['ram'])} | "
                f"{ram_target} | {n(text)} / {n(data)} / {n(bss)} |{extra}"
            )
            if variant != "TLS-PSK":
                continue
            if m["placeholders"]:
                listed = ", ".join(f"`{s['name']}` {n(s['size'])}" for s in m["placeholders"])
                notes.append(
                    f"- {board}: llvm-size's text also counts allocated sections that hold "
                    f"no bytes of the image ({listed}); they are address-space placeholders "
                    f"and the RAM left for the stack, so they are not in the flash column."
                )
            for s in m["sections"]:
                if (
                    s["type"] == "SHT_PROGBITS"
                    and s["flags"] & SHF_WRITE
                    and s["flags"] & SHF_EXECINSTR
                ):
                    notes.append(
                        f"- {board}: llvm-size counts `{s['name']}` ({n(s['size'])} bytes) as "
                        f"text because it also holds functions that run from RAM; it is in "
                        f"both the flash and the static RAM column, as initialised data is."
                    )
            if port == "esp32c3":
                reclaimed = sum(
                    s["size"] for s in m["sections"] if s["name"] == ".dram2_uninit"
                )
                notes.append(
                    f"- {board}: besides the static RAM column, "
                    f"{n(esp32c3_iram_code(m['sections']))} bytes of code (`.trap`, "
                    f"`.rwtext*`, most of it the Wi-Fi driver's) are copied from flash into "
                    f"internal SRAM at boot. The static RAM column includes the heaps the "
                    f"Wi-Fi driver allocates from: {n(reclaimed)} bytes in the RAM reclaimed "
                    f"from the bootloader (`.dram2_uninit`) and a second heap array in "
                    f"`.bss`. Its target is its size before this footprint work."
                )
    port, target, example = FLOOR
    floor = KEPT / f"{port}-{example}.elf"
    if not floor.exists():
        sys.exit(f"no image {floor}: run scripts/size-report.py --build")
    m = measure(size, readobj, floor)
    text, data, bss = m["berkeley"]
    rows.append(
        f"| Nucleo-F429ZI, at-core engine only (`ports/{port}/examples/{example}.rs`) "
        f"| floor | {n(m['flash'])} | - | {n(m['ram'])} | - | {n(text)} / {n(data)} / {n(bss)} |"
        + (" - |" if nightly else "")
    )
    if nightly:
        notes.append(
            "- Nightly options, **not counted** (the targets are for the stable "
            "toolchain): the same sources built with `scripts/build-firmware.sh --nightly` "
            "(`-Zfmt-debug=none -Zlocation-detail=none`, core and alloc rebuilt with "
            "`-Zbuild-std` and their `optimize_for_size` feature; RUSTC_BOOTSTRAP=1 on the "
            "stable toolchain): flash / static RAM bytes, and in brackets the difference "
            "from the stable image."
        )
    return [
        "| board | configuration | flash bytes | flash target | static RAM bytes "
        "| RAM target | llvm-size text / data / bss |"
        + (" nightly options, not counted: flash / RAM |" if nightly else ""),
        "|---|---|---:|---|---:|---|---|" + ("---|" if nightly else ""),
        *rows,
        "",
        *notes,
    ]


def crate_table(nm: str) -> list[str]:
    port = "stm32"
    with_tls = crates(nm, kept(port, "TLS-PSK"))
    without = crates(nm, kept(port, "no TLS"))
    ranked = sorted(with_tls.items(), key=lambda kv: -kv[1])[:TOP_CRATES]
    rows = [
        f"| {crate} | {n(size)} | {n(without.get(crate, 0))} |" for crate, size in ranked
    ]
    listed = {crate for crate, _ in ranked}
    rows.append(
        f"| all other crates | {n(sum(v for k, v in with_tls.items() if k not in listed))} "
        f"| {n(sum(v for k, v in without.items() if k not in listed))} |"
    )
    return [
        f"Flash bytes by crate, Nucleo-F429ZI (the {TOP_CRATES} largest of the TLS-PSK "
        f"image, from `llvm-nm --print-size --demangle`; code that LTO inlined counts for "
        f"the function it was inlined into: the board crate's row is mostly its main task, "
        f"into which the engine, the commands and the runner were inlined):",
        "",
        "| crate | TLS-PSK | no TLS |",
        "|---|---:|---:|",
        *rows,
        f"| sum of all named symbols | {n(sum(with_tls.values()))} "
        f"| {n(sum(without.values()))} |",
    ]


def ram_table(nm: str, readobj: str, size: str) -> list[str]:
    lines = [
        f"Static RAM bytes by static, the {TOP_STATICS} largest of each board's TLS-PSK "
        f"image (from `llvm-nm --print-size`, `.data`/`.bss` symbols; the path without "
        f"closure and task-macro segments). `<task>::POOL` is the executor's storage of "
        f"that task's future (its locals across awaits); `MODEM`, `RESOURCES`, `TCP`, "
        f"`PACKETS`, `UART_RX`/`UART_TX` are the board crate's own buffers "
        f"(at_mqtt::budget lists what each holds). The rest of the static RAM column is "
        f"smaller statics, alignment padding and sections without symbols (heaps, stack "
        f"guards).",
    ]
    for board, port, _ in BOARDS:
        with_tls = ram_symbols(nm, kept(port, "TLS-PSK"))
        without = ram_symbols(nm, kept(port, "no TLS"))
        ranked = sorted(with_tls.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_STATICS]
        listed = {name for name, _ in ranked}
        rows = [
            f"| `{name}` | {n(bytes_)} | {n(without.get(name, 0))} |"
            for name, bytes_ in ranked
        ]
        rows.append(
            f"| all other statics | {n(sum(v for k, v in with_tls.items() if k not in listed))} "
            f"| {n(sum(v for k, v in without.items() if k not in listed))} |"
        )
        totals = [measure(size, readobj, kept(port, v))["ram"] for v in ("TLS-PSK", "no TLS")]
        lines += [
            "",
            f"{board}:",
            "",
            "| static | TLS-PSK | no TLS |",
            "|---|---:|---:|",
            *rows,
            f"| static RAM column | {n(totals[0])} | {n(totals[1])} |",
        ]
    return lines


def report(nightly: bool) -> str:
    size, readobj, nm = llvm_tool("llvm-size"), llvm_tool("llvm-readobj"), llvm_tool("llvm-nm")
    rustc = subprocess.run(
        ["rustc", "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"Release images of the board ports (`scripts/size-report.py --build`), built with "
        f"{rustc} (stable); each port's release profile: opt-level \"z\" (a few "
        f"crates at \"s\", where that is smaller: the port's Cargo.toml), fat LTO, one "
        f"codegen unit; defmt logging off (cargo feature `defmt`), a panic resets the chip. "
        f"Each port is the complete modem: the at-core engine on its AT UART with the MQTT "
        f"and network set-up commands (and the Wi-Fi commands on the ESP32-C3), the MQTT "
        f"runner and the embassy-net stack, without TLS (`--no-default-features`) or with "
        f"scheme 2, TLS-PSK (feature `tls-psk`, the default); its static RAM includes every "
        f"buffer (at_mqtt::budget). Flash is the sum of the allocated sections with "
        f"contents (`SHT_PROGBITS`), what gets written to the chip; static RAM the sum of "
        f"the allocated writable sections.",
        "",
        *footprint(size, readobj, nightly),
        "",
        *crate_table(nm),
        "",
        *ram_table(nm, readobj, size),
    ]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def main() -> int:
    options = sys.argv[1:]
    if "-h" in options or "--help" in options:
        print(__doc__)
        return 0
    unknown = [o for o in options if o not in ("--build", "--nightly")]
    if unknown:
        print(f"unknown option {unknown[0]}\n{__doc__}", file=sys.stderr)
        return 2
    nightly = "--nightly" in options
    if "--build" in options:
        build(nightly)
    print(report(nightly))
    return 0


if __name__ == "__main__":
    sys.exit(main())
