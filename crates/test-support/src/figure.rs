//! A benchmark figure, as every benchmark of the workspace reports it: a name, a unit, the
//! distribution of what was measured (n, p50, p90, p99) and the comparison figure measured in the
//! same run, so a figure is never read without its baseline.
//!
//! Benchmarks print each figure as one line `figure: {json}` on stdout ([`Figure::print`]);
//! `playrack-bench` (`tests/src/bench`) picks those lines out of a benchmark's output, prints
//! them as JSON objects and draws them. The samples travel with the figure so the plots can show
//! the whole distribution.

use serde::{Deserialize, Serialize};

/// The prefix of a figure line in a benchmark's output.
pub const LINE_PREFIX: &str = "figure: ";

/// One figure: what was measured, beside what it is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Stable, dotted: `latency.native.probe`, `encode.720p`.
    pub name: String,
    /// `ms`, `fps`, `MB/s`, `ms/s` (CPU milliseconds per stream-second), …
    pub unit: String,
    #[serde(flatten)]
    pub stats: Stats,
    /// The comparison measured in the same run (a plain copy, a raw UDP send, the browser's own
    /// buffering, the floor), when the figure has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// The target from `shared/design/targets.md`, as text (`p50 ≤ 25, p99 ≤ 40`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What the distribution alone does not say (`12 devices together`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The measured samples, in the order taken.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
}

/// The comparison figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub name: String,
    #[serde(flatten)]
    pub stats: Stats,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
}

/// A distribution's summary (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

/// The median of `samples` as the figures count it (NaN when there are none).
pub fn median(samples: &[f64]) -> f64 {
    Stats::of(samples).map_or(f64::NAN, |s| s.p50)
}

impl Stats {
    /// The summary of `samples`; `None` when there are none (or any is not a number).
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |p: f64| {
            let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            round3(sorted[rank - 1])
        };
        Some(Stats {
            n: sorted.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Figure {
    /// A figure from its samples. Panics on an empty set: a benchmark that measured nothing
    /// has failed, and says so.
    pub fn new(name: &str, unit: &str, samples: Vec<f64>) -> Figure {
        let stats = Stats::of(&samples)
            .unwrap_or_else(|| panic!("figure {name}: no samples, or a sample is not a number"));
        Figure {
            name: name.into(),
            unit: unit.into(),
            stats,
            baseline: None,
            target: None,
            note: None,
            samples,
        }
    }

    /// The comparison measured in the same run, in the same unit.
    pub fn baseline(mut self, name: &str, samples: Vec<f64>) -> Figure {
        let stats = Stats::of(&samples).unwrap_or_else(|| {
            panic!(
                "figure {}: baseline {name}: no samples, or a sample is not a number",
                self.name
            )
        });
        self.baseline = Some(Baseline {
            name: name.into(),
            stats,
            samples,
        });
        self
    }

    pub fn target(mut self, target: &str) -> Figure {
        self.target = Some(target.into());
        self
    }

    pub fn note(mut self, note: &str) -> Figure {
        self.note = Some(note.into());
        self
    }

    /// The figure as one line of JSON, without samples (what a reader wants on a terminal).
    pub fn summary_json(&self) -> String {
        let mut f = self.clone();
        f.samples.clear();
        if let Some(b) = f.baseline.as_mut() {
            b.samples.clear();
        }
        serde_json::to_string(&f).expect("a figure serialises")
    }

    /// Prints the figure line a benchmark reports (`figure: {json}`, samples included).
    pub fn print(&self) {
        println!(
            "{LINE_PREFIX}{}",
            serde_json::to_string(self).expect("a figure serialises")
        );
    }

    /// The figure in a line of a benchmark's output, if the line is one (leading white space,
    /// as a test runner indents its children's output, is allowed).
    pub fn parse_line(line: &str) -> Option<Result<Figure, serde_json::Error>> {
        line.trim_start()
            .strip_prefix(LINE_PREFIX)
            .map(serde_json::from_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Stats::of(&samples).unwrap();
        assert_eq!((s.n, s.p50, s.p90, s.p99), (100, 50.0, 90.0, 99.0));
        let s = Stats::of(&[7.0]).unwrap();
        assert_eq!((s.n, s.p50, s.p99), (1, 7.0, 7.0));
        assert_eq!(Stats::of(&[]), None);
        assert_eq!(Stats::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn a_printed_figure_reads_back_and_other_lines_are_not_figures() {
        let f = Figure::new("encode.720p", "ms", vec![4.0, 5.0, 6.0])
            .baseline("render", vec![1.0, 1.5])
            .target("≤ 12.5");
        let line = format!("{LINE_PREFIX}{}", serde_json::to_string(&f).unwrap());
        assert_eq!(Figure::parse_line(&line).unwrap().unwrap(), f);
        assert!(Figure::parse_line("encode: 237 fps").is_none());
        assert_eq!(
            Figure::parse_line(&format!("  {line}")).unwrap().unwrap(),
            f
        );
        assert!(Figure::parse_line("figure: {not json").unwrap().is_err());
        let summary: serde_json::Value = serde_json::from_str(&f.summary_json()).unwrap();
        assert_eq!(summary["p50"], 5.0);
        assert_eq!(summary["baseline"]["name"], "render");
        assert!(summary.get("samples").is_none());
        assert!(summary["baseline"].get("samples").is_none());
    }
}
