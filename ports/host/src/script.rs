//! The script mode: a file of AT lines played against a fresh modem, as a host would
//! type them, with the whole exchange printed as a transcript.
//!
//! The modem runs in-process behind an in-memory serial line. Each line is sent with
//! CR LF and the next waits for the modem's final result (see `--help` for the rules).

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::modem::{self, Board};
use crate::serial::memory::{self, HostEnd};

/// The power-on line.
const READY: &[u8] = b"\r\nready\r\n";
/// The raw data prompt that follows a raw data command's validation.
const PROMPT: &[u8] = b"\r\nOK\r\n\r\n>";
/// Final results written as a plain line.
const LINE_RESULTS: [&[u8]; 5] = [
    b"busy p...",
    b"+MQTTPUBRAW:OK",
    b"+MQTTPUBRAW:FAIL",
    b"+MQTTPUB:OK",
    b"+MQTTPUB:FAIL",
];
/// Bytes of serial buffer between the script and the modem.
const LINE_BUFFER: usize = 4096;

/// Runs the script at `path` on a fresh modem and prints the transcript to stdout.
pub async fn run(path: &Path, board: &mut Board, timeout: Duration) -> Result<(), String> {
    let text =
        std::fs::read(path).map_err(|e| format!("cannot read script {}: {e}", path.display()))?;
    let lines = script_lines(&text);
    let (host, mut line) = memory::open(LINE_BUFFER);
    let modem = modem::serve(&mut line.rx, &mut line.tx, board);
    // The host end is dropped when the script ends: the modem sees end of input.
    let script = Host::new(host, timeout).play(lines);
    let (modem, script) = tokio::join!(modem, script);
    if let Err(kind) = modem {
        eprintln!("at-host: the modem's serial line failed: {kind:?}");
    }
    script
}

/// The command lines of a script: one per line, without terminator; empty lines and
/// `#` comments dropped.
fn script_lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty() && !line.starts_with(b"#"))
        .collect()
}

/// What a sent line waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaited {
    /// A final result.
    Result,
    /// The raw data prompt (or a final result if the command is refused).
    Prompt,
}

/// What ended a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// `\r\nOK\r\n`.
    Ok,
    /// The raw data prompt.
    Prompt,
    /// Any other final result.
    Other,
}

/// Whether a command line makes the modem read raw data after its prompt.
fn enters_raw_data(line: &[u8]) -> bool {
    let upper = line.to_ascii_uppercase();
    upper.starts_with(b"AT+MQTTPUBRAW=")
        || (upper.starts_with(b"AT+MQTTLONG") && upper.contains(&b'='))
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Finds the ending of a command in the modem's output since the command was sent.
///
/// `echo` is the sent line: output that starts with its echo is not searched for line
/// results (a host may well send `busy p...` as a line).
fn find_ending(output: &[u8], echo: &[u8], awaited: Awaited) -> Option<Ending> {
    if awaited == Awaited::Prompt && contains(output, PROMPT) {
        return Some(Ending::Prompt);
    }
    if contains(output, b"\r\nERROR\r\n") {
        return Some(Ending::Other);
    }
    if awaited == Awaited::Result && contains(output, b"\r\nOK\r\n") {
        return Some(Ending::Ok);
    }
    let echoed = [echo, b"\r\n"].concat();
    let rest = output.strip_prefix(echoed.as_slice()).unwrap_or(output);
    let mut lines = rest.split(|&b| b == b'\n');
    // The last piece is unterminated (or empty): never a complete line.
    lines.next_back();
    lines
        .filter_map(|line| line.strip_suffix(b"\r"))
        .any(|line| LINE_RESULTS.contains(&line))
        .then_some(Ending::Other)
}

/// How long the line must stay quiet after the last result before the script ends.
const LINGER: Duration = Duration::from_millis(500);

/// The host end of the serial line, and the transcript it prints.
struct Host {
    line: HostEnd,
    timeout: Duration,
    /// Received bytes not printed yet.
    output: Vec<u8>,
}

impl Host {
    fn new(line: HostEnd, timeout: Duration) -> Self {
        Self {
            line,
            timeout,
            output: Vec::new(),
        }
    }

    /// Plays every line, holding each back until the previous one's result.
    async fn play(mut self, lines: Vec<&[u8]>) -> Result<(), String> {
        self.receive_until("the power-on `ready`", |out| contains(out, READY))
            .await?;
        self.print_output()?;
        let mut lines = lines.into_iter();
        while let Some(line) = lines.next() {
            self.send(&[line, b"\r\n"].concat()).await?;
            let awaited = if enters_raw_data(line) {
                Awaited::Prompt
            } else {
                Awaited::Result
            };
            // After AT+RST's OK the modem powers on again: wait for its `ready` too.
            let restart = line.eq_ignore_ascii_case(b"AT+RST");
            let done = |out: &[u8]| match find_ending(out, line, awaited) {
                Some(Ending::Ok) if restart => contains(out, READY),
                ending => ending.is_some(),
            };
            let what = format!("the result of `{}`", escape(line));
            self.receive_until(&what, done).await?;
            let ending = find_ending(&self.output, line, awaited);
            self.print_output()?;
            if ending == Some(Ending::Prompt) {
                let Some(data) = lines.next() else {
                    return Err(format!(
                        "`{}` waits for raw data, but the script ends",
                        escape(line)
                    ));
                };
                self.send(data).await?;
                let what = format!("the result of the raw data of `{}`", escape(line));
                self.receive_until(&what, |out| {
                    find_ending(out, b"", Awaited::Result).is_some()
                })
                .await?;
                self.print_output()?;
            } else if awaited == Awaited::Prompt {
                // Refused before the prompt: a host would not send the data.
                lines.next();
            }
        }
        self.linger().await
    }

    /// After the last result, prints what still arrives until the line has been quiet
    /// for [`LINGER`] (e.g. a message the last command published, coming back as a URC).
    async fn linger(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 256];
        while let Ok(Ok(n)) = tokio::time::timeout(LINGER, self.line.read(&mut chunk)).await {
            if n == 0 {
                break;
            }
            self.output
                .extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
        self.print_output()
    }

    /// Writes `bytes` to the modem and prints them.
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        print_block("> ", bytes)?;
        self.line
            .write_all(bytes)
            .await
            .map_err(|e| format!("the modem stopped reading: {e}"))
    }

    /// Reads until `done` holds for the output received since the last print.
    async fn receive_until(
        &mut self,
        what: &str,
        done: impl Fn(&[u8]) -> bool,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut chunk = [0u8; 256];
        while !done(&self.output) {
            let read = tokio::time::timeout_at(deadline, self.line.read(&mut chunk)).await;
            let failure = match read {
                Ok(Ok(0)) => "the modem closed the line".to_owned(),
                Ok(Ok(n)) => {
                    self.output
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                    continue;
                }
                Ok(Err(e)) => format!("reading from the modem failed: {e}"),
                Err(_) => format!("no result within {} s", self.timeout.as_secs()),
            };
            self.print_output()?;
            return Err(format!("waiting for {what}: {failure}"));
        }
        Ok(())
    }

    /// Prints the output received so far.
    fn print_output(&mut self) -> Result<(), String> {
        let output = core::mem::take(&mut self.output);
        print_block("< ", &output)
    }
}

