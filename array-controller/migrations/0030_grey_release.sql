-- Grey releases: at most one a game. A share of the game's players (`per_mille` of 1000,
-- chosen by a stable hash of the player and `salt`) plays `version_id` instead of the game's
-- published version, optionally only those who come through one link or one campaign's links.
CREATE TABLE grey_releases (
    game_id    TEXT PRIMARY KEY REFERENCES games(id),
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    version_id TEXT NOT NULL REFERENCES versions(id),
    per_mille  INTEGER NOT NULL,
    link_id    TEXT REFERENCES links(id),
    campaign   TEXT,
    salt       TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- What each version's ended plays came to, per UTC day (days since the Unix epoch): plays that
-- reached the player, those that ended APP_CRASHED, their billable seconds and the players'
-- touch-to-screen samples (count and sum, microseconds). Added to in the transaction that ends
-- each play, never rewritten.
CREATE TABLE version_days (
    version_id      TEXT NOT NULL REFERENCES versions(id),
    day             BIGINT NOT NULL,
    plays           BIGINT NOT NULL DEFAULT 0,
    crashes         BIGINT NOT NULL DEFAULT 0,
    play_seconds    BIGINT NOT NULL DEFAULT 0,
    latency_samples BIGINT NOT NULL DEFAULT 0,
    latency_sum_us  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, day)
);
