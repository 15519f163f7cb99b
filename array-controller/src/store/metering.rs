//! Per-session meters and the usage ledger.
