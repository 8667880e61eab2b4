//! Line framing: turns UART bytes into command lines.
//!
//! A line ends at CR, LF or CR LF; the LF right after a terminating CR is swallowed. At
//! most [`MAX_LINE_CONTENT`] bytes are kept; a longer line is reported as
//! [`Step::Overflow`] when its terminator arrives. The assembler also learns how the host
//! ends its lines (CR LF or a lone CR), which decides whether an LF right after a raw-data
//! command line is data (SPEC.md section 2). It does no I/O: the caller echoes according
//! to the returned [`Step`].

/// The longest command line in bytes, counting a two-byte CR LF terminator.
pub const MAX_LINE: usize = 256;
/// The most bytes a line may hold before its terminator.
pub const MAX_LINE_CONTENT: usize = MAX_LINE - 2;

/// The index of the first CR or LF in `bytes`.
pub fn find_terminator(bytes: &[u8]) -> Option<usize> {
    // Short runs (`AT`, the LF of a CR LF) end within a few bytes: looked at one by one,
    // without the set-up of the wide search that takes the rest.
    let (head, tail) = bytes.split_at(bytes.len().min(SHORT_RUN));
    match head.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(at) => Some(at),
        None => memchr::memchr2(b'\r', b'\n', tail).map(|at| at + head.len()),
    }
}

/// The bytes [`find_terminator`] looks at one by one before its wide search.
const SHORT_RUN: usize = 4;

/// What one input byte did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A byte of the current line (stored or, past the cap, counted): echo it.
    Byte,
    /// The LF of a CR LF pair: nothing to echo.
    Swallowed,
    /// A terminator ended an empty line: ignore it silently.
    Empty,
    /// A terminator ended a line; [`LineAssembler::line`] holds it.
    Line,
    /// A terminator ended a line longer than [`MAX_LINE_CONTENT`].
    Overflow,
}

/// Assembles bytes into lines of at most [`MAX_LINE_CONTENT`] bytes.
#[derive(Debug, Clone)]
pub struct LineAssembler {
    buf: [u8; MAX_LINE_CONTENT],
    len: usize,
    overflow: bool,
    after_cr: bool,
    /// Whether the host ended its last CR-terminated line with a lone CR (learned from
    /// the byte after that CR); false until a line shows it.
    lone_cr_host: bool,
}

impl Default for LineAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl LineAssembler {
    /// An empty assembler.
    pub const fn new() -> Self {
        Self {
            buf: [0; MAX_LINE_CONTENT],
            len: 0,
            overflow: false,
            after_cr: false,
            lone_cr_host: false,
        }
    }

