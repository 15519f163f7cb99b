-- Watch links: a tenant's read-only links to one live play (kind 'session') or to a wall of a
-- game's live plays (kind 'wall'). The code is a bearer capability: only its SHA-256 is kept.
CREATE TABLE watch_links (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    kind        TEXT NOT NULL,
    session_id  TEXT,
    game_id     TEXT NOT NULL REFERENCES games(id),
    code_sha256 TEXT NOT NULL UNIQUE,
    max_viewers BIGINT NOT NULL,
    tiles       BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX watch_links_tenant ON watch_links (tenant_id, id);
-- A wall reads its game's live plays, newest first.
CREATE INDEX sessions_live_game ON sessions (game_id, created_at) WHERE live_key IS NOT NULL;
