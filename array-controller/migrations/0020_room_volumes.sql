-- Each machine room keeps one copy of every package deployed there on its shared volume: a
-- controller places it (room_packages, claimed by one replica at a time), then the room's
-- boards copy it from that volume and say how far they got (board_packages).
CREATE TABLE room_packages (
    room_id          TEXT NOT NULL REFERENCES rooms(id),
    sha256           TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    state            TEXT NOT NULL,          -- placing | placed | unreachable
    progress_percent BIGINT NOT NULL,
    error            TEXT,
    attempts         BIGINT NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    claimed_by       TEXT,
    claimed_until    BIGINT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (room_id, sha256)
);
CREATE INDEX room_packages_due ON room_packages (state, next_attempt_at);

CREATE TABLE board_packages (
    board_id         TEXT NOT NULL REFERENCES boards(id),
    sha256           TEXT NOT NULL,
    state            TEXT NOT NULL,          -- syncing | ready | failed
    progress_percent BIGINT NOT NULL,
    error            TEXT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (board_id, sha256)
);
CREATE INDEX board_packages_by_package ON board_packages (sha256, board_id);

-- Packages deployed before volumes were placed are placed now.
INSERT INTO room_packages (room_id, sha256, size_bytes, state, progress_percent, attempts, next_attempt_at, updated_at)
SELECT DISTINCT d.room_id, v.sha256, v.size_bytes, 'placing', 0, 0, 0, 0
FROM deployments d JOIN versions v ON v.id = d.version_id WHERE v.sha256 IS NOT NULL;
