//! The member check of a save archive: every member of the `.tar.gz` lies inside the two
//! data directories of one package, is a plain file or directory, has no `..`, and the whole
//! stays within an expansion and member budget. It reads only bytes (any [`Read`]) and uses
//! nothing else of the agent, so the fuzz target `archive_check` in `tests/fuzz` compiles
//! this very file.

use std::io::Read;

use anyhow::{Context, ensure};

/// The directories an archive of `package` holds, relative to `/`.
pub fn roots(package: &str) -> [String; 2] {
    [
        format!("data/data/{package}"),
        format!("sdcard/Android/data/{package}"),
    ]
}

/// Checks the `.tar.gz` read from `reader` as an archive of `package` (see the module doc of
/// `archive`), with the expansion and member limits given; returns its member count.
pub fn check_tar_gz(
    reader: impl Read,
    package: &str,
    max_expanded: u64,
    max_members: usize,
) -> anyhow::Result<usize> {
    playrack_apk::names::check_package_name(package)?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let roots = roots(package);
    let (mut n, mut expanded) = (0, 0u64);
    for entry in tar.entries().context("reading the archive")? {
        let entry = entry.context("reading the archive")?;
        expanded = expanded.saturating_add(entry.size());
        ensure!(
            expanded <= max_expanded,
            "the archive expands to more than {max_expanded} bytes"
        );
        ensure!(
            n < max_members,
            "the archive has more than {max_members} members"
        );
        let name = entry
            .path()
            .context("a member name")?
            .to_string_lossy()
            .into_owned();
        let clean = name.trim_start_matches("./").trim_end_matches('/');
        let inside = roots.iter().any(|r| {
            clean == r
                || clean
                    .strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        let parent_of_root = roots.iter().any(|r| r.starts_with(&format!("{clean}/")));
        ensure!(
            !clean.split('/').any(|c| c == ".."),
            "archive member {name:?} climbs out with '..'"
        );
        ensure!(
            inside || (parent_of_root && entry.header().entry_type().is_dir()),
            "archive member {name:?} is outside this game's data directories"
        );
        let kind = entry.header().entry_type();
        ensure!(
            kind.is_file() || kind.is_dir(),
            "archive member {name:?} is a {kind:?}, not a file or directory"
        );
        n += 1;
    }
    Ok(n)
}
