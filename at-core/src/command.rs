//! Command lines and the command table: names, forms, and the [`CommandSet`] trait that
//! a downstream crate implements to add commands without touching this crate.

use crate::{Args, Context, ErrorCode};

/// The four forms of an extended command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Form {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Query,
    /// `AT+X=<params>`
    Set,
    /// `AT+X`
    Execute,
}

/// The set of forms a command supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forms(u8);

impl Forms {
    /// No form.
    pub const NONE: Self = Self(0);
    /// `AT+X=?` only.
    pub const TEST: Self = Self(1);
    /// `AT+X?` only.
    pub const QUERY: Self = Self(2);
    /// `AT+X=...` only.
    pub const SET: Self = Self(4);
    /// `AT+X` only.
    pub const EXECUTE: Self = Self(8);

    /// The union of two sets.
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether `form` is in the set.
    pub const fn contains(self, form: Form) -> bool {
        let bit = match form {
            Form::Test => Self::TEST.0,
            Form::Query => Self::QUERY.0,
            Form::Set => Self::SET.0,
            Form::Execute => Self::EXECUTE.0,
        };
        self.0 & bit != 0
    }
}

/// One row of a command table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandInfo {
    /// The name after `AT`, e.g. `+MQTTPUB` or `E0` (`""` is plain `AT`).
    pub name: &'static str,
    /// The forms the command supports.
    pub forms: Forms,
}

impl CommandInfo {
    /// A table row.
    pub const fn new(name: &'static str, forms: Forms) -> Self {
        Self { name, forms }
    }

    /// Whether `name` (as received) matches this row, ignoring ASCII case.
    pub fn matches(&self, name: &[u8]) -> bool {
        let row = self.name.as_bytes();
        // Most rows differ in length: rejected before any byte is compared. Then byte
        // by byte, stopping at the first difference (the standard library's
        // slice `eq_ignore_ascii_case` lowercases whole chunks first); a byte in the
        // row's own case needs no lowercasing. From the end: names of one table share
        // their beginnings (`+MQTTPUB`, `+MQTTSUB`).
        row.len() == name.len()
            && row
                .iter()
                .rev()
                .zip(name.iter().rev())
                .all(|(a, b)| a == b || a.eq_ignore_ascii_case(b))
    }
}

/// The length of the longest name in `table`.
pub(crate) const fn longest_name(table: &[CommandInfo]) -> usize {
    let mut longest = 0;
    let mut i = 0;
    while i < table.len() {
        if table[i].name.len() > longest {
            longest = table[i].name.len();
        }
        i += 1;
    }
    longest
}

/// What a successful command leaves for the engine to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Outcome {
    /// The engine writes `\r\nOK\r\n`.
    Ok,
    /// The handler already wrote its final result line (e.g. `+MQTTPUBRAW:OK`).
    Done,
    /// The engine writes `\r\nOK\r\n`, then [`Engine::run`](crate::Engine::run) returns
    /// [`Stop::Restart`](crate::Stop::Restart) with the engine reset (e.g. `AT+RESTORE`).
    OkThenRestart,
    /// The engine writes `\r\nOK\r\n`, then [`Engine::run`](crate::Engine::run) returns
    /// [`Stop::BaudRate`](crate::Stop::BaudRate): the port changes the UART's rate only
    /// once the `OK` has gone out at the old one (e.g. `AT+UART_CUR`).
    OkThenBaudRate(u32),
}

/// A set of commands: a table and the code that runs them.
///
/// Implement it for a type that owns the commands' state; combine sets with a tuple
/// `(A, B)`. The [`command_table!`](crate::command_table) macro generates the table and
/// an enum to `match` on.
#[allow(async_fn_in_trait)]
pub trait CommandSet {
    /// The row at `index`, or `None` past the end. Indices are dense from 0.
    fn command(&self, index: usize) -> Option<&'static CommandInfo>;

    /// Runs the command at `index` in `form`. `args` holds the parameters of the set form
    /// (and is empty for the others). The engine has already checked that the command
    /// supports `form`.
    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode>;

