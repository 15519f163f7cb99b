-- The touch-to-screen latency players measure in their plays (the SDK's probes, passed on in
-- the board's session reports): how many samples, their sum, the last and the largest, in
-- microseconds (integers: one type on both databases).
ALTER TABLE sessions ADD COLUMN latency_samples BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN latency_sum_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN latency_last_us BIGINT;
ALTER TABLE sessions ADD COLUMN latency_max_us BIGINT;
