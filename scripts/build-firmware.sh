#!/usr/bin/env bash
# Builds the board firmware crates (ports/stm32, ports/rp2040, ports/esp32c3) in release.
#
# Usage: scripts/build-firmware.sh [--clippy] [--features LIST] [--no-default-features]
#                                  [--example NAME] [PORT...]
#
#   PORT                   stm32, rp2040 or esp32c3 (default: all three)
#   --clippy               also run `cargo clippy --release` on each port, failing on any
#                          warning
#   --features LIST        extra cargo features of the port crates, e.g. `defmt` (logs over
#                          RTT); the FEATURES environment variable is the default for LIST
#   --no-default-features  without the ports' default features (`tls-psk`)
#   --example NAME         build the port's example NAME instead of the firmware
#   --emulator             the image the RP2040 emulator tests run (tests/emulator): the
#                          rp2040 port with `defmt` (its log is read over RTT) and
#                          `tls-cert` (schemes 3-5, the credential store in flash), copied to
#                          target/firmware/emulator/at-modem-rp2040 so that the size
#                          builds, which use the same target directory, do not replace it
#
# Each port is built from its own directory, so its .cargo/config.toml (target, linker
# scripts, runner) applies. When the standard library for a port's target is installed
# (`rustup target list --installed`; scripts/setup.sh adds the three), the plain build is
# used; otherwise, where rustup cannot provide the target, core and alloc are built from
# the rust-src component with `-Zbuild-std` (RUSTC_BOOTSTRAP=1 lets stable accept the
# flag). One target directory per target: target/firmware/<target>.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# rustc's default 8 MiB thread stack overflows (SIGSEGV) compiling embassy-stm32 at
# opt-level "z" without defmt; 32 MiB is ample.
export RUST_MIN_STACK="${RUST_MIN_STACK:-33554432}"

# port directory : target triple
ports=(
  "stm32:thumbv7em-none-eabihf"
  "rp2040:thumbv6m-none-eabi"
  "esp32c3:riscv32imc-unknown-none-elf"
)

clippy=false
selected=()
features="${FEATURES:-}"
extra=()
example=""
emulator=false
while (($# > 0)); do
  arg="$1"
  shift
  case "$arg" in
    --clippy) clippy=true ;;
    --features)
      (($# > 0)) || { echo "--features needs a list" >&2; exit 2; }
      features="$1"
      shift
      ;;
    --no-default-features) extra+=(--no-default-features) ;;
    --emulator)
      emulator=true
      selected=(rp2040)
      features="${features:+$features,}defmt,tls-cert"
      ;;
    --example)
      (($# > 0)) || { echo "--example needs a name" >&2; exit 2; }
      example="$1"
      shift
      ;;
    -h | --help)
      sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "unknown option: $arg" >&2
      exit 2
      ;;
    *) selected+=("$arg") ;;
  esac
done

# Whether the standard library for target $1 is available without building it. Asked
# from the repository, so that rustup answers for the toolchain of rust-toolchain.toml
# (the one cargo uses for the ports) whatever the caller's directory.
target_installed() {
  if command -v rustup >/dev/null 2>&1; then
    (cd "$root" && rustup target list --installed 2>/dev/null) | grep -qx "$1"
  else
    compgen -G "$(rustc --print sysroot)/lib/rustlib/$1/lib/libcore-*.rlib" >/dev/null
  fi
}

# Runs cargo subcommand $2 for the port in directory $1 and target $3.
cargo_port() {
  local dir="$1" command="$2" target="$3"
  shift 3
  local flags=(--release "${extra[@]}")
  [[ -n "$features" ]] && flags+=(--features "$features")
  [[ -n "$example" ]] && flags+=(--example "$example")
  local env=(CARGO_TARGET_DIR="$root/target/firmware/$target")
  if ! target_installed "$target"; then
    flags+=(-Zbuild-std=core,alloc)
    env+=(RUSTC_BOOTSTRAP=1)
  fi
  (cd "$root/ports/$dir" && env "${env[@]}" cargo "$command" "${flags[@]}" "$@")
}

built=0
for entry in "${ports[@]}"; do
  dir="${entry%%:*}"
  target="${entry##*:}"
  if ((${#selected[@]} > 0)) && [[ ! " ${selected[*]} " =~ " $dir " ]]; then
    continue
  fi
  how="installed target"
  target_installed "$target" || how="-Zbuild-std=core,alloc"
  echo "==> ports/$dir ($target, $how${features:+, features $features}${extra[*]:+, ${extra[*]}}${example:+, example $example})"
  start=$SECONDS
  cargo_port "$dir" build "$target"
  if $clippy; then
    cargo_port "$dir" clippy "$target" -- -D warnings
  fi
  image="target/firmware/$target/$target/release/at-modem-$dir"
  [[ -n "$example" ]] && image="target/firmware/$target/$target/release/examples/$example"
  if $emulator; then
    mkdir -p "$root/target/firmware/emulator"
    cp "$root/$image" "$root/target/firmware/emulator/at-modem-rp2040"
    image="target/firmware/emulator/at-modem-rp2040"
  fi
  echo "    ports/$dir done in $((SECONDS - start)) s: $image"
  built=$((built + 1))
done

if ((built == 0)); then
  echo "no port matched: ${selected[*]} (known: stm32 rp2040 esp32c3)" >&2
  exit 2
fi
