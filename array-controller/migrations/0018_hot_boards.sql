-- Placement by telemetry: a room's limits on its boards' CPU and temperature, and each board's
-- judgment — `hot` is the reason it takes no new plays while it cools down (NULL: it takes them).
ALTER TABLE rooms ADD COLUMN max_cpu_percent INTEGER NOT NULL DEFAULT 90;
ALTER TABLE rooms ADD COLUMN max_temperature_c INTEGER NOT NULL DEFAULT 85;
ALTER TABLE boards ADD COLUMN hot TEXT;
