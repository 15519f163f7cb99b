//! `playrack-bench`: every benchmark of the project behind one command (see `tests/src/bench`).
//!
//! ```text
//! playrack-bench <latency|ttff|scheduler|density|relay|encode|ingest> [--short] [-- ARGS]
//! playrack-bench all [--short] [--out DIR] [--no-browser]
//! playrack-bench report [--out DIR]
//! ```
//!
//! Each subcommand prints one JSON object per figure on stdout (name, unit, n, p50, p90, p99,
//! the baseline measured in the same run, the target); the benchmarks' own output goes to
//! stderr. Every family's last figures are kept (`tests/benchmarks/figures.json`). `all`
//! runs every family and writes BENCHMARKS.md's generated section with a plot per figure (into
//! the repository, or a copy under `--out`); `report` writes it from the kept figures, e.g.
//! after one family was run again.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use playrack_tests::bench::{self, Options, Outcome, What, plot, report};

#[derive(Parser, Debug)]
#[command(
    name = "playrack-bench",
    about = "Runs Playrack's benchmarks and prints one JSON object per figure, each beside its baseline",
    after_help = "Long forms run optimised builds (cargo bench) and take minutes each; --short \
                  takes seconds each (what CI runs). PostgreSQL variants run when \
                  PLAYRACK_TEST_PG_URL is set (scripts/postgres.sh start prints one)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The short form: seconds each, the debug build, no thresholds (CI).
    #[arg(long, global = true)]
    short: bool,
    /// Leave out Chromium's latency figure (the browser suite prints it on its own).
    #[arg(long, global = true)]
    no_browser: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every benchmark; writes BENCHMARKS.md's figures and plots.
    All {
        /// Write BENCHMARKS.md and the plots under this directory instead of the repository.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes BENCHMARKS.md's figures and plots from each family's last run.
    Report {
        /// Write BENCHMARKS.md and the plots under this directory instead of the repository.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    #[command(flatten)]
    One(One),
}

#[derive(Subcommand, Debug)]
enum One {
    /// Touch-to-screen latency: native client and Chromium, beside the floor and browser buffering.
    Latency { args: Vec<String> },
    /// Tap to first decoded frame: warm pool per game against blank instances.
    Ttff { args: Vec<String> },
    /// Acquire and promotion latency with history against an empty database.
    Scheduler { args: Vec<String> },
    /// Virtual devices per machine at 720p, each ≥ 25 fps, and the agent's memory per stream.
    Density { args: Vec<String> },
    /// The agent relay's CPU per stream against a raw UDP send.
    Relay { args: Vec<String> },
    /// The virtual device's encode time against its render time.
    Encode { args: Vec<String> },
    /// APK ingest against a plain file copy.
    Ingest { args: Vec<String> },
}

impl One {
    fn split(self) -> (What, Vec<String>) {
        match self {
            One::Latency { args } => (What::Latency, args),
            One::Ttff { args } => (What::Ttff, args),
            One::Scheduler { args } => (What::Scheduler, args),
            One::Density { args } => (What::Density, args),
            One::Relay { args } => (What::Relay, args),
            One::Encode { args } => (What::Encode, args),
            One::Ingest { args } => (What::Ingest, args),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("playrack-bench: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let workspace = playrack_tests::demo::workspace();
    let chromium =
        std::env::var("PLAYRACK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let browser = !cli.no_browser
        && std::env::var("PLAYRACK_TEST_BROWSER").as_deref() != Ok("off")
        && std::path::Path::new(&chromium).exists();
    let pg = std::env::var_os("PLAYRACK_TEST_PG_URL").is_some();
    if !pg {
        eprintln!(
            "playrack-bench: PLAYRACK_TEST_PG_URL is not set: PostgreSQL figures are left out"
        );
    }
    let options = |extra: Vec<String>| Options {
        short: cli.short,
        pg,
        browser,
        extra,
    };
    let machine = report::machine();
    let store_path = bench::store::path(&workspace);
    let measure = |what: What, extra: Vec<String>| -> anyhow::Result<Outcome> {
        let started = Instant::now();
        let taken = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut figures = Vec::new();
        let mut commands = Vec::new();
        for job in bench::jobs(what, &options(extra.clone())) {
            figures.extend(bench::run::run(&job, &workspace)?);
            commands.push(bench::run::command_line(&job));
        }
        for f in &figures {
            println!("{}", f.summary_json());
        }
        eprintln!(
            "playrack-bench: {} done in {:.0} s ({} figures)",
            what.name(),
            started.elapsed().as_secs_f64(),
            figures.len()
        );
        let outcome = Outcome {
            what,
            figures,
            commands,
            taken,
            machine: machine.clone(),
        };
        // Kept for `report` (the short form's figures are not kept: they say nothing).
        if !cli.short {
            let mut kept = bench::store::load(&store_path)?;
            bench::store::put(&mut kept, outcome.clone());
            bench::store::save(&store_path, &kept)?;
        }
        Ok(outcome)
    };
    match cli.command {
        Command::One(one) => {
            let (what, extra) = one.split();
            measure(what, extra)?;
        }
        Command::Report { out } => {
            let kept = bench::store::load(&store_path)?;
            if kept.is_empty() {
                anyhow::bail!(
                    "no figures kept in {}: run `playrack-bench all` (or a family) first",
                    store_path.display()
                );
            }
            write_report(&workspace, &kept, out.as_deref())?;
        }
        Command::All { out } => {
            // A failed benchmark does not stop the others: what was measured is still
            // written, and the command fails at the end, naming what failed.
            let mut outcomes = Vec::new();
            let mut failed = Vec::new();
            for (i, what) in What::ALL.into_iter().enumerate() {
                eprintln!(
                    "playrack-bench: [{}/{}] {}",
                    i + 1,
                    What::ALL.len(),
                    what.name()
                );
                match measure(what, Vec::new()) {
                    Ok(o) => outcomes.push(o),
                    Err(e) => {
                        eprintln!("playrack-bench: {} failed: {e:#}", what.name());
                        failed.push(format!("{}: {e:#}", what.name()));
                    }
                }
            }
            // The long form writes every family's last figures (a failed family keeps its
            // previous ones); the short form only what it just measured.
            let outcomes = if cli.short {
                outcomes
            } else {
                bench::store::load(&store_path)?
            };
            write_report(&workspace, &outcomes, out.as_deref())?;
            if !failed.is_empty() {
                anyhow::bail!(
                    "{} benchmarks failed:\n  {}",
                    failed.len(),
                    failed.join("\n  ")
                );
            }
        }
    }
    Ok(())
}

/// BENCHMARKS.md's section and the plots, into the repository or under `out`.
fn write_report(
    workspace: &std::path::Path,
    outcomes: &[Outcome],
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let dir = out.unwrap_or(workspace);
    let document = dir.join("BENCHMARKS.md");
    let plots_rel = "tests/benchmarks";
    let plots = dir.join(plots_rel);
    std::fs::create_dir_all(&plots).with_context(|| format!("creating {}", plots.display()))?;
    for f in outcomes.iter().flat_map(|o| &o.figures) {
        plot::draw(f, &plots.join(plot::file_name(f)))?;
    }
    let run = report::Run {
        plots: plots_rel.into(),
    };
    let section = report::section(outcomes, &run, plot::file_name);
    let existing = std::fs::read_to_string(workspace.join("BENCHMARKS.md"))
        .context("reading BENCHMARKS.md")?;
    std::fs::write(&document, report::splice(&existing, &section)?)
        .with_context(|| format!("writing {}", document.display()))?;
    eprintln!(
        "playrack-bench: {} figures written to {} (plots in {})",
        outcomes.iter().map(|o| o.figures.len()).sum::<usize>(),
        document.display(),
        plots.display()
    );
    Ok(())
}
