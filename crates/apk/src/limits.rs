//! [`Limits`]: the resource ceilings that keep a hostile upload from exhausting memory or CPU.
//!
//! APKs come from users, so every size in them is attacker-controlled. The zip reader checks the
//! *declared* sizes against these limits when it opens the archive (cheap, early rejection) and
//! checks them again while inflating (declared sizes can lie). The chunk decoders never allocate
//! more than the bytes they were handed, and those bytes are capped here.

/// Ceilings applied while inspecting one APK. [`Limits::default`] suits real games; tests and
/// callers with tighter memory budgets can lower any field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries the central directory may list. Big games have a few thousand; a zip with
    /// hundreds of thousands of tiny entries is a denial-of-service attempt.
    pub max_entries: usize,
    /// Most bytes all entries may declare uncompressed, summed; also the most bytes one
    /// inspection may actually inflate. Bounds what `pm install` will later extract.
    pub max_uncompressed_total: u64,
    /// Largest allowed uncompressed:compressed ratio for an entry of at least
    /// [`RATIO_MIN_BYTES`]. Deflate tops out near 1032:1 on zeros; ordinary assets stay well
    /// under 100:1 (Apache POI uses the same 100:1 default for its zip-bomb check).
    pub max_ratio: u64,
    /// Largest `AndroidManifest.xml` (uncompressed). Real manifests are a few to a few hundred KiB.
    pub max_manifest_bytes: u64,
    /// Largest `resources.arsc` (uncompressed) that will be read to resolve the label and icon.
    /// Big apps with many locales reach tens of MiB.
    pub max_resources_bytes: u64,
    /// Largest icon image that will be read; bigger candidates are skipped for a smaller density.
    pub max_icon_bytes: u64,
    /// Largest central directory (the zip's table of contents) that will be read into memory.
    pub max_central_directory_bytes: u64,
}

/// Entries smaller than this (uncompressed) are exempt from [`Limits::max_ratio`]: a tiny file of
/// zeros compresses 300:1 and is harmless.
pub const RATIO_MIN_BYTES: u64 = 1024 * 1024;

const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 32_768,
            max_uncompressed_total: 4 * 1024 * MIB,
            max_ratio: 100,
            max_manifest_bytes: 4 * MIB,
            max_resources_bytes: 64 * MIB,
            max_icon_bytes: 4 * MIB,
            max_central_directory_bytes: 16 * MIB,
        }
    }
}

/// Running count of bytes actually inflated during one inspection, checked against
/// [`Limits::max_uncompressed_total`]. Declared sizes are checked separately when the archive is
/// opened; this catches entries whose headers lie.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    used: u64,
    max: u64,
}

impl Budget {
    pub(crate) fn new(max: u64) -> Self {
        Budget { used: 0, max }
    }

    /// Records `n` more inflated bytes; false once the total is over the limit.
    pub(crate) fn spend(&mut self, n: u64) -> bool {
        self.used = self.used.saturating_add(n);
        self.used <= self.max
    }

    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    pub(crate) fn max(&self) -> u64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_trips_only_past_the_limit() {
        let mut b = Budget::new(10);
        assert!(b.spend(4));
        assert!(b.spend(6));
        assert_eq!(b.used(), 10);
        assert!(!b.spend(1));
        assert!(!b.spend(u64::MAX), "saturates instead of wrapping");
        assert_eq!(b.max(), 10);
    }

    #[test]
    fn defaults_are_ordered_sensibly() {
        let l = Limits::default();
        assert!(l.max_manifest_bytes < l.max_resources_bytes);
        assert!(l.max_resources_bytes < l.max_uncompressed_total);
        assert!(l.max_ratio >= 10);
    }
}
