//! [`RecordRelay`]: a loopback TCP relay between the modem and a TLS broker that records
//! the length of every TLS record the broker sends, to check the fragment length the
//! broker agreed to (the records themselves stay encrypted).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// The TLS content type of application data records.
pub const APPLICATION_DATA: u8 = 23;

/// One record header seen from the broker: content type and length of its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// The content type (23 for application data).
    pub content_type: u8,
    /// The length field: the encrypted body's bytes.
    pub length: usize,
}

/// A relay listening on a free loopback port; it serves one connection.
pub struct RecordRelay {
    port: u16,
    from_broker: Arc<Mutex<Vec<RecordHeader>>>,
}

impl RecordRelay {
    /// Listens on a free port and relays its first connection to `broker_port`.
    pub fn start(broker_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay: a free port");
        let port = listener.local_addr().expect("relay: local address").port();
        let from_broker = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&from_broker);
        thread::spawn(move || {
            let Ok((modem, _)) = listener.accept() else {
                return;
            };
            let Ok(broker) = TcpStream::connect(("127.0.0.1", broker_port)) else {
                return;
            };
            let (Ok(modem_out), Ok(broker_in)) = (modem.try_clone(), broker.try_clone()) else {
                return;
            };
            thread::spawn(move || copy(modem, broker_in));
            copy_parsing(broker, modem_out, &seen);
        });
        Self { port, from_broker }
    }

    /// The port the modem connects to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The record headers the broker has sent so far.
    pub fn from_broker(&self) -> Vec<RecordHeader> {
        self.from_broker
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }
}

/// Copies `from` to `to` until either side closes.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Copies like [`copy`], recording the header of every record in the byte stream.
fn copy_parsing(mut from: TcpStream, mut to: TcpStream, seen: &Mutex<Vec<RecordHeader>>) {
    let mut buf = [0u8; 4096];
    // Bytes of the current record header read so far, and body bytes still to skip.
    let mut header = Vec::with_capacity(5);
    let mut skip = 0usize;
    while let Ok(n @ 1..) = from.read(&mut buf) {
        for &byte in &buf[..n] {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            header.push(byte);
            if header.len() == 5 {
                let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
                if let Ok(mut seen) = seen.lock() {
                    seen.push(RecordHeader {
                        content_type: header[0],
                        length,
                    });
                }
                skip = length;
                header.clear();
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