/// Prints `bytes` as transcript lines: `prefix`, the escaped bytes up to and including
/// each LF, newline.
fn print_block(prefix: &str, bytes: &[u8]) -> Result<(), String> {
    let mut text = String::new();
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        text.push_str(prefix);
        text.push_str(&escape(piece));
        text.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the transcript: {e}"))
}

/// Bytes as text: printable ASCII as is, `\\`, `\r`, `\n`, `\t`, else `\xNN`.
fn escape(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_skip_blanks_and_comments() {
        let lines = script_lines(b"AT\r\n\r\n# comment\nATE0\n  \nAT+GMR");
        assert_eq!(lines, [&b"AT"[..], b"ATE0", b"  ", b"AT+GMR"]);
    }

    #[test]
    fn endings() {
        let r = Awaited::Result;
        assert_eq!(find_ending(b"AT\r\n\r\nOK\r\n", b"AT", r), Some(Ending::Ok));
        assert_eq!(find_ending(b"AT\r\n\r\nOK\r", b"AT", r), None);
        assert_eq!(
            find_ending(b"x\r\n\r\nERROR\r\n", b"x", r),
            Some(Ending::Other)
        );
        assert_eq!(
            find_ending(b"AT+X\r\nbusy p...\r\n", b"AT+X", r),
            Some(Ending::Other)
        );
        assert_eq!(
            find_ending(b"+MQTTPUBRAW:OK\r\n", b"", r),
            Some(Ending::Other)
        );
        // The echo of a line that reads like a result is not a result.
        assert_eq!(find_ending(b"busy p...\r\n", b"busy p...", r), None);
        assert_eq!(find_ending(b"OK\r\n", b"OK", r), None);
    }

    #[test]
    fn raw_data_commands_wait_for_the_prompt() {
        let p = Awaited::Prompt;
        assert!(enters_raw_data(b"at+mqttpubraw=0,\"t\",3,0,0"));
        assert!(enters_raw_data(b"AT+MQTTLONGCLIENTID=0,10"));
        assert!(!enters_raw_data(b"AT+MQTTPUB=0,\"t\",\"d\",0,0"));
        let line = b"AT+MQTTPUBRAW=0,\"t\",3,0,0";
        let echo_ok = [&line[..], b"\r\n\r\nOK\r\n"].concat();
        assert_eq!(find_ending(&echo_ok, line, p), None);
        let prompt = [&line[..], b"\r\n", PROMPT].concat();
        assert_eq!(find_ending(&prompt, line, p), Some(Ending::Prompt));
        assert_eq!(find_ending(b"\r\nERROR\r\n", line, p), Some(Ending::Other));
    }

    #[test]
    fn escaping_is_exact_and_readable() {
        assert_eq!(escape(b"AT\r\n"), "AT\\r\\n");
        assert_eq!(escape(b"a\\b\"c\x00\xff"), "a\\\\b\"c\\x00\\xff");
    }
}
