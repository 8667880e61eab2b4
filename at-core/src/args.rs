//! The parameter cursor: reads the comma-separated fields of a set command in order.
//!
//! Strings may be quoted (`"a\,b"`) or bare (`a\,b`); the escapes `\\`, `\"` and `\,` are
//! removed in place, and a backslash before any other byte is dropped. Integers are bare
//! decimal digits with an optional leading `-`. An empty field is an omitted parameter;
//! `""` is an empty string. Every read is bounds-checked: no input can make it panic.

use core::ops::RangeInclusive;

use crate::ErrorCode;

/// Why a parameter could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ArgErrorKind {
    /// A required parameter was omitted.
    Missing,
    /// A quoted string has no closing quote.
    Unterminated,
    /// Bytes follow the closing quote of a string before the next comma.
    TrailingAfterQuote,
    /// The field is not a bare decimal integer.
    NotInteger,
    /// The integer is outside the allowed range (or overflows).
    OutOfRange,
    /// The line has a number of fields the command does not accept.
    Count {
        /// The number of fields the command needs (its minimum or maximum), at most 255.
        need: u8,
        /// The number of fields the line has.
        given: u8,
    },
}

/// A parameter error: which field (0-based) and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ArgError {
    /// The 0-based index of the field, at most 255.
    pub index: u8,
    /// What is wrong with it.
    pub kind: ArgErrorKind,
}

/// `n` as a field number of an [`ArgError`]: saturated at 255, as in the error code.
fn field_number(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

impl ArgError {
    /// `kind` at field `index`.
    fn at(index: usize, kind: ArgErrorKind) -> Self {
        Self {
            index: field_number(index),
            kind,
        }
    }

    /// A field count of `given` where the command needs `need`, found at field `index`.
    fn count(index: usize, need: usize, given: usize) -> Self {
        Self::at(
            index,
            ArgErrorKind::Count {
                need: field_number(need),
                given: field_number(given),
            },
        )
    }
}

impl core::fmt::Display for ArgError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let index = self.index;
        match self.kind {
            ArgErrorKind::Missing => write!(f, "parameter {index} is missing"),
            ArgErrorKind::Unterminated => write!(f, "parameter {index} has no closing quote"),
            ArgErrorKind::TrailingAfterQuote => {
                write!(f, "parameter {index} has bytes after its closing quote")
            }
            ArgErrorKind::NotInteger => write!(f, "parameter {index} is not an integer"),
            ArgErrorKind::OutOfRange => write!(f, "parameter {index} is out of range"),
            ArgErrorKind::Count { need, given } => {
                write!(f, "{given} parameters where {need} are needed")
            }
        }
    }
}

impl core::error::Error for ArgError {}

impl From<ArgError> for ErrorCode {
    fn from(err: ArgError) -> Self {
        match err.kind {
            ArgErrorKind::Count { need, given } => {
                ErrorCode::parameter_count(usize::from(need), usize::from(given))
            }
            ArgErrorKind::OutOfRange => ErrorCode::INVALID_PARAMETER,
            _ => ErrorCode::PARSE_FAILED,
        }
    }
}

/// A cursor over the parameters of one command line.
#[derive(Debug)]
pub struct Args<'a> {
    rest: &'a mut [u8],
    index: usize,
    count: usize,
    /// The lengths of the first fields, found while counting them, so that reading a
    /// field does not scan it again ([`NOT_CACHED`] past the cache or for a huge field).
    lengths: [u16; CACHED_FIELDS],
}

/// Fields whose length [`Args::new`] keeps.
const CACHED_FIELDS: usize = 8;
/// A length [`Args::new`] did not keep.
const NOT_CACHED: u16 = u16::MAX;

