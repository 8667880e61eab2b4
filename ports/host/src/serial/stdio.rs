//! Standard input and output as the serial line, for interactive use.

use embedded_io_adapters::tokio_1::FromTokio;

use crate::modem::{self, Board};

/// Serves the modem on stdin/stdout until end of input.
pub async fn run(board: &mut Board) -> Result<(), String> {
    let mut rx = FromTokio::new(tokio::io::stdin());
    let mut tx = FromTokio::new(tokio::io::stdout());
    modem::serve(&mut rx, &mut tx, board)
        .await
        .map_err(|kind| format!("serial line on stdio failed: {kind:?}"))
}
