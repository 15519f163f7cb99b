//! [`ApkError`]: everything that can go wrong while inspecting an APK, with a stable code.
//!
//! The codes (`APK_…`) cross process boundaries — the controller returns them to uploaders and
//! stores them with rejected uploads — so they never change once released. The messages are for
//! humans and may be reworded; each one says what is wrong and where.
//!
//! The decoders (`axml`, `arsc`) report a [`DecodeError`] without knowing which file they are
//! reading; the caller turns it into [`ApkError::MalformedManifest`] or
//! [`ApkError::MalformedResources`], so the same string-pool bug in either file gets the right code.

use std::fmt;

/// Why an APK could not be inspected. Match on [`ApkError::code`] across process boundaries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApkError {
    /// The bytes are not a zip archive we accept (no end-of-central-directory record, offsets
    /// outside the file, an entry whose data is corrupt, ZIP64, encryption, …).
    #[error("not a valid APK: {0}")]
    NotAZip(String),
    /// The archive has no `AndroidManifest.xml` entry at its root.
    #[error("not a valid APK: the archive has no AndroidManifest.xml at its root")]
    NoManifest,
    /// `AndroidManifest.xml` is not well-formed Android binary XML.
    #[error("AndroidManifest.xml is malformed: {0}")]
    MalformedManifest(String),
    /// `resources.arsc` is missing or malformed and was needed (to resolve the label or icon).
    #[error("resources.arsc is malformed: {0}")]
    MalformedResources(String),
    /// A safety limit from [`crate::Limits`] was exceeded: too many entries, too many bytes
    /// declared or actually inflated, or an entry that expands more than the allowed ratio.
    #[error("APK rejected as a possible zip bomb: {0}")]
    ZipBomb(String),
    /// The manifest lacks a field every APK must have.
    #[error("AndroidManifest.xml is missing a required field: {0}")]
    MissingField(&'static str),
    /// Reading the underlying file or stream failed.
    #[error("I/O error while reading the APK: {0}")]
    Io(#[from] std::io::Error),
}

impl ApkError {
    /// The stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApkError::NotAZip(_) => "APK_NOT_A_ZIP",
            ApkError::NoManifest => "APK_NO_MANIFEST",
            ApkError::MalformedManifest(_) => "APK_MALFORMED_MANIFEST",
            ApkError::MalformedResources(_) => "APK_MALFORMED_RESOURCES",
            ApkError::ZipBomb(_) => "APK_ZIP_BOMB",
            ApkError::MissingField(_) => "APK_MISSING_FIELD",
            ApkError::Io(_) => "APK_IO",
        }
    }
}

/// A structural problem found by one of the chunk decoders, with the byte offset where it was
/// found. Converted into an [`ApkError`] by whoever knows which file was being decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset into the decoded file.
    pub offset: usize,
    /// What is wrong, for a human.
    pub what: String,
}

impl DecodeError {
    pub(crate) fn new(offset: usize, what: impl Into<String>) -> Self {
        DecodeError {
            offset,
            what: what.into(),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte offset {:#x})", self.what, self.offset)
    }
}

impl std::error::Error for DecodeError {}
