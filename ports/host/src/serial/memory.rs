//! An in-memory serial line: a tokio duplex pipe whose one end is the host's and whose
//! other end, split into halves, is the modem's. `--script` plays its file over one;
//! benchmarks drive the modem in their own process over one.

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::io::{DuplexStream, ReadHalf, WriteHalf};

use crate::serial::paced::Arrival;

/// The modem's end of an in-memory line, as [`crate::modem::serve`] takes it.
pub struct ModemEnd {
    /// What the host sent.
    pub rx: FromTokio<ReadHalf<DuplexStream>>,
    /// What the modem answers.
    pub tx: FromTokio<WriteHalf<DuplexStream>>,
}

/// A line that holds up to `buffer` bytes in each direction: the host's end and the
/// modem's. Dropping the host's end is the end of the modem's input.
pub fn open(buffer: usize) -> (DuplexStream, ModemEnd) {
    let (host, modem) = tokio::io::duplex(buffer);
    let (rx, tx) = tokio::io::split(modem);
    let modem = ModemEnd {
        rx: FromTokio::new(rx),
        tx: FromTokio::new(tx),
    };
    (host, modem)
}

/// Arrival times are not known on this line.
impl Arrival for FromTokio<ReadHalf<DuplexStream>> {}
