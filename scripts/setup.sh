#!/usr/bin/env bash
# Installs what the project's scripts need on a fresh Debian/Ubuntu machine with rustup,
# and does nothing (in about a second) when everything is already there.
#
# Usage: scripts/setup.sh [--broker]
#
#   (no option)  everything scripts/test.sh needs:
#                - Debian packages: mosquitto (broker, mosquitto_passwd),
#                  mosquitto-clients (mosquitto_pub/_sub, TAP tests), iproute2 (`ip`, TAP
#                  tests), dnsmasq-base (the TAP and board tests' DHCP server), python3 (size report, the
#                  TAP tests' SNTP server), gcc and libc6-dev (the host linker),
#                  g++ (the fuzz crate's libfuzzer-sys compiles libFuzzer), libssl-dev
#                  and pkg-config (at-mqtt's unit tests run a TLS-PSK broker on OpenSSL),
#                  openssl (the certificate tests make their PKI with the command),
#                  nodejs and npm (the
#                  RP2040 emulator, tests/emulator);
#                - the emulator's npm dependencies (`npm ci` in tests/emulator, from its
#                  committed lockfile) and defmt-print (decodes the emulated board's log;
#                  `cargo install --locked`, pinned);
#                - rustup components of the project's toolchain (rust-toolchain.toml):
#                  rustfmt, clippy, rust-src, llvm-tools;
#                - rustup targets of the three boards: thumbv6m-none-eabi,
#                  thumbv7em-none-eabihf, riscv32imc-unknown-none-elf. A target rustup
#                  cannot download is not an error: the firmware and no_std builds then
#                  compile core from rust-src (-Zbuild-std) instead.
#   --broker     only what scripts/simulator.sh needs: mosquitto, mosquitto-clients,
#                python3, gcc and libc6-dev.
#
# Each step prints one line starting with `setup:`. Debian packages need root (or sudo).
# Anything that cannot be installed stops the script with a message saying what to do.
set -euo pipefail
cd "$(dirname "$0")/.."

broker_only=false
case "${1:-}" in
    "") ;;
    --broker) broker_only=true ;;
    -h | --help)
        sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "setup: unknown option: $1 (see scripts/setup.sh --help)" >&2
        exit 2
        ;;
esac

fail() {
    echo "setup: error: $*" >&2
    exit 1
}

# --- Debian packages ---------------------------------------------------------------------
# command : package that provides it
commands=(
    "mosquitto:mosquitto"
    "mosquitto_pub:mosquitto-clients"
    "mosquitto_sub:mosquitto-clients"
    "python3:python3"
    "cc:gcc"
)
if ! $broker_only; then
    commands+=("mosquitto_passwd:mosquitto" "ip:iproute2" "c++:g++" "dnsmasq:dnsmasq-base"
        "node:nodejs" "npm:npm" "openssl:openssl")
fi
missing=()
for entry in "${commands[@]}"; do
    # dnsmasq and mosquitto live in /usr/sbin, which a non-root PATH may lack.
    PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v "${entry%%:*}" >/dev/null 2>&1 ||
        missing+=("${entry##*:}")
done
# The linker needs the C library's development files (crt1.o and friends) too; the
# unit tests' TLS-PSK broker links OpenSSL (found through pkg-config).
libraries=(libc6-dev)
if ! $broker_only; then
    libraries+=(libssl-dev pkg-config)
fi
if command -v dpkg-query >/dev/null 2>&1; then
    for package in "${libraries[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$package")
    done
fi
if ((${#missing[@]} == 0)); then
    echo "setup: Debian packages: already installed"
else
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    command -v apt-get >/dev/null 2>&1 ||
        fail "no apt-get on this machine: install ${missing[*]} with its package manager"
    if [ "$(id -u)" = 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        fail "installing ${missing[*]} needs root: run as root or install sudo"
    fi
    echo "setup: Debian packages: installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    if ! { "${sudo[@]}" apt-get update -q &&
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        fail "apt-get could not install ${missing[*]} (its output is above)"
    fi
    rm -f "$log"
fi
if $broker_only; then
    exit 0
fi

# --- Rust toolchain ----------------------------------------------------------------------
command -v rustup >/dev/null 2>&1 ||
    fail "rustup not found: install it from https://rustup.rs (the project's toolchain is in rust-toolchain.toml)"
# The toolchain rust-toolchain.toml selects; its first use (rustc here) installs it if
# it is missing.
host=$(rustc -vV | sed -n 's/^host: //p') ||
    fail "rustup cannot install or run the toolchain of rust-toolchain.toml"
toolchain=$(rustup show active-toolchain 2>/dev/null | awk '{ print $1; exit }') ||
    fail "rustup cannot select the toolchain of rust-toolchain.toml"
[ -n "$toolchain" ] || fail "rustup cannot select the toolchain of rust-toolchain.toml"

# Installed component names, without the host triple (`llvm-tools-x86_64-...`).
installed_components=$(rustup component list --installed --toolchain "$toolchain" |
    sed "s/-$host\$//")
components=()
for component in rustfmt clippy rust-src llvm-tools; do
    grep -qx "$component" <<<"$installed_components" || components+=("$component")
done
if ((${#components[@]} == 0)); then
    echo "setup: rustup components: rustfmt clippy rust-src llvm-tools already installed ($toolchain)"
else
    echo "setup: rustup components: installing ${components[*]} ($toolchain)"
    # rustup's own lines, indented (pipefail keeps its exit status).
    rustup component add --toolchain "$toolchain" "${components[@]}" 2>&1 | sed 's/^/    /' ||
        fail "rustup could not install the components ${components[*]} (its output is above)"
fi

installed_targets=$(rustup target list --installed --toolchain "$toolchain")
targets=()
for target in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
    grep -qx "$target" <<<"$installed_targets" || targets+=("$target")
done
if ((${#targets[@]} == 0)); then
    echo "setup: rustup targets: the three board targets already installed"
fi
for target in "${targets[@]}"; do
    echo "setup: rustup targets: installing $target"
    if ! output=$(rustup target add --toolchain "$toolchain" "$target" 2>&1); then
        sed 's/^/    /' <<<"$output"
        echo "setup: rustup targets: rustup cannot provide $target here;" \
            "its builds will compile core from rust-src (-Zbuild-std) instead"
    fi
done

# --- The RP2040 emulator (tests/emulator) --------------------------------------------------
# Its npm dependencies, exactly as locked; `npm ci` runs again only when the lockfile
# changed since the last install (a copy of it is kept in node_modules).
emulator=tests/emulator
if cmp -s "$emulator/package-lock.json" "$emulator/node_modules/.installed-package-lock.json"; then
    echo "setup: emulator: npm dependencies already installed ($emulator)"
else
    echo "setup: emulator: npm ci ($emulator)"
    (cd "$emulator" && npm ci --no-audit --no-fund 2>&1 | sed 's/^/    /') ||
        fail "npm ci in $emulator failed (its output is above)"
    cp "$emulator/package-lock.json" "$emulator/node_modules/.installed-package-lock.json"
fi

# defmt-print decodes the emulated board's defmt log when a board test fails.
defmt_print_version=1.2.0
if defmt-print --version 2>/dev/null | grep -q " $defmt_print_version\b"; then
    echo "setup: defmt-print $defmt_print_version already installed"
else
    echo "setup: installing defmt-print $defmt_print_version (cargo install --locked)"
    cargo install --quiet --locked --version "$defmt_print_version" defmt-print 2>&1 |
        sed 's/^/    /' || fail "cargo install defmt-print failed (its output is above)"
fi
