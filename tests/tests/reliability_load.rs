//! Load a deployed modem meets from both sides of it, with figures for RELIABILITY.md.
//!
//! - `slow_hostile_host_input`: 100,000 generated lines from a seeded generator (valid,
//!   invalid, boundary lengths, random binary with NUL, lone CR/LF storms, unterminated
//!   quotes, overlong lines, lines during busy, raw data that never completes) written in
//!   random chunk sizes. Every line the modem must answer gets exactly its answer (checked
//!   answer by answer, phase by phase), the simulator stays up, and its resident memory
//!   stays flat. Set `HOSTILE_SEED` to replay a run (the seed is printed).
//! - `slow_inbound_flood_at_uart_rate`: a peer publishes 10,000 messages at QoS 0 and 1
//!   as fast as it can while the host reads the serial line at 115200 baud: no QoS 1
//!   message lost, `AT` answered within 1 s throughout, URCs at the UART's rate, memory
//!   bounded. Set `FLOOD_SEED` to replay the message mix.
//!
//! SPEC.md sections 2 (framing), 3 (one result per accepted line, `busy p...`), 4 (raw
//! data) and 5 (fairness, URCs never dropped once accepted).
#![allow(clippy::panic, reason = "a test fails by panicking, with a message")]

use std::time::{Duration, Instant};

use e2e_tests::figures::Figures;
use e2e_tests::hostile::{Answer, Final, HostLine, XorShift, seed_from_env};
use e2e_tests::memory::resident_kib;
use e2e_tests::{Broker, Modem, Peer, UART_BYTES_PER_SECOND, escape};

// ---------------------------------------------------------------------------------
// Hostile host input
// ---------------------------------------------------------------------------------

/// Generated lines of the measured run.
const LINES: usize = 100_000;
/// Generated lines before the first memory figure (allocator and buffers settle).
const WARM_UP_LINES: usize = 5_000;
/// The allowed growth of the simulator's resident memory over the measured run.
const RSS_GROWTH_LIMIT_KIB: u64 = 1024;
/// Raw data entries that never complete in the measured run (10 s each).
const INCOMPLETE_RAW: usize = 2;
/// Bytes a line holds before its terminator (SPEC section 2).
const MAX_LINE: usize = 254;

/// The answers of the queries whose output does not change while the test runs.
struct Known {
    gmr: Answer,
    syslog: Answer,
    conn: Answer,
    cmd: Answer,
}

/// A stretch of input written without waiting, then checked once all its answers are in.
struct Phase {
    label: &'static str,
    bytes: Vec<u8>,
    /// The answers of the lines before the network command (or of all lines), in order.
    body: Vec<Answer>,
    /// A command that waits on the network, its result, and the answers of the lines
    /// after it ("lines during busy"): each of those may get `busy p...` instead, while
    /// the command is still running.
    network: Option<(Final, Vec<Answer>)>,
    /// The phase ends with a raw data prompt.
    prompt: bool,
    timeout: Duration,
}

impl Phase {
    fn new(label: &'static str) -> Self {
        Self {
            label,
            bytes: Vec::new(),
            body: Vec::new(),
            network: None,
            prompt: false,
            timeout: Duration::from_secs(10),
        }
    }

    fn answers(&self) -> usize {
        self.body.len() + self.network.as_ref().map_or(0, |(_, zone)| 1 + zone.len())
    }

    /// Checks `got` against the phase's expected answers; returns how many lines got
    /// `busy p...`.
    fn check(&self, got: &[Answer]) -> Result<usize, String> {
        let mut want: Vec<Answer> = self.body.clone();
        let mut busy = 0;
        if let Some((result, zone)) = &self.network {
            busy = got
                .get(self.body.len()..)
                .unwrap_or_default()
                .iter()
                .take_while(|a| **a == Answer::bare(Final::Busy))
                .count()
                .min(zone.len());
            want.extend(std::iter::repeat_n(Answer::bare(Final::Busy), busy));
            want.push(Answer::bare(*result));
            want.extend(zone.iter().skip(busy).cloned());
        }
        if got == want.as_slice() {
            return Ok(busy);
        }
        let first = got
            .iter()
            .zip(&want)
            .position(|(g, w)| g != w)
            .unwrap_or(got.len().min(want.len()));
        let show = |answers: &[Answer]| -> String {
            answers
                .iter()
                .enumerate()
                .skip(first.saturating_sub(2))
                .take(8)
                .map(|(i, a)| format!("    [{i}] {}\n", a.render()))
                .collect()
        };
        Err(format!(
            "{} answers where {} were expected; the first difference is answer {first}\n  \
             expected:\n{}  received:\n{}",
            got.len(),
            want.len(),
            show(&want),
            show(got)
        ))
    }
}

/// What the generator has produced.
#[derive(Default)]
struct Tally {
    /// Generated lines: every line below, a CR/LF storm and a raw data block count one.
    items: usize,
    /// Lines completed outside raw data that the modem must answer.
    answered_lines: usize,
    storms: usize,
    raw_blocks: usize,
    raw_bytes: usize,
    /// Raw data prompts: an answer of a PUBRAW line before its final line.
    prompts: usize,
    incomplete_raw: usize,
}

/// The generator of hostile input.
struct Generator<'a> {
    rng: XorShift,
    known: &'a Known,
    tally: Tally,
}

