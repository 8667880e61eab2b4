//! Bytes shown as text: exact, one serial line per text line.

/// Bytes as text: printable ASCII as is, and `\\`, `\r`, `\n`, `\t` or `\xNN` for the rest
/// (the notation of `at-host --script` transcripts).
pub fn escape(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'\r' => text.push_str("\\r"),
            b'\n' => text.push_str("\\n"),
            b'\t' => text.push_str("\\t"),
            0x20..=0x7e => text.push(char::from(byte)),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text
}

/// Renders `bytes` as lines `prefix` + escaped bytes, breaking after every LF.
pub fn render(prefix: &str, bytes: &[u8]) -> String {
    let mut text = String::new();
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        text.push_str(prefix);
        text.push_str(&escape(piece));
        text.push('\n');
    }
    text
}

/// Shows where `received` departs from `expected`, both escaped, with a caret under the
/// first difference.
pub(crate) fn diff(expected: &[u8], received: &[u8]) -> String {
    let common = expected
        .iter()
        .zip(received)
        .take_while(|(a, b)| a == b)
        .count();
    let column = escape(expected.get(..common).unwrap_or_default()).len();
    format!(
        "  expected: {}\n  received: {}\n            {}^ first difference at byte {common}\n",
        escape(expected),
        escape(received),
        " ".repeat(column),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_is_exact() {
        assert_eq!(escape(b"AT\r\n\\\x01\"ok\""), "AT\\r\\n\\\\\\x01\"ok\"");
    }

    #[test]
    fn render_breaks_after_lf() {
        assert_eq!(render("< ", b"\r\nOK\r\n>"), "< \\r\\n\n< OK\\r\\n\n< >\n");
    }

    #[test]
    fn diff_points_at_the_first_difference() {
        let text = diff(b"\r\nOK\r\n", b"\r\nERROR\r\n");
        assert!(text.contains("first difference at byte 2"), "{text}");
        let caret_line = text.lines().nth(2).unwrap_or_default();
        assert_eq!(caret_line.find('^'), Some(12 + 4), "{text}");
    }
}
