#!/usr/bin/env bash
# Proves that the library crates are no_std: builds and lints at-core and at-mqtt (with
# its embassy-net feature) for a Cortex-M0+ target, which has no standard library.
#
# When rustup cannot provide the target's prebuilt core library, core is built from the
# rust-src component instead (-Zbuild-std, allowed on stable by RUSTC_BOOTSTRAP=1).
set -euo pipefail
cd "$(dirname "$0")/.."

target=thumbv6m-none-eabi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/no-std
build_std=()
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    export RUSTC_BOOTSTRAP=1
    build_std=(-Zbuild-std=core)
fi

args=(-p at-core -p at-mqtt --features at-mqtt/embassy-net --target "$target" "${build_std[@]}")
if ((${#build_std[@]} > 0)); then
    echo "== no_std: $target is not installed (rustup target list --installed):" \
        "building core from rust-src with ${build_std[*]}"
fi
echo "== no_std: cargo build --release --target $target"
cargo build -q --release "${args[@]}"
echo "== no_std: cargo clippy --target $target"
cargo clippy -q "${args[@]}" -- -D warnings
