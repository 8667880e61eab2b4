//! The broker's end of scheme 2: a TLS 1.3 server with an external PSK (OpenSSL, as
//! mosquitto's `psk_file` listeners use), running over in-memory buffers, so the modem's
//! real TLS path (embedded-tls, the pumps and pipes) is exercised without sockets.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use openssl::ssl::{
    HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslMethod, SslStream, SslVersion,
};

/// The PSK identity the tests configure.
pub const IDENTITY: &str = "modem";
/// The PSK, as `AT+MQTTPSK` takes it.
pub const KEY_HEX: &str = "00112233445566778899aabbccddeeff";

#[derive(Default)]
struct Wire {
    /// Ciphertext from the modem, not yet read by OpenSSL.
    inbound: VecDeque<u8>,
    /// Ciphertext OpenSSL wrote for the modem.
    outbound: Vec<u8>,
}

/// OpenSSL's transport: the two in-memory directions; reads would block when empty.
#[derive(Clone, Default)]
struct Memory(Rc<RefCell<Wire>>);

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut wire = self.0.borrow_mut();
        if wire.inbound.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(wire.inbound.len());
        for (slot, byte) in buf.iter_mut().zip(wire.inbound.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().outbound.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum State {
    Handshaking(MidHandshakeSslStream<Memory>),
    Ready(SslStream<Memory>),
    Failed,
}

/// One TLS server connection.
pub struct TlsServer {
    memory: Memory,
    state: State,
}

/// The server context of scheme 2.
pub fn psk_context() -> SslContext {
    let key = hex(KEY_HEX);
    let mut builder = SslContext::builder(SslMethod::tls_server()).expect("OpenSSL context");
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_3))
        .expect("TLS 1.3");
    builder
        .set_ciphersuites("TLS_AES_128_GCM_SHA256")
        .expect("cipher suite");
    builder.set_psk_server_callback(move |_ssl, identity, psk| {
        if identity != Some(IDENTITY.as_bytes()) {
            return Ok(0);
        }
        psk[..key.len()].copy_from_slice(&key);
        Ok(key.len())
    });
    builder.build()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

impl TlsServer {
    /// A server of `context` waiting for the modem's ClientHello.
    pub fn new(context: &SslContext) -> Self {
        let memory = Memory::default();
        let ssl = Ssl::new(context).expect("OpenSSL session");
        let state = match ssl.accept(memory.clone()) {
            Err(HandshakeError::WouldBlock(mid)) => State::Handshaking(mid),
            Ok(stream) => State::Ready(stream),
            Err(_) => State::Failed,
        };
        Self { memory, state }
    }

    /// Takes ciphertext from the modem; returns the plaintext it carried.
    pub fn receive(&mut self, ciphertext: &[u8]) -> Vec<u8> {
        self.memory
            .0
            .borrow_mut()
            .inbound
            .extend(ciphertext.iter().copied());
        if let State::Handshaking(_) = self.state {
            let State::Handshaking(mid) = std::mem::replace(&mut self.state, State::Failed) else {
                unreachable!()
            };
            self.state = match mid.handshake() {
                Ok(stream) => State::Ready(stream),
                Err(HandshakeError::WouldBlock(mid)) => State::Handshaking(mid),
                Err(_) => State::Failed,
            };
        }
        let mut plaintext = Vec::new();
        if let State::Ready(stream) = &mut self.state {
            let mut chunk = [0u8; 4096];
            loop {
                match stream.ssl_read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => plaintext.extend_from_slice(&chunk[..n]),
                    Err(_) => break,
                }
            }
        }
        plaintext
    }

    /// Encrypts `plaintext` for the modem (after the handshake).
    pub fn send(&mut self, plaintext: &[u8]) {
        if let State::Ready(stream) = &mut self.state {
            stream.ssl_write(plaintext).expect("TLS write to memory");
        }
    }

    /// Ciphertext waiting for the modem.
    pub fn take_outbound(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.memory.0.borrow_mut().outbound)
    }

    /// Whether the handshake failed.
    pub fn failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }
}