const INVALID: &[&[u8]] = &[
    b"ATE",
    b"AT+",
    b"AT+NOPE",
    b"AT+GMR=?",
    b" AT",
    b"ATAT",
    b"AT+SYSLOG=2",
    b"AT+SYSLOG=",
    b"AT+MQTTPUB=0,\"a/b\"",
    b"AT+MQTTPUB=0,\"a/b\",\"x\",3,0",
    b"AT+MQTTPUB=0,\"a/b\",\"x\",0,0,",
    b"AT+MQTTSUB=0,\"x\",3",
    b"AT+MQTTUNSUB=0",
    b"AT\0",
    b"AT+GMR\0",
    b"\0AT",
    b"A\0T",
    b"AT+SYSLOG=\"0\"",
];

const UNTERMINATED: &[&[u8]] = &[
    b"AT+MQTTPUB=0,\"hostile/x\",\"",
    b"AT+MQTTPUB=0,\"",
    b"AT+MQTTSUB=0,\"",
    b"AT+MQTTUNSUB=0,\"",
    b"AT+MQTTUSERCFG=0,1,\"",
    b"AT+MQTTPUBRAW=0,\"",
];

impl<'a> Generator<'a> {
    fn new(seed: u64, known: &'a Known) -> Self {
        Self {
            rng: XorShift::new(seed),
            known,
            tally: Tally::default(),
        }
    }

