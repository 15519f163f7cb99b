-- Operator shell commands run in instances, with their output as the board streams it back.
CREATE TABLE shell_runs (
    id           TEXT PRIMARY KEY,
    board_id     TEXT NOT NULL REFERENCES boards(id),
    instance_id  TEXT NOT NULL,
    command      TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    status       TEXT NOT NULL,             -- running | done | failed
    exit_code    BIGINT,
    output       TEXT NOT NULL,
    error        TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
