//! Try-play links.