    fn terminator(&mut self) -> &'static [u8] {
        match self.rng.range(0, 9) {
            0..=5 => b"\r\n",
            6 | 7 => b"\r",
            _ => b"\n",
        }
    }

    /// `len` random bytes without CR or LF (NUL included); `first` restricts the first.
    fn junk(&mut self, len: usize, first: impl Fn(u8) -> bool) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() < len {
            let byte = self.rng.byte();
            if byte == b'\r' || byte == b'\n' || (bytes.is_empty() && !first(byte)) {
                continue;
            }
            bytes.push(byte);
        }
        bytes
    }

    /// A line that cannot be a command: random binary, never starting with `A` or `a`.
    fn garbage(&mut self, len: usize) -> Vec<u8> {
        self.junk(len, |b| !b.eq_ignore_ascii_case(&b'A'))
    }

    /// `AT+SYSLOG=0...0` of exactly `len` bytes (valid up to 254).
    fn padded_syslog(len: usize) -> Vec<u8> {
        let mut line = b"AT+SYSLOG=".to_vec();
        line.resize(len.max(11), b'0');
        line
    }

    /// One line of any kind the modem answers at once, or a CR/LF storm; returns its
    /// bytes (with terminator) and answer.
    fn any_line(&mut self) -> (Vec<u8>, Option<Answer>) {
        let ok = Some(Answer::bare(Final::Ok));
        let error = Some(Answer::bare(Final::Error));
        let (line, answer) = match self.rng.range(0, 99) {
            0..=17 => (
                self.rng.pick(&[&b"AT"[..], b"at", b"At", b"aT"]).to_vec(),
                ok,
            ),
            18..=22 => (b"AT+GMR".to_vec(), Some(self.known.gmr.clone())),
            23..=25 => (b"AT+SYSLOG?".to_vec(), Some(self.known.syslog.clone())),
            26..=28 => (b"AT+MQTTCONN?".to_vec(), Some(self.known.conn.clone())),
            29 => (b"AT+CMD?".to_vec(), Some(self.known.cmd.clone())),
            30..=39 => (self.rng.pick(INVALID).to_vec(), error),
            40..=54 => {
                let len = self.rng.range(1, MAX_LINE);
                (self.garbage(len), error)
            }
            55..=57 => {
                // "AT" and binary that cannot continue a command name.
                let len = self.rng.range(1, MAX_LINE - 2);
                let mut line = b"AT".to_vec();
                line.extend(self.junk(len, |b| b >= 0x80));
                (line, error)
            }
            58..=63 => {
                // Boundary lengths: 253 and 254 bytes fit, 255 and 256 do not.
                let len = self.rng.range(MAX_LINE - 1, MAX_LINE + 2);
                let answer = if len <= MAX_LINE { ok } else { error.clone() };
                if self.rng.chance(50) {
                    (Self::padded_syslog(len), answer)
                } else {
                    (self.garbage(len), error)
                }
            }
            64..=68 => {
                // Overlong: discarded up to the terminator, one ERROR.
                let longest = if self.rng.chance(20) { 4000 } else { 600 };
                let len = self.rng.range(MAX_LINE + 1, longest);
                if self.rng.chance(50) {
                    (Self::padded_syslog(len), error)
                } else {
                    (self.garbage(len), error)
                }
            }
            69..=80 => {
                let len = self.rng.range(1, 64);
                let storm: Vec<u8> = (0..len)
                    .map(|_| if self.rng.chance(50) { b'\r' } else { b'\n' })
                    .collect();
                return (storm, None);
            }
            81..=88 => {
                let mut line = self.rng.pick(UNTERMINATED).to_vec();
                let room = MAX_LINE - line.len();
                let len = self.rng.range(0, room);
                let rest = self.junk(len, |_| true);
                line.extend(rest.into_iter().filter(|&b| b != b'"'));
                (line, error)
            }
            _ => {
                // Random binary with NULs in it.
                let len = self.rng.range(2, MAX_LINE);
                let mut line = self.garbage(len);
                for _ in 0..self.rng.range(1, 8) {
                    let at = self.rng.range(0, len - 1);
                    if let Some(byte) = line.get_mut(at) {
                        *byte = 0;
                    }
                }
                (line, error)
            }
        };
        let mut bytes = line;
        if answer.is_some() {
            bytes.extend_from_slice(self.terminator());
        }
        (bytes, answer)
    }

    /// Adds `count` lines answered at once to the phase's body.
    fn body(&mut self, phase: &mut Phase, count: usize) {
        for _ in 0..count {
            let (bytes, answer) = self.any_line();
            phase.bytes.extend_from_slice(&bytes);
            self.tally.items += 1;
            match answer {
                Some(answer) => {
                    self.tally.answered_lines += 1;
                    phase.body.push(answer);
                }
                None => self.tally.storms += 1,
            }
        }
    }

    /// Lines sent right after a command that waits on the network.
    fn zone(&mut self, phase: &mut Phase) -> Vec<Answer> {
        let mut zone = Vec::new();
        for _ in 0..self.rng.range(0, 6) {
            let (bytes, answer) = match self.rng.range(0, 4) {
                0 | 1 => (b"AT\r\n".to_vec(), Some(Answer::bare(Final::Ok))),
                2 => (b"AT+GMR\r".to_vec(), Some(self.known.gmr.clone())),
                3 => {
                    let len = self.rng.range(1, 300);
                    let mut line = self.garbage(len);
                    line.extend_from_slice(b"\r\n");
                    let answer = Answer::bare(Final::Error);
                    (line, Some(answer))
                }
                _ => (b"\r\r\n\n\r".to_vec(), None),
            };
            phase.bytes.extend_from_slice(&bytes);
            self.tally.items += 1;
            match answer {
                Some(answer) => {
                    self.tally.answered_lines += 1;
                    zone.push(answer);
                }
                None => self.tally.storms += 1,
            }
        }
        zone
    }

    /// `AT\r\n` before a raw-data command: the modem then takes the host for a CR LF
    /// host, so the LF after the command's CR is swallowed (SPEC section 2: after a line
    /// ended by a lone CR, as the body's lines may be, that LF would be data).
    fn cr_lf_line(&mut self, phase: &mut Phase) {
        phase.bytes.extend_from_slice(b"AT\r\n");
        phase.body.push(Answer::bare(Final::Ok));
        self.tally.items += 1;
        self.tally.answered_lines += 1;
    }

    /// Random raw data of `len` bytes: never a leading LF (a CR LF host's LF after the
    /// command is swallowed, SPEC section 2) nor a trailing CR.
    fn raw_data(&mut self, len: usize) -> Vec<u8> {
        let mut data: Vec<u8> = (0..len).map(|_| self.rng.byte()).collect();
        // Line-like bytes inside the data must stay data.
        if len > 12 && self.rng.chance(50) {
            let at = self.rng.range(1, len - 11);
            if let Some(window) = data.get_mut(at..at + 10) {
                window.copy_from_slice(b"\r\nAT+GMR\r\n");
            }
        }
        if data.first() == Some(&b'\n') {
            data[0] = b'x';
        }
        if data.last() == Some(&b'\r') {
            data[len - 1] = b'y';
        }
        data
    }

    /// The next phases: a body of lines, perhaps ending with a command that waits on the
    /// network (then raw data or lines during busy), or a raw data entry left incomplete.
    fn phases(&mut self, incomplete_raw: bool) -> Vec<Phase> {
        let mut phase = Phase::new("lines");
        let count = self.rng.range(1, 60);
        self.body(&mut phase, count);
        if incomplete_raw {
            phase.label = "lines, then AT+MQTTPUBRAW of 512 bytes";
            self.cr_lf_line(&mut phase);
            let line = b"AT+MQTTPUBRAW=0,\"hostile/raw\",512,0,0";
            phase.bytes.extend_from_slice(line);
            phase.bytes.extend_from_slice(b"\r\n");
            phase.body.push(Answer::bare(Final::Prompt));
            phase.prompt = true;
            self.tally.prompts += 1;
            self.tally.items += 1;
            self.tally.answered_lines += 1;
            let mut data = Phase::new("raw data that never completes");
            let len = self.rng.range(1, 511);
            data.bytes = self.raw_data(len);
            data.body.push(Answer::bare(Final::RawFail));
            data.timeout = Duration::from_secs(16);
            self.tally.items += 1;
            self.tally.raw_blocks += 1;
            self.tally.raw_bytes += len;
            self.tally.incomplete_raw += 1;
            return vec![phase, data];
        }
        if !self.rng.chance(35) {
            return vec![phase];
        }
        let qos = self.rng.range(0, 1);
        match self.rng.range(0, 9) {
            0..=5 => {
                phase.label = "lines, AT+MQTTPUB, lines during busy";
                let len = self.rng.range(1, 40);
                let data: String = (0..len)
                    .map(|_| char::from(b'a' + (self.rng.byte() % 26)))
                    .collect();
                let line = format!("AT+MQTTPUB=0,\"hostile/pub\",\"{data}\",{qos},0\r\n");
                phase.bytes.extend_from_slice(line.as_bytes());
            }
            6 => {
                phase.label = "lines, a 254-byte AT+MQTTPUB, lines during busy";
                let mut line = b"AT+MQTTPUB=0,\"hostile/pub\",\"".to_vec();
                let tail = format!("\",{qos},0");
                line.resize(MAX_LINE - tail.len(), b'z');
                line.extend_from_slice(tail.as_bytes());
                line.extend_from_slice(self.terminator());
                phase.bytes.extend_from_slice(&line);
            }
            _ => {
                phase.label = "lines, AT+MQTTPUBRAW";
                self.cr_lf_line(&mut phase);
                let len = self.rng.range(1, 512);
                let line = format!("AT+MQTTPUBRAW=0,\"hostile/raw\",{len},{qos},0\r\n");
                phase.bytes.extend_from_slice(line.as_bytes());
                phase.body.push(Answer::bare(Final::Prompt));
                phase.prompt = true;
                self.tally.prompts += 1;
                self.tally.items += 1;
                self.tally.answered_lines += 1;
                let mut data = Phase::new("raw data, lines during busy");
                data.bytes = self.raw_data(len);
                self.tally.items += 1;
                self.tally.raw_blocks += 1;
                self.tally.raw_bytes += len;
                let zone = self.zone(&mut data);
                data.network = Some((Final::RawOk, zone));
                return vec![phase, data];
            }
        }
        self.tally.items += 1;
        self.tally.answered_lines += 1;
        let zone = self.zone(&mut phase);
        phase.network = Some((Final::Ok, zone));
        vec![phase]
    }
}

