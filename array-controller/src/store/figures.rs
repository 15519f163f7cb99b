//! Link figures: the `link_days` table, one row per link and UTC day, only ever added to (an
//! upsert that sums), and its reads per link and per campaign (the links with one tag).

use crate::db::WriteTx;
use playrack_wire::api::{Campaign, Figures};
use sqlx::{AnyPool, Executor};

/// Counts to add to one link's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub opens: i64,
    pub acquires: i64,
    pub queued: i64,
    pub plays: i64,
    pub play_seconds: i64,
    pub conversions: i64,
}

const ADD: &str = "INSERT INTO link_days (link_id, day, opens, acquires, queued, plays, play_seconds, conversions) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (link_id, day) DO UPDATE SET \
     opens = link_days.opens + excluded.opens, acquires = link_days.acquires + excluded.acquires, \
     queued = link_days.queued + excluded.queued, plays = link_days.plays + excluded.plays, \
     play_seconds = link_days.play_seconds + excluded.play_seconds, \
     conversions = link_days.conversions + excluded.conversions";

async fn add_with<'e, E: Executor<'e, Database = sqlx::Any>>(
    e: E,
    link_id: &str,
    day: i64,
    t: &Tally,
) -> Result<(), sqlx::Error> {
    sqlx::query(ADD)
        .bind(link_id)
        .bind(day)
        .bind(t.opens)
        .bind(t.acquires)
        .bind(t.queued)
        .bind(t.plays)
        .bind(t.play_seconds)
        .bind(t.conversions)
        .execute(e)
        .await?;
    Ok(())
}

/// Adds to a link's day inside a write transaction (counted with what it counts).
pub async fn add(tx: &mut WriteTx, link_id: &str, day: i64, t: &Tally) -> Result<(), sqlx::Error> {
    add_with(&mut ***tx, link_id, day, t).await
}

/// Adds to a link's day on its own (the batched counts of public requests).
pub async fn add_now(
    pool: &AnyPool,
    link_id: &str,
    day: i64,
    t: &Tally,
) -> Result<(), sqlx::Error> {
    add_with(pool, link_id, day, t).await
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: i64,
    opens: i64,
    acquires: i64,
    queued: i64,
    plays: i64,
    play_seconds: i64,
    conversions: i64,
}

impl From<&DayRow> for Figures {
    fn from(r: &DayRow) -> Self {
        let n = |v: i64| v.max(0) as u64;
        Figures {
            opens: n(r.opens),
            acquires: n(r.acquires),
            queued: n(r.queued),
            plays: n(r.plays),
            play_seconds: n(r.play_seconds),
            conversions: n(r.conversions),
        }
    }
}

/// One link's days in `[from, to)` (days since the epoch), in order.
pub async fn for_link(
    pool: &AnyPool,
    link_id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Figures)>, sqlx::Error> {
    let rows: Vec<DayRow> = sqlx::query_as(
        "SELECT day, opens, acquires, queued, plays, play_seconds, conversions FROM link_days \
         WHERE link_id = $1 AND day >= $2 AND day < $3 ORDER BY day",
    )
    .bind(link_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| (r.day, r.into())).collect())
}

/// The days in `[from, to)` of a tenant's links tagged `campaign`, summed per day, in order.
pub async fn for_campaign(
    pool: &AnyPool,
    tenant_id: &str,
    campaign: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Figures)>, sqlx::Error> {
    let rows: Vec<DayRow> = sqlx::query_as(
        "SELECT d.day AS day, CAST(SUM(d.opens) AS BIGINT) AS opens, \
         CAST(SUM(d.acquires) AS BIGINT) AS acquires, CAST(SUM(d.queued) AS BIGINT) AS queued, \
         CAST(SUM(d.plays) AS BIGINT) AS plays, CAST(SUM(d.play_seconds) AS BIGINT) AS play_seconds, \
         CAST(SUM(d.conversions) AS BIGINT) AS conversions \
         FROM links l JOIN link_days d ON d.link_id = l.id \
         WHERE l.tenant_id = $1 AND l.campaign = $2 AND d.day >= $3 AND d.day < $4 \
         GROUP BY d.day ORDER BY d.day",
    )
    .bind(tenant_id)
    .bind(campaign)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| (r.day, r.into())).collect())
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    campaign: String,
    links: i64,
    #[sqlx(flatten)]
    total: DayRow,
}

/// A tenant's campaigns after `after` in name order, at most `limit`, with their link counts
/// and their links' figures summed over the days `[from, to)`.
pub async fn campaigns(
    pool: &AnyPool,
    tenant_id: &str,
    after: &str,
    (from, to): (i64, i64),
    limit: i64,
) -> Result<Vec<Campaign>, sqlx::Error> {
    let rows: Vec<CampaignRow> = sqlx::query_as(
        "SELECT l.campaign AS campaign, COUNT(DISTINCT l.id) AS links, 0 AS day, \
         CAST(COALESCE(SUM(d.opens), 0) AS BIGINT) AS opens, \
         CAST(COALESCE(SUM(d.acquires), 0) AS BIGINT) AS acquires, \
         CAST(COALESCE(SUM(d.queued), 0) AS BIGINT) AS queued, \
         CAST(COALESCE(SUM(d.plays), 0) AS BIGINT) AS plays, \
         CAST(COALESCE(SUM(d.play_seconds), 0) AS BIGINT) AS play_seconds, \
         CAST(COALESCE(SUM(d.conversions), 0) AS BIGINT) AS conversions \
         FROM links l LEFT JOIN link_days d ON d.link_id = l.id AND d.day >= $3 AND d.day < $4 \
         WHERE l.tenant_id = $1 AND l.campaign IS NOT NULL AND l.campaign > $2 \
         GROUP BY l.campaign ORDER BY l.campaign LIMIT $5",
    )
    .bind(tenant_id)
    .bind(after)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Campaign {
            links: r.links.clamp(0, u32::MAX as i64) as u32,
            total: (&r.total).into(),
            name: r.campaign,
        })
        .collect())
}
