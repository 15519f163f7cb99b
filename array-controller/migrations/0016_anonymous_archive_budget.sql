-- Anonymous players (a device id, no account) can be made up without end, so all of one
-- tenant's anonymous archives share one byte budget: `archive_usage` keeps their total, written
-- with each insert and delete, and a save beyond the budget evicts the tenant's least recently
-- saved unpinned anonymous archives.
ALTER TABLE archives ADD COLUMN anonymous BIGINT NOT NULL DEFAULT 0;
UPDATE archives SET anonymous = 1 WHERE user_key LIKE 'device:%';
CREATE INDEX archives_anonymous ON archives (tenant_id, anonymous, pinned, created_at);
CREATE TABLE archive_usage (
    tenant_id       TEXT PRIMARY KEY,
    anonymous_bytes BIGINT NOT NULL
);
INSERT INTO archive_usage (tenant_id, anonymous_bytes)
    SELECT tenant_id, SUM(size_bytes) FROM archives WHERE anonymous = 1 GROUP BY tenant_id;
