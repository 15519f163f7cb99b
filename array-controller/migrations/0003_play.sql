-- Playing: tenant player-token keys, sessions, queue tickets, idempotent acquires.

-- The HMAC key a tenant's backend signs player tokens with. Verification needs the key itself,
-- so it is stored as issued (it never leaves the controller after creation).
CREATE TABLE player_keys (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants(id),
    game_id              TEXT NOT NULL REFERENCES games(id),
    version_id           TEXT NOT NULL REFERENCES versions(id),
    user_key             TEXT NOT NULL,
    link_id              TEXT,
    spec_id              TEXT NOT NULL,
    order_id             TEXT NOT NULL REFERENCES orders(id),
    room_id              TEXT NOT NULL REFERENCES rooms(id),
    board_id             TEXT NOT NULL REFERENCES boards(id),
    state                TEXT NOT NULL,     -- reserved | preparing | ready | playing | ending | ended
    end_reason           TEXT,
    downgraded           BIGINT NOT NULL,
    max_play_secs        BIGINT NOT NULL,
    reconnect_grace_secs BIGINT NOT NULL,
    idle_kick_secs       BIGINT NOT NULL,
    device               TEXT,              -- JSON DeviceInfo
    created_at           BIGINT NOT NULL,
    ended_at             BIGINT,
    live_key             TEXT UNIQUE        -- tenant|user|game while not ended: one live play each
);
CREATE INDEX sessions_board ON sessions (board_id, state);
CREATE INDEX sessions_order ON sessions (order_id, state);
CREATE INDEX sessions_tenant ON sessions (tenant_id, id);

CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    game_id        TEXT NOT NULL REFERENCES games(id),
    user_key       TEXT NOT NULL,
    link_id        TEXT,
    request        TEXT NOT NULL,          -- JSON AcquireRequest, replayed at promotion
    priority_tier  BIGINT NOT NULL,
    user_level     BIGINT NOT NULL,
    seq            BIGINT NOT NULL,        -- arrival order (FIFO within a priority)
    state          TEXT NOT NULL,          -- waiting | promoted | claimed | cancelled | evicted | expired
    reason         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    claim_deadline BIGINT,
    session_id     TEXT,
    live_key       TEXT UNIQUE             -- tenant|user|game while waiting or promoted
);
CREATE INDEX tickets_waiting ON tickets (tenant_id, state, priority_tier, user_level, seq);

CREATE TABLE idempotency (
    scope      TEXT NOT NULL,
    key        TEXT NOT NULL,
    response   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