/// Feeds `phase` in random chunk sizes and checks its answers; returns the busy count.
fn run_phase(host: &mut HostLine, rng: &mut XorShift, phase: &Phase) -> Result<usize, String> {
    let start = host.answer_count();
    host.prompt_possible(phase.prompt);
    // Byte by byte now and then; mostly the writes a host's driver makes.
    let cap = *rng.pick(&[
        1usize, 3, 3, 16, 16, 64, 64, 256, 256, 1024, 1024, 8192, 8192,
    ]);
    let mut rest = phase.bytes.as_slice();
    while !rest.is_empty() {
        let n = rng.range(1, cap).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        host.send(chunk)?;
        rest = tail;
        if rng.chance(1) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let waited = host.wait_answers(start + phase.answers(), phase.timeout);
    let got = host.answers_from(start);
    let checked = match waited {
        Ok(()) => phase.check(&got),
        Err(why) => Err(format!(
            "{why}; received {} answers:\n{}",
            got.len(),
            got.iter()
                .map(|a| format!("    {}\n", a.render()))
                .collect::<String>()
        )),
    };
    if phase.prompt {
        host.prompt_possible(false);
    }
    checked.map_err(|why| {
        let bytes = escape(&phase.bytes);
        let shown = bytes.get(..3000).unwrap_or(&bytes);
        format!(
            "phase \"{}\": {why}\n  unanswered output: {}\n  the phase's {} bytes: {shown}",
            phase.label,
            host.unanswered(),
            phase.bytes.len()
        )
    })
}

/// Sends `line` with CR LF and returns its single answer.
fn ask(host: &mut HostLine, line: &str) -> Answer {
    let start = host.answer_count();
    host.send(format!("{line}\r\n").as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    host.wait_answers(start + 1, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{line}: {e}; output {}\n{}", host.unanswered(), host.log()));
    let answers = host.answers_from(start);
    match answers.as_slice() {
        [answer] => answer.clone(),
        _ => panic!(
            "{line}: {} answers: {:?}\n{}",
            answers.len(),
            answers.iter().map(Answer::render).collect::<Vec<_>>(),
            host.log()
        ),
    }
}

/// Runs generated phases until `lines` lines have been generated; returns the busy count.
fn feed(
    host: &mut HostLine,
    generator: &mut Generator<'_>,
    lines: usize,
    incomplete_raw: usize,
    seed: u64,
) -> usize {
    let mut chunks = XorShift::new(seed ^ 0xC0FF_EE00_D15E_A5E5);
    let mut busy = 0;
    let mut phases = 0usize;
    let first = generator.tally.items;
    while generator.tally.items - first < lines {
        let done = generator.tally.items - first;
        // The incomplete raw entries at even intervals through the run.
        let raw_due = incomplete_raw > 0
            && generator.tally.incomplete_raw < incomplete_raw
            && done * (incomplete_raw + 1) >= lines * (generator.tally.incomplete_raw + 1);
        for phase in generator.phases(raw_due) {
            phases += 1;
            match run_phase(host, &mut chunks, &phase) {
                Ok(n) => busy += n,
                Err(why) => {
                    let exited = host.exited();
                    panic!(
                        "hostile input, seed {seed} (HOSTILE_SEED={seed} replays it), phase \
                         {phases} after {done} generated lines: {why}\n  at-host exited: \
                         {exited:?}\n--- at-host standard error ---\n{}",
                        host.log()
                    );
                }
            }
        }
    }
    busy
}

#[test]
fn slow_hostile_host_input() {
    let seed = seed_from_env("HOSTILE_SEED");
    eprintln!("hostile input: seed {seed} (HOSTILE_SEED={seed} replays this run)");
    let broker = Broker::start();
    let mut host = HostLine::start(&[]);
    let user = e2e_tests::at::user_cfg("hostile");
    assert_eq!(ask(&mut host, &user), Answer::bare(Final::Ok), "{user}");
    let conn = e2e_tests::at::conn(broker.port(), 0);
    let connected = Answer {
        info: vec![b"+MQTTCONNECTED:0".to_vec()],
        end: Final::Ok,
    };
    assert_eq!(ask(&mut host, &conn), connected, "{conn}");
    let known = Known {
        gmr: ask(&mut host, "AT+GMR"),
        syslog: ask(&mut host, "AT+SYSLOG?"),
        conn: ask(&mut host, "AT+MQTTCONN?"),
        cmd: ask(&mut host, "AT+CMD?"),
    };
    for (name, answer) in [
        ("AT+GMR", &known.gmr),
        ("AT+SYSLOG?", &known.syslog),
        ("AT+MQTTCONN?", &known.conn),
        ("AT+CMD?", &known.cmd),
    ] {
        assert!(
            answer.end == Final::Ok && !answer.info.is_empty(),
            "{name} answered {}",
            answer.render()
        );
    }
    assert!(
        known
            .conn
            .info
            .first()
            .is_some_and(|l| l.starts_with(b"+MQTTCONN:0,connected")),
        "AT+MQTTCONN? answered {}",
        known.conn.render()
    );

    // Warm-up: the same kinds of input, then the first memory figure.
    let mut warm = Generator::new(seed.rotate_left(17) ^ 0x5A5A, &known);
    feed(&mut host, &mut warm, WARM_UP_LINES, 0, seed.rotate_left(17));
    let pid = host.pid();
    let rss_before = resident_kib(pid);
    let answers_before = host.answer_count();
    let sent_before = host.sent();

    eprintln!("hostile input: warm-up of {WARM_UP_LINES} lines done; RSS {rss_before} KiB");
    let started = Instant::now();
    let mut generator = Generator::new(seed, &known);
    let busy = feed(&mut host, &mut generator, LINES, INCOMPLETE_RAW, seed);
    let took = started.elapsed();

    // Positive marker: a last query gets its own answer and nothing follows it.
    let marker = ask(&mut host, "AT+GMR");
    assert_eq!(marker, known.gmr, "the closing AT+GMR");
    std::thread::sleep(Duration::from_millis(300));
    let answers = host.answer_count() - answers_before;
    assert_eq!(
        answers,
        generator.tally.answered_lines + generator.tally.prompts + 1,
        "answers after the closing AT+GMR: {}",
        host.unanswered()
    );
    assert!(
        host.unanswered().is_empty(),
        "output after the closing AT+GMR: {}",
        host.unanswered()
    );
    assert!(host.exited().is_none(), "at-host exited");
    let rss_after = resident_kib(pid);
    let growth = rss_after.saturating_sub(rss_before);

    let tally = &generator.tally;
    let mut figures = Figures::new("hostile_input", "Hostile host input");
    figures.record("seed", seed);
    figures.record("lines generated", tally.items);
    figures.record("lines the modem must answer", tally.answered_lines);
    figures.record(
        "final answers (each the expected one)",
        answers - 1 - tally.prompts,
    );
    figures.record("raw data prompts", tally.prompts);
    figures.record("answered busy p... (lines during busy)", busy);
    figures.record("lone CR/LF storms", tally.storms);
    figures.record(
        "raw data blocks (bytes)",
        format!("{} ({})", tally.raw_blocks, tally.raw_bytes),
    );
    figures.record("raw data entries never completed", tally.incomplete_raw);
    figures.record("bytes sent", host.sent() - sent_before);
    figures.record("duration", format!("{:.1} s", took.as_secs_f64()));
    figures.record("RSS before (after warm-up)", format!("{rss_before} KiB"));
    figures.record("RSS after", format!("{rss_after} KiB"));
    figures.record(
        "RSS growth",
        format!("{growth} KiB (limit {RSS_GROWTH_LIMIT_KIB} KiB)"),
    );
    assert!(
        growth < RSS_GROWTH_LIMIT_KIB,
        "at-host's resident memory grew by {growth} KiB ({rss_before} -> {rss_after} KiB) over \
         {} lines (seed {seed}); the limit is {RSS_GROWTH_LIMIT_KIB} KiB",
        tally.items
    );
}

// ---------------------------------------------------------------------------------
// Inbound flood at 115200 baud
// ---------------------------------------------------------------------------------

/// Messages the peer publishes.
const FLOOD_MESSAGES: usize = 10_000;
/// Every this many messages one is large.
const LARGE_EVERY: usize = 200;
/// The large payloads, in turn: up to the board's 4,096-byte packet with room for the
/// MQTT header and topic (docs/PROTOCOL.md section 5).
const LARGE_SIZES: [usize; 4] = [1_000, 2_000, 3_000, 4_000];
/// The small payloads: a random length in this range.
const SMALL_SIZES: (usize, usize) = (12, 40);
/// `AT` is sent this often during the flood and must be answered within a second.
const PROBE_EVERY: Duration = Duration::from_secs(5);
const PROBE_LIMIT: Duration = Duration::from_secs(1);
/// The simulator's resident memory may grow this much over its figure before the flood.
const FLOOD_RSS_MARGIN_KIB: u64 = 2048;
/// The whole flood must have reached the host within this time of its start.
const FLOOD_DEADLINE: Duration = Duration::from_secs(80);
const AT_OK: &[u8] = b"\r\nOK\r\n";

/// One planned message: its QoS and payload length.
#[derive(Clone, Copy)]
struct Planned {
    qos: u8,
    len: usize,
}

/// Both ends of the serial connection to `port` as `ss -tnio` shows them (windows,
/// congestion state, timers): when the line's rate falls short, whether TCP between the
/// host and at-host held it back.
fn serial_line_state(port: u16) -> String {
    let filter = format!("( sport = :{port} or dport = :{port} )");
    match std::process::Command::new("ss")
        .args(["-tnio", "state", "established", &filter])
        .output()
    {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => format!("(ss failed: {e})\n"),
    }
}

fn flood_topic(qos: u8) -> &'static str {
    if qos == 0 { "flood/q0" } else { "flood/q1" }
}

/// Message `n`'s payload: `<n>:` then letters that depend on `n` (no CR, LF or `OK`
/// sequence, so results cannot be mistaken inside it).
fn flood_payload(n: usize, len: usize) -> Vec<u8> {
    let mut bytes = format!("{n:05}:").into_bytes();
    let mut i = n;
    while bytes.len() < len {
        i += 1;
        bytes.push(b'a' + u8::try_from(i % 26).unwrap_or(0));
    }
    bytes.truncate(len.max(6));
    bytes
}

/// What the host has read of the flood, split as it arrives.
#[derive(Default)]
struct FloodReader {
    unparsed: Vec<u8>,
    /// How often each message arrived.
    seen: Vec<u32>,
    /// Messages delivered out of order on their topic (a lower number after a higher).
    out_of_order: usize,
    last_on: [Option<usize>; 2],
    urc_bytes: usize,
    oks: usize,
    failures: Vec<String>,
}

impl FloodReader {
    fn new() -> Self {
        Self {
            seen: vec![0; FLOOD_MESSAGES],
            ..Self::default()
        }
    }

    /// Takes `bytes` in and splits every complete URC or result.
    fn push(&mut self, bytes: &[u8], plan: &[Planned]) {
        const HEAD: &[u8] = b"+MQTTSUBRECV:0,\"";
        self.unparsed.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let rest = self.unparsed.get(at..).unwrap_or_default();
            if rest.is_empty() || (rest.len() < HEAD.len() && HEAD.starts_with(rest)) {
                break;
            }
            if rest.starts_with(AT_OK) {
                self.oks += 1;
                at += AT_OK.len();
                continue;
            }
            if AT_OK.starts_with(rest) {
                break;
            }
            let Some(after) = rest.strip_prefix(HEAD) else {
                self.failures.push(format!(
                    "unexpected output: {}",
                    escape(rest.get(..80).unwrap_or(rest))
                ));
                self.unparsed.clear();
                return;
            };
            // topic","len",
            let Some(quote) = after.iter().position(|&b| b == b'"') else {
                break;
            };
            let topic = after.get(..quote).unwrap_or_default().to_vec();
            let after = after.get(quote + 1..).unwrap_or_default();
            let Some(comma) = after.iter().skip(1).position(|&b| b == b',') else {
                if after.len() > 8 {
                    self.failures.push(format!(
                        "a bad URC head: {}",
                        escape(rest.get(..60).unwrap_or(rest))
                    ));
                    self.unparsed.clear();
                    return;
                }
                break;
            };
            let digits = after.get(1..=comma).unwrap_or_default();
            let Some(len) = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
            else {
                self.failures.push(format!(
                    "a bad URC length: {}",
                    escape(rest.get(..60).unwrap_or(rest))
                ));
                self.unparsed.clear();
                return;
            };
            let data_at = HEAD.len() + quote + 1 + comma + 2;
            let total = data_at + len + 2;
            if rest.len() < total {
                break;
            }
            let data = rest
                .get(data_at..data_at + len)
                .unwrap_or_default()
                .to_vec();
            if rest.get(data_at + len..total) != Some(b"\r\n") {
                self.failures.push(format!(
                    "a URC not ended by CR LF: {}",
                    escape(rest.get(..80).unwrap_or(rest))
                ));
            }
            self.check_message(&topic, &data, plan);
            self.urc_bytes += total;
            at += total;
        }
        self.unparsed.drain(..at);
    }

    fn check_message(&mut self, topic: &[u8], data: &[u8], plan: &[Planned]) {
        let n = data
            .get(..5)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<usize>().ok());
        let Some((n, planned)) = n.and_then(|n| plan.get(n).map(|p| (n, *p))) else {
            self.failures.push(format!(
                "a message that was not published: {}",
                escape(data.get(..40).unwrap_or(data))
            ));
            return;
        };
        if topic != flood_topic(planned.qos).as_bytes()
            || data != flood_payload(n, planned.len).as_slice()
        {
            self.failures.push(format!(
                "message {n} arrived altered: topic {}, {} bytes (published {} bytes to {})",
                escape(topic),
                data.len(),
                planned.len,
                flood_topic(planned.qos)
            ));
        }
        if let Some(count) = self.seen.get_mut(n) {
            *count += 1;
        }
        let last = &mut self.last_on[usize::from(planned.qos.min(1))];
        if last.is_some_and(|l| l > n) {
            self.out_of_order += 1;
        }
        *last = Some(n);
    }

    fn delivered(&self, plan: &[Planned], qos: u8) -> usize {
        plan.iter()
            .zip(&self.seen)
            .filter(|(p, s)| p.qos == qos && **s > 0)
            .count()
    }
}

