-- When a command was last sent is known only to the connection that sent it (a board that
-- reconnects gets every waiting command again; it runs each id once), so the outbox no longer
-- writes a row per send.
ALTER TABLE board_commands DROP COLUMN sent_at;
ALTER TABLE board_commands DROP COLUMN attempts;
