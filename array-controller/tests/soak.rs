//! The soak drill: a thousand simulated players churning on two hundred slots (20 simulated
//! boards × 10, an order of 200) through the controller's public play API, on SQLite and on
//! PostgreSQL. Players acquire with signed player tokens (one in ten at a higher user level),
//! play for a short random time and leave, or wait in line polling their ticket as the SDKs do;
//! some give up — half cancel their ticket, half just stop polling.
//!
//! What it asserts: no acquire, poll or leave of a player who keeps to the protocol is refused,
//! and each waiting player is served within a generous deadline; at no time do more than 200
//! play (the controller's live sessions, sampled, and the boards' own books of instances held,
//! exact); no board holds more plays than its slots and no play is prepared twice or handed to
//! two players; every ticket ends claimed, cancelled, evicted or expired (a silent player's
//! ticket is evicted, or its unclaimed promotion expires) and every session ends; promotions
//! follow the line (first come first served within a level, a higher level first); and the
//! process's resident memory over the last third of the run is under twice that over the
//! first third (a gross-leak bound; the figures are printed, never asserted as targets).
//!
//! `PLAYRACK_SOAK_SECS` sets how long players churn on each backend (20 s unless set; the long
//! form is `PLAYRACK_SOAK_SECS=3600`), `PLAYRACK_SOAK_PLAYERS` how many play (1000).

use playrack_test_support as support;

use playrack_wire::api::*;
use rand::Rng;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::sim::{BoardAgent, BoardCounters, run_board};
use support::{Ctl, backends, wait_value, world};

const BOARDS: u32 = 20;
const SLOTS: u32 = 10;
const CAPACITY: u64 = (BOARDS * SLOTS) as u64;
/// A player who keeps polling is served within this (the line drains at ~100 plays/s even on
/// a busy CI machine; 1,000 players are at most ~10 s of it).
const SERVE_DEADLINE: Duration = Duration::from_secs(90);
/// The level of one player in ten.
const HIGH_LEVEL: i32 = 5;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be a number"))
        })
        .unwrap_or(default)
}

/// What the players saw, summed.
#[derive(Default)]
struct Tally {
    acquires: AtomicU64,
    assigned: AtomicU64,
    queued: AtomicU64,
    claims: AtomicU64,
    cancels: AtomicU64,
    silent: AtomicU64,
    leaves: AtomicU64,
    polls: AtomicU64,
    /// Session ids handed to players (assigned or claimed), each with how often.
    handed: Mutex<HashMap<String, u32>>,
    acquire_ms: Mutex<Vec<f64>>,
    wait_ms: Mutex<Vec<f64>>,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, what: String) {
        let mut f = self.failures.lock().unwrap();
        if f.len() < 50 {
            f.push(what);
        }
    }
    fn handed(&self, session: &str) {
        *self
            .handed
            .lock()
            .unwrap()
            .entry(session.to_owned())
            .or_default() += 1;
    }
}

/// Nearest-rank percentile (sorts `v`).
fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// This process's resident set in MB (the controller, the boards and the players share it).
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

struct Player {
    url: String,
    http: reqwest::Client,
    tenant: String,
    game: String,
    secret: String,
    tally: Arc<Tally>,
}

impl Player {
    fn request(&self, user: &str, level: i32) -> AcquireRequest {
        let token = array_controller::play::identity::sign(
            &self.secret,
            &array_controller::play::identity::TokenPayload {
                tenant: self.tenant.clone(),
                user: user.into(),
                exp: array_controller::now().millis() / 1000 + 7 * 86_400,
                level,
            },
        );
        AcquireRequest {
            game_id: Some(self.game.clone()),
            player_token: Some(token),
            ..Default::default()
        }
    }

    /// Sends a request with a play key; returns the status and body.
    async fn keyed(&self, method: reqwest::Method, path: &str, key: &str) -> (StatusCode, String) {
        match self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
        {
            Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
            Err(e) => (StatusCode::IM_A_TEAPOT, format!("transport: {e}")),
        }
    }

    /// Plays `session` for a short random time, then leaves.
    async fn play_and_leave(&self, session: &str, key: &str) {
        self.tally.handed(session);
        let hold = rand::rng().random_range(200..2000);
        tokio::time::sleep(Duration::from_millis(hold)).await;
        let (status, body) = self
            .keyed(
                reqwest::Method::DELETE,
                &format!("/v1/play/sessions/{session}"),
                key,
            )
            .await;
        if status == StatusCode::OK {
            self.tally.leaves.fetch_add(1, Ordering::Relaxed);
        } else {
            self.tally.fail(format!("leave {session}: {status} {body}"));
        }
    }

