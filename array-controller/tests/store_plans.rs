//! The session core's queries find their rows by index, never by reading history: with
//! thousands of ended sessions and closed tickets in the tables, each hot query's plan (SQLite's
//! `EXPLAIN QUERY PLAN`, PostgreSQL's `EXPLAIN` with sequential scans priced out) reads
//! `sessions` and `tickets` (and the webhook sender's `webhook_deliveries` and `webhook_queues`,
//! one object's history in `audit_log`, and the billed rows of `usage_ledger`) only through an
//! index that bounds it — a lookup, a range, or a whole partial index of live (or unbilled) rows.

use playrack_test_support as support;

use array_controller::store::{audit, bills, sessions, tickets, warm, webhooks};
use support::{Ctl, backends, world};

/// Ended sessions and closed tickets written as history before the plans are read.
const HISTORY: i64 = 5_000;

/// Indexes that hold only live rows (or the open period's unbilled ledger rows): reading the
/// whole of one is O(live), not O(history).
const LIVE_ONLY: [&str; 7] = [
    "usage_ledger_unbilled",
    "sessions_live_board",
    "sessions_live_id",
    "sessions_live_state",
    "sessions_live_tenant",
    "sessions_live_tenant_id",
    "sessions_held",
];

/// A hot query with example arguments (text or integer).
enum Arg {
    Text(&'static str),
    Int(i64),
}

fn hot_queries() -> Vec<(&'static str, String, Vec<Arg>)> {
    use Arg::*;
    let live = |tenant| sessions::Filter {
        tenant,
        game: None,
        live: true,
    };
    let queries: Vec<(&'static str, &'static str, Vec<Arg>)> = vec![
        ("live_by_key", sessions::LIVE_BY_KEY, vec![Text("t|u|g")]),
        ("no_shows", sessions::NO_SHOWS, vec![Int(1_000), Int(512)]),
        (
            "timers_due",
            sessions::TIMERS_DUE,
            vec![Int(1_000), Int(512)],
        ),
        (
            "live_on_board",
            sessions::LIVE_ON_BOARD,
            vec![Text("brd_x")],
        ),
        (
            "held_ended_on_board",
            sessions::HELD_ENDED_ON_BOARD,
            vec![Text("brd_x")],
        ),
        (
            "oldest_live",
            sessions::OLDEST_LIVE,
            vec![Text("ten_x"), Int(64)],
        ),
        (
            "recent_lengths",
            sessions::RECENT_LENGTHS,
            vec![Text("ten_x"), Int(20)],
        ),
        ("live_counts", sessions::LIVE_COUNTS, vec![]),
        // The warm pool's sizing: the primary key's recent end (ids sort by time).
        (
            "warm_arrivals",
            warm::ARRIVALS,
            vec![
                Text("ses_01zzzzzzzzzzzzzzzzzzzzzzzz"),
                Text("ses_02zzzzzzzzzzzzzzzzzzzzzzzz"),
            ],
        ),
        ("waiting_tenants", tickets::WAITING_TENANTS, vec![]),
        ("heads", tickets::HEADS, vec![Text("ten_x"), Int(32)]),
        ("quiet", tickets::QUIET, vec![Int(1_000), Int(256)]),
        ("unclaimed", tickets::UNCLAIMED, vec![Int(1_000), Int(256)]),
        (
            "webhook_due_tenants",
            webhooks::DUE_TENANTS,
            vec![Int(1_000), Int(64)],
        ),
        (
            "webhook_due_of_tenant",
            webhooks::DUE_OF_TENANT,
            vec![Text("ten_x"), Text("pending"), Int(1_000), Int(8)],
        ),
        // One object's history (the console's history page), and the next page of it.
        (
            "object_history",
            audit::HISTORY,
            vec![Text("lnk_x"), Text("ten_x"), Text(""), Int(51)],
        ),
        (
            "object_history_older",
            audit::HISTORY,
            vec![
                Text("lnk_x"),
                Text(""),
                Text("aud_02zzzzzzzzzzzzzzzzzzzzzzzz"),
                Int(51),
            ],
        ),
        // Bills: the open statement and the close read the unbilled rows or one bill's.
        (
            "bill_open_usage",
            bills::OPEN_USAGE,
            vec![Text("ten_x"), Int(1_000), Int(2_000)],
        ),
        (
            "bill_open_late",
            bills::OPEN_LATE,
            vec![Text("ten_x"), Int(1_000)],
        ),
        (
            "bill_usage",
            bills::BILLED_USAGE,
            vec![Text("bil_x"), Int(1_000)],
        ),
        (
            "bill_late",
            bills::BILLED_LATE,
            vec![Text("bil_x"), Int(1_000)],
        ),
        (
            "bill_mark",
            bills::MARK_BILLED,
            vec![Text("bil_x"), Text("ten_x"), Int(2_000)],
        ),
    ];
    let mut all: Vec<_> = queries
        .into_iter()
        .map(|(name, sql, args)| (name, sql.to_owned(), args))
        .collect();
    // The coordinator's online view: every tenant's live plays, or one tenant's.
    all.push((
        "online",
        sessions::page_sql(live(None)),
        vec![Text(""), Int(51)],
    ));
    all.push((
        "online_of_tenant",
        sessions::page_sql(live(Some("ten_x"))),
        vec![Text(""), Int(51), Text("ten_x")],
    ));
    all
}

async fn explain(ctl: &Ctl, sql: &str, args: &[Arg]) -> Vec<String> {
    let pool = &ctl.state().db.pool;
    let text = match ctl.backend {
        "sqlite" => format!("EXPLAIN QUERY PLAN {sql}"),
        _ => format!("EXPLAIN {sql}"),
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
    for a in args {
        q = match a {
            Arg::Text(t) => q.bind(*t),
            Arg::Int(i) => q.bind(*i),
        };
    }
    let mut conn = pool.acquire().await.unwrap();
    if ctl.backend == "postgres" {
        // With sequential scans priced out, a plan that still reads a whole table has no index
        // to use at all.
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let rows = q.fetch_all(&mut *conn).await.unwrap();
    if ctl.backend == "postgres" {
        sqlx::query("RESET enable_seqscan")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    use sqlx::Row;
    rows.iter()
        .map(|r| {
            r.try_get::<String, _>(if ctl.backend == "sqlite" { 3 } else { 0 })
                .unwrap()
        })
        .collect()
}

/// What is wrong with a plan, if anything. A query over live sessions (`live_key IS NOT NULL`)
/// must read them through an index of live rows: a range of a full index (a tenant's
/// sessions, say) still walks that tenant's history.
fn unbounded(backend: &str, sql: &str, plan: &[String]) -> Option<String> {
    if sql.contains("FROM sessions")
        && sql.contains("live_key IS NOT NULL")
        && !plan
            .iter()
            .any(|l| LIVE_ONLY.iter().any(|ix| l.contains(ix)))
    {
        return Some(format!(
            "reads live sessions through no index of live rows: {plan:?}"
        ));
    }
    for (i, line) in plan.iter().enumerate() {
        let l = line.trim();
        let table = [
            "sessions",
            "tickets",
            "webhook_deliveries",
            "webhook_queues",
            "audit_log",
            "usage_ledger",
        ]
        .into_iter()
        .find(|t| l.contains(&format!(" {t}")) || l.contains(&format!(" on {t}")));
        let Some(table) = table else { continue };
        if backend == "sqlite" {
            // SEARCH: an index lookup or range. SCAN: the whole table, or the whole of one index.
            if l.starts_with("SCAN") && !LIVE_ONLY.iter().any(|ix| l.contains(ix)) {
                return Some(format!("reads the whole of {table}: {l}"));
            }
        } else {
            if l.contains("Seq Scan") {
                return Some(format!("reads the whole of {table}: {l}"));
            }
            // An index scan must have a condition on the index, unless the index holds only
            // live rows; a bare scan of a full index reads history in index order.
            if l.contains("Index") && l.contains(" using ") {
                let partial = LIVE_ONLY.iter().any(|ix| l.contains(ix));
                let cond = plan[i + 1..]
                    .iter()
                    .take_while(|n| !n.trim_start().starts_with("->"))
                    .any(|n| n.contains("Index Cond"));
                if !partial && !cond {
                    return Some(format!("scans a whole index of {table}: {l}"));
                }
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_queries_read_live_rows_by_index_not_history() {
    for backend in backends() {
        let ctl = Ctl::start(backend).await;
        let w = world(&ctl, 1, 2, 10).await;
        let pool = &ctl.state().db.pool;
        let order: String = sqlx::query_scalar("SELECT id FROM orders LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
        let board = &w.agents[0].board_id;
        // History: ended sessions and closed tickets, in batches.
        for batch in 0..HISTORY / 500 {
            let mut tx = pool.begin().await.unwrap();
            for i in 0..500 {
                let n = batch * 500 + i;
                sqlx::query(
                    "INSERT INTO sessions (id, tenant_id, game_id, version_id, user_key, spec_id, order_id, room_id, board_id, \
                     state, end_reason, downgraded, max_play_secs, reconnect_grace_secs, idle_kick_secs, created_at, ended_at) \
                     VALUES ($1,$2,$3,$4,$5,'hd-60',$6,$7,$8,'ended','USER_LEFT',0,600,60,120,$9,$10)",
                )
                .bind(format!("ses_hist_{n:08}"))
                .bind(&w.tenant.id)
                .bind(&w.game.id)
                .bind(&w.version.id)
                .bind(format!("device:hist-{n}"))
                .bind(&order)
                .bind(&w.room.id)
                .bind(board)
                .bind(n)
                .bind(n + 60_000)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO tickets (id, tenant_id, game_id, user_key, request, priority_tier, user_level, seq, state, reason, \
                     created_at, last_seen_at) VALUES ($1,$2,$3,$4,'{}',0,0,$5,'claimed','ROOM_FULL',$5,$5)",
                )
                .bind(format!("tkt_hist_{n:08}"))
                .bind(&w.tenant.id)
                .bind(&w.game.id)
                .bind(format!("device:hist-{n}"))
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, webhook_id, tenant_id, event_id, event_type, payload, state, \
                     attempts, created_at, delivered_at) VALUES ($1,'whk_x',$2,$1,'session.ended','{}','delivered',1,$3,$3)",
                )
                .bind(format!("whd_hist_{n:08}"))
                .bind(&w.tenant.id)
                .bind(n)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO audit_log (id, at, actor, tenant_id, action, object_id, summary) \
                     VALUES ($1, $2, 'system', $3, 'link.update', $4, '{}')",
                )
                .bind(format!("aud_hist_{n:08}"))
                .bind(n)
                .bind(&w.tenant.id)
                .bind(format!("lnk_hist_{:04}", n % 1000))
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO usage_ledger (session_id, tenant_id, game_id, spec_id, room_id, board_id, user_key, \
                     end_reason, reserved_at, started_at, ended_at, billable_secs, price_per_minute_micros, amount_micros, bill_id) \
                     VALUES ($1,$2,$3,'hd-60',$4,$5,'device:hist','USER_LEFT',$6,$6,$6,60,1000,1000,$7)",
                )
                .bind(format!("ses_hist_{n:08}"))
                .bind(&w.tenant.id)
                .bind(&w.game.id)
                .bind(&w.room.id)
                .bind(board)
                .bind(n)
                .bind(format!("bil_hist_{:04}", n % 100))
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query("INSERT INTO webhook_queues (tenant_id) VALUES ($1)")
                    .bind(format!("ten_hist_{n:08}"))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            tx.commit().await.unwrap();
        }
        sqlx::query("ANALYZE").execute(pool).await.unwrap();
        // The check itself tells: the old way of counting live plays reads all of history.
        let old = explain(
            &ctl,
            "SELECT room_id, COUNT(*) AS n FROM sessions WHERE state <> 'ended' GROUP BY room_id",
            &[],
        )
        .await;
        assert!(
            unbounded(backend, "", &old).is_some(),
            "{backend}: a scan of history went unnoticed: {old:?}"
        );
        let mut failures = Vec::new();
        for (name, sql, args) in hot_queries() {
            let plan = explain(&ctl, &sql, &args).await;
            if std::env::var("PLAYRACK_SHOW_PLANS").is_ok() {
                eprintln!("{backend} {name}: {plan:?}");
            }
            if let Some(why) = unbounded(backend, &sql, &plan) {
                failures.push(format!("{name}: {why}\n    plan: {plan:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{backend}: hot queries that read history:\n{}",
            failures.join("\n")
        );
        ctl.stop().await;
    }
}
