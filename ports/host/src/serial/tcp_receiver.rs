//! [`TcpReceiver`]: the read half of the TCP serial line, which also tells when the
//! bytes of each read reached this machine (the kernel's receive timestamp,
//! `SO_TIMESTAMPNS`), so that the paced line receives them from then on, as a UART
//! receives bytes while its firmware is not yet looking, and not from when the
//! simulator's task happened to wake up.

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, SystemTime};

use embedded_io_async::{ErrorType, Read};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::Instant;

use crate::serial::paced::Arrival;

/// The read half of an accepted serial connection.
pub struct TcpReceiver {
    half: OwnedReadHalf,
    /// Room for one `SCM_TIMESTAMPNS` control message.
    control: Vec<u8>,
    /// When the last read's latest bytes reached the socket (`None` if not known).
    arrived: Option<Instant>,
}

impl TcpReceiver {
    /// Wraps `half` (see [`stamp_arrivals`] for the timestamps).
    pub fn new(half: OwnedReadHalf) -> Self {
        Self {
            half,
            control: nix::cmsg_space!(TimeSpec),
            arrived: None,
        }
    }
}

/// Turns receive timestamps on for `stream` (without them a read's arrival is unknown).
pub fn stamp_arrivals(stream: &TcpStream) -> nix::Result<()> {
    setsockopt(stream, sockopt::ReceiveTimestampns, &true)
}

/// One `recvmsg` on the socket `fd`: bytes read into `buf` and their timestamp, if any.
fn receive(fd: RawFd, control: &mut [u8], buf: &mut [u8]) -> io::Result<(usize, Option<TimeSpec>)> {
    let mut iov = [IoSliceMut::new(buf)];
    let message = recvmsg::<()>(fd, &mut iov, Some(control), MsgFlags::MSG_DONTWAIT)?;
    let stamp = message.cmsgs().ok().and_then(|mut cmsgs| {
        cmsgs.find_map(|cmsg| match cmsg {
            ControlMessageOwned::ScmTimestampns(stamp) => Some(stamp),
            _ => None,
        })
    });
    Ok((message.bytes, stamp))
}

/// The instant a wall-clock `stamp` stands for, if it is not in the future.
fn instant_of(stamp: TimeSpec) -> Option<Instant> {
    let since_epoch = Duration::from(stamp);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    let age = now.checked_sub(since_epoch)?;
    Instant::now().checked_sub(age)
}

impl ErrorType for TcpReceiver {
    type Error = io::Error;
}

impl Read for TcpReceiver {
    /// Cancel-safe: bytes are taken from the socket only in a poll that returns them.
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let fd = self.half.as_ref().as_raw_fd();
        loop {
            let socket = self.half.as_ref();
            socket.readable().await?;
            // `try_io` clears the readiness only when the call would block.
            match socket.try_io(Interest::READABLE, || receive(fd, &mut self.control, buf)) {
                Ok((n, stamp)) => {
                    self.arrived = stamp.and_then(instant_of);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Arrival for TcpReceiver {
    fn arrived_at(&self) -> Option<Instant> {
        self.arrived
    }
}
