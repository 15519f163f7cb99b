//! Scheduler load: the acquire → (queue → promotion) → ready → leave path of the controller,
//! driven only over its public HTTP API and the real agent WebSocket protocol, so it keeps
//! measuring the same thing while the controller's internals change.
//!
//! # What runs
//!
//! One controller (in this process, on a fresh SQLite file, or a fresh PostgreSQL database with
//! `--pg`; with `--pg --replicas N`, N controller replicas on that one database) and a world
//! around it: a tenant with a published game deployed to one room of
//! `--boards N` simulated boards × `--slots M` `hd-60` slots, an order of `--quota Q`
//! (default N × M, so the room and not the quota is the limit) and a try-play link. Every
//! simulated board is enrolled with the room's enrolment token and keeps its own agent
//! WebSocket (one light tokio task each, `crates/test-support/src/sim.rs`, shared with the soak drill): hello (no instances), heartbeats at the interval the
//! welcome names, `PrepareSession` → `session preparing`, `session ready` and `result ok`,
//! `EndSession` → `session ended (reason)` and `result ok`, anything else → `result ok`; a
//! repeated command id gets its result again and nothing else (the protocol's idempotency).
//!
//! The workload runs twice in one run: first on the empty database, then after `--history H`
//! ended sessions (each with its `usage_ledger` row) were bulk-inserted straight into the
//! database (500-row INSERTs in transactions; the time it took is printed; on PostgreSQL the
//! two tables are then `VACUUM ANALYZE`d, as autovacuum would soon do). In each, `--players C`
//! concurrent players loop for `--duration S` seconds: acquire through the link with a fresh
//! device id; if `ASSIGNED`, poll the session until it is ready (10 s deadline); if `QUEUED`,
//! poll the ticket every 20 ms (`--ticket-poll-ms`) until it is promoted or claimed (10 s
//! deadline; a ticket seen `promoted` is polled again at once to claim it, as the SDKs do) and
//! take its session; hold the session 0–`--hold-ms` ms (default 50); leave.
//!
//! Measured: acquires (HTTP round trips of `POST /v1/play/acquire`) per second and their
//! p50/p99; how many were queued; promotions and the promotion delay (from the `QUEUED` answer
//! to the first poll that saw the ticket promoted or claimed: it includes the wait for a slot
//! to free, so it is queue wait plus promotion latency); the time from a session id to seeing
//! it ready; and failures: sessions that never became ready or ended first, promotions that
//! failed (ticket evicted, expired, cancelled, or not promoted in 10 s), acquire and leave
//! errors, and sessions or tickets still live after the workload. RSS is this process's
//! `VmRSS` (`/proc/self/status`): the controller runs in-process, together with the simulated
//! boards and players, so it is an upper bound of the controller's own (`controller_rss_mb` in
//! the JSON; `rss_scope` says so).
//!
//! Output: one JSON object per workload on stdout, then a combined line with
//! `empty_over_history` = empty rate / with-history rate; a short table on stderr; and the
//! figures `playrack-bench scheduler` reads: acquire latency (and promotion delay, when
//! players queued) with history, beside the same on the empty database.
//!
//! # Targets (shared/design/targets.md)
//!
//! With 10,000 boards × 8 slots and 1,000,000 ended sessions in the database:
//! ≥ 2,000 acquires/s on SQLite, ≥ 5,000/s on PostgreSQL with 3 controller replicas;
//! acquire p99 ≤ 20 ms; promotion p99 ≤ 100 ms; 0 failed promotions; the rate with 1M history
//! within 1.2× of the rate on the empty database. The bench prints its figures next to these
//! targets and never asserts speed.
//!
//! Replicas (`--replicas N`, default 1; more than 1 only with `--pg`, since a SQLite database
//! has exactly one controller): once the first controller is up, N − 1 more are started in this
//! process with the same configuration (`build_state` + `serve`: same database, each its own
//! port), as ARCHITECTURE.md's "Replicas" describes. The world is built through the first;
//! board `n`'s agent channel goes to replica `n % N` (its agent's base URL), and how many boards
//! each replica holds is printed on stderr. Every HTTP request of the players (acquire, ticket
//! and session polls, leave) goes round robin over the replicas *per request*: player `i`'s
//! `k`-th request goes to replica `(i + k) % N`, so a player's consecutive requests alternate
//! between replicas, as behind a load balancer without sticky sessions (commands reach the
//! boards through the shared outbox wherever they are connected). The extra replicas are
//! stopped after the boards, before the first controller. `"replicas": N` is in the output.
//! All replicas share this process (its CPU, its tokio runtime, `controller_rss_mb`); each has
//! its own database pool. So the figures show the cost of the cross-replica paths (outbox,
//! notifications, leader) on one machine, not what N machines would add.
//!
//! Note the client side bounds the rate: each player's loop is acquire + readiness polls +
//! hold (25 ms on average) + leave, so the rate is at most about `players / 40 ms`; use more
//! `--players` for high targets, and players > boards × slots (or a smaller `--quota`) to
//! exercise the queue and measure promotions.
//!
//! # Commands
//!
//! ```text
//! # the documented long form (defaults: 200 boards × 8 slots, 1,000,000 history, 64 players, 20 s)
//! cargo bench -p array-controller --bench scheduler -- [--pg] [--boards N] [--slots M] \
//!     [--history H] [--players C] [--duration S] [--quota Q] [--hold-ms MS] [--ticket-poll-ms MS] \
//!     [--replicas N]
//! # three replicas on one PostgreSQL database (the PostgreSQL rate target's setting)
//! cargo bench -p array-controller --bench scheduler -- --pg --replicas 3
//! # the target scale (raise the open-file limit first: two descriptors per board)
//! ulimit -n 65536; cargo bench -p array-controller --bench scheduler -- --boards 10000 --players 512
//! # the short form for CI (4 × 2, 20,000 history, 12 players, 3 s): exits non-zero on any failure
//! cargo test -p array-controller --bench scheduler --locked -- --short [--pg [--replicas N]]
//! # every flag with its default and its short-form value
//! cargo test -p array-controller --bench scheduler -- --help
//! ```
//! `--short` only changes the defaults: sizes given as well (`--short --boards 16`) override it.
//! `--bench` (which `cargo bench` appends) and `--test`, `--nocapture`, `--quiet`/`-q` are
//! accepted and ignored; any other flag or argument is an error that says what to fix (so a
//! typo never starts the long form).
//! `--pg` needs `PLAYRACK_TEST_PG_URL` (an admin URL: `scripts/postgres.sh start` prints one).
//! Fixtures come from `$PLAYRACK_FIXTURES` as in the test suites. `RUST_LOG=warn` shows the
//! controller's own logs on stderr.

