//! The array controller (filled in by the Foundation issue).
