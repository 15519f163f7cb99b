-- Session lifecycle: the controller's session-token signing key, and what the board agent
-- reports about each play (connection, input, instance).

CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,               -- hex Ed25519 secret key (never leaves the controller)
    public_key TEXT NOT NULL,               -- base64url, given to agents at enrolment
    created_at BIGINT NOT NULL
);

ALTER TABLE sessions ADD COLUMN instance_id TEXT;
ALTER TABLE sessions ADD COLUMN connected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN ready_at BIGINT;
ALTER TABLE sessions ADD COLUMN playing_since BIGINT;
ALTER TABLE sessions ADD COLUMN last_input_at BIGINT;
ALTER TABLE sessions ADD COLUMN disconnected_at BIGINT;