/// Splits off the first field: returns its length and whether a comma follows it.
fn field_extent(buf: &[u8]) -> Result<(usize, bool), ArgErrorKind> {
    let mut i = 0;
    if buf.first() == Some(&b'"') {
        i = 1;
        loop {
            match buf.get(i) {
                None => return Err(ArgErrorKind::Unterminated),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let end = i + 1;
        return match buf.get(end) {
            None => Ok((end, false)),
            Some(b',') => Ok((end, true)),
            Some(_) => Err(ArgErrorKind::TrailingAfterQuote),
        };
    }
    loop {
        match buf.get(i) {
            None => return Ok((buf.len(), false)),
            Some(b'\\') => i += 2,
            Some(b',') => return Ok((i, true)),
            Some(_) => i += 1,
        }
    }
}

/// Removes escapes in place and returns the unescaped prefix.
///
/// `\x` becomes `x` for any byte `x`; a final lone backslash is dropped.
pub fn unescape_in_place(buf: &mut [u8]) -> &mut [u8] {
    // The bytes before the first backslash stay where they are.
    let Some(first) = buf.iter().position(|&b| b == b'\\') else {
        return buf;
    };
    let mut read = first;
    let mut write = first;
    while let Some(&byte) = buf.get(read) {
        let value = if byte == b'\\' {
            read += 1;
            match buf.get(read) {
                Some(&next) => next,
                None => break,
            }
        } else {
            byte
        };
        if let Some(slot) = buf.get_mut(write) {
            *slot = value;
        }
        write += 1;
        read += 1;
    }
    let (head, _) = buf.split_at_mut(write);
    head
}

/// Writes `value` escaped so that [`unescape_in_place`] restores it: `\`, `"` and `,`
/// get a backslash. Returns the escaped length, or `None` if `out` is too small.
pub fn escape_into(value: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut len = 0;
    for &byte in value {
        if matches!(byte, b'\\' | b'"' | b',') {
            *out.get_mut(len)? = b'\\';
            len += 1;
        }
        *out.get_mut(len)? = byte;
        len += 1;
    }
    Some(len)
}

/// One raw field before unescaping.
enum Field<'a> {
    Omitted,
    Quoted(&'a mut [u8]),
    Bare(&'a mut [u8]),
}

impl<'a> Args<'a> {
    /// Creates a cursor over the text after `=`, counting its fields.
    ///
    /// An empty text is one omitted field. Fails on an unterminated quote or on bytes
    /// after a closing quote.
    pub fn new(params: &'a mut [u8]) -> Result<Self, ArgError> {
        let mut count = 0;
        let mut offset = 0;
        let mut lengths = [NOT_CACHED; CACHED_FIELDS];
        loop {
            let tail = params.get(offset..).unwrap_or_default();
            let (len, more) = field_extent(tail).map_err(|kind| ArgError::at(count, kind))?;
            if let Some(slot) = lengths.get_mut(count) {
                *slot = u16::try_from(len).unwrap_or(NOT_CACHED);
            }
            count += 1;
            offset += len + 1;
            if !more {
                break;
            }
        }
        Ok(Self {
            rest: params,
            index: 0,
            count,
            lengths,
        })
    }

    /// The cursor [`new`](Self::new) makes of an empty text (one omitted field), for
    /// the forms without parameters, without scanning anything.
    pub(crate) fn omitted() -> Self {
        let mut lengths = [NOT_CACHED; CACHED_FIELDS];
        if let Some(first) = lengths.first_mut() {
            *first = 0;
        }
        Self {
            rest: &mut [],
            index: 0,
            count: 1,
            lengths,
        }
    }

    /// The number of fields on the line (omitted ones included).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the line has no fields (never true: an empty text is one omitted field).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The 0-based index of the next field to read.
    pub fn position(&self) -> usize {
        self.index
    }

    /// Fails with [`ArgErrorKind::Count`] unless the field count is in `range`.
    pub fn expect_count(&self, range: RangeInclusive<usize>) -> Result<(), ArgError> {
        let need = if self.count < *range.start() {
            *range.start()
        } else if self.count > *range.end() {
            *range.end()
        } else {
            return Ok(());
        };
        Err(ArgError::count(self.count, need, self.count))
    }

    fn error(&self, kind: ArgErrorKind) -> ArgError {
        ArgError::at(self.index.saturating_sub(1), kind)
    }

    fn next_field(&mut self) -> Result<Field<'a>, ArgError> {
        if self.index >= self.count {
            self.index += 1;
            return Ok(Field::Omitted);
        }
        let buf = core::mem::take(&mut self.rest);
        let (len, more) = match self.lengths.get(self.index) {
            // `new` found this field: a comma follows unless it is the last.
            Some(&len) if len != NOT_CACHED => (usize::from(len), self.index + 1 < self.count),
            _ => field_extent(buf).map_err(|kind| ArgError::at(self.index, kind))?,
        };
        self.index += 1;
        // `len` lies within `buf` (both come from the same line); the `min` lets the
        // compiler see it, so no panic path is linked.
        let (field, tail) = buf.split_at_mut(len.min(buf.len()));
        self.rest = if more {
            tail.split_first_mut().map(|(_, t)| t).unwrap_or_default()
        } else {
            &mut []
        };
        Ok(match field.first() {
            None => Field::Omitted,
            Some(b'"') => {
                // `field_extent` guarantees a closing quote: strip both quotes.
                let end = field.len().saturating_sub(1).max(1);
                Field::Quoted(field.get_mut(1..end).unwrap_or_default())
            }
            Some(_) => Field::Bare(field),
        })
    }

    /// Reads an optional string parameter (quoted or bare), unescaped.
    pub fn opt_str(&mut self) -> Result<Option<&'a [u8]>, ArgError> {
        Ok(match self.next_field()? {
            Field::Omitted => None,
            Field::Quoted(raw) | Field::Bare(raw) => Some(unescape_in_place(raw)),
        })
    }

    /// Reads a required string parameter (quoted or bare), unescaped.
    pub fn str(&mut self) -> Result<&'a [u8], ArgError> {
        match self.opt_str()? {
            Some(value) => Ok(value),
            None => Err(self.error(ArgErrorKind::Missing)),
        }
    }

    /// Reads an optional integer parameter that must lie in `range`.
    pub fn opt_int<T>(&mut self, range: RangeInclusive<T>) -> Result<Option<T>, ArgError>
    where
        T: Copy + Into<i64> + TryFrom<i64>,
    {
        let Some(value) = self.opt_int_within((*range.start()).into(), (*range.end()).into())?
        else {
            return Ok(None);
        };
        T::try_from(value)
            .map(Some)
            .map_err(|_| self.error(ArgErrorKind::OutOfRange))
    }

    /// [`opt_int`](Self::opt_int) for `min..=max`, not generic: one copy for every type.
    fn opt_int_within(&mut self, min: i64, max: i64) -> Result<Option<i64>, ArgError> {
        let digits = match self.next_field()? {
            Field::Omitted => return Ok(None),
            Field::Quoted(_) => return Err(self.error(ArgErrorKind::NotInteger)),
            Field::Bare(digits) => digits,
        };
        let value = parse_decimal(digits).map_err(|kind| self.error(kind))?;
        if value < min || value > max {
            return Err(self.error(ArgErrorKind::OutOfRange));
        }
        Ok(Some(value))
    }

    /// Reads a required integer parameter that must lie in `range`.
    pub fn int<T>(&mut self, range: RangeInclusive<T>) -> Result<T, ArgError>
    where
        T: Copy + Into<i64> + TryFrom<i64>,
    {
        match self.opt_int(range)? {
            Some(value) => Ok(value),
            None => Err(self.error(ArgErrorKind::Missing)),
        }
    }

    /// Fails if any field is left unread.
    pub fn finish(&self) -> Result<(), ArgError> {
        if self.index < self.count {
            return Err(ArgError::count(self.index, self.index, self.count));
        }
        Ok(())
    }
}

