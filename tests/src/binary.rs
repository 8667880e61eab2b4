//! Finding the `at-host` binary under test.
//!
//! Cargo gives integration tests the path of binaries of their own package only, and
//! `at-host` lives in another package. So the harness asks Cargo itself: once per test
//! process it runs `cargo build -p at-host --bin at-host` on this workspace (through
//! escargot, with the Cargo that runs the tests and the same debug/release profile) and
//! takes the executable path from Cargo's JSON messages. The build is a no-op when the
//! binary is fresh, and never stale when it is not, whichever way the tests are started
//! (`cargo test --workspace`, `-p e2e-tests`, a single test, `CARGO_TARGET_DIR` set).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The path of a freshly built `at-host` binary.
pub fn at_host() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let run = escargot::CargoBuild::new()
            .manifest_path(&manifest)
            .package("at-host")
            .bin("at-host")
            .current_release()
            .run()
            .unwrap_or_else(|e| panic!("cannot build at-host with cargo: {e}"));
        run.path().to_owned()
    })
}