/// The median and maximum of `values`.
fn median_and_max(values: &[Duration]) -> (Duration, Duration) {
    let mut sorted = values.to_vec();
    sorted.sort();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    (median, sorted.last().copied().unwrap_or_default())
}

#[test]
fn slow_inbound_flood_at_uart_rate() {
    let seed = seed_from_env("FLOOD_SEED");
    eprintln!("inbound flood: seed {seed} (FLOOD_SEED={seed} replays the message mix)");
    let mut rng = XorShift::new(seed);
    let plan: Vec<Planned> = (0..FLOOD_MESSAGES)
        .map(|n| {
            let qos = u8::from(rng.chance(50));
            let len = if n % LARGE_EVERY == LARGE_EVERY / 2 {
                LARGE_SIZES[(n / LARGE_EVERY) % LARGE_SIZES.len()]
            } else {
                rng.range(SMALL_SIZES.0, SMALL_SIZES.1)
            };
            Planned { qos, len }
        })
        .collect();
    let planned_urc_bytes: usize = plan
        .iter()
        .map(|p| e2e_tests::at::subrecv(flood_topic(p.qos), &flood_payload(0, p.len)).len())
        .sum();

    // The broker keeps every QoS 1 message for the slow subscriber (no queue limit).
    let broker = Broker::with_config(&["max_queued_messages 0"]);
    let mut modem = Modem::ready(&[]);
    modem.mqtt_connect("inbound-flood", broker.port());
    modem.exchange("ATE0", &e2e_tests::at::echoed("ATE0", AT_OK));
    modem.exchange("AT+MQTTSUB=0,\"flood/#\",1", AT_OK);
    let pid = modem.process().id();
    let rss_start = resident_kib(pid);
    let rss_bound = rss_start + FLOOD_RSS_MARGIN_KIB;

    // The peer publishes as fast as the broker acknowledges, on one connection for each
    // QoS (the harness's peer alternating QoS 0 and 1 on one connection manages only
    // about 45 messages a second).
    let (done_tx, done) = std::sync::mpsc::channel::<Duration>();
    let published = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let publishers: Vec<_> = [0u8, 1]
        .into_iter()
        .map(|qos| {
            let port = broker.port();
            let plan = plan.clone();
            let counter = std::sync::Arc::clone(&published);
            let done_tx = done_tx.clone();
            std::thread::spawn(move || {
                let mut peer = Peer::connect(port);
                let start = Instant::now();
                for (n, p) in plan.iter().enumerate().filter(|(_, p)| p.qos == qos) {
                    peer.publish(flood_topic(qos), &flood_payload(n, p.len), qos, false);
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                let _ = done_tx.send(start.elapsed());
            })
        })
        .collect();
    drop(done_tx);
    let mut finished: Vec<Duration> = Vec::new();

    let start = Instant::now();
    let mut reader = FloodReader::new();
    let mut probes: Vec<Duration> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut rss_max = rss_start;
    // (time since the start, URC bytes so far) after every read.
    let mut samples: Vec<(Duration, usize)> = Vec::new();
    let mut first_byte: Option<Duration> = None;
    let mut last_byte = Duration::ZERO;
    let mut published_in: Option<Duration> = None;
    let mut next_probe = start + PROBE_EVERY;
    let mut quiet_since: Option<Instant> = None;
    let qos1_total = plan.iter().filter(|p| p.qos == 1).count();
    while start.elapsed() < FLOOD_DEADLINE {
        let before = reader.urc_bytes;
        modem.read_paced_for(UART_BYTES_PER_SECOND, Duration::from_millis(500));
        reader.push(&modem.take_pending(), &plan);
        if Instant::now() >= next_probe {
            next_probe += PROBE_EVERY;
            eprintln!(
                "inbound flood: {:.0?}: {} published, {} delivered, {} URC bytes",
                start.elapsed(),
                published.load(std::sync::atomic::Ordering::Relaxed),
                reader.seen.iter().filter(|&&s| s > 0).count(),
                reader.urc_bytes
            );
            let sent = Instant::now();
            modem.send_line("AT");
            match modem.read_paced_until(AT_OK, UART_BYTES_PER_SECOND, Duration::from_secs(5)) {
                Ok(bytes) => {
                    probes.push(sent.elapsed());
                    reader.push(&bytes, &plan);
                }
                Err(bytes) => {
                    failures.push(format!(
                        "AT at {:.1?} got no OK within 5 s ({} bytes came meanwhile)",
                        sent - start,
                        bytes.len()
                    ));
                    reader.push(&bytes, &plan);
                }
            }
        }
        let now = start.elapsed();
        if reader.urc_bytes > before {
            first_byte.get_or_insert(now);
            last_byte = now;
            quiet_since = None;
        } else {
            quiet_since.get_or_insert_with(Instant::now);
        }
        samples.push((now, reader.urc_bytes));
        rss_max = rss_max.max(resident_kib(pid));
        finished.extend(done.try_iter());
        if published_in.is_none() && finished.len() == 2 {
            published_in = finished.iter().max().copied();
        }
        let all = reader.seen.iter().all(|&s| s > 0);
        let drained = quiet_since.is_some_and(|q| q.elapsed() > Duration::from_secs(3));
        if published_in.is_some() && (all || drained) {
            break;
        }
    }
    let publisher_ok = publishers.into_iter().all(|p| p.join().is_ok());
    let elapsed = start.elapsed();

    // The saturated period: from a second after the first URC byte to a second before
    // the last one (the line fills up and drains at the ends).
    let window: Vec<&(Duration, usize)> = samples
        .iter()
        .filter(|(t, _)| {
            first_byte.is_some_and(|f| *t >= f + Duration::from_secs(1))
                && *t + Duration::from_secs(1) <= last_byte
        })
        .collect();
    let rate = match (window.first(), window.last()) {
        (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
            #[allow(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
            let bytes = (b1 - b0) as f64;
            bytes / (*t1 - *t0).as_secs_f64()
        }
        _ => 0.0,
    };
    let fraction = rate / f64::from(UART_BYTES_PER_SECOND);
    let (median, max) = median_and_max(&probes);
    let qos0_total = FLOOD_MESSAGES - qos1_total;
    let qos1_delivered = reader.delivered(&plan, 1);
    let qos0_delivered = reader.delivered(&plan, 0);
    let duplicates: u32 = reader.seen.iter().map(|s| s.saturating_sub(1)).sum();

    let mut figures = Figures::new("inbound_flood", "Inbound flood at 115200 baud");
    figures.record("seed", seed);
    figures.record(
        "messages published (QoS 0 / QoS 1)",
        format!("{FLOOD_MESSAGES} ({qos0_total} / {qos1_total})"),
    );
    figures.record(
        "size mix",
        format!(
            "{}..{} B payloads; every {LARGE_EVERY}th message {:?} B in turn; {planned_urc_bytes} \
             B of URCs if all are delivered",
            SMALL_SIZES.0, SMALL_SIZES.1, LARGE_SIZES
        ),
    );
    figures.record(
        "broker",
        "mosquitto, max_queued_messages 0 (no limit), max_inflight_messages 20 (default)",
    );
    figures.record(
        "published in",
        published_in.map_or_else(
            || "not finished".to_owned(),
            |d| format!("{:.1} s", d.as_secs_f64()),
        ),
    );
    figures.record(
        "QoS 1 delivered",
        format!("{qos1_delivered} of {qos1_total}"),
    );
    figures.record("QoS 1 lost", qos1_total - qos1_delivered);
    figures.record(
        "QoS 0 delivered",
        format!("{qos0_delivered} of {qos0_total}"),
    );
    figures.record("duplicates", duplicates);
    figures.record("out of order (per topic)", reader.out_of_order);
    figures.record("URC bytes", reader.urc_bytes);
    figures.record(
        "AT latency (probes every 5 s)",
        format!(
            "{} probes, median {:.0} ms, max {:.0} ms",
            probes.len(),
            median.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        ),
    );
    figures.record(
        "URC byte rate over the saturated period",
        format!(
            "{rate:.0} B/s = {:.1} % of {UART_BYTES_PER_SECOND} B/s (over {:.1} s)",
            fraction * 100.0,
            window
                .last()
                .zip(window.first())
                .map_or(0.0, |(b, a)| (b.0 - a.0).as_secs_f64())
        ),
    );
    figures.record(
        "RSS",
        format!("{rss_start} KiB before, max {rss_max} KiB during (bound {rss_bound} KiB)"),
    );
    figures.record("duration", format!("{:.1} s", elapsed.as_secs_f64()));

    if !publisher_ok {
        failures.push("the publishing peer failed (see its panic above)".to_owned());
    }
    failures.extend(reader.failures.iter().take(10).cloned());
    if qos1_delivered != qos1_total {
        let lost: Vec<usize> = plan
            .iter()
            .zip(&reader.seen)
            .enumerate()
            .filter(|(_, (p, s))| p.qos == 1 && **s == 0)
            .map(|(n, _)| n)
            .take(20)
            .collect();
        failures.push(format!(
            "{} QoS 1 messages lost (the first: {lost:?})",
            qos1_total - qos1_delivered
        ));
    }
    if probes.len() < 5 {
        failures.push(format!("only {} AT probes answered", probes.len()));
    }
    for (i, latency) in probes.iter().enumerate() {
        if *latency > PROBE_LIMIT {
            failures.push(format!(
                "AT probe {i} answered after {latency:.3?} (limit {PROBE_LIMIT:?})"
            ));
        }
    }
    if (fraction - 1.0).abs() > 0.05 {
        failures.push(format!(
            "URCs came at {rate:.0} B/s over the saturated period, {:.1} % of the UART's \
             {UART_BYTES_PER_SECOND} B/s (must be within 5 %)",
            fraction * 100.0
        ));
    }
    if rss_max >= rss_bound {
        failures.push(format!(
            "at-host's resident memory reached {rss_max} KiB (bound {rss_bound} KiB)"
        ));
    }
    if !failures.is_empty() {
        let transcript = modem.transcript();
        let tail = transcript
            .get(transcript.len().saturating_sub(3000)..)
            .unwrap_or("");
        let serial = serial_line_state(modem.addr().port());
        let log = modem.process().log();
        panic!(
            "inbound flood, seed {seed}:\n{}\n--- the serial line's TCP state (ss -tnio) ---\n\
             {serial}--- at-host's standard error ---\n{log}--- end of the transcript ---\n{tail}",
            failures.join("\n")
        );
    }
}