    /// Feeds one byte.
    ///
    /// After [`Step::Line`] or [`Step::Overflow`] the caller reads [`line`](Self::line) if
    /// needed and calls [`clear`](Self::clear) before feeding more.
    pub fn push(&mut self, byte: u8) -> Step {
        if byte == b'\r' || byte == b'\n' {
            return self.push_terminator(byte);
        }
        // This byte follows a CR: that CR was a lone one.
        if core::mem::replace(&mut self.after_cr, false) {
            self.lone_cr_host = true;
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = byte;
                self.len += 1;
            }
            None => self.overflow = true,
        }
        Step::Byte
    }

    /// Feeds a CR or LF: the same as [`push`](Self::push) with it.
    pub fn push_terminator(&mut self, byte: u8) -> Step {
        let cr = byte == b'\r';
        if core::mem::replace(&mut self.after_cr, cr) {
            // The byte after a CR shows how the host ends its lines.
            self.lone_cr_host = cr;
            if !cr {
                return Step::Swallowed;
            }
        }
        if self.overflow {
            Step::Overflow
        } else if self.len == 0 {
            Step::Empty
        } else {
            Step::Line
        }
    }

    /// Pushes a run of bytes none of which is CR or LF: the same as pushing them one by
    /// one (each is [`Step::Byte`]), in one copy.
    #[inline]
    pub fn push_run(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // The run's first byte follows a CR: that CR was a lone one (see `push`).
        if core::mem::replace(&mut self.after_cr, false) {
            self.lone_cr_host = true;
        }
        let room = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = bytes.len().min(room.len());
        if let (Some(slots), Some(run)) = (room.get_mut(..n), bytes.get(..n)) {
            slots.copy_from_slice(run);
        }
        self.len += n;
        if n < bytes.len() {
            self.overflow = true;
        }
    }

    /// The completed (or partial) line, without terminator.
    pub fn line(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Whether bytes of an unfinished line have been received.
    pub fn has_partial(&self) -> bool {
        self.len > 0 || self.overflow
    }

    /// Forgets the current line (after handling it, or on the idle timeout).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Takes a whole non-empty line ended by `terminator` that was handled without
    /// being pushed (the assembler holds no partial line): the framing state ends as
    /// after pushing its bytes and `terminator` and then [`clear`](Self::clear).
    pub fn pass_line(&mut self, terminator: u8) {
        // The line's first byte follows a CR: that CR was a lone one (see `push`).
        if self.after_cr {
            self.lone_cr_host = true;
        }
        self.after_cr = terminator == b'\r';
    }

    /// For the first byte of raw data: whether it is the LF completing the CR LF that
    /// ended the raw-data command line, and so must be swallowed. That is so when the
    /// line ended with CR and the host ended its previous line with CR LF (or no earlier
    /// line showed how it ends lines); after a host's lone CR the LF is data. Any byte
    /// clears the pending CR.
    pub fn swallow_before_raw(&mut self, byte: u8) -> bool {
        core::mem::replace(&mut self.after_cr, false) && byte == b'\n' && !self.lone_cr_host
    }

    /// Whether the host ended its last CR-terminated line with a lone CR.
    pub fn lone_cr_host(&self) -> bool {
        self.lone_cr_host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(
        input: &[u8],
    ) -> (
        heapless::Vec<Step, 512>,
        heapless::Vec<heapless::Vec<u8, 256>, 8>,
    ) {
        let mut asm = LineAssembler::new();
        let mut steps = heapless::Vec::new();
        let mut lines = heapless::Vec::new();
        for &b in input {
            let step = asm.push(b);
            steps.push(step).expect("room");
            if step == Step::Line {
                lines
                    .push(heapless::Vec::from_slice(asm.line()).expect("fits"))
                    .expect("room");
            }
            if matches!(step, Step::Line | Step::Overflow) {
                asm.clear();
            }
        }
        (steps, lines)
    }

    #[test]
    fn every_terminator_ends_a_line() {
        for input in [&b"AT\r\n"[..], b"AT\r", b"AT\n"] {
            let (_, lines) = steps(input);
            assert_eq!(lines.len(), 1, "{input:?}");
            assert_eq!(lines[0].as_slice(), b"AT");
        }
    }

    #[test]
    fn lf_after_cr_is_swallowed_but_lf_lf_is_an_empty_line() {
        let (s, _) = steps(b"AT\r\n");
        assert_eq!(
            s.as_slice(),
            &[Step::Byte, Step::Byte, Step::Line, Step::Swallowed]
        );
        let (s, _) = steps(b"AT\n\n");
        assert_eq!(
            s.as_slice(),
            &[Step::Byte, Step::Byte, Step::Line, Step::Empty]
        );
        let (s, _) = steps(b"\r\r\n");
        assert_eq!(s.as_slice(), &[Step::Empty, Step::Empty, Step::Swallowed]);
    }

    #[test]
    fn line_of_254_bytes_fits_and_255_overflows() {
        let mut input = [b'A'; 255];
        input[254] = b'\r';
        let (s, lines) = steps(&input);
        assert_eq!(s.last(), Some(&Step::Line));
        assert_eq!(lines[0].len(), 254);

        let mut input = [b'A'; 256];
        input[255] = b'\n';
        let (s, lines) = steps(&input);
        assert_eq!(s.last(), Some(&Step::Overflow));
        assert!(lines.is_empty());
    }

    #[test]
    fn overflow_then_usable() {
        let mut input = heapless::Vec::<u8, 512>::new();
        input.extend_from_slice(&[b'x'; 300]).expect("room");
        input.extend_from_slice(b"\r\nAT\r\n").expect("room");
        let (s, lines) = steps(&input);
        assert_eq!(s.iter().filter(|s| **s == Step::Overflow).count(), 1);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].as_slice(), b"AT");
    }

    #[test]
    fn partial_state_and_clear() {
        let mut asm = LineAssembler::new();
        assert!(!asm.has_partial());
        asm.push(b'A');
        assert!(asm.has_partial());
        asm.clear();
        assert!(!asm.has_partial());
        assert_eq!(asm.line(), b"");
    }

    #[test]
    fn raw_data_swallows_only_the_pending_lf() {
        let mut asm = LineAssembler::new();
        for &b in b"AT\r" {
            asm.push(b);
        }
        assert!(asm.swallow_before_raw(b'\n'));
        assert!(!asm.swallow_before_raw(b'\n'));

        for &b in b"AT\r\n" {
            asm.push(b);
        }
        assert!(!asm.swallow_before_raw(b'\n'));

        for &b in b"AT\n" {
            asm.push(b);
        }
        assert!(!asm.swallow_before_raw(b'\n'));
    }

    /// Feeds `lines` (each cleared when complete) and answers `swallow_before_raw(LF)`.
    fn swallows_after(lines: &[u8]) -> bool {
        let mut asm = LineAssembler::new();
        for &b in lines {
            if matches!(asm.push(b), Step::Line | Step::Overflow) {
                asm.clear();
            }
        }
        asm.swallow_before_raw(b'\n')
    }

    #[test]
    fn lf_after_a_raw_data_line_is_data_for_a_lone_cr_host() {
        // A host ending lines with a lone CR: the LF is raw data.
        assert!(!swallows_after(b"ATE0\rAT+MQTTPUBRAW=0,\"t\",2,0,0\r"));
        // A CR LF host: the LF completes the terminator.
        assert!(swallows_after(b"ATE0\r\nAT+MQTTPUBRAW=0,\"t\",2,0,0\r"));
        // Before any line: swallowed.
        assert!(swallows_after(b"AT+MQTTPUBRAW=0,\"t\",2,0,0\r"));
        // The last CR-terminated line counts: a host that switched back to CR LF.
        assert!(swallows_after(b"AT\rAT\r\nAT+X=1\r"));
        assert!(!swallows_after(b"AT\r\nAT\rAT+X=1\r"));
        // An LF-only line teaches nothing, and its raw line has no CR pending.
        assert!(!swallows_after(b"AT\nAT+X=1\n"));
        // Empty lines count as lines: `\r` then `A...` shows a lone CR.
        assert!(!swallows_after(b"\rAT+X=1\r"));
    }

    #[test]
    fn learning_the_terminator() {
        let mut asm = LineAssembler::new();
        assert!(!asm.lone_cr_host());
        for &b in b"AT\rA" {
            asm.push(b);
        }
        assert!(asm.lone_cr_host());
        asm.clear();
        for &b in b"T\r\n" {
            asm.push(b);
        }
        assert!(!asm.lone_cr_host());
    }

    #[test]
    fn the_terminator_search_finds_the_first_cr_or_lf_anywhere() {
        for len in 0..40 {
            let mut bytes = [b'x'; 40];
            assert_eq!(find_terminator(&bytes[..len]), None, "{len}");
            for at in 0..len {
                for terminator in [b'\r', b'\n'] {
                    bytes = [b'x'; 40];
                    bytes[at] = terminator;
                    if let Some(later) = bytes.get_mut(at + 1..len) {
                        later.fill(b'\n');
                    }
                    assert_eq!(find_terminator(&bytes[..len]), Some(at), "{len} {at}");
                }
            }
        }
    }

    #[test]
    fn a_run_is_the_same_as_its_bytes_one_by_one() {
        for (before, run) in [(0, 10), (200, 54), (200, 60), (254, 3), (0, 300)] {
            let mut bytewise = LineAssembler::new();
            let mut at_once = LineAssembler::new();
            for _ in 0..before {
                bytewise.push(b'a');
                at_once.push(b'a');
            }
            bytewise.push(b'\r');
            at_once.push(b'\r');
            let bytes = [b'b'; 300];
            let bytes = &bytes[..run];
            for &b in bytes {
                assert_eq!(bytewise.push(b), Step::Byte);
            }
            at_once.push_run(bytes);
            assert_eq!(at_once.line(), bytewise.line(), "{before} + {run}");
            assert_eq!(at_once.has_partial(), bytewise.has_partial());
            assert_eq!(at_once.lone_cr_host(), bytewise.lone_cr_host());
            assert_eq!(
                at_once.push(b'\n'),
                bytewise.push(b'\n'),
                "{before} + {run}"
            );
        }
    }
}
