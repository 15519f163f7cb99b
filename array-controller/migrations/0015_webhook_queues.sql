-- Each tenant's deliveries form their own queue, so one tenant's slow or hanging endpoints delay
-- only that tenant's events. A queue row says when the tenant's queue is next worth a look: the
-- earliest pending delivery's next attempt, or later while a controller already sends as many of
-- the tenant's deliveries at once as it allows one tenant.
CREATE TABLE webhook_queues (
    tenant_id   TEXT PRIMARY KEY,
    next_due_at BIGINT
);
CREATE INDEX webhook_queues_due ON webhook_queues (next_due_at);
CREATE INDEX webhook_deliveries_tenant_due ON webhook_deliveries (tenant_id, state, next_attempt_at);
-- A claimed delivery is due again only when its lease runs out.
UPDATE webhook_deliveries SET next_attempt_at = lease_until
    WHERE state = 'pending' AND lease_until IS NOT NULL AND lease_until > next_attempt_at;
INSERT INTO webhook_queues (tenant_id, next_due_at)
    SELECT tenant_id, MIN(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'
    GROUP BY tenant_id;
INSERT INTO webhook_queues (tenant_id)
    SELECT DISTINCT tenant_id FROM webhooks
    WHERE tenant_id NOT IN (SELECT tenant_id FROM webhook_queues);