/// Parses `-?[0-9]+` without overflow, over the whole `i64` range.
///
/// A negative number is accumulated downwards so that `i64::MIN`, whose magnitude has
/// no positive `i64`, parses too.
fn parse_decimal(text: &[u8]) -> Result<i64, ArgErrorKind> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(ArgErrorKind::NotInteger);
    }
    let mut value: i64 = 0;
    for &byte in digits {
        if !byte.is_ascii_digit() {
            return Err(ArgErrorKind::NotInteger);
        }
        let digit = i64::from(byte - b'0');
        value = value
            .checked_mul(10)
            .and_then(|v| {
                if negative {
                    v.checked_sub(digit)
                } else {
                    v.checked_add(digit)
                }
            })
            .ok_or(ArgErrorKind::OutOfRange)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_is_what_new_makes_of_an_empty_text() {
        let made = Args::new(&mut []).expect("an empty text parses");
        let omitted = Args::omitted();
        assert_eq!(
            (
                omitted.count,
                omitted.index,
                omitted.lengths,
                omitted.rest.len()
            ),
            (made.count, made.index, made.lengths, made.rest.len())
        );
    }

    fn with_args<R>(text: &str, f: impl FnOnce(&mut Args<'_>) -> R) -> R {
        let mut buf = [0u8; 300];
        let len = text.len();
        buf[..len].copy_from_slice(text.as_bytes());
        let mut args = Args::new(&mut buf[..len]).expect("fields");
        f(&mut args)
    }

    #[test]
    fn quoted_strings_unescape() {
        let cases: &[(&str, &[u8])] = &[
            (r#""plain""#, b"plain"),
            (r#""a\,b""#, b"a,b"),
            (r#""say \"hi\"""#, b"say \"hi\""),
            (r#""back\\slash""#, b"back\\slash"),
            (r#""\x\y""#, b"xy"),
            (r#""""#, b""),
            (r#""{\"k\":1\,\"v\":2}""#, br#"{"k":1,"v":2}"#),
        ];
        for (text, expected) in cases {
            let got = with_args(text, |a| a.str().map(|s| s.to_vec()));
            assert_eq!(got.as_deref(), Ok(*expected), "input {text}");
        }
    }

    #[test]
    fn bare_strings_run_to_the_next_unescaped_comma() {
        with_args(r"test/abc,9876\,54321,1", |a| {
            assert_eq!(a.len(), 3);
            assert_eq!(a.str(), Ok(&b"test/abc"[..]));
            assert_eq!(a.str(), Ok(&b"9876,54321"[..]));
            assert_eq!(a.int(0u8..=2), Ok(1));
            assert_eq!(a.finish(), Ok(()));
        });
    }

    #[test]
    fn bare_strings_keep_spaces() {
        with_args(" a b ,x", |a| assert_eq!(a.str(), Ok(&b" a b "[..])));
    }

    #[test]
    fn quoted_comma_does_not_split() {
        with_args(r#""a,b",1"#, |a| {
            assert_eq!(a.len(), 2);
            assert_eq!(a.str(), Ok(&b"a,b"[..]));
        });
    }

    #[test]
    fn fields_past_the_length_cache_read_the_same() {
        with_args(r#"0,"a\,b",,3,"","x",6,7,8,"n\"ine",10"#, |a| {
            assert_eq!(a.len(), 11);
            assert_eq!(a.int(0u8..=9), Ok(0));
            assert_eq!(a.str(), Ok(&b"a,b"[..]));
            assert_eq!(a.opt_str(), Ok(None));
            assert_eq!(a.int(0u8..=9), Ok(3));
            assert_eq!(a.str(), Ok(&b""[..]));
            assert_eq!(a.str(), Ok(&b"x"[..]));
            for n in 6..=8u8 {
                assert_eq!(a.int(0u8..=9), Ok(n));
            }
            assert_eq!(a.str(), Ok(&b"n\"ine"[..]));
            assert_eq!(a.int(0u8..=10), Ok(10));
            assert_eq!(a.finish(), Ok(()));
        });
    }

    #[test]
    fn integers_parse_with_range_checks() {
        with_args("0,7200,-5,65535,99999999999999999999999", |a| {
            assert_eq!(a.int(0u16..=7200), Ok(0));
            assert_eq!(a.int(0u16..=7200), Ok(7200));
            assert_eq!(a.int(-10i32..=10), Ok(-5));
            assert_eq!(a.int(1u16..=65535), Ok(65535));
            assert_eq!(
                a.int(0u32..=10).map_err(|e| e.kind),
                Err(ArgErrorKind::OutOfRange)
            );
        });
    }

    #[test]
    fn integer_rejections() {
        for text in ["\"1\"", "1a", " 1", "1 ", "-", "+1", "0x10", "1.0"] {
            let kind = with_args(text, |a| a.int(0i32..=100).map_err(|e| e.kind));
            assert!(
                matches!(kind, Err(ArgErrorKind::NotInteger)),
                "{text}: {kind:?}"
            );
        }
        let kind = with_args("101", |a| a.int(0i32..=100).map_err(|e| e.kind));
        assert_eq!(kind, Err(ArgErrorKind::OutOfRange));
        let kind = with_args("-1", |a| a.int(0u8..=2).map_err(|e| e.kind));
        assert_eq!(kind, Err(ArgErrorKind::OutOfRange));
    }

    #[test]
    fn omitted_fields() {
        with_args("1,,\"\",", |a| {
            assert_eq!(a.len(), 4);
            assert_eq!(a.opt_int(0u8..=9), Ok(Some(1)));
            assert_eq!(a.opt_int(0u8..=9), Ok(None));
            assert_eq!(a.opt_str(), Ok(Some(&b""[..])));
            assert_eq!(a.opt_str(), Ok(None));
            // Past the last field: omitted as well.
            assert_eq!(a.opt_str(), Ok(None));
        });
    }

    #[test]
    fn missing_required_field_reports_its_index() {
        with_args("1,,3", |a| {
            assert_eq!(a.int(0u8..=9), Ok(1));
            assert_eq!(
                a.str(),
                Err(ArgError {
                    index: 1,
                    kind: ArgErrorKind::Missing
                })
            );
        });
    }

    /// Field numbers past 255 are reported as 255, as the error code carries them.
    #[test]
    fn field_numbers_past_255_saturate() {
        let mut text = [b','; 299];
        let mut args = Args::new(&mut text).expect("300 omitted fields");
        assert_eq!(args.len(), 300);
        assert_eq!(
            args.expect_count(1..=1),
            Err(ArgError {
                index: 255,
                kind: ArgErrorKind::Count {
                    need: 1,
                    given: 255
                }
            })
        );
        for _ in 0..299 {
            assert_eq!(args.opt_str(), Ok(None));
        }
        assert_eq!(
            args.finish(),
            Err(ArgError {
                index: 255,
                kind: ArgErrorKind::Count {
                    need: 255,
                    given: 255
                }
            })
        );
        assert_eq!(args.str().map_err(|e| e.index), Err(255));
    }

    #[test]
    fn empty_text_is_one_omitted_field() {
        with_args("", |a| {
            assert_eq!(a.len(), 1);
            assert_eq!(a.opt_str(), Ok(None));
        });
    }

    #[test]
    fn count_checks() {
        with_args("1,2,3", |a| {
            assert_eq!(a.expect_count(3..=3), Ok(()));
            assert_eq!(
                a.expect_count(4..=5).map_err(ErrorCode::from),
                Err(ErrorCode(0x0106_0403))
            );
            assert_eq!(
                a.expect_count(1..=2).map_err(ErrorCode::from),
                Err(ErrorCode(0x0106_0203))
            );
        });
    }

    #[test]
    fn finish_rejects_unread_fields() {
        with_args("1,2", |a| {
            assert_eq!(a.int(0u8..=9), Ok(1));
            assert!(a.finish().is_err());
        });
    }

    #[test]
    fn malformed_lines_fail_at_construction() {
        for text in [r#""open"#, r#""a"b,1"#, r#"1,"x"#, r#""ends with\""#] {
            let mut buf = text.as_bytes().to_vec();
            assert!(Args::new(&mut buf).is_err(), "{text}");
        }
    }

    #[test]
    fn escape_round_trips() {
        let value = b"a,\"b\"\\c";
        let mut out = [0u8; 32];
        let len = escape_into(value, &mut out).expect("fits");
        assert_eq!(&out[..len], br#"a\,\"b\"\\c"#);
        assert_eq!(unescape_in_place(&mut out[..len]), value);
        assert_eq!(escape_into(b",,", &mut [0u8; 3]), None);
    }

    #[test]
    fn trailing_backslash_is_dropped() {
        let mut buf = *b"ab\\";
        assert_eq!(unescape_in_place(&mut buf), b"ab");
    }
}
