-- Save archives, the usage ledger and tenant webhooks. Portable SQL (SQLite and PostgreSQL).

-- A player's saved game data, per (tenant, user, game). The bytes live in the package store at
-- archives/<id>.bin (named by the generated id only); a row exists only while its file does.
CREATE TABLE archives (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    user_key    TEXT NOT NULL,
    game_id     TEXT NOT NULL REFERENCES games(id),
    session_id  TEXT NOT NULL,              -- the play that saved it
    board_id    TEXT NOT NULL,              -- the board that uploaded it
    sha256      TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    android_sdk BIGINT NOT NULL,            -- API level of the instance that saved it
    tag         TEXT,
    pinned      BIGINT NOT NULL,            -- 1: never pruned by keep-newest-N
    created_at  BIGINT NOT NULL,
    UNIQUE (session_id, sha256)             -- an agent's retried upload is the same archive
);
CREATE INDEX archives_owner ON archives (tenant_id, user_key, game_id, created_at);

-- When a session started playing (metering::on_session_start), the spec's price at that
-- moment, and how many session.duration periods have been announced (live = 0 once it ended).
CREATE TABLE session_meter (
    session_id              TEXT PRIMARY KEY REFERENCES sessions(id),
    started_at              BIGINT NOT NULL,
    price_per_minute_micros BIGINT NOT NULL,
    duration_marks          BIGINT NOT NULL,
    live                    BIGINT NOT NULL
);
CREATE INDEX session_meter_live ON session_meter (live, started_at);

-- The usage ledger: exactly one row per ended session (the primary key refuses a second).
CREATE TABLE usage_ledger (
    session_id              TEXT PRIMARY KEY REFERENCES sessions(id),
    tenant_id               TEXT NOT NULL REFERENCES tenants(id),
    game_id                 TEXT NOT NULL,
    spec_id                 TEXT NOT NULL,
    room_id                 TEXT NOT NULL,
    board_id                TEXT NOT NULL,
    user_key                TEXT NOT NULL,
    end_reason              TEXT NOT NULL,
    reserved_at             BIGINT NOT NULL,   -- the session's creation
    started_at              BIGINT,            -- playing started (NULL: never played)
    ended_at                BIGINT NOT NULL,
    billable_secs           BIGINT NOT NULL,
    price_per_minute_micros BIGINT NOT NULL,
    amount_micros           BIGINT NOT NULL
);
CREATE INDEX usage_ledger_tenant ON usage_ledger (tenant_id, ended_at);

-- Tenant webhook endpoints. The secret signs deliveries, so it is kept as issued (like the
-- player-token key) and shown to the tenant only once, at creation.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,               -- JSON array of event types
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_tenant ON webhooks (tenant_id, id);

-- The outbox: one row per event × endpoint, written in the transaction that made the event.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,          -- the exact JSON body sent on every attempt
    state           TEXT NOT NULL,          -- pending | delivered | failed
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT,                 -- NULL once delivered or failed
    lease_until     BIGINT,                 -- a worker is sending it until then
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    delivery_id   TEXT NOT NULL,
    attempt       BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    status_code   BIGINT,
    error         TEXT,
    duration_ms   BIGINT NOT NULL,
    next_retry_at BIGINT,
    PRIMARY KEY (delivery_id, attempt)
);
