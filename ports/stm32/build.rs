//! Linker set-up: cortex-m-rt's `link.x` (with the `memory.x` that embassy-stm32 generates
//! for the STM32F429ZI) and defmt's `defmt.x`.

fn main() {
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
