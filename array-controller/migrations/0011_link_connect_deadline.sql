-- A try-play link's own connect deadline (seconds; NULL: the game's, else the controller's).
ALTER TABLE links ADD COLUMN connect_deadline_seconds BIGINT;
