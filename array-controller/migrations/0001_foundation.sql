-- Playrack's data plane. Portable SQL: the same file migrates SQLite and PostgreSQL.
-- Instants are Unix milliseconds (BIGINT); JSON documents are TEXT; ids are TEXT.

CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,            -- active | suspended
    priority_tier BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,     -- stored lower-case
    password_hash TEXT NOT NULL,            -- argon2id PHC string
    role          TEXT NOT NULL,
    tenant_id     TEXT REFERENCES tenants(id),
    created_at    BIGINT NOT NULL
);

-- Sign-in tokens: only the SHA-256 of the token is kept.
CREATE TABLE auth_tokens (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,             -- SHA-256 of the secret part
    role         TEXT NOT NULL,
    tenant_id    TEXT REFERENCES tenants(id),
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE specs (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    width                   BIGINT NOT NULL,
    height                  BIGINT NOT NULL,
    fps                     BIGINT NOT NULL,
    bitrate_min_kbps        BIGINT NOT NULL,
    bitrate_max_kbps        BIGINT NOT NULL,
    cpu_millis              BIGINT NOT NULL,
    memory_mb               BIGINT NOT NULL,
    price_per_minute_micros BIGINT NOT NULL,
    created_at              BIGINT NOT NULL
);

CREATE TABLE games (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    slug           TEXT NOT NULL,
    name           TEXT NOT NULL,
    archive_policy TEXT NOT NULL,           -- single_player | online
    spec_ids       TEXT NOT NULL,           -- JSON array, fallback order
    trial_defaults TEXT NOT NULL,           -- JSON TrialDefaults
    package_name   TEXT,                    -- fixed by the first READY version
    created_at     BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);

CREATE TABLE versions (
    id                 TEXT PRIMARY KEY,
    game_id            TEXT NOT NULL REFERENCES games(id),
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    state              TEXT NOT NULL,       -- UPLOADING | PARSING | READY | FAILED
    failure_code       TEXT,
    failure_message    TEXT,
    sha256             TEXT,
    icon_mime          TEXT,                -- set when the APK has an icon (stored by sha256)
    size_bytes         BIGINT NOT NULL,
    apk                TEXT,                -- JSON ApkSummary, once parsed
    ready_version_code BIGINT,              -- set only when READY: one READY per versionCode
    published_at       BIGINT,
    created_at         BIGINT NOT NULL,
    UNIQUE (game_id, ready_version_code)
);
CREATE INDEX versions_game ON versions (game_id, id);
CREATE INDEX versions_sha ON versions (sha256);

CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    version_id   TEXT NOT NULL REFERENCES versions(id),
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    length       BIGINT NOT NULL,
    offset_bytes BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE regions (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE rooms (
    id            TEXT PRIMARY KEY,
    region_id     TEXT NOT NULL REFERENCES regions(id),
    name          TEXT NOT NULL,
    instance_cap  BIGINT NOT NULL,
    shared_volume TEXT NOT NULL,
    probe_url     TEXT NOT NULL,
    placement     TEXT NOT NULL,            -- spread | binpack
    created_at    BIGINT NOT NULL,
    UNIQUE (region_id, name)
);

CREATE TABLE arrays (
    id         TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL REFERENCES rooms(id),
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (room_id, name)
);

CREATE TABLE boards (
    id         TEXT PRIMARY KEY,
    array_id   TEXT NOT NULL REFERENCES arrays(id),
    serial     TEXT NOT NULL UNIQUE,
    model      TEXT NOT NULL,
    capacity   TEXT NOT NULL,               -- JSON {spec_id: slots}
    status     TEXT NOT NULL,               -- active | draining | disabled
    created_at BIGINT NOT NULL
);

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    spec_id     TEXT NOT NULL REFERENCES specs(id),
    region_id   TEXT REFERENCES regions(id),
    room_ids    TEXT NOT NULL,              -- JSON array
    concurrency BIGINT NOT NULL,
    valid_from  BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    priority    BIGINT NOT NULL,
    status      TEXT NOT NULL,              -- active | cancelled
    created_at  BIGINT NOT NULL
);

CREATE TABLE deployments (
    version_id       TEXT NOT NULL REFERENCES versions(id),
    room_id          TEXT NOT NULL REFERENCES rooms(id),
    game_id          TEXT NOT NULL REFERENCES games(id),
    tenant_id        TEXT NOT NULL REFERENCES tenants(id),
    state            TEXT NOT NULL,         -- pending | syncing | ready | failed
    progress_percent BIGINT NOT NULL,
    error            TEXT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (version_id, room_id)
);

CREATE TABLE links (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    game_id       TEXT NOT NULL REFERENCES games(id),
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    trial_seconds BIGINT NOT NULL,
    expires_at    BIGINT,
    max_plays     BIGINT,
    plays_used    BIGINT NOT NULL,
    campaign      TEXT,
    revoked_at    BIGINT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    tenant_id  TEXT,
    action     TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    summary    TEXT NOT NULL,               -- JSON
    request_id TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
