-- Any number of controller replicas on one PostgreSQL: commands to boards go through an outbox
-- that the replica holding the board's connection delivers; replicas say how long they have
-- heard boards, so the leader judges a board's lease by the replica it is connected to.

-- A command waiting for its board's acknowledgement (deleted once acknowledged or expired).
CREATE TABLE board_commands (
    id         TEXT PRIMARY KEY,        -- the command id boards deduplicate by
    board_id   TEXT NOT NULL,
    body       TEXT NOT NULL,           -- JSON ControllerMessage::Command, sent as is
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at    BIGINT,                  -- last sent; sent again while unacknowledged
    attempts   BIGINT NOT NULL
);
CREATE INDEX board_commands_board ON board_commands (board_id, created_at, id);

-- One row per controller replica: alive until, and hearing boards since (NULL: it cannot).
CREATE TABLE controllers (
    id            TEXT PRIMARY KEY,
    started_at    BIGINT NOT NULL,
    seen_at       BIGINT NOT NULL,
    hearing_since BIGINT
);

-- The replica a board's agent is connected to.
ALTER TABLE boards ADD COLUMN controller_id TEXT;
CREATE INDEX boards_last_seen ON boards (last_seen_at);
