//! A TCP listener as the serial line, like a serial-over-TCP bridge.
//!
//! One host connection is served at a time; each accepted connection powers the modem
//! on afresh, so it starts with `ready`.
//!
//! A UART holds a few bytes in its FIFO; a TCP socket with the kernel's defaults holds
//! megabytes (the send buffer grows up to `tcp_wmem`'s maximum, 4 MiB on Linux), so a
//! host that reads slowly would never push back on the modem. The listener's send and
//! receive buffers are therefore capped at [`SOCKET_BUFFER_BYTES`] before it listens
//! (accepted connections inherit them, and a size set by the program also stops the
//! kernel's auto-tuning); each accepted connection is checked and set again. In user
//! space the modem's output waits only until the engine flushes, in a buffer of
//! [`WRITE_BUFFER_BYTES`] (a UART driver's transmit buffer): URCs written one after the
//! other go out in one send, not one per write.
//!
//! Segments are kept small too ([`SEGMENT_BYTES`]): with buffers this small, a host that
//! reads slowly can leave a receive window below the segment size the kernel chose (half
//! the largest window seen, 1024 bytes here), and Linux then sends only when its persist
//! timer probes, about 800 bytes every 200 ms: a third of a 115200-baud line.

use std::net::SocketAddr;
use std::os::fd::AsFd;

use embedded_io_adapters::tokio_1::FromTokio;
use nix::sys::socket::{getsockopt, setsockopt, sockopt};
use tokio::io::BufWriter;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::modem::{self, Board};
use crate::serial::tcp_receiver::{TcpReceiver, stamp_arrivals};

/// `SO_SNDBUF` and `SO_RCVBUF` of the serial connection. Linux doubles the value for its
/// bookkeeping (and raises a send buffer to its 4608-byte minimum) and counts each
/// segment's overhead against it. Measured on loopback with a host whose own receive
/// buffer is as small (tests/tests/serial_backpressure.rs), a host that stops reading
/// stops the modem after about 5.1 KB (3.1 KB in this send queue, 2.0 KB in the host's
/// receive queue, in [`SEGMENT_BYTES`] segments; [`WRITE_BUFFER_BYTES`] more can wait in
/// user space): under half a second of a 115200-baud UART. With 4096 here it was 13 KB,
/// over a second of it; with the kernel's defaults 2.8 MB.
pub const SOCKET_BUFFER_BYTES: usize = 2048;

/// The largest TCP segment of the serial connection (`TCP_MAXSEG`, set on the listener
/// so that the accepted connections send no larger ones): a few of them fit any window a
/// host that reads slowly leaves open.
pub const SEGMENT_BYTES: u32 = 256;

/// The modem's output held between the engine's flushes (a larger write goes straight
/// through).
pub const WRITE_BUFFER_BYTES: usize = 1024;

/// Listens on `addr` and serves one host connection after the other, forever.
pub async fn run(addr: &str, board: &mut Board) -> Result<(), String> {
    let listener = listen(addr)
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
        if let Err(e) = cap_buffers(&stream) {
            eprintln!("at-host: cannot cap the socket buffers for {peer}: {e}");
        }
        if let Err(e) = stamp_arrivals(&stream) {
            eprintln!("at-host: no receive timestamps for {peer}: {e}");
        }
        eprintln!("at-host: host connected from {peer}");
        log::info!(
            "serial connection from {peer} accepted (send buffer {}, receive buffer {} bytes); power-on",
            buffer(&stream, sockopt::SndBuf),
            buffer(&stream, sockopt::RcvBuf)
        );
        let (read, write) = stream.into_split();
        let mut rx = TcpReceiver::new(read);
        let mut tx = FromTokio::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, write));
        match modem::serve(&mut rx, &mut tx, board).await {
            Ok(()) => {
                eprintln!("at-host: host {peer} disconnected");
                log::info!("serial connection from {peer} closed by the host");
            }
            Err(kind) => {
                eprintln!("at-host: connection with {peer} failed: {kind:?}");
                log::info!("serial connection from {peer} failed: {kind:?}");
            }
        }
    }
}

/// Binds a listener to the first address `addr` resolves to, with capped buffers.
async fn listen(addr: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for candidate in tokio::net::lookup_host(addr).await? {
        match listen_on(candidate) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address to listen on")
    }))
}

fn listen_on(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As std's and tokio's own listeners do: a restarted simulator can bind at once.
    socket.set_reuseaddr(true)?;
    let size = u32::try_from(SOCKET_BUFFER_BYTES).unwrap_or(u32::MAX);
    socket.set_send_buffer_size(size)?;
    socket.set_recv_buffer_size(size)?;
    setsockopt(&socket, sockopt::TcpMaxSeg, &SEGMENT_BYTES)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Sets the buffers of an accepted connection (should the kernel not have copied the
/// listener's).
fn cap_buffers(stream: &TcpStream) -> nix::Result<()> {
    setsockopt(stream, sockopt::SndBuf, &SOCKET_BUFFER_BYTES)?;
    setsockopt(stream, sockopt::RcvBuf, &SOCKET_BUFFER_BYTES)
}

/// A buffer size of the connection as the kernel reports it, for the log.
fn buffer<O>(stream: &TcpStream, option: O) -> String
where
    O: nix::sys::socket::GetSockOpt<Val = usize>,
{
    getsockopt(&stream.as_fd(), option).map_or_else(|e| format!("unknown ({e})"), |n| n.to_string())
}
