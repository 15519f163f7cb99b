-- Live state apart from history: capacity in use is kept as counts updated in the transaction
-- that changes it, and every query of the session core finds its rows by an index that ended
-- sessions and closed tickets are not in (partial indexes on `live_key IS NOT NULL`, which is
-- true exactly while a session is not ended). Portable SQL (SQLite and PostgreSQL).

-- Sessions counted against an order's concurrency and a room's instance cap (not ended).
ALTER TABLE orders ADD COLUMN in_use BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN in_use BIGINT NOT NULL DEFAULT 0;
UPDATE orders SET in_use = (SELECT COUNT(*) FROM sessions s WHERE s.order_id = orders.id AND s.state <> 'ended');
UPDATE rooms SET in_use = (SELECT COUNT(*) FROM sessions s WHERE s.room_id = rooms.id AND s.state <> 'ended');
CREATE INDEX orders_tenant ON orders (tenant_id, status);

-- A board's slots of one spec: how many there are, how many are held, how many warm instances
-- the board reported, and whether the board takes plays now (agent online, status active).
-- A slot is held from the reservation until the board reports the play's instance released
-- (or the board is lost, or its hello no longer reports the play), so a promotion never
-- targets an instance that is still resetting. Rows are kept by `store::slots`.
CREATE TABLE board_slots (
    board_id    TEXT NOT NULL REFERENCES boards(id),
    spec_id     TEXT NOT NULL,
    room_id     TEXT NOT NULL,
    capacity    BIGINT NOT NULL,
    in_use      BIGINT NOT NULL,
    warm        BIGINT NOT NULL,
    schedulable BIGINT NOT NULL,
    PRIMARY KEY (board_id, spec_id)
);
CREATE INDEX board_slots_pick ON board_slots (room_id, spec_id, schedulable, in_use);

-- slot_held: 1 while the session holds its board slot (see above).
-- connect_deadline: a reservation not yet playing ends NO_SHOW after it (NULL once playing or ended).
-- next_timer_at: no play timer fires before it (NULL unless playing).
-- ticket_id: the queue ticket this session was promoted from, if any.
ALTER TABLE sessions ADD COLUMN slot_held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN connect_deadline BIGINT;
ALTER TABLE sessions ADD COLUMN next_timer_at BIGINT;
ALTER TABLE sessions ADD COLUMN ticket_id TEXT;
UPDATE sessions SET slot_held = 1 WHERE state <> 'ended';
UPDATE sessions SET next_timer_at = 0 WHERE state = 'playing';

CREATE INDEX sessions_live_board ON sessions (board_id) WHERE live_key IS NOT NULL;
CREATE INDEX sessions_live_id ON sessions (id) WHERE live_key IS NOT NULL;
CREATE INDEX sessions_live_state ON sessions (state) WHERE live_key IS NOT NULL;
CREATE INDEX sessions_live_tenant ON sessions (tenant_id, created_at) WHERE live_key IS NOT NULL;
CREATE INDEX sessions_held ON sessions (board_id, spec_id) WHERE slot_held = 1;
CREATE INDEX sessions_connect_deadline ON sessions (connect_deadline);
CREATE INDEX sessions_next_timer ON sessions (next_timer_at);
CREATE INDEX sessions_recent_ends ON sessions (tenant_id, ended_at);

-- The line: heads per tenant in priority order, and which tenants have anyone waiting.
DROP INDEX tickets_waiting;
CREATE INDEX tickets_line ON tickets (tenant_id, state, priority_tier DESC, user_level DESC, seq, id);
CREATE INDEX tickets_state ON tickets (state, tenant_id);
CREATE INDEX idempotency_age ON idempotency (created_at);