use playrack_test_support as support;
use playrack_test_support::figure::Figure;

use futures_util::StreamExt;
use playrack_wire::agent::AgentMessage;
use playrack_wire::api::{
    CreateOrder, CreateRoom, Deployment, DeploymentRoomState, Order, Placement, Room,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::Ctl;
use support::agent::TestAgent;
use support::sim::{BoardAgent, BoardCounters, connect_board, run_board, send};

/// Rows per multi-row INSERT when preloading history.
const HISTORY_BATCH: usize = 500;
/// INSERT statements per preload transaction.
const HISTORY_STATEMENTS_PER_TX: usize = 10;
/// How long a session may take to become ready, and a ticket to be promoted.
const DEADLINE: Duration = Duration::from_secs(10);
/// Enrolments in flight at once while building the world.
const SETUP_CONCURRENCY: usize = 32;
/// Agent-channel handshakes (hello → welcome) in flight at once. Kept low: many concurrent
/// hellos starved the controller's SQLite pool (writes failing "database is locked" after the
/// 10 s busy timeout) while the session core was being rewritten.
const HANDSHAKE_CONCURRENCY: usize = 4;

// --- arguments ------------------------------------------------------------------------------

/// Scheduler load: the acquire → (queue → promotion) → ready → leave path of the controller,
/// driven only over its public HTTP API and the real agent WebSocket protocol.
///
/// One controller (or, with --pg --replicas N, N replicas on one PostgreSQL database) with
/// --boards × --slots hd-60 slots of simulated boards, and --players concurrent players looping
/// acquire → ready → hold → leave for --duration seconds: first on the empty database, then
/// after --history ended sessions were bulk-inserted. One JSON object per workload on stdout,
/// then a combined line; a short table on stderr. The module doc of
/// array-controller/benches/scheduler.rs says exactly what runs and what is measured.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "scheduler",
    bin_name = "cargo bench -p array-controller --bench scheduler --",
    // A flag given twice: the last one counts.
    args_override_self = true,
    after_help = ENVIRONMENT,
    after_long_help = ENVIRONMENT
)]
struct Args {
    /// The short form for CI: 4 boards × 2 slots, 20,000 history, 12 players, 3 s (flags
    /// given as well override these); exits non-zero on any failure
    #[arg(long)]
    short: bool,
    /// A fresh PostgreSQL database (needs PLAYRACK_TEST_PG_URL) instead of a fresh SQLite file
    #[arg(long)]
    pg: bool,
    /// Simulated boards, all in one room (--short: 4)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        default_value_if("short", "true", "4")
    )]
    boards: u32,
    /// hd-60 slots per board (--short: 2)
    #[arg(
        long,
        value_name = "M",
        default_value_t = 8,
        default_value_if("short", "true", "2")
    )]
    slots: u32,
    /// Ended sessions (each with its usage_ledger row) inserted before the second workload
    /// (--short: 20000)
    #[arg(
        long,
        value_name = "H",
        default_value_t = 1_000_000,
        default_value_if("short", "true", "20000")
    )]
    history: u64,
    /// Concurrent players; more than boards × slots exercises the queue (--short: 12)
    #[arg(
        long,
        value_name = "C",
        default_value_t = 64,
        default_value_if("short", "true", "12")
    )]
    players: usize,
    /// Seconds each workload runs (--short: 3)
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 20.0,
        default_value_if("short", "true", "3")
    )]
    duration: f64,
    /// The order's concurrency quota [default: boards × slots, so the room and not the quota
    /// is the limit]
    #[arg(long, value_name = "Q")]
    quota: Option<u32>,
    /// Longest hold of a session before leaving (0 to MS ms, uniformly)
    #[arg(long, value_name = "MS", default_value_t = 50)]
    hold_ms: u64,
    /// Ticket poll interval of a queued player
    #[arg(long, value_name = "MS", default_value_t = 20)]
    ticket_poll_ms: u64,
    /// Controller replicas on the one database (more than 1 only with --pg)
    #[arg(long, value_name = "N", default_value_t = 1)]
    replicas: usize,
    #[command(flatten)]
    _harness: HarnessFlags,
}

/// What cargo passes to a bench binary (`--bench`, under `cargo bench`) and the test-harness
/// flags habit adds to `cargo test … --`: accepted (repeatable), hidden and ignored.
#[derive(Debug, Clone, clap::Args)]
struct HarnessFlags {
    #[arg(long = "bench", hide = true, action = clap::ArgAction::Count)]
    _bench: u8,
    #[arg(long = "test", hide = true, action = clap::ArgAction::Count)]
    _test: u8,
    #[arg(long = "nocapture", hide = true, action = clap::ArgAction::Count)]
    _nocapture: u8,
    #[arg(long = "quiet", short = 'q', hide = true, action = clap::ArgAction::Count)]
    _quiet: u8,
}

const ENVIRONMENT: &str = "\
Environment:
  PLAYRACK_TEST_PG_URL  an admin URL of the PostgreSQL server --pg uses (scripts/postgres.sh start prints one)
  PLAYRACK_FIXTURES     where the fixtures come from, as in the test suites
  RUST_LOG              e.g. RUST_LOG=warn shows the controller's own logs on stderr";

