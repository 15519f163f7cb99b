//! Runs one benchmark through cargo and collects its figures: the benchmark's stdout is read
//! line by line, figure lines are kept and everything else is passed to stderr, so the
//! command's stdout carries only figures.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use playrack_test_support::figure::Figure;

use super::Job;

/// The job's command line, as a reader would type it.
pub fn command_line(job: &Job) -> String {
    let env: Vec<String> = job.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut words = env;
    words.push("cargo".into());
    words.extend(job.cargo.iter().cloned());
    words.extend(job.args.iter().cloned());
    words.join(" ")
}

/// Runs `job` in `workspace`; its figures, in the order printed. A benchmark that fails, or
/// prints no figure, is an error.
pub fn run(job: &Job, workspace: &Path) -> anyhow::Result<Vec<Figure>> {
    eprintln!("playrack-bench: {} — {}", job.label, command_line(job));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .args(&job.cargo)
        .args(&job.args)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting cargo for {}", job.label))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let figures = read_figures(BufReader::new(stdout), &job.label)?;
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("{} failed ({status}): see its output above", job.label);
    }
    if figures.is_empty() {
        bail!("{} printed no figure", job.label);
    }
    Ok(figures)
}

/// The figures among `lines`; every other line goes to stderr.
pub fn read_figures(lines: impl BufRead, label: &str) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for line in lines.lines() {
        let line = line.with_context(|| format!("reading {label}'s output"))?;
        match Figure::parse_line(&line) {
            Some(Ok(f)) => figures.push(f),
            Some(Err(e)) => bail!("{label} printed a malformed figure ({e}): {line}"),
            None => eprintln!("{line}"),
        }
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_lines_are_kept_and_a_malformed_one_is_an_error() {
        let f = Figure::new("x", "ms", vec![1.0, 2.0]);
        let out = format!(
            "warming up\nfigure: {}\n  figure: {}\ndone\n",
            serde_json::to_string(&f).unwrap(),
            serde_json::to_string(&f).unwrap()
        );
        assert_eq!(
            read_figures(out.as_bytes(), "t").unwrap(),
            vec![f.clone(), f]
        );
        let err = read_figures("figure: {\"name\":1}\n".as_bytes(), "t").unwrap_err();
        assert!(err.to_string().contains("malformed figure"), "{err}");
    }

    #[test]
    fn the_command_line_reads_as_typed() {
        let job = Job {
            label: "l".into(),
            cargo: vec!["test".into(), "--".into()],
            args: vec!["--short".into()],
            env: vec![("A".into(), "1".into())],
        };
        assert_eq!(command_line(&job), "A=1 cargo test -- --short");
    }
}
