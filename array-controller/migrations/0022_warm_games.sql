-- The warm pool per game: instances a board keeps ready with a game installed and started.
-- `board_primed` is what each board holds ready now (from its heartbeats), read by placement
-- through its version index; `board_warm_games` is what the controller last asked each board
-- to keep ready, so a list is sent again only when it changes.
ALTER TABLE instances ADD COLUMN primed_version_id TEXT;

CREATE TABLE board_primed (
    board_id   TEXT NOT NULL REFERENCES boards(id),
    version_id TEXT NOT NULL,
    spec_id    TEXT NOT NULL,
    warm       BIGINT NOT NULL,
    PRIMARY KEY (board_id, version_id, spec_id)
);
CREATE INDEX board_primed_by_version ON board_primed (version_id, spec_id, board_id);

CREATE TABLE board_warm_games (
    board_id   TEXT NOT NULL REFERENCES boards(id),
    version_id TEXT NOT NULL,
    spec_id    TEXT NOT NULL,
    wanted     BIGINT NOT NULL,
    PRIMARY KEY (board_id, version_id, spec_id)
);