fn parse_args() -> Args {
    use clap::{CommandFactory, FromArgMatches, error::ErrorKind};
    let mut cmd = Args::command();
    let args = cmd
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| Args::from_arg_matches(&m))
        .unwrap_or_else(|e| e.format(&mut cmd).exit());
    if args.boards == 0
        || args.slots == 0
        || args.players == 0
        || args.duration <= 0.0
        || args.replicas == 0
    {
        cmd.error(
            ErrorKind::ValueValidation,
            "boards, slots, players, duration and replicas must be positive",
        )
        .exit();
    }
    if args.replicas > 1 && !args.pg {
        cmd.error(
            ErrorKind::MissingRequiredArgument,
            format!(
                "--replicas {}: several replicas share one PostgreSQL database; add --pg \
                 (a SQLite database has exactly one controller)",
                args.replicas
            ),
        )
        .exit();
    }
    args
}

fn die(msg: &str) -> ! {
    eprintln!("scheduler bench: {msg}");
    std::process::exit(2)
}

// --- the world --------------------------------------------------------------------------------

struct BenchWorld {
    tenant_id: String,
    game_id: String,
    version_id: String,
    link_id: String,
    link_code: String,
    room_id: String,
    order_id: String,
    board_ids: Vec<String>,
    /// The link's trial length and the game's other timers, as history rows carry them.
    max_play_secs: i64,
    price_per_minute_micros: i64,
    boards: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    counters: Arc<BoardCounters>,
}

/// Builds the world through the first controller (`ctl`); board `n`'s agent channel goes to
/// `replica_urls[n % len]` (the URL of the first controller is `replica_urls[0]`).
async fn build_world(ctl: &Ctl, args: &Args, replica_urls: &[String]) -> BenchWorld {
    let slots_total = args.boards * args.slots;
    ctl.specs().await;
    let (tenant, t) = ctl.tenant("Bench").await;
    let game = ctl.game(&t, "bench").await;
    let version = ctl
        .published(&t, &game.id, &support::fixture("tapper-v1.apk"))
        .await;
    let region = ctl.region("bench").await;
    let room: Room = ctl
        .ok(
            Method::POST,
            "/v1/rooms",
            &ctl.op,
            Some(&CreateRoom {
                region_id: region.id.clone(),
                name: "bench-room".into(),
                instance_cap: slots_total,
                shared_volume: "/mnt/bench".into(),
                probe_url: "http://127.0.0.1:1/probe".into(),
                placement: Placement::Spread,
                max_cpu_percent: None,
                max_temperature_c: None,
            }),
            StatusCode::CREATED,
        )
        .await;
    let token = ctl.enrolment_token(&room.id).await;
    ctl.deploy(&t, &version.id, &[&room.id]).await;

    // Enrol every board (a few at a time). The first one alone: a room's first enrolment
    // creates its `enrolled` array, and concurrent first enrolments race to create it (on
    // PostgreSQL the losers get 409 ALREADY_EXISTS).
    let started = Instant::now();
    let enrol = |i: u32| {
        let token = token.clone();
        async move {
            TestAgent::enrol_with(
                &ctl.http,
                &ctl.url,
                &token,
                &format!("BENCH-{i:06}"),
                args.slots,
            )
            .await
        }
    };
    let mut agents: Vec<TestAgent> = vec![enrol(0).await];
    agents.extend(
        futures_util::stream::iter(1..args.boards)
            .map(enrol)
            .buffered(SETUP_CONCURRENCY)
            .collect::<Vec<_>>()
            .await,
    );
    let board_ids: Vec<String> = agents.iter().map(|a| a.board_id.clone()).collect();

    // Each board on its own task: connect (a few handshakes at a time), then serve the channel
    // at once, so early boards heartbeat while later ones are still connecting.
    let counters = Arc::new(BoardCounters::default());
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let handshakes = Arc::new(tokio::sync::Semaphore::new(HANDSHAKE_CONCURRENCY));
    // Each board sends exactly one message on it: room for all of them, so none waits.
    let (up_tx, mut up_rx) = tokio::sync::mpsc::channel::<Result<(), String>>(agents.len().max(1));
    let sha256 = version
        .sha256
        .clone()
        .expect("a ready version has a sha256");
    let mut boards = Vec::with_capacity(agents.len());
    for (n, mut agent) in agents.into_iter().enumerate() {
        // Round robin over the replicas: the agent's base URL decides where it connects.
        agent.base_url = replica_urls[n % replica_urls.len()].clone();
        // One board holding the package makes the room's deployment ready.
        let deployed = (n == 0).then(|| sha256.clone());
        let (handshakes, up, counters, stop) = (
            handshakes.clone(),
            up_tx.clone(),
            counters.clone(),
            stop_rx.clone(),
        );
        let slots = args.slots;
        boards.push(tokio::spawn(async move {
            let permit = handshakes.acquire_owned().await.expect("semaphore");
            let connected = connect_board(&agent, slots).await;
            drop(permit);
            let (mut ws, heartbeat_secs, early) = match connected {
                Ok(c) => c,
                Err(e) => {
                    let _ = up.send(Err(e)).await;
                    return;
                }
            };
            if let Some(sha256) = deployed {
                let report = AgentMessage::Deployment {
                    sha256,
                    state: DeploymentRoomState::Ready,
                    progress_percent: 100,
                    error: None,
                };
                if send(&mut ws, &report).await.is_err() {
                    let _ = up
                        .send(Err(format!("{}: deployment report", agent.board_id)))
                        .await;
                    return;
                }
            }
            let _ = up.send(Ok(())).await;
            let board = BoardAgent::new(&agent.board_id, slots, counters);
            run_board(ws, heartbeat_secs, early, board, stop).await;
        }));
    }
    drop(up_tx);
    for _ in 0..args.boards {
        match up_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("connecting the simulated boards: {e}"),
            None => panic!("a simulated board's task ended before connecting"),
        }
    }
    eprintln!(
        "scheduler bench: {} boards enrolled and connected (over {} replica{}) in {:.1} s",
        args.boards,
        replica_urls.len(),
        if replica_urls.len() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    support::wait_for(
        "the room's deployment to be ready",
        Duration::from_secs(60),
        || async {
            let d: Deployment = ctl
                .get(&format!("/v1/versions/{}/deployment", version.id), &t)
                .await;
            d.rooms
                .iter()
                .all(|r| r.state == DeploymentRoomState::Ready)
        },
    )
    .await;

    let now = array_controller::now();
    let order: Order = ctl
        .ok(
            Method::POST,
            "/v1/orders",
            &ctl.op,
            Some(&CreateOrder {
                tenant_id: tenant.id.clone(),
                spec_id: "hd-60".into(),
                region_id: Some(region.id.clone()),
                room_ids: vec![],
                concurrency: args.quota.unwrap_or(slots_total),
                valid_from: now.plus_secs(-60),
                valid_until: now.plus_secs(7 * 24 * 3600),
                priority: 0,
                price_per_period_micros: 0,
            }),
            StatusCode::CREATED,
        )
        .await;
    // Long trials: no session of the bench ends by its timer.
    let link = ctl.link(&t, &game.id, Some(3600)).await;
    let price_per_minute_micros = array_controller::seed::standard_specs()
        .into_iter()
        .find(|s| s.id == "hd-60")
        .map(|s| s.price_per_minute_micros)
        .unwrap_or(0);
    BenchWorld {
        tenant_id: tenant.id,
        game_id: game.id,
        version_id: version.id,
        link_id: link.id,
        link_code: link.code,
        room_id: room.id,
        order_id: order.id,
        board_ids,
        max_play_secs: 3600,
        price_per_minute_micros,
        boards,
        stop,
        counters,
    }
}

