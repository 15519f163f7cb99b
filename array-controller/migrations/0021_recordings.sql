-- Recordings of plays' video (MP4 files written by the boards, kept in the package store's
-- recordings/ directory until expires_at).
CREATE TABLE recordings (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    session_id    TEXT NOT NULL,
    game_id       TEXT NOT NULL,
    board_id      TEXT NOT NULL,
    state         TEXT NOT NULL,            -- recording | ready | failed
    frames        BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT,
    error         TEXT,
    requested_by  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX recordings_by_session ON recordings (session_id, id);
CREATE INDEX recordings_by_tenant ON recordings (tenant_id, id);
CREATE INDEX recordings_by_expiry ON recordings (expires_at);
CREATE INDEX recordings_by_state ON recordings (state, created_at);
