//! The memory budget of a board modem: the default size of every buffer the modem owns,
//! what it costs in static RAM, and the largest inbound message it can deliver.
//!
//! These are the sizes the board ports use (the whole RP2040 image in about 35 KiB of
//! static RAM without TLS, 46 KiB with TLS-PSK, 54 KiB with `tls-cert`, the flash
//! credential store's work buffer included; BENCHMARKS.md has the measured figures).
//! Every size is a parameter of the type that uses it, so a board with more RAM picks
//! larger ones (the host simulator does).
//!
//! | buffer | bytes | holds |
//! |---|---:|---|
//! | URC queue ([`URC_QUEUE_BYTES`]) | 4,096 | URCs waiting for the UART; one record is the largest `+MQTTSUBRECV` |
//! | minimq receive ([`MQTT_RX_BYTES`]) | 3,328 | the largest inbound MQTT packet |
//! | minimq transmit ([`MQTT_TX_BYTES`]) | 2,048 | the outbound packet and the QoS 1/2 messages in flight |
//! | TCP socket ([`TCP_SOCKET_BYTES`]) | 2 x 2,048 | the broker socket's receive and send windows |
//! | outbound payload ([`PAYLOAD_BYTES`]) | 1,024 | an `AT+MQTTPUBRAW` payload between the host and the runner |
//! | subscriptions ([`SUBSCRIPTIONS`]) | 10 x 136 | the topic filters held (up to 128 bytes each) |
//! | login ([`LOGIN_BYTES`](crate::LOGIN_BYTES)) | 2,048 | the client ID, username and password together (each up to 1,024) |
//! | SNI and ALPN (`tls-cert`) | 64 + 5 x 32 | `AT+MQTTSNI`'s name and `AT+MQTTALPN`'s protocols |
//! | TLS record receive ([`TLS_RECORD_RX_BYTES`], `tls-psk`) | 4,357 | one received record of at most 4,096 plaintext bytes |
//! | TLS record send ([`TLS_RECORD_TX_BYTES`], `tls-psk`) | 2,048 | one sent record (larger writes are split) |
//! | TLS pipes (`tls-psk`) | 2 x 1,024 | plaintext between minimq and the TLS pumps |
//! | CA ([`TLS_CA_BYTES`], `tls-cert`) | 1,024 | the CA of `CA_ID`, read from the store for a handshake |
//! | client certificate ([`TLS_CLIENT_CERT_BYTES`], `tls-cert`) | 1,536 | the certificate of `cert_key_ID` |
//! | client key ([`TLS_CLIENT_KEY_BYTES`], `tls-cert`) | 192 | its P-256 key (SEC1 or PKCS#8 DER) |
//! | server chain ([`TLS_SERVER_CHAIN_BYTES`], `tls-cert`) | 3,072 | the server's chain, kept by the verifier from Certificate to CertificateVerify; in the runner's future, during a handshake only |
//!
//! The largest inbound message: an MQTT PUBLISH of at most [`MQTT_RX_BYTES`] bytes
//! (fixed header, topic and payload), which the broker is told in CONNECT (Maximum Packet
//! Size); its `+MQTTSUBRECV` record needs [`SUBRECV_OVERHEAD`](crate::urc::SUBRECV_OVERHEAD)
//! more and fits [`URC_QUEUE_BYTES`] (checked at compile time). That is a 3,000-byte
//! payload with a topic of up to about 300 bytes (3,320 bytes with a 1-byte topic).
//!
//! Over TLS the broker is asked (RFC 6066 `max_fragment_length`) to send records of at
//! most 4,096 plaintext bytes, so [`TLS_RECORD_RX_BYTES`] need not hold TLS's largest
//! record (16,640 bytes).

/// Bytes of URCs (e.g. inbound MQTT messages) that may wait for the UART. One record must
/// hold the largest inbound message, so this bounds [`MQTT_RX_BYTES`] too.
pub const URC_QUEUE_BYTES: usize = 4 * 1024;
/// minimq's receive buffer: the largest inbound MQTT packet (topic, properties and
/// payload), which the broker is told in CONNECT: a 3,000-byte message with room for
/// its topic.
pub const MQTT_RX_BYTES: usize = 3 * 1024 + 256;
/// minimq's outbound packet and in-flight buffer.
pub const MQTT_TX_BYTES: usize = 2 * 1024;
/// Receive and send buffers of the broker's TCP socket (each).
pub const TCP_SOCKET_BYTES: usize = 2 * 1024;
/// The largest outbound payload held for `AT+MQTTPUBRAW` (the esp-at profile's default
/// cap; the seed profile allows 512).
pub const PAYLOAD_BYTES: usize = 1024;
/// Subscriptions held at once.
pub const SUBSCRIPTIONS: usize = 10;
/// The largest TLS record plaintext the broker is asked to send (`max_fragment_length`).
pub const TLS_FRAGMENT_BYTES: usize = 4096;
/// TLS record buffer for scheme 2: one received record of [`TLS_FRAGMENT_BYTES`] with its
/// 5-byte header and TLS 1.3's at most 256 bytes of content type, padding and tag.
pub const TLS_RECORD_RX_BYTES: usize = TLS_FRAGMENT_BYTES + 5 + 256;
/// TLS record buffer for scheme 2: one sent record (larger writes are split).
pub const TLS_RECORD_TX_BYTES: usize = 2 * 1024;

// The largest inbound message must fit one URC record.
const _: () = assert!(MQTT_RX_BYTES + crate::urc::SUBRECV_OVERHEAD + 2 <= URC_QUEUE_BYTES);
// The outbound payload must fit minimq's transmit buffer with a topic and the header.
const _: () = assert!(PAYLOAD_BYTES + crate::topic::MAX_TOPIC + 16 <= MQTT_TX_BYTES);
/// The largest CA certificate (DER) a certificate handshake can use: ECDSA roots are
/// 400 to 700 bytes (ISRG Root X2 541, Amazon Root CA 3 438).
pub const TLS_CA_BYTES: usize = 1024;
/// The largest client certificate (DER): room for one issued by an RSA CA (AWS IoT's
/// are about 860 bytes), as only its key must be P-256.
pub const TLS_CLIENT_CERT_BYTES: usize = 1536;
/// The largest client key (DER): a P-256 key is 121 bytes as SEC1, 138 as PKCS#8.
pub const TLS_CLIENT_KEY_BYTES: usize = 192;
/// The server's certificate chain as sent, which embedded-tls's verifier keeps until
/// the CertificateVerify message: a leaf and an intermediate of about 1 KiB each
/// (Let's Encrypt's ECDSA chains are about 2.2 KiB). A larger chain fails the
/// handshake with `TLS_HANDSHAKE_FAILED`.
pub const TLS_SERVER_CHAIN_BYTES: usize = 3 * 1024;