// --- history ----------------------------------------------------------------------------------

/// `($a,$b,…)` groups for `rows` rows of `per_row` parameters numbered after `shared` ones,
/// each group made by `row`.
fn values(rows: usize, per_row: usize, shared: usize, row: impl Fn(usize) -> String) -> String {
    (0..rows)
        .map(|k| row(shared + 1 + k * per_row))
        .collect::<Vec<_>>()
        .join(",")
}

fn sessions_sql(rows: usize) -> String {
    // Shared: $1 tenant, $2 game, $3 version, $4 link, $5 spec, $6 order, $7 room,
    // $8 max play, $9 reconnect grace, $10 idle kick. Per row: id, user, board, created, ended.
    format!(
        "INSERT INTO sessions (id, tenant_id, game_id, version_id, user_key, link_id, spec_id, order_id, room_id, \
         board_id, state, end_reason, downgraded, max_play_secs, reconnect_grace_secs, idle_kick_secs, device, \
         created_at, ended_at, live_key) VALUES {}",
        values(rows, 5, 10, |b| format!(
            "(${b},$1,$2,$3,${},$4,$5,$6,$7,${},'ended','USER_LEFT',0,$8,$9,$10,NULL,${},${},NULL)",
            b + 1,
            b + 2,
            b + 3,
            b + 4
        ))
    )
}

fn ledger_sql(rows: usize) -> String {
    // Shared: $1 tenant, $2 game, $3 spec, $4 room, $5 price. Per row: session, board, user,
    // reserved, started, ended, billable secs, amount.
    format!(
        "INSERT INTO usage_ledger (session_id, tenant_id, game_id, spec_id, room_id, board_id, user_key, end_reason, \
         reserved_at, started_at, ended_at, billable_secs, price_per_minute_micros, amount_micros) VALUES {}",
        values(rows, 8, 5, |b| format!(
            "(${b},$1,$2,$3,$4,${},${},'USER_LEFT',${},${},${},${},$5,${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7
        ))
    )
}

struct HistoryRow {
    id: String,
    user: String,
    board: String,
    created: i64,
    started: i64,
    ended: i64,
}

/// Inserts `total` ended sessions (and their ledger rows), spread over the last 30 days and the
/// world's boards; returns the seconds the inserts took.
async fn preload_history(ctl: &Ctl, w: &BenchWorld, total: u64) -> f64 {
    let pool = &ctl.state().db.pool;
    let started = Instant::now();
    let now = array_controller::now().millis();
    let span_ms: i64 = 30 * 24 * 3600 * 1000;
    let mut done: u64 = 0;
    let mut last_report = Instant::now();
    while done < total {
        let mut tx = if ctl.backend == "sqlite" {
            pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            pool.begin().await
        }
        .expect("begin preload transaction");
        for _ in 0..HISTORY_STATEMENTS_PER_TX {
            if done >= total {
                break;
            }
            let n = (total - done).min(HISTORY_BATCH as u64) as usize;
            let rows: Vec<HistoryRow> = (0..n as u64)
                .map(|k| {
                    let i = done + k;
                    let created = now - span_ms + (i as i64 * span_ms / total as i64);
                    let length = 30_000 + rand::random_range(0..600_000i64);
                    HistoryRow {
                        id: array_controller::db::new_id("ses"),
                        user: format!("device:history-{i:010}"),
                        board: w.board_ids[(i % w.board_ids.len() as u64) as usize].clone(),
                        created,
                        started: created + 2_000,
                        ended: created + length,
                    }
                })
                .collect();
            let sql = sessions_sql(n);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&w.tenant_id)
                .bind(&w.game_id)
                .bind(&w.version_id)
                .bind(&w.link_id)
                .bind("hd-60")
                .bind(&w.order_id)
                .bind(&w.room_id)
                .bind(w.max_play_secs)
                .bind(60i64)
                .bind(120i64);
            for r in &rows {
                q = q
                    .bind(&r.id)
                    .bind(&r.user)
                    .bind(&r.board)
                    .bind(r.created)
                    .bind(r.ended);
            }
            q.execute(&mut *tx).await.expect("insert history sessions");
            let sql = ledger_sql(n);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&w.tenant_id)
                .bind(&w.game_id)
                .bind("hd-60")
                .bind(&w.room_id)
                .bind(w.price_per_minute_micros);
            for r in &rows {
                let (secs, amount) = array_controller::metering::bill(
                    Some(r.started),
                    r.ended,
                    w.price_per_minute_micros,
                );
                q = q
                    .bind(&r.id)
                    .bind(&r.board)
                    .bind(&r.user)
                    .bind(r.created)
                    .bind(r.started)
                    .bind(r.ended)
                    .bind(secs as i64)
                    .bind(amount);
            }
            q.execute(&mut *tx).await.expect("insert history ledger");
            done += n as u64;
        }
        tx.commit().await.expect("commit preload transaction");
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "scheduler bench: history {done}/{total} ({:.0} rows/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let inserted = started.elapsed().as_secs_f64();
    if ctl.backend != "sqlite" && total > 0 {
        // What autovacuum would soon do after such a load (statistics, visibility map), done
        // now so it does not run during the measured workload.
        let vacuum = Instant::now();
        for table in ["sessions", "usage_ledger"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}")))
                .execute(pool)
                .await
                .expect("vacuum analyze");
        }
        eprintln!(
            "scheduler bench: VACUUM ANALYZE after the preload took {:.1} s",
            vacuum.elapsed().as_secs_f64()
        );
    }
    inserted
}