    /// One player's churn until `stop`: a fresh user each round.
    async fn run(self, i: usize, stop: Arc<AtomicBool>) {
        let level = if i.is_multiple_of(10) { HIGH_LEVEL } else { 0 };
        let mut round = 0;
        while !stop.load(Ordering::Relaxed) {
            round += 1;
            let user = format!("p{i}-{round}");
            let started = Instant::now();
            let resp = self
                .http
                .post(format!("{}/v1/play/acquire", self.url))
                .json(&self.request(&user, level))
                .send()
                .await;
            let (status, body) = match resp {
                Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
                Err(e) => (StatusCode::IM_A_TEAPOT, format!("transport: {e}")),
            };
            self.tally
                .acquire_ms
                .lock()
                .unwrap()
                .push(started.elapsed().as_secs_f64() * 1000.0);
            self.tally.acquires.fetch_add(1, Ordering::Relaxed);
            if status != StatusCode::OK {
                self.tally.fail(format!("acquire {user}: {status} {body}"));
                continue;
            }
            match serde_json::from_str::<AcquireResponse>(&body).expect("acquire body") {
                AcquireResponse::Assigned {
                    session_id,
                    play_key,
                    ..
                } => {
                    self.tally.assigned.fetch_add(1, Ordering::Relaxed);
                    self.play_and_leave(&session_id, &play_key).await;
                }
                AcquireResponse::Queued {
                    ticket_id,
                    play_key,
                    poll_after_ms,
                    ..
                } => {
                    self.tally.queued.fetch_add(1, Ordering::Relaxed);
                    self.wait_in_line(&ticket_id, &play_key, poll_after_ms, started)
                        .await;
                }
            }
            let pause = rand::rng().random_range(0..300);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    /// Waits in line as the SDKs do (polls at the pace the controller asks), or gives up.
    async fn wait_in_line(&self, ticket: &str, key: &str, poll_after_ms: u32, since: Instant) {
        let path = format!("/v1/play/tickets/{ticket}");
        let roll: f64 = rand::rng().random();
        if roll < 0.05 {
            // Gives up and says so.
            let (status, body) = self.keyed(reqwest::Method::DELETE, &path, key).await;
            if status == StatusCode::OK {
                self.tally.cancels.fetch_add(1, Ordering::Relaxed);
            } else {
                self.tally.fail(format!("cancel {ticket}: {status} {body}"));
            }
            return;
        }
        if roll < 0.10 {
            // Walks away: the ticket is evicted (or its promotion expires unclaimed).
            self.tally.silent.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let pace = Duration::from_millis(u64::from(poll_after_ms.clamp(200, 2000)));
        let mut last = None;
        loop {
            if since.elapsed() > SERVE_DEADLINE {
                self.tally.fail(format!(
                    "{ticket}: not served in {SERVE_DEADLINE:?}; last seen {last:?}"
                ));
                let _ = self.keyed(reqwest::Method::DELETE, &path, key).await;
                return;
            }
            tokio::time::sleep(pace).await;
            let (status, body) = self.keyed(reqwest::Method::GET, &path, key).await;
            self.tally.polls.fetch_add(1, Ordering::Relaxed);
            if status != StatusCode::OK {
                self.tally.fail(format!("poll {ticket}: {status} {body}"));
                return;
            }
            let t: Ticket = serde_json::from_str(&body).expect("ticket body");
            last = Some((t.state, t.position, t.queue_length));
            match t.state {
                TicketState::Waiting | TicketState::Promoted => continue,
                TicketState::Claimed => {
                    self.tally
                        .wait_ms
                        .lock()
                        .unwrap()
                        .push(since.elapsed().as_secs_f64() * 1000.0);
                    self.tally.claims.fetch_add(1, Ordering::Relaxed);
                    let (Some(session), Some(session_key)) = (t.session_id, t.play_key) else {
                        self.tally
                            .fail(format!("{ticket}: claimed without session or key"));
                        return;
                    };
                    self.play_and_leave(&session, &session_key).await;
                    return;
                }
                other => {
                    self.tally
                        .fail(format!("{ticket}: a polling player's ticket {other:?}"));
                    return;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_players_churn_on_two_hundred_slots_served_in_order_with_flat_memory() {
    let secs = env_or("PLAYRACK_SOAK_SECS", 20);
    let players = env_or("PLAYRACK_SOAK_PLAYERS", 1000) as usize;
    for backend in backends() {
        soak(backend, Duration::from_secs(secs), players).await;
    }
}

async fn soak(backend: &'static str, churn: Duration, players: usize) {
    let ctl = Ctl::start(backend).await;
    let mut w = world(&ctl, BOARDS, SLOTS, CAPACITY as u32).await;
    let key: PlayerKey = ctl
        .ok::<(), _>(
            reqwest::Method::POST,
            &format!("/v1/tenants/{}/player-key", w.tenant.id),
            &w.tenant_token,
            None,
            StatusCode::CREATED,
        )
        .await;

    // The boards keep their channels alive and their books, as real agents do.
    let counters = Arc::new(BoardCounters::default());
    let (stop_boards, stop_rx) = tokio::sync::watch::channel(false);
    let mut boards = Vec::new();
    for (ws, agent) in std::mem::take(&mut w.sockets).into_iter().zip(&w.agents) {
        let board = BoardAgent::new(&agent.board_id, SLOTS, counters.clone());
        boards.push(tokio::spawn(run_board(
            ws,
            ctl.config.agent_heartbeat_secs,
            vec![],
            board,
            stop_rx.clone(),
        )));
    }

    // Samplers: the controller's own count of live plays, and this process's memory.
    let pool = ctl.state().db.pool.clone();
    let sampling = Arc::new(AtomicBool::new(true));
    let live_peak = Arc::new(AtomicU64::new(0));
    let rss: Arc<Mutex<Vec<f64>>> = Arc::default();
    let sampler = {
        let (sampling, live_peak, rss) = (sampling.clone(), live_peak.clone(), rss.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            let mut n = 0u64;
            while sampling.load(Ordering::Relaxed) {
                tick.tick().await;
                let live: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE live_key IS NOT NULL")
                        .fetch_one(&pool)
                        .await
                        .expect("count live sessions");
                live_peak.fetch_max(live as u64, Ordering::Relaxed);
                if n.is_multiple_of(4) {
                    rss.lock().unwrap().push(rss_mb());
                }
                n += 1;
            }
        })
    };

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(players);
    for i in 0..players {
        let p = Player {
            url: ctl.url.clone(),
            http: http.clone(),
            tenant: w.tenant.id.clone(),
            game: w.game.id.clone(),
            secret: key.secret.clone(),
            tally: tally.clone(),
        };
        tasks.push(tokio::spawn(p.run(i, stop.clone())));
    }
    tokio::time::sleep(churn).await;
    stop.store(true, Ordering::Relaxed);
    // Everyone in line is still served (or gives up) within the deadline.
    for t in tasks {
        tokio::time::timeout(SERVE_DEADLINE + Duration::from_secs(30), t)
            .await
            .expect("every player finishes within the serve deadline")
            .expect("player task");
    }
    let ran = started.elapsed();

    // The walked-away players' tickets end on their own, and every play ends.
    let db = &ctl.state().db.pool;
    let (live_tickets, live_sessions) = wait_value(
        "every ticket and session to end",
        Duration::from_secs(u64::from(ctl.config.ticket_timeout_secs) + 60),
        || async {
            let t: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM tickets WHERE state IN ('waiting', 'promoted')",
            )
            .fetch_one(db)
            .await
            .unwrap();
            let s: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE live_key IS NOT NULL")
                    .fetch_one(db)
                    .await
                    .unwrap();
            let boards = counters.live_now();
            if t == 0 && s == 0 && boards == 0 {
                Ok((t, s))
            } else {
                Err((t, s, boards))
            }
        },
    )
    .await;
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();

    // How the tickets ended.
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM tickets GROUP BY state")
            .fetch_all(db)
            .await
            .unwrap();
    let states: HashMap<String, i64> = states.into_iter().collect();
    let count = |s: &str| states.get(s).copied().unwrap_or(0) as u64;
    let (claims, cancels, silent) = (
        tally.claims.load(Ordering::Relaxed),
        tally.cancels.load(Ordering::Relaxed),
        tally.silent.load(Ordering::Relaxed),
    );
    let board_peak = counters.peak.load(Ordering::Relaxed);
    let ctl_peak = live_peak.load(Ordering::Relaxed);
    let prepares = counters.prepares.load(Ordering::Relaxed);
    // Memory: the last third of the run against the first.
    let rss = rss.lock().unwrap().clone();
    let third = (rss.len() / 3).max(1);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (first, last) = (mean(&rss[..third]), mean(&rss[rss.len() - third..]));
    let mut acquire_ms = tally.acquire_ms.lock().unwrap().clone();
    let mut wait_ms = tally.wait_ms.lock().unwrap().clone();
    let acquires = tally.acquires.load(Ordering::Relaxed);
    eprintln!(
        "soak {backend}: {players} players, {BOARDS}×{SLOTS} slots, churned {:.0} s (ran {:.0} s): \
         {acquires} acquires ({:.0}/s; p50 {:.1} ms, p99 {:.1} ms), {} assigned at once, {} queued \
         ({claims} claimed: wait p50 {:.0} ms, p99 {:.0} ms; {cancels} cancelled; {silent} walked \
         away: {} evicted, {} expired), {} polls, {} plays left; peak live plays {ctl_peak} (controller) / \
         {board_peak} (boards) of {CAPACITY}; {prepares} prepares; RSS first third {first:.0} MB, \
         last third {last:.0} MB, max {:.0} MB; {live_tickets} tickets and {live_sessions} \
         sessions live at the end",
        churn.as_secs_f64(),
        ran.as_secs_f64(),
        acquires as f64 / ran.as_secs_f64(),
        pct(&mut acquire_ms, 50.0),
        pct(&mut acquire_ms, 99.0),
        tally.assigned.load(Ordering::Relaxed),
        tally.queued.load(Ordering::Relaxed),
        pct(&mut wait_ms, 50.0),
        pct(&mut wait_ms, 99.0),
        count("evicted"),
        count("expired"),
        tally.polls.load(Ordering::Relaxed),
        tally.leaves.load(Ordering::Relaxed),
        rss.iter().copied().fold(0.0, f64::max),
    );
    let failures = tally.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{backend}: players were refused or not served: {failures:#?}"
    );
    assert_eq!(
        states.values().sum::<i64>() as u64,
        tally.queued.load(Ordering::Relaxed),
        "{backend}: a ticket per queued acquire: {states:?}"
    );
    assert_eq!(count("claimed"), claims, "{backend}: {states:?}");
    assert_eq!(count("cancelled"), cancels, "{backend}: {states:?}");
    assert_eq!(
        count("evicted") + count("expired"),
        silent,
        "{backend}: each walked-away player's ticket is evicted or expires: {states:?}"
    );

    // Nobody over capacity, nothing prepared or handed out twice.
    assert!(
        board_peak <= CAPACITY,
        "{backend}: boards held {board_peak} plays at once"
    );
    assert!(
        ctl_peak <= CAPACITY,
        "{backend}: the controller had {ctl_peak} live plays"
    );
    assert_eq!(
        counters.over_capacity.load(Ordering::Relaxed),
        0,
        "{backend}"
    );
    assert_eq!(
        counters.double_prepares.load(Ordering::Relaxed),
        0,
        "{backend}"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(db)
        .await
        .unwrap();
    // (A play its player left before the board was told to prepare it is never prepared.)
    assert!(
        prepares <= sessions as u64,
        "{backend}: {prepares} prepares of {sessions} sessions: one was prepared twice"
    );
    let handed = tally.handed.lock().unwrap().clone();
    let twice: Vec<_> = handed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{backend}: sessions handed to two players: {twice:?}"
    );
    assert_eq!(
        handed.len() as u64 + count("expired"),
        sessions as u64,
        "{backend}: every session went to one player, or to a promotion nobody claimed"
    );
    let shared: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT session_id FROM tickets WHERE session_id IS NOT NULL \
         GROUP BY session_id HAVING COUNT(*) > 1) AS d",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(shared, 0, "{backend}: a session promoted for two tickets");

    // Promotions follow the line: by arrival within a level, a higher level first.
    let promoted: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT t.user_level, t.seq, t.id, s.created_at FROM tickets t \
         JOIN sessions s ON s.id = t.session_id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut by_level: HashMap<i64, Vec<(i64, String, i64)>> = HashMap::new();
    for (level, seq, id, at) in &promoted {
        by_level
            .entry(*level)
            .or_default()
            .push((*seq, id.clone(), *at));
    }
    for (level, line) in &mut by_level {
        line.sort();
        for pair in line.windows(2) {
            assert!(
                pair[0].2 <= pair[1].2,
                "{backend}: level {level}: ticket {} arrived before {} but was promoted after it",
                pair[0].1,
                pair[1].1
            );
        }
    }
    let high = by_level
        .get(&i64::from(HIGH_LEVEL))
        .cloned()
        .unwrap_or_default();
    for (_, low_id, low_at) in by_level.get(&0).into_iter().flatten() {
        // A high-level ticket waiting (for a second, so surely seen) when a low one was promoted.
        if let Some((_, high_id, high_at)) = high
            .iter()
            .find(|(seq, _, at)| *seq + 1000 < *low_at && *at > *low_at)
        {
            panic!(
                "{backend}: level-0 ticket {low_id} promoted at {low_at} while level-{HIGH_LEVEL} \
                 ticket {high_id} waited (promoted at {high_at})"
            );
        }
    }

    assert!(
        failures.is_empty(),
        "{backend}: players were refused or not served: {failures:#?}"
    );
    assert!(
        last < 2.0 * first,
        "{backend}: resident memory grew from {first:.0} MB to {last:.0} MB"
    );

    stop_boards.send(true).unwrap();
    for b in boards {
        let _ = b.await;
    }
    ctl.stop().await;
}
