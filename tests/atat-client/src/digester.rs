//! [`EspAtDigester`]: `atat`'s own digester with one change an ESP-AT host needs.
//!
//! ESP-AT writes a URC as `+NAME:...\r\n` with no CR LF before it. `atat`'s
//! `AtDigester` strips a line at the start of its buffer as the echo of a command
//! before it looks for URCs, so a URC right after the previous response (echo off)
//! would be taken for an echo and lost, and one just before a final `OK` would be
//! taken for that command's information line. This digester first offers the buffer

use atat::{AtDigester, AtatUrc, DigestResult, Digester, Parser};

/// `atat`'s digester, with URCs recognised at the very start of its buffer.
pub struct EspAtDigester<P: Parser> {
    inner: AtDigester<P>,
}

impl<P: Parser> Default for EspAtDigester<P> {
    fn default() -> Self {
        Self {
            inner: AtDigester::new(),
        }
    }
}

impl<P: Parser + AtatUrc> Digester for EspAtDigester<P> {
    fn digest<'a>(&mut self, buf: &'a [u8]) -> (DigestResult<'a>, usize) {
        if buf.first() == Some(&b'+') {
            let Some(end) = buf.windows(2).position(|pair| pair == b"\r\n") else {
                // A line that may be a URC: wait for its end.
                return (DigestResult::None, 0);
            };
            let line = buf.get(..end).unwrap_or_default();
            if <P as AtatUrc>::parse(line).is_some() {
                return (DigestResult::Urc(line), end + 2);
            }
        }
        self.inner.digest(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Urc;

    fn digest(input: &[u8]) -> (String, usize) {
        let mut digester = EspAtDigester::<Urc>::default();
        let (result, used) = digester.digest(input);
        let shown = match result {
            DigestResult::Urc(line) => format!("urc {}", String::from_utf8_lossy(line)),
            DigestResult::Response(Ok(body)) => format!("ok {}", String::from_utf8_lossy(body)),
            DigestResult::Prompt(byte) => format!("prompt {}", char::from(byte)),
            DigestResult::None => "none".to_owned(),
            other => format!("{other:?}"),
        };
        (shown, used)
    }

    #[test]
    fn esp_at_urcs_are_urcs_where_atat_expects_an_echo() {
        assert_eq!(
            digest(b"+MQTTCONNECTED:0\r\n\r\nOK\r\n"),
            ("urc +MQTTCONNECTED:0".to_owned(), 18)
        );
        assert_eq!(
            digest(b"+MQTTSUBRECV:0,\"t\",2,hi\r\n"),
            ("urc +MQTTSUBRECV:0,\"t\",2,hi".to_owned(), 25)
        );
        // Not yet a whole line: wait.
        assert_eq!(digest(b"+MQTTSUBRE"), ("none".to_owned(), 0));
        // Information lines of a response stay with it, after the echo `atat` strips
        // (with echo off, `atat` takes a first line without CR LF before it for an echo).
        assert_eq!(
            digest(b"AT+MQTTCONN?\r\n+MQTTCONN:0,0,0,\"\",0,0\r\n\r\nOK\r\n"),
            ("ok +MQTTCONN:0,0,0,\"\",0,0".to_owned(), 44)
        );
        assert_eq!(digest(b"\r\nOK\r\n"), ("ok ".to_owned(), 6));
        assert_eq!(digest(b"\r\n>"), ("prompt >".to_owned(), 3));
    }
}
