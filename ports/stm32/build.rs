//! Linker set-up: cortex-m-rt's `link.x` (with the `memory.x` that embassy-stm32 generates
//! for the STM32F429ZI) and (feature `defmt`)
//! defmt's `defmt.x`.

use std::env;

fn main() {
    println!("cargo:rustc-link-arg=--nmagic");
    println!("cargo:rustc-link-arg=-Tlink.x");
    // defmt's section layout, only when defmt is linked (feature `defmt`).
    if env::var_os("CARGO_FEATURE_DEFMT").is_some() {
        println!("cargo:rustc-link-arg=-Tdefmt.x");
    }
}
