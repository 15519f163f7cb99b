-- When a command was last sent is known only to the connection that sent it (a board that
-- reconnects gets every waiting command again; it runs each id once), so the outbox no longer
-- writes a row per send.
ALTER TABLE board_commands DROP COLUMN sent_at;
ALTER TABLE board_commands DROP COLUMN attempts;

-- A tenant's live plays by id (the coordinator's online view pages through them): live rows
-- only, so the page never walks the tenant's history.
CREATE INDEX sessions_live_tenant_id ON sessions (tenant_id, id) WHERE live_key IS NOT NULL;
