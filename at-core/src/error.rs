//! Error codes in ESP-AT's numbering, printed as `ERR CODE:0x%08x` under `AT+SYSLOG=1`.
//!
//! The layout is `0x01` (bits 31..24), a sub-category (bits 23..16) and an extension
//! (bits 15..0). Command handlers report failures as an [`ErrorCode`]; the engine turns it
//! into `ERROR`.

use core::fmt;

/// An ESP-AT compatible error code; it displays as its syslog line, `ERR CODE:0x%08x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorCode(pub u32);

/// Bytes of [`ErrorCode::syslog_line`]: `ERR CODE:0x` and eight hex digits.
const SYSLOG_LINE_BYTES: usize = 19;

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.syslog_line();
        // The line is ASCII, so this never takes the empty fallback.
        f.write_str(core::str::from_utf8(&line).unwrap_or_default())
    }
}

impl core::error::Error for ErrorCode {}

impl ErrorCode {
    /// The code's syslog line without CR LF: `ERR CODE:0x%08x`, hex digits lower case.
    pub const fn syslog_line(self) -> [u8; SYSLOG_LINE_BYTES] {
        const PREFIX: &[u8; 11] = b"ERR CODE:0x";
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut line = [0u8; SYSLOG_LINE_BYTES];
        let mut i = 0;
        while i < PREFIX.len() {
            line[i] = PREFIX[i];
            i += 1;
        }
        let mut digit = 0;
        while digit < 8 {
            let nibble = (self.0 >> (28 - 4 * digit)) & 0xF;
            line[PREFIX.len() + digit] = DIGITS[nibble as usize];
            digit += 1;
        }
        line
    }

    /// The line does not start with `AT`.
    pub const NO_AT: Self = Self(0x0103_0000);
    /// The line is longer than the line buffer.
    pub const LINE_TOO_LONG: Self = Self(0x0104_0000);
    /// A parameter is invalid (generic).
    pub const INVALID_PARAMETER: Self = Self(0x0107_0000);
    /// A parameter could not be parsed.
    pub const PARSE_FAILED: Self = Self(0x0108_0000);
    /// No command of that name exists.
    pub const UNKNOWN_COMMAND: Self = Self(0x0109_0000);
    /// A command is still executing (`busy p...`).
    pub const BUSY: Self = Self(0x010B_0000);
    /// The command does not support this form (test, query, set or execute).
    pub const FORM_NOT_SUPPORTED: Self = Self(0x010C_0000);

    /// Wrong parameter count: `0x0106<need><given>`, both saturated to one byte.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "both values are capped at 0xFF before the cast"
    )]
    pub const fn parameter_count(need: usize, given: usize) -> Self {
        let need = if need > 0xFF { 0xFF } else { need as u32 };
        let given = if given > 0xFF { 0xFF } else { given as u32 };
        Self(0x0106_0000 | (need << 8) | given)
    }

    /// The command failed while executing: `0x010A<extension>` (e.g. ESP-AT's MQTT table).
    pub const fn execution(extension: u16) -> Self {
        Self(0x010A_0000 | extension as u32)
    }

    /// For a [`parameter_count`](Self::parameter_count) code, the parameters the command
    /// needs and those it was given (each saturated at 255); `None` for other codes.
    pub const fn need_and_given(self) -> Option<(u8, u8)> {
        if self.0 & 0xFFFF_0000 != 0x0106_0000 {
            return None;
        }
        let [_, _, need, given] = self.0.to_be_bytes();
        Some((need, given))
    }

    /// A short English description of the syntax-level codes this crate defines (the
    /// ones above), for logs; `None` for any other code, e.g. a command set's own
    /// `0x010A<extension>` codes, which [`CommandSet::describe`](crate::CommandSet::describe)
    /// explains. A parameter-count code's numbers are in [`need_and_given`](Self::need_and_given).
    pub const fn describe(self) -> Option<&'static str> {
        if self.need_and_given().is_some() {
            return Some("wrong number of parameters");
        }
        Some(match self {
            Self::NO_AT => "the line does not start with AT",
            Self::LINE_TOO_LONG => "the line is longer than the line buffer",
            Self::INVALID_PARAMETER => "a parameter is out of range",
            Self::PARSE_FAILED => "a parameter could not be parsed (wrong type or quoting)",
            Self::UNKNOWN_COMMAND => "no command of that name",
            Self::BUSY => "a command is still executing",
            Self::FORM_NOT_SUPPORTED => {
                "the command does not support this form (=?, ?, = or plain)"
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_packs_need_and_given() {
        assert_eq!(ErrorCode::parameter_count(6, 5), ErrorCode(0x0106_0605));
        assert_eq!(ErrorCode::parameter_count(300, 1), ErrorCode(0x0106_FF01));
    }

    #[test]
    fn displays_as_the_syslog_line() {
        assert_eq!(
            ErrorCode::execution(0x6001).to_string(),
            "ERR CODE:0x010a6001"
        );
        assert_eq!(ErrorCode(0x10).to_string(), "ERR CODE:0x00000010");
    }

    #[test]
    fn syslog_line_is_eight_lower_case_hex_digits() {
        assert_eq!(
            &ErrorCode(0xFEDC_BA98).syslog_line(),
            b"ERR CODE:0xfedcba98"
        );
        assert_eq!(&ErrorCode(0).syslog_line(), b"ERR CODE:0x00000000");
    }

    #[test]
    fn syntax_codes_are_described() {
        assert_eq!(
            ErrorCode::UNKNOWN_COMMAND.describe(),
            Some("no command of that name")
        );
        assert_eq!(
            ErrorCode::parameter_count(6, 5).describe(),
            Some("wrong number of parameters")
        );
        assert_eq!(
            ErrorCode::parameter_count(6, 5).need_and_given(),
            Some((6, 5))
        );
        assert_eq!(ErrorCode::PARSE_FAILED.need_and_given(), None);
        assert_eq!(ErrorCode::execution(0x6048).describe(), None);
        for code in [
            ErrorCode::NO_AT,
            ErrorCode::LINE_TOO_LONG,
            ErrorCode::INVALID_PARAMETER,
            ErrorCode::PARSE_FAILED,
            ErrorCode::UNKNOWN_COMMAND,
            ErrorCode::BUSY,
            ErrorCode::FORM_NOT_SUPPORTED,
        ] {
            assert!(code.describe().is_some(), "{code}");
        }
    }

    #[test]
    fn execution_uses_sub_category_0a() {
        assert_eq!(ErrorCode::execution(0x6006), ErrorCode(0x010A_6006));
    }
}
