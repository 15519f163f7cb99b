-- What a board says of each instance beyond its state: the video encoder of its current or
-- last play, and when it was booted (the operator's instance list shows both).
ALTER TABLE instances ADD COLUMN encoder TEXT;
ALTER TABLE instances ADD COLUMN booted_at BIGINT;
