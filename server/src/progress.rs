//! Progress of long command-line work (loading demo data, importing a store), for a person
//! at a terminal: one line that updates in place with the count, the rate and the time
//! left; where standard error is not a terminal (a log, CI), a line at every tenth.

use std::{
    io::{IsTerminal, Write},
    time::{Duration, Instant},
};

pub struct Progress {
    what: &'static str,
    total: u64,
    started: Instant,
    terminal: bool,
    /// The last tenth reported, where a line is written per tenth.
    last_tenth: u64,
    /// When the terminal's line was last redrawn (at most ten times a second).
    drawn: Option<Instant>,
}

impl Progress {
    /// Progress towards `total` of `what` (a plural noun: "orders").
    pub fn new(what: &'static str, total: u64) -> Progress {
        Progress {
            what,
            total,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            last_tenth: 0,
            drawn: None,
        }
    }

    /// The total, when it became known (or grew) along the way.
    pub fn retotal(&mut self, total: u64) {
        self.total = total;
    }

    /// `done` of the total are done.
    pub fn update(&mut self, done: u64) {
        if self.terminal {
            if self.drawn.is_some_and(|at| at.elapsed() < Duration::from_millis(100)) && done < self.total {
                return;
            }
            self.drawn = Some(Instant::now());
            eprint!("\r\x1b[2K  {}", self.line(done));
            let _ = std::io::stderr().flush();
        } else {
            let tenth = (done * 10).checked_div(self.total).unwrap_or(10);
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("  {}", self.line(done));
            }
        }
    }

    /// Ends the terminal's updating line, so what follows starts on a line of its own.
    pub fn finish(&mut self) {
        if self.terminal && self.drawn.is_some() {
            eprintln!();
        }
    }

    fn line(&self, done: u64) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 { done as f64 / elapsed } else { 0.0 };
        let percent = (done * 100).checked_div(self.total).unwrap_or(100);
        let mut line = format!("{} of {} {} ({percent} %)", thousands(done), thousands(self.total), self.what);
        if rate >= 1.0 {
            line.push_str(&format!(", {} a second", thousands(rate as u64)));
            if done < self.total {
                let left = ((self.total - done) as f64 / rate).ceil() as u64;
                line.push_str(&format!(", about {} left", duration(left)));
            }
        }
        line
    }
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds as "45 s" or "3 min 5 s".
fn duration(secs: u64) -> String {
    if secs < 60 { format!("{secs} s") } else { format!("{} min {} s", secs / 60, secs % 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_line_says_the_count_the_share_and_what_is_left() {
        let progress = Progress {
            what: "orders",
            total: 1_000,
            started: Instant::now() - Duration::from_secs(2),
            terminal: false,
            last_tenth: 0,
            drawn: None,
        };
        let line = progress.line(500);
        assert!(line.starts_with("500 of 1,000 orders (50 %), "), "{line}");
        assert!(line.contains("a second, about "), "{line}");
        assert_eq!(duration(125), "2 min 5 s");
    }
}
