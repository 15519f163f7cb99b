-- Board agents: room enrolment tokens, per-board credentials, liveness and the instances each
-- board reports. Portable SQL (SQLite and PostgreSQL).

ALTER TABLE rooms ADD COLUMN enrolment_token_hash TEXT;

ALTER TABLE boards ADD COLUMN credential_hash TEXT;
ALTER TABLE boards ADD COLUMN agent_state TEXT NOT NULL DEFAULT 'offline';   -- online | offline | lost
ALTER TABLE boards ADD COLUMN last_seen_at BIGINT;
ALTER TABLE boards ADD COLUMN agent_version TEXT;
ALTER TABLE boards ADD COLUMN signaling_url TEXT;
ALTER TABLE boards ADD COLUMN telemetry TEXT;                                -- JSON Telemetry

CREATE TABLE instances (
    board_id    TEXT NOT NULL REFERENCES boards(id),
    id          TEXT NOT NULL,
    spec_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    session_id  TEXT,
    package     TEXT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (board_id, id)
);
