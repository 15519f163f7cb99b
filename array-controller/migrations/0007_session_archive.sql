-- The archive a player chose to restore (absent: the newest compatible one).
ALTER TABLE sessions ADD COLUMN archive_id TEXT;
