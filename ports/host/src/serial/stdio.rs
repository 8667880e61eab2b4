//! Standard input and output as the serial line, for interactive use.

use at_core::Profile;
use embedded_io_adapters::tokio_1::FromTokio;

use crate::modem;

/// Serves the modem on stdin/stdout until end of input.
pub async fn run(profile: Profile) -> Result<(), String> {
    let mut rx = FromTokio::new(tokio::io::stdin());
    let mut tx = FromTokio::new(tokio::io::stdout());
    modem::serve(&mut rx, &mut tx, profile)
        .await
        .map_err(|kind| format!("serial line on stdio failed: {kind:?}"))
}
