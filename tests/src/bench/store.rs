//! The last figures of each benchmark family, kept between runs in
//! `tests/benchmarks/figures.json` (committed beside the plots it draws): re-running one family
//! replaces its figures, and `playrack-bench report` writes BENCHMARKS.md from what is kept, the
//! other families unchanged — on any machine, from any clone.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, What};

/// Where the figures are kept: in the repository, beside the plots.
pub fn path(workspace: &Path) -> PathBuf {
    workspace.join("tests/benchmarks/figures.json")
}

/// What is kept (nothing yet: none).
pub fn load(path: &Path) -> anyhow::Result<Vec<Outcome>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not playrack-bench's figures (delete it to start afresh)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `outcome` in place of its family's previous one, the families in [`What::ALL`]'s order.
pub fn put(kept: &mut Vec<Outcome>, outcome: Outcome) {
    kept.retain(|o| o.what != outcome.what);
    kept.push(outcome);
    kept.sort_by_key(|o| What::ALL.iter().position(|w| *w == o.what));
}

pub fn save(path: &Path, kept: &[Outcome]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(kept)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use playrack_test_support::figure::Figure;

    fn outcome(what: What, p50: f64) -> Outcome {
        Outcome {
            what,
            figures: vec![Figure::new(what.name(), "ms", vec![p50])],
            commands: vec![format!("cargo bench --bench {}", what.name())],
            taken: "2026-12-04T11:00:00Z".into(),
            machine: "m".into(),
        }
    }

    #[test]
    fn a_family_run_again_replaces_only_its_own_figures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b/figures.json");
        assert!(load(&path).unwrap().is_empty());
        let mut kept = Vec::new();
        put(&mut kept, outcome(What::Latency, 1.0));
        put(&mut kept, outcome(What::Encode, 2.0));
        put(&mut kept, outcome(What::Latency, 3.0));
        save(&path, &kept).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back, kept);
        assert_eq!(
            back.iter().map(|o| o.what).collect::<Vec<_>>(),
            [What::Encode, What::Latency]
        );
        assert_eq!(back[1].figures[0].stats.p50, 3.0);
        std::fs::write(&path, b"{").unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("start afresh")
        );
    }
}
