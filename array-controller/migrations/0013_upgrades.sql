-- Data upgrades done in Rust after the migrations (see `upgrade.rs`), by name, so each runs once.
CREATE TABLE upgrades (
    name    TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);
