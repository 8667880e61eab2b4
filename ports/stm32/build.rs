//! Linker set-up: puts `memory.x` (the STM32F429ZI's flash without the credential store's
//! sectors, and its SRAM) where the linker finds it, then links with cortex-m-rt's `link.x`
//! and (feature `defmt`) defmt's `defmt.x`.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg=--nmagic");
    println!("cargo:rustc-link-arg=-Tlink.x");
    // defmt's section layout, only when defmt is linked (feature `defmt`).
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        println!("cargo:rustc-link-arg=-Tdefmt.x");
    }
}
