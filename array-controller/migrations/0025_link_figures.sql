-- What each try-play link led to, per UTC day (days since the Unix epoch): card opens, acquires
-- (and those that queued), plays that started, their billable seconds, and call-to-action
-- clicks. Rows are added to, never rewritten: `ON CONFLICT … DO UPDATE SET n = n + excluded.n`.
CREATE TABLE link_days (
    link_id      TEXT NOT NULL REFERENCES links(id),
    day          BIGINT NOT NULL,
    opens        BIGINT NOT NULL DEFAULT 0,
    acquires     BIGINT NOT NULL DEFAULT 0,
    queued       BIGINT NOT NULL DEFAULT 0,
    plays        BIGINT NOT NULL DEFAULT 0,
    play_seconds BIGINT NOT NULL DEFAULT 0,
    conversions  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day)
);
-- A campaign's links, and a tenant's campaigns in name order.
CREATE INDEX links_campaign ON links (tenant_id, campaign) WHERE campaign IS NOT NULL;
