//! A TCP listener as the serial line, like a serial-over-TCP bridge.
//!
//! One host connection is served at a time; each accepted connection powers the modem
//! on afresh, so it starts with `ready`.

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::net::TcpListener;

use crate::modem::{self, Board};

/// Listens on `addr` and serves one host connection after the other, forever.
pub async fn run(addr: &str, board: &mut Board) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the address bound for {addr}: {e}"))?;
    eprintln!("at-host: listening on {local}");
    loop {
        let (stream, peer) = listener
            .accept()
            .await
            .map_err(|e| format!("accept on {local} failed: {e}"))?;
        // Echo and results go out byte-exact and promptly, as on a UART.
        if let Err(e) = stream.set_nodelay(true) {
            eprintln!("at-host: cannot disable Nagle for {peer}: {e}");
        }
        eprintln!("at-host: host connected from {peer}");
        let (read, write) = stream.into_split();
        let mut rx = FromTokio::new(read);
        let mut tx = FromTokio::new(write);
        match modem::serve(&mut rx, &mut tx, board).await {
            Ok(()) => eprintln!("at-host: host {peer} disconnected"),
            Err(kind) => eprintln!("at-host: connection with {peer} failed: {kind:?}"),
        }
    }
}