    /// The index of the command called `name` (ASCII case ignored).
    fn find(&self, name: &[u8]) -> Option<usize> {
        (0..)
            .map_while(|i| self.command(i).map(|info| (i, info)))
            .find(|(_, info)| info.matches(name))
            .map(|(i, _)| i)
    }

    /// The number of commands.
    fn len(&self) -> usize {
        (0..).take_while(|&i| self.command(i).is_some()).count()
    }

    /// Whether the set has no commands.
    fn is_empty(&self) -> bool {
        self.command(0).is_none()
    }

    /// A short English description of `code` if it is one of this set's own codes, for
    /// logs: when the engine answers `ERROR` it logs the command, the code and this
    /// description (or at-core's own, [`ErrorCode::describe`], for syntax-level codes).
    /// The serial line does not carry it. By default, `None`.
    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        let _ = code;
        None
    }
}

/// No commands: an engine with only the basic commands.
impl CommandSet for () {
    fn command(&self, _index: usize) -> Option<&'static CommandInfo> {
        None
    }

    async fn execute<C: Context>(
        &mut self,
        _index: usize,
        _form: Form,
        _args: Args<'_>,
        _cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        Err(ErrorCode::UNKNOWN_COMMAND)
    }
}

/// Two sets side by side: `A`'s commands first, then `B`'s.
impl<A: CommandSet, B: CommandSet> CommandSet for (A, B) {
    fn command(&self, index: usize) -> Option<&'static CommandInfo> {
        let first = self.0.len();
        if index < first {
            self.0.command(index)
        } else {
            self.1.command(index - first)
        }
    }

    async fn execute<C: Context>(
        &mut self,
        index: usize,
        form: Form,
        args: Args<'_>,
        cx: &mut C,
    ) -> Result<Outcome, ErrorCode> {
        let first = self.0.len();
        if index < first {
            self.0.execute(index, form, args, cx).await
        } else {
            self.1.execute(index - first, form, args, cx).await
        }
    }

    /// `A`'s index of `name`, else `B`'s after `A`'s rows (one scan of each table).
    fn find(&self, name: &[u8]) -> Option<usize> {
        match self.0.find(name) {
            Some(index) => Some(index),
            None => self.1.find(name).map(|index| index + self.0.len()),
        }
    }

    fn len(&self) -> usize {
        self.0.len() + self.1.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1.is_empty()
    }

    /// `A`'s description, else `B`'s.
    fn describe(&self, code: ErrorCode) -> Option<&'static str> {
        self.0.describe(code).or_else(|| self.1.describe(code))
    }
}

/// Declares an enum of commands and its table.
///
/// ```
/// at_core::command_table! {
///     /// My commands.
///     pub enum MyCommand {
///         /// `AT+PING`
///         Ping = "+PING": EXECUTE,
///         /// `AT+LED=<n>` and `AT+LED?`
///         Led = "+LED": SET | QUERY,
///     }
/// }
/// assert_eq!(MyCommand::TABLE[1].name, "+LED");
/// assert_eq!(MyCommand::from_index(0), Some(MyCommand::Ping));
/// ```
#[macro_export]
macro_rules! command_table {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal : $first:ident $(| $form:ident)* ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),*
        }

        impl $name {
            /// The command table, in declaration order.
            pub const TABLE: &'static [$crate::CommandInfo] = &[
                $( $crate::CommandInfo::new(
                    $text,
                    $crate::Forms::$first $( .with($crate::Forms::$form) )*,
                ) ),*
            ];

            /// The command at `index` in [`Self::TABLE`].
            pub const fn from_index(index: usize) -> Option<Self> {
                const ALL: &[$name] = &[$( $name::$variant ),*];
                if index < ALL.len() {
                    Some(ALL[index])
                } else {
                    None
                }
            }
        }
    };
}

/// A parsed command line, borrowing the line buffer.
#[derive(Debug)]
pub struct CommandLine<'a> {
    /// The name after `AT`, as received.
    pub name: &'a [u8],
    /// The form.
    pub form: Form,
    /// The text after `=` for [`Form::Set`], else empty.
    pub params: &'a mut [u8],
}

