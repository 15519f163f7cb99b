//! Every type that crosses a process boundary, defined once.
