-- Scheduled maintenance of a room or a board. `state`: scheduled → announced → under_way →
-- done (or cancelled); `drained`: the boards it drained (space-separated ids), given back at the
-- end. The leader's pass reads the windows still open by `maintenance_open`.
CREATE TABLE maintenance (
    id           TEXT PRIMARY KEY,
    room_id      TEXT,
    board_id     TEXT,
    starts_at    BIGINT NOT NULL,
    ends_at      BIGINT NOT NULL,
    note         TEXT,
    state        TEXT NOT NULL,
    drained      TEXT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX maintenance_open ON maintenance (state, starts_at);
