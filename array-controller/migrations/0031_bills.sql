-- Bills. Each tenant is billed period by period (a calendar month unless configured otherwise).
-- `billing_accounts` holds the tenant's open period; once the clock has passed its end, the
-- leader closes it into a row of `bills` with its `bill_items`, which never change afterwards.
CREATE TABLE billing_accounts (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    open_from  BIGINT NOT NULL,
    open_until BIGINT NOT NULL
);
CREATE INDEX billing_accounts_due ON billing_accounts (open_until);

-- A closed statement. The id is derived from the tenant and the period's start, so the open
-- statement shows the id its bill will have.
CREATE TABLE bills (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id),
    period_start       BIGINT NOT NULL,
    period_end         BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    usage_secs         BIGINT NOT NULL,
    usage_micros       BIGINT NOT NULL,
    concurrency_micros BIGINT NOT NULL,
    total_micros       BIGINT NOT NULL,
    closed_at          BIGINT NOT NULL,
    UNIQUE (tenant_id, period_start)
);
CREATE INDEX bills_period ON bills (period_start, tenant_id);

-- A statement's lines: `usage` (a spec's billable seconds at one price per minute), `late`
-- (one session whose ledger row came after the bill of the period it ended in had closed; it
-- names that session and that bill) and `concurrency` (an order's concurrency, pro rata to the
-- part of the period it was bought for, at its price per unit and period).
CREATE TABLE bill_items (
    bill_id           TEXT NOT NULL REFERENCES bills(id),
    line              BIGINT NOT NULL,
    kind              TEXT NOT NULL,
    spec_id           TEXT NOT NULL,
    sessions          BIGINT NOT NULL,
    quantity          BIGINT NOT NULL,
    covered_secs      BIGINT NOT NULL,
    unit_price_micros BIGINT NOT NULL,
    amount_micros     BIGINT NOT NULL,
    order_id          TEXT,
    session_id        TEXT,
    late_from_bill_id TEXT,
    PRIMARY KEY (bill_id, line)
);

-- Which bill a ledger row went into (NULL while its period is open). Only the unbilled rows
-- are in the partial index the open statement and the close read.
ALTER TABLE usage_ledger ADD COLUMN bill_id TEXT;
CREATE INDEX usage_ledger_unbilled ON usage_ledger (tenant_id, ended_at) WHERE bill_id IS NULL;
CREATE INDEX usage_ledger_bill ON usage_ledger (bill_id, spec_id);

-- An order's price: one unit of its concurrency for one whole billing period.
ALTER TABLE orders ADD COLUMN price_per_period_micros BIGINT NOT NULL DEFAULT 0;

-- An order's terms over time: from `effective_from` on, `concurrency` units (0 once cancelled)
-- at `price_per_period_micros`. Appended on every change, so a bill charges each part of its
-- period at the terms then.
CREATE TABLE order_terms (
    order_id                TEXT NOT NULL REFERENCES orders(id),
    effective_from          BIGINT NOT NULL,
    concurrency             BIGINT NOT NULL,
    price_per_period_micros BIGINT NOT NULL,
    PRIMARY KEY (order_id, effective_from)
);
INSERT INTO order_terms (order_id, effective_from, concurrency, price_per_period_micros)
SELECT id, 0, CASE WHEN status = 'active' THEN concurrency ELSE 0 END, 0 FROM orders;
