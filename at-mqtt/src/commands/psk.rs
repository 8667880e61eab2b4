//! `AT+MQTTPSK=<LinkID>,<"identity">,<"key_hex">`: the pre-shared key for scheme 2.

use at_core::{Args, ErrorCode, Outcome};
use heapless::Vec;

use super::{link_id, string};
use crate::MqttClient;
use crate::config::{MAX_PSK_IDENTITY, MAX_PSK_KEY, PskConfig};
use crate::error::{KEY_LENGTH_ERROR, KEY_READ_FAILED};

/// A parsed `AT+MQTTPSK`.
pub(super) struct Psk<'a> {
    identity: &'a [u8],
    key: Vec<u8, MAX_PSK_KEY>,
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes 2..=128 hex digits (an even count) into 1..=64 bytes.
pub(crate) fn decode_key(hex: &[u8]) -> Result<Vec<u8, MAX_PSK_KEY>, ErrorCode> {
    if hex.len() < 2 || hex.len() > 2 * MAX_PSK_KEY || !hex.len().is_multiple_of(2) {
        return Err(KEY_LENGTH_ERROR);
    }
    let mut key = Vec::new();
    for &[hi, lo] in hex.as_chunks::<2>().0 {
        let byte = hex_value(hi)
            .zip(hex_value(lo))
            .map(|(hi, lo)| hi << 4 | lo)
            .ok_or(KEY_READ_FAILED)?;
        key.push(byte).map_err(|_| KEY_LENGTH_ERROR)?;
    }
    Ok(key)
}

impl<'a> Psk<'a> {
    pub(super) fn parse(args: &mut Args<'a>) -> Result<Self, ErrorCode> {
        args.expect_count(3..=3)?;
        link_id(args)?;
        let identity = string(
            args,
            MAX_PSK_IDENTITY,
            KEY_READ_FAILED,
            KEY_LENGTH_ERROR,
            Some(KEY_LENGTH_ERROR),
        )?;
        let hex = string(
            args,
            2 * MAX_PSK_KEY,
            KEY_READ_FAILED,
            KEY_LENGTH_ERROR,
            None,
        )?;
        args.finish()?;
        Ok(Self {
            identity,
            key: decode_key(hex)?,
        })
    }

    pub(super) fn apply<const P: usize, const S: usize>(
        self,
        client: MqttClient<'_, P, S>,
    ) -> Result<Outcome, ErrorCode> {
        client.configure(|inner| {
            inner.psk = Some(PskConfig {
                identity: Vec::from_slice(self.identity).map_err(|_| KEY_LENGTH_ERROR)?,
                key: self.key,
            });
            Ok(Outcome::Ok)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_from_hex() {
        assert_eq!(
            decode_key(b"00ff10Ab").as_deref(),
            Ok(&[0x00, 0xFF, 0x10, 0xAB][..])
        );
        assert_eq!(decode_key(b"0"), Err(KEY_LENGTH_ERROR));
        assert_eq!(decode_key(b"abc"), Err(KEY_LENGTH_ERROR));
        assert_eq!(decode_key(b"zz"), Err(KEY_READ_FAILED));
        assert_eq!(decode_key(&[b'a'; 130]), Err(KEY_LENGTH_ERROR));
        assert_eq!(decode_key(&[b'a'; 128]).map(|k| k.len()), Ok(64));
    }
}