/// Whether `prefix` is `AT` in any case.
pub(crate) fn is_at_prefix(prefix: &[u8]) -> bool {
    // `| 0x20` maps exactly `A`/`a` to `a` and `T`/`t` to `t`.
    matches!(prefix, [a, t] if a | 0x20 == b'a' && t | 0x20 == b't')
}

/// Splits a line (without terminator) into name, form and parameter text.
///
/// Fails with [`ErrorCode::NO_AT`] when the line does not start with `AT` (any case) and
/// with [`ErrorCode::PARSE_FAILED`] when bytes follow a `?`.
pub fn parse_line(line: &mut [u8]) -> Result<CommandLine<'_>, ErrorCode> {
    let Some((prefix, rest)) = line.split_at_mut_checked(2) else {
        return Err(ErrorCode::NO_AT);
    };
    if !is_at_prefix(prefix) {
        return Err(ErrorCode::NO_AT);
    }
    let split = rest.iter().position(|&b| b == b'=' || b == b'?');
    let Some(split) = split else {
        return Ok(CommandLine {
            name: rest,
            form: Form::Execute,
            params: &mut [],
        });
    };
    let (name, tail) = rest.split_at_mut(split);
    let (marker, params) = tail.split_first_mut().ok_or(ErrorCode::PARSE_FAILED)?;
    let form = match (*marker, &*params) {
        (b'?', []) => Form::Query,
        (b'?', _) => return Err(ErrorCode::PARSE_FAILED),
        (_, b"?") => Form::Test,
        _ => Form::Set,
    };
    let params = if form == Form::Set { params } else { &mut [] };
    Ok(CommandLine { name, form, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(String, Form, String), ErrorCode> {
        let mut buf = text.as_bytes().to_vec();
        let line = parse_line(&mut buf)?;
        Ok((
            String::from_utf8_lossy(line.name).into_owned(),
            line.form,
            String::from_utf8_lossy(line.params).into_owned(),
        ))
    }

    #[test]
    fn forms() {
        let cases = [
            ("AT", "", Form::Execute, ""),
            ("at", "", Form::Execute, ""),
            ("ATE0", "E0", Form::Execute, ""),
            ("AT+GMR", "+GMR", Form::Execute, ""),
            ("AT+MQTTCONN?", "+MQTTCONN", Form::Query, ""),
            ("AT+MQTTPUB=?", "+MQTTPUB", Form::Test, ""),
            (
                "At+mqttPub=0,\"t\",\"d\",0,0",
                "+mqttPub",
                Form::Set,
                "0,\"t\",\"d\",0,0",
            ),
            ("AT+X=", "+X", Form::Set, ""),
            ("AT+X=??", "+X", Form::Set, "??"),
        ];
        for (text, name, form, params) in cases {
            assert_eq!(
                parse(text),
                Ok((name.into(), form, params.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn rejections() {
        assert_eq!(parse("A"), Err(ErrorCode::NO_AT));
        assert_eq!(parse("XT"), Err(ErrorCode::NO_AT));
        assert_eq!(parse("hello"), Err(ErrorCode::NO_AT));
        assert_eq!(parse("AT+X?1"), Err(ErrorCode::PARSE_FAILED));
    }

    #[test]
    fn forms_set_membership() {
        let forms = Forms::SET.with(Forms::QUERY);
        assert!(forms.contains(Form::Set));
        assert!(forms.contains(Form::Query));
        assert!(!forms.contains(Form::Test));
        assert!(!forms.contains(Form::Execute));
        assert!(!Forms::NONE.contains(Form::Execute));
    }

    #[test]
    fn the_at_prefix_is_at_in_any_case_and_nothing_else() {
        for a in 0..=u8::MAX {
            for t in 0..=u8::MAX {
                let expected = [a, t].eq_ignore_ascii_case(b"AT");
                assert_eq!(is_at_prefix(&[a, t]), expected, "{a:#04x} {t:#04x}");
            }
        }
        assert!(!is_at_prefix(b"A"));
        assert!(!is_at_prefix(b"ATE"));
    }

    #[test]
    fn names_match_case_insensitively() {
        let info = CommandInfo::new("+MQTTPUB", Forms::SET);
        assert!(info.matches(b"+mqttpub"));
        assert!(!info.matches(b"+MQTTPUBRAW"));
    }
}
