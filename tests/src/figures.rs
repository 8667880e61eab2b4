//! Measured figures for `RELIABILITY.md`: a test records what it measured, and
//! `scripts/reliability.py` (which runs the reliability tests with `RELIABILITY_OUT` set)
//! turns the records into tables. Without `RELIABILITY_OUT` nothing is written, so the
//! tests behave the same in the ordinary test run.
//!
//! One file per scenario, `<RELIABILITY_OUT>/<scenario>.tsv`, one `key<TAB>value` line per
//! figure, in the order recorded; the first line should be `title<TAB>...`.

use std::fmt::Display;
use std::io::Write as _;

/// The figures of one scenario.
pub struct Figures {
    scenario: String,
    rows: Vec<(String, String)>,
}

impl Figures {
    /// Figures for `scenario` (a file-name-safe identifier) titled `title`.
    pub fn new(scenario: &str, title: &str) -> Self {
        let mut figures = Self {
            scenario: scenario.to_owned(),
            rows: Vec::new(),
        };
        figures.record("title", title);
        figures
    }

    /// Records one figure (printed at once, written when the figures are dropped).
    pub fn record(&mut self, key: &str, value: impl Display) {
        let value = value.to_string().replace(['\t', '\n'], " ");
        eprintln!("figure {}: {key} = {value}", self.scenario);
        self.rows.push((key.to_owned(), value));
    }
}

impl Drop for Figures {
    fn drop(&mut self) {
        let Some(dir) = std::env::var_os("RELIABILITY_OUT") else {
            return;
        };
        let path = std::path::Path::new(&dir).join(format!("{}.tsv", self.scenario));
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            let mut file = std::fs::File::create(&path)?;
            for (key, value) in &self.rows {
                writeln!(file, "{key}\t{value}")?;
            }
            Ok(())
        });
        if let Err(error) = written {
            eprintln!("figures: cannot write {}: {error}", path.display());
        }
    }
}
