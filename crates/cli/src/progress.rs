//! Progress for long work: an indicatif bar on a terminal; elsewhere (CI logs, scripts,
//! tests) a plain line on standard error at every tenth of the way, so logs stay readable.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar or its plain-line stand-in.
pub enum Progress {
    Bar(ProgressBar),
    Lines {
        what: String,
        total: u64,
        /// The last tenth printed.
        last: Mutex<Option<u64>>,
    },
    Quiet,
}

impl Progress {
    /// Progress through `total` bytes.
    pub fn bytes(what: &str, total: u64) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total).with_message(what.to_owned());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:32}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                what: what.to_owned(),
                total,
                last: Mutex::new(None),
            }
        }
    }

    /// A spinner with a message (nothing off a terminal).
    pub fn spinner(what: &str) -> Progress {
        if std::io::stderr().is_terminal() {
            let s = ProgressBar::new_spinner().with_message(what.to_owned());
            s.enable_steady_tick(std::time::Duration::from_millis(100));
            Progress::Bar(s)
        } else {
            eprintln!("playrack: {what}…");
            Progress::Quiet
        }
    }

    pub fn set(&self, done: u64) {
        match self {
            Progress::Bar(b) => b.set_position(done),
            Progress::Lines { what, total, last } => {
                let tenth = if *total == 0 { 10 } else { done * 10 / total };
                let mut last = last.lock().expect("progress lock");
                if *last != Some(tenth) {
                    *last = Some(tenth);
                    eprintln!(
                        "playrack: {what} {}% ({} of {} MiB)",
                        tenth * 10,
                        done >> 20,
                        total >> 20
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}