// --- players ----------------------------------------------------------------------------------

#[derive(Default)]
struct PlayerStats {
    acquires: u64,
    acquire_ms: Vec<f64>,
    assigned: u64,
    queued: u64,
    promotions: u64,
    promotion_ms: Vec<f64>,
    ready_ms: Vec<f64>,
    sessions_ready: u64,
    failed_promotions: u64,
    failed_sessions: u64,
    acquire_errors: u64,
    leave_errors: u64,
    /// The first few failures, for the report.
    failures: Vec<String>,
}

impl PlayerStats {
    fn note(&mut self, what: String) {
        if self.failures.len() < 5 {
            self.failures.push(what);
        }
    }

    fn merge(&mut self, o: PlayerStats) {
        self.acquires += o.acquires;
        self.acquire_ms.extend(o.acquire_ms);
        self.assigned += o.assigned;
        self.queued += o.queued;
        self.promotions += o.promotions;
        self.promotion_ms.extend(o.promotion_ms);
        self.ready_ms.extend(o.ready_ms);
        self.sessions_ready += o.sessions_ready;
        self.failed_promotions += o.failed_promotions;
        self.failed_sessions += o.failed_sessions;
        self.acquire_errors += o.acquire_errors;
        self.leave_errors += o.leave_errors;
        for f in o.failures {
            self.note(f);
        }
    }
}

/// A session as its player holds it: the id and the play key that proves it.
struct Session {
    id: String,
    key: String,
}

impl Session {
    /// The session named by `answer[id_field]` with the answer's `play_key`.
    fn of(answer: &Value, id_field: &str) -> Option<Session> {
        Some(Session {
            id: answer[id_field].as_str()?.to_owned(),
            key: answer["play_key"].as_str()?.to_owned(),
        })
    }
}

/// What every player shares.
struct Client {
    http: reqwest::Client,
    /// The replicas' base URLs (the first controller's first).
    bases: Vec<String>,
    link: String,
    workload: usize,
    hold_ms: u64,
    ticket_poll: Duration,
}

/// One player: its requests rotate over the replicas, the `k`-th (counted from 0) going to
/// `bases[(idx + k) % len]`, so consecutive requests of a player alternate between replicas,
/// as behind a load balancer without sticky sessions.
struct Player {
    client: Arc<Client>,
    idx: usize,
    /// Requests sent so far.
    sent: std::sync::atomic::AtomicUsize,
}

impl Player {
    /// The base URL for the next request.
    fn base(&self) -> &str {
        let k = self.sent.fetch_add(1, Ordering::Relaxed);
        let bases = &self.client.bases;
        &bases[(self.idx + k) % bases.len()]
    }

