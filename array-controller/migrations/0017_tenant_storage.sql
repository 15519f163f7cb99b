-- Each tenant's packages count against a storage quota: `package_bytes` is the size of its
-- versions that are not FAILED (an upload counts from its start, at its declared length), kept by
-- the store when a version is created or fails; `storage_quota_bytes` is the operator's setting
-- for the tenant (NULL: the platform default).
ALTER TABLE tenants ADD COLUMN storage_quota_bytes BIGINT;
ALTER TABLE tenants ADD COLUMN package_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE tenants SET package_bytes = COALESCE(
    (SELECT SUM(size_bytes) FROM versions v WHERE v.tenant_id = tenants.id AND v.state <> 'FAILED'), 0);
