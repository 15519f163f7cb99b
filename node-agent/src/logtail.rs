//! The agent's own log, kept in memory as well as written out: the last [`LINES`] lines
//! (each cut at [`LINE_MAX`] bytes), which an operator reads from the console through the
//! controller (`TailLog`) without a shell on the board.
//!
//! [`layer`] is a `tracing` layer to install beside the process's own output: it writes the
//! agent's events (target `node_agent`, info and up, whatever the output's filter) as JSON
//! lines into the ring ([`tail`], process-wide like the subscriber itself — in the embedded
//! demo every agent of the process shares it). [`init`] sets up the binary's logging.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Lines kept.
pub const LINES: usize = 2000;
/// Longest line kept (longer ones are cut, on a character boundary).
pub const LINE_MAX: usize = 4096;

/// The ring of recent lines.
#[derive(Debug, Default)]
pub struct LogTail {
    lines: Mutex<VecDeque<String>>,
}

impl LogTail {
    /// Adds the lines of `text` (a formatted event or several).
    pub fn push(&self, text: &[u8]) {
        let text = String::from_utf8_lossy(text);
        let mut lines = self.lines.lock().unwrap();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let mut l = line.to_owned();
            l.truncate(l.floor_char_boundary(LINE_MAX));
            if lines.len() == LINES {
                lines.pop_front();
            }
            lines.push_back(l);
        }
    }

    /// The last `n` lines, oldest first, each ending in a newline.
    pub fn last(&self, n: usize) -> String {
        let lines = self.lines.lock().unwrap();
        let skip = lines.len().saturating_sub(n);
        let mut out = String::new();
        for l in lines.iter().skip(skip) {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

/// The process's log ring.
pub fn tail() -> &'static LogTail {
    static TAIL: OnceLock<LogTail> = OnceLock::new();
    TAIL.get_or_init(LogTail::default)
}

/// The ring as a `tracing_subscriber` writer.
#[derive(Debug, Clone, Copy, Default)]
struct Ring;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Ring {
    type Writer = Ring;
    fn make_writer(&'a self) -> Ring {
        Ring
    }
}

impl Write for Ring {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        tail().push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The layer that keeps the agent's events in [`tail`].
pub fn layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer as _;
    tracing_subscriber::fmt::layer()
        .json()
        .with_writer(Ring)
        .with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("node_agent", tracing::Level::INFO),
        )
}

/// The binary's logging: JSON lines on stdout filtered by `RUST_LOG` (default `info`), and
/// [`layer`].
pub fn init() {
    use tracing_subscriber::prelude::*;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().json().with_filter(filter))
        .with(layer())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_last_lines_cut_to_size() {
        let t = LogTail::default();
        for i in 0..LINES + 5 {
            t.push(format!("line {i}\n").as_bytes());
        }
        assert_eq!(
            t.last(2),
            format!("line {}\nline {}\n", LINES + 3, LINES + 4)
        );
        assert_eq!(t.last(LINES + 100).lines().count(), LINES);
        t.push(format!("{}\n", "é".repeat(LINE_MAX)).as_bytes());
        let long = t.last(1);
        assert!(
            long.len() <= LINE_MAX + 1 && long.ends_with("é\n"),
            "{}",
            long.len()
        );
        t.push(b"a\nb\n\n");
        assert_eq!(t.last(2), "a\nb\n");
    }
}
