//! Players' saved archives.