    /// GET as JSON with the play key: `Err` carries the status or transport error.
    async fn get(&self, path: &str, play_key: &str) -> Result<Value, String> {
        let resp = self
            .client
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(play_key)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("GET {path}: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!("GET {path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("GET {path}: {e}: {text}"))
    }

    /// Polls the session until it is ready (or playing); returns when that was seen.
    async fn wait_ready(&self, session_id: &str, play_key: &str) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        let mut pause = Duration::from_millis(2);
        loop {
            let v = self
                .get(&format!("/v1/play/sessions/{session_id}"), play_key)
                .await?;
            match v["session"]["state"].as_str() {
                Some("ready" | "playing") => return Ok(()),
                Some("ended" | "ending") => {
                    return Err(format!(
                        "session {session_id} ended ({}) before it was ready",
                        v["session"]["end_reason"].as_str().unwrap_or("?")
                    ));
                }
                Some(_) => {}
                None => return Err(format!("session {session_id}: no state in {v}")),
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "session {session_id} not ready in {DEADLINE:?} (state {})",
                    v["session"]["state"]
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Polls the ticket until it is promoted or claimed; returns when the promotion was first
    /// seen, the session id and its play key. A ticket seen `promoted` is polled again at once to claim it,
    /// as the SDKs do (a poll claims a promoted ticket; one that raced the promotion may only
    /// report it).
    async fn wait_promotion(
        &self,
        ticket_id: &str,
        play_key: &str,
    ) -> Result<(Instant, Session), String> {
        let deadline = Instant::now() + DEADLINE;
        let mut promoted_at = None;
        loop {
            if promoted_at.is_none() {
                tokio::time::sleep(self.client.ticket_poll).await;
            }
            let v = self
                .get(&format!("/v1/play/tickets/{ticket_id}"), play_key)
                .await?;
            match v["state"].as_str() {
                Some("claimed") => {
                    let at = promoted_at.unwrap_or_else(Instant::now);
                    return Session::of(&v, "session_id")
                        .map(|s| (at, s))
                        .ok_or_else(|| {
                            format!("ticket {ticket_id} claimed without a session: {v}")
                        });
                }
                Some("promoted") => {
                    promoted_at.get_or_insert_with(Instant::now);
                }
                Some("waiting") => {}
                Some(other) => return Err(format!("ticket {ticket_id} ended {other}")),
                None => return Err(format!("ticket {ticket_id}: no state in {v}")),
            }
            if Instant::now() >= deadline {
                let _ = self
                    .client
                    .http
                    .delete(format!("{}/v1/play/tickets/{ticket_id}", self.base()))
                    .bearer_auth(play_key)
                    .send()
                    .await;
                return Err(format!(
                    "ticket {ticket_id} not {} in {DEADLINE:?}",
                    if promoted_at.is_some() {
                        "claimed"
                    } else {
                        "promoted"
                    }
                ));
            }
        }
    }

    async fn leave(
        &self,
        Session {
            id: session_id,
            key,
        }: &Session,
    ) -> Result<(), String> {
        let resp = self
            .client
            .http
            .delete(format!("{}/v1/play/sessions/{session_id}", self.base()))
            .bearer_auth(key)
            .send()
            .await
            .map_err(|e| format!("leave {session_id}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if status == StatusCode::OK {
            Ok(())
        } else {
            Err(format!("leave {session_id}: {status}: {text}"))
        }
    }

    /// One player's loop until `until`.
    async fn run(self, until: Instant) -> PlayerStats {
        let mut st = PlayerStats::default();
        let mut n: u64 = 0;
        let idx = self.idx;
        while Instant::now() < until {
            n += 1;
            let device = format!("bench-w{}-p{idx:05}-n{n:08}", self.client.workload);
            let body = json!({ "link": self.client.link, "device_id": device });
            let sent = Instant::now();
            let answer = async {
                let resp = self
                    .client
                    .http
                    .post(format!("{}/v1/play/acquire", self.base()))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| format!("acquire: {e}"))?;
                let status = resp.status();
                let text = resp.text().await.map_err(|e| format!("acquire: {e}"))?;
                if status != StatusCode::OK {
                    return Err(format!("acquire: {status}: {text}"));
                }
                serde_json::from_str::<Value>(&text).map_err(|e| format!("acquire: {e}: {text}"))
            }
            .await;
            let answered = Instant::now();
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    st.acquire_errors += 1;
                    st.note(e);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            st.acquires += 1;
            st.acquire_ms.push(ms(answered - sent));
            let session = match (
                answer["status"].as_str(),
                Session::of(&answer, "session_id"),
            ) {
                (Some("ASSIGNED"), Some(session)) => {
                    st.assigned += 1;
                    session
                }
                (Some("QUEUED"), _) => {
                    st.queued += 1;
                    let ticket = answer["ticket_id"].as_str().unwrap_or_default().to_owned();
                    let key = answer["play_key"].as_str().unwrap_or_default().to_owned();
                    match self.wait_promotion(&ticket, &key).await {
                        Ok((promoted_at, s)) => {
                            st.promotions += 1;
                            st.promotion_ms.push(ms(promoted_at - answered));
                            s
                        }
                        Err(e) => {
                            st.failed_promotions += 1;
                            st.note(e);
                            continue;
                        }
                    }
                }
                _ => {
                    st.acquire_errors += 1;
                    st.note(format!("acquire: unexpected answer {answer}"));
                    continue;
                }
            };
            let known = Instant::now();
            match self.wait_ready(&session.id, &session.key).await {
                Ok(()) => {
                    st.sessions_ready += 1;
                    st.ready_ms.push(ms(known.elapsed()));
                }
                Err(e) => {
                    st.failed_sessions += 1;
                    st.note(e);
                    let _ = self.leave(&session).await;
                    continue;
                }
            }
            if self.client.hold_ms > 0 {
                let hold = rand::random_range(0..=self.client.hold_ms);
                tokio::time::sleep(Duration::from_millis(hold)).await;
            }
            if let Err(e) = self.leave(&session).await {
                st.leave_errors += 1;
                st.note(e);
            }
        }
        st
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of `v` (sorted in place); `None` when empty.
fn pct(v: &mut [f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

fn round2(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |x| json!((x * 100.0).round() / 100.0))
}

/// This process's resident set (the controller runs in it), in MB.
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Live (not ended) sessions and waiting or promoted tickets, straight from the database.
async fn live_counts(ctl: &Ctl) -> (i64, i64) {
    let pool = &ctl.state().db.pool;
    let sessions: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE live_key IS NOT NULL")
            .fetch_one(pool)
            .await
            .expect("count live sessions");
    let tickets: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE state IN ('waiting', 'promoted')")
            .fetch_one(pool)
            .await
            .expect("count live tickets");
    (sessions, tickets)
}

/// A few of the live sessions and tickets, for a failure report.
async fn live_rows(ctl: &Ctl) -> String {
    use sqlx::Row;
    let pool = &ctl.state().db.pool;
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT id, state, board_id, created_at FROM sessions WHERE live_key IS NOT NULL LIMIT 5",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
    {
        out.push(format!(
            "session {} {} on {} since {}",
            r.try_get::<String, _>("id").unwrap_or_default(),
            r.try_get::<String, _>("state").unwrap_or_default(),
            r.try_get::<String, _>("board_id").unwrap_or_default(),
            r.try_get::<i64, _>("created_at").unwrap_or_default(),
        ));
    }
    for r in sqlx::query(
        "SELECT id, state, session_id, created_at FROM tickets WHERE state IN ('waiting', 'promoted') LIMIT 5",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default()
    {
        out.push(format!(
            "ticket {} {} session {:?} since {}",
            r.try_get::<String, _>("id").unwrap_or_default(),
            r.try_get::<String, _>("state").unwrap_or_default(),
            r.try_get::<Option<String>, _>("session_id").unwrap_or_default(),
            r.try_get::<i64, _>("created_at").unwrap_or_default(),
        ));
    }
    out.join("; ")
}

struct Outcome {
    json: Value,
    rate: f64,
    /// Every acquire's latency (ms) and every promotion's delay (ms), as taken.
    acquire_ms: Vec<f64>,
    promotion_ms: Vec<f64>,
    failures: u64,
    failure_notes: Vec<String>,
}

async fn workload(
    ctl: &Ctl,
    replica_urls: &[String],
    w: &BenchWorld,
    args: &Args,
    n: usize,
    history: u64,
) -> Outcome {
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(args.players * 2)
            .build()
            .expect("http client"),
        bases: replica_urls.to_vec(),
        link: w.link_code.clone(),
        workload: n,
        hold_ms: args.hold_ms,
        ticket_poll: Duration::from_millis(args.ticket_poll_ms.max(1)),
    });
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.duration);
    let players: Vec<_> = (0..args.players)
        .map(|idx| {
            let player = Player {
                client: client.clone(),
                idx,
                sent: Default::default(),
            };
            tokio::spawn(player.run(until))
        })
        .collect();
    let mut st = PlayerStats::default();
    for p in players {
        st.merge(p.await.expect("player task"));
    }
    let secs = started.elapsed().as_secs_f64();
    let rss = rss_mb();
    // Every player left: nothing may stay live (the boards' reports may trail a little).
    let settle = Instant::now() + Duration::from_secs(5);
    let (mut live, mut tickets) = live_counts(ctl).await;
    while (live > 0 || tickets > 0) && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
        (live, tickets) = live_counts(ctl).await;
    }
    let rate = st.acquires as f64 / secs;
    let (acquire_ms, promotion_ms) = (st.acquire_ms.clone(), st.promotion_ms.clone());
    let json = json!({
        "bench": "scheduler",
        "workload": if n == 1 { "empty" } else { "history" },
        "backend": ctl.backend,
        "replicas": args.replicas,
        "boards": args.boards,
        "slots": args.slots,
        "quota": args.quota.unwrap_or(args.boards * args.slots),
        "history": history,
        "players": args.players,
        "hold_ms": args.hold_ms,
        "ticket_poll_ms": args.ticket_poll_ms,
        "secs": (secs * 100.0).round() / 100.0,
        "acquires": st.acquires,
        "acquires_per_sec": (rate * 10.0).round() / 10.0,
        "acquire_p50_ms": round2(pct(&mut st.acquire_ms, 50.0)),
        "acquire_p99_ms": round2(pct(&mut st.acquire_ms, 99.0)),
        "assigned": st.assigned,
        "queued": st.queued,
        "promotions": st.promotions,
        "promotion_p50_ms": round2(pct(&mut st.promotion_ms, 50.0)),
        "promotion_p99_ms": round2(pct(&mut st.promotion_ms, 99.0)),
        "ready": st.sessions_ready,
        "ready_p50_ms": round2(pct(&mut st.ready_ms, 50.0)),
        "ready_p99_ms": round2(pct(&mut st.ready_ms, 99.0)),
        "failed_promotions": st.failed_promotions,
        "failed_sessions": st.failed_sessions,
        "acquire_errors": st.acquire_errors,
        "leave_errors": st.leave_errors,
        "live_sessions_after": live,
        "live_tickets_after": tickets,
        "controller_rss_mb": round2(rss),
        "rss_scope": "VmRSS of the bench process: controller (every replica), simulated boards and players",
    });
    let failures = st.failed_promotions
        + st.failed_sessions
        + st.acquire_errors
        + st.leave_errors
        + live.max(0) as u64
        + tickets.max(0) as u64;
    let mut notes = st.failures;
    if live > 0 || tickets > 0 {
        notes.push(format!(
            "{live} sessions and {tickets} tickets still live after every player left: {}",
            live_rows(ctl).await
        ));
    }
    Outcome {
        json,
        rate,
        acquire_ms,
        promotion_ms,
        failures,
        failure_notes: notes,
    }
}

fn table_row(o: &Value) -> String {
    let f = |k: &str| match &o[k] {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    format!(
        "{:<8} {:>9} {:>8} {:>9} {:>8} {:>8} {:>7} {:>6} {:>8} {:>8} {:>6} {:>6} {:>7}",
        f("workload"),
        f("history"),
        f("acquires"),
        f("acquires_per_sec"),
        f("acquire_p50_ms"),
        f("acquire_p99_ms"),
        f("queued"),
        f("promotions"),
        f("promotion_p50_ms"),
        f("promotion_p99_ms"),
        f("failed_sessions"),
        f("failed_promotions"),
        f("controller_rss_mb"),
    )
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    if std::env::var_os("RUST_LOG").is_some() {
        // The controller's own logs (it runs in this process), e.g. RUST_LOG=warn.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let backend: &'static str = if args.pg {
        if std::env::var("PLAYRACK_TEST_PG_URL").is_err() {
            die("--pg needs PLAYRACK_TEST_PG_URL (scripts/postgres.sh start prints one)");
        }
        "postgres"
    } else {
        "sqlite"
    };
    eprintln!(
        "scheduler bench ({}): {backend}, {} replica{}, {} boards × {} slots, {} history, {} players, {} s",
        if args.short { "short" } else { "long" },
        args.replicas,
        if args.replicas == 1 { "" } else { "s" },
        args.boards,
        args.slots,
        args.history,
        args.players,
        args.duration
    );
    let ctl = Ctl::start_with(backend, |c| {
        // Every player and board comes from 127.0.0.1: no rate limit may shape the figures.
        c.rate_limit_ip = 1_000_000_000;
        c.rate_limit_key = 1_000_000_000;
    })
    .await;
    // The other replicas: the same configuration (so the same database), each its own port.
    let mut replicas = Vec::with_capacity(args.replicas - 1);
    for _ in 1..args.replicas {
        let state = array_controller::build_state(ctl.config.clone())
            .await
            .expect("replica state");
        replicas.push(
            array_controller::serve(state)
                .await
                .expect("replica serves"),
        );
    }
    let replica_urls: Vec<String> = std::iter::once(ctl.url.clone())
        .chain(replicas.iter().map(|r| r.url()))
        .collect();
    let setup = Instant::now();
    let world = build_world(&ctl, &args, &replica_urls).await;
    if args.replicas > 1 {
        // Where the boards' channels landed, as the controllers recorded it.
        let ids: Vec<String> = std::iter::once(ctl.state().replica_id.clone())
            .chain(replicas.iter().map(|r| r.state.replica_id.clone()))
            .collect();
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT controller_id, COUNT(*) FROM boards WHERE agent_state = 'online' GROUP BY controller_id",
        )
        .fetch_all(&ctl.state().db.pool)
        .await
        .expect("boards per replica");
        let per_replica: Vec<i64> = ids
            .iter()
            .map(|id| {
                rows.iter()
                    .filter(|(c, _)| c.as_deref() == Some(id.as_str()))
                    .map(|(_, n)| *n)
                    .sum()
            })
            .collect();
        eprintln!("scheduler bench: boards online per replica: {per_replica:?}");
    }
    eprintln!(
        "scheduler bench: world ready in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let empty = workload(&ctl, &replica_urls, &world, &args, 1, 0).await;
    println!("{}", empty.json);

    eprintln!(
        "scheduler bench: preloading {} ended sessions…",
        args.history
    );
    let preload_secs = preload_history(&ctl, &world, args.history).await;
    eprintln!(
        "scheduler bench: preloaded {} sessions (+ ledger rows) in {preload_secs:.1} s ({:.0} rows/s)",
        args.history,
        args.history as f64 / preload_secs.max(1e-9)
    );
    let hist = workload(&ctl, &replica_urls, &world, &args, 2, args.history).await;
    println!("{}", hist.json);

    let scope = if args.replicas > 1 {
        format!("{backend}.{}_replicas", args.replicas)
    } else {
        backend.to_owned()
    };
    let history_name = format!("with {} ended sessions", args.history);
    let figure = |what: &str, with_history: &[f64], empty: &[f64], target: &str| {
        if !with_history.is_empty() && !empty.is_empty() {
            Figure::new(
                &format!("scheduler.{scope}.{what}"),
                "ms",
                with_history.to_vec(),
            )
            .baseline(
                &format!("empty database (the figure: {history_name})"),
                empty.to_vec(),
            )
            .target(target)
            .print();
        }
    };
    figure(
        "acquire",
        &hist.acquire_ms,
        &empty.acquire_ms,
        "p99 ≤ 20 ms; with history within 1.2× of empty",
    );
    figure(
        "promotion",
        &hist.promotion_ms,
        &empty.promotion_ms,
        "p99 ≤ 100 ms",
    );
    let ratio = if hist.rate > 0.0 {
        empty.rate / hist.rate
    } else {
        f64::INFINITY
    };
    let c = &world.counters;
    let boards_json = json!({
        "prepares": c.prepares.load(Ordering::Relaxed),
        "ends": c.ends.load(Ordering::Relaxed),
        "other_commands": c.other_commands.load(Ordering::Relaxed),
        "repeated_commands": c.repeated_commands.load(Ordering::Relaxed),
        "heartbeats": c.heartbeats.load(Ordering::Relaxed),
        "bad_messages": c.bad_messages.load(Ordering::Relaxed),
        "dropped_channels": c.dropped.load(Ordering::Relaxed),
    });
    let combined = json!({
        "bench": "scheduler",
        "backend": backend,
        "replicas": args.replicas,
        "boards": args.boards,
        "slots": args.slots,
        "history": args.history,
        "players": args.players,
        "preload_secs": (preload_secs * 100.0).round() / 100.0,
        "empty_acquires_per_sec": (empty.rate * 10.0).round() / 10.0,
        "history_acquires_per_sec": (hist.rate * 10.0).round() / 10.0,
        "empty_over_history": if ratio.is_finite() { json!((ratio * 1000.0).round() / 1000.0) } else { Value::Null },
        "empty": empty.json,
        "with_history": hist.json,
        "board_agents": boards_json,
        "targets": {
            "acquires_per_sec": if backend == "sqlite" { "≥ 2000 (10,000 boards × 8, 1M history)" } else { "≥ 5000 with 3 replicas" },
            "acquire_p99_ms": "≤ 20",
            "promotion_p99_ms": "≤ 100",
            "failed_promotions": 0,
            "empty_over_history": "≤ 1.2",
        },
    });
    println!("{combined}");

    eprintln!();
    eprintln!(
        "{:<8} {:>9} {:>8} {:>9} {:>8} {:>8} {:>7} {:>6} {:>8} {:>8} {:>6} {:>6} {:>7}",
        "workload",
        "history",
        "acquires",
        "acq/s",
        "p50 ms",
        "p99 ms",
        "queued",
        "promo",
        "pr p50",
        "pr p99",
        "f.ses",
        "f.pro",
        "rss MB"
    );
    eprintln!("{}", table_row(&empty.json));
    eprintln!("{}", table_row(&hist.json));
    eprintln!(
        "empty / history rate: {ratio:.3}× (target ≤ 1.2×); acquire p99 target ≤ 20 ms; \
         promotion p99 target ≤ 100 ms; {backend} rate target {}",
        if backend == "sqlite" {
            "≥ 2,000/s"
        } else {
            "≥ 5,000/s (3 replicas)"
        }
    );
    eprintln!("boards: {boards_json}");

    // Stop the boards, then the replicas and the controller; drop a PostgreSQL bench database.
    let _ = world.stop.send(true);
    for b in world.boards {
        let _ = tokio::time::timeout(Duration::from_secs(5), b).await;
    }
    let pool = ctl.state().db.pool.clone();
    // Let the controller record the disconnects before its pool closes.
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle {
        let online: Result<i64, _> =
            sqlx::query_scalar("SELECT COUNT(*) FROM boards WHERE agent_state = 'online'")
                .fetch_one(&pool)
                .await;
        if !matches!(online, Ok(n) if n > 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let database_url = ctl.config.database_url.clone();
    for r in replicas {
        let pool = r.state.db.pool.clone();
        r.stop().await;
        pool.close().await;
    }
    ctl.stop().await;
    pool.close().await;
    if backend == "postgres"
        && let (Ok(admin), Some((_, name))) = (
            std::env::var("PLAYRACK_TEST_PG_URL"),
            database_url.rsplit_once('/'),
        )
        && let Ok(admin_pool) = sqlx::AnyPool::connect(&admin).await
    {
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin_pool)
        .await
        {
            eprintln!("scheduler bench: could not drop the bench database {name}: {e}");
        }
        admin_pool.close().await;
    }

    let failures = empty.failures + hist.failures + c.dropped.load(Ordering::Relaxed);
    if failures > 0 {
        eprintln!("scheduler bench: {failures} failures:");
        for n in empty.failure_notes.iter().chain(&hist.failure_notes) {
            eprintln!("  {n}");
        }
        if c.dropped.load(Ordering::Relaxed) > 0 {
            eprintln!(
                "  {} board channels closed during the run",
                c.dropped.load(Ordering::Relaxed)
            );
        }
    }
    if args.short {
        if empty.json["queued"] == 0 && hist.json["queued"] == 0 {
            eprintln!(
                "scheduler bench: warning: nobody was queued; the promotion path was not exercised"
            );
        }
        if failures > 0 {
            std::process::exit(1);
        }
        eprintln!("scheduler bench: short form passed (no failed session, promotion or request)");
    }
}
