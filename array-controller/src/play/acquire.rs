//! Acquire: resolve the player and the game (reads only), then in one short write transaction
//! return the player's live session or ticket if there is one, else place the play (a reserved
//! session) or queue it (a ticket). Idempotent per `Idempotency-Key`.
//!
//! No global lock: the transaction counts the chosen board slot, room and order with
//! conditional updates (PostgreSQL locks just those rows; candidate boards another acquire is
//! deciding on are skipped, not waited for), and only the same player's requests serialise.

use super::error::{PlayError, PlayResult};
use super::{POLL_AFTER_MS, identity, queue};
use crate::db::{self, WriteTx};
use crate::scheduler::placement::{self, BoardView, Decision, PlayRequest, QueueReason};
use crate::state::AppState;
use crate::store;
use playrack_wire::api::{AcquireRequest, AcquireResponse, SwitchName, TrialDefaults};

/// A play request resolved to its tenant, game, version and player.
#[derive(Debug, Clone)]
pub struct Play {
    pub tenant_id: String,
    pub game_id: String,
    pub version_id: String,
    pub package: String,
    /// Specs to try, in order.
    pub specs: Vec<String>,
    pub user_key: String,
    pub user_level: i32,
    pub priority_tier: i32,
    pub link_id: Option<String>,
    pub timers: TrialDefaults,
    pub request: AcquireRequest,
}

impl Play {
    pub fn live_key(&self) -> String {
        format!("{}|{}|{}", self.tenant_id, self.user_key, self.game_id)
    }

    pub fn placement_request(&self) -> PlayRequest {
        PlayRequest {
            specs: self.specs.clone(),
            rtt_ms: self.request.rtt_ms.clone(),
            region_hint: self.request.region.clone(),
        }
    }
}

/// A try-play link by its code, if it can still be played.
pub async fn open_link(state: &AppState, code: &str) -> PlayResult<store::plays::OpenLink> {
    let link = store::plays::link_by_code(&state.db.pool, code)
        .await?
        .ok_or(PlayError::NotFound("link"))?;
    if link.revoked_at.is_some() {
        return Err(PlayError::LinkRevoked);
    }
    if link.expires_at.is_some_and(|e| e <= crate::now().millis()) {
        return Err(PlayError::LinkExpired);
    }
    Ok(link)
}

/// Who a play request names: the tenant and game, the player and their level, and what a
/// try-play link adds (its id, trial length and connect deadline).
pub struct Player {
    pub tenant_id: String,
    pub game_id: String,
    pub user_key: String,
    pub user_level: i32,
    pub link_id: Option<String>,
    /// The link's campaign tag.
    pub campaign: Option<String>,
    pub trial_secs: Option<u32>,
    pub link_deadline: Option<u32>,
}

/// Checks a request's identity: a live try-play link with a well-formed device id, or a
/// game with a player token the tenant's player key verifies.
pub async fn identify(
    state: &AppState,
    link: Option<&str>,
    device_id: Option<&str>,
    game_id: Option<&str>,
    player_token: Option<&str>,
) -> PlayResult<Player> {
    let now = crate::now();
    match (link, player_token) {
        (Some(code), None) => {
            let device = device_id.unwrap_or_default();
            if !identity::valid_device_id(device) {
                return Err(PlayError::BadRequest(
                    "device_id must be 16–64 characters of letters, digits, - and _".into(),
                ));
            }
            let link = open_link(state, code).await?;
            Ok(Player {
                tenant_id: link.tenant_id,
                game_id: link.game_id,
                user_key: identity::anonymous_user(device),
                user_level: 0,
                link_id: Some(link.id),
                campaign: link.campaign,
                trial_secs: Some(link.trial_seconds.clamp(0, u32::MAX as i64) as u32),
                link_deadline: link
                    .connect_deadline_seconds
                    .map(|s| s.clamp(1, 3600) as u32),
            })
        }
        (None, Some(token)) => {
            let game_id = game_id
                .ok_or_else(|| PlayError::BadRequest("a player_token needs a game_id".into()))?;
            let claimed = identity::peek(token)?;
            let stored = store::keys::player_key(&state.db.pool, &claimed.tenant)
                .await?
                .ok_or(PlayError::BadPlayerToken(
                    "the player token's tenant has no player key",
                ))?;
            let key = state
                .sealer
                .open(
                    &crate::secrets::player_key_purpose(&claimed.tenant),
                    &stored,
                )
                .map_err(|e| PlayError::Internal(e.to_string()))?;
            let payload = identity::verify(&key, token, now.millis() / 1000)?;
            Ok(Player {
                tenant_id: payload.tenant,
                game_id: game_id.to_owned(),
                user_key: format!("user:{}", payload.user),
                user_level: payload.level,
                link_id: None,
                campaign: None,
                trial_secs: None,
                link_deadline: None,
            })
        }
        _ => Err(PlayError::BadRequest(
            "send either link (with device_id) or game_id with player_token".into(),
        )),
    }
}

/// Resolves who plays what (outside the reserving transaction: reads only).
pub async fn resolve(state: &AppState, req: AcquireRequest) -> PlayResult<Play> {
    let Player {
        tenant_id,
        game_id,
        user_key,
        user_level,
        link_id,
        campaign,
        trial_secs,
        link_deadline,
    } = identify(
        state,
        req.link.as_deref(),
        req.device_id.as_deref(),
        req.game_id.as_deref(),
        req.player_token.as_deref(),
    )
    .await?;
    let game = store::plays::game(&state.db.pool, &game_id, &tenant_id)
        .await?
        .ok_or(PlayError::NotFound("game"))?;
    if !game.publisher_active() {
        return Err(PlayError::PublisherSuspended);
    }
    let mut specs: Vec<String> = serde_json::from_str(&game.spec_ids)?;
    if let Some(pref) = &req.spec_id {
        let i = specs.iter().position(|s| s == pref).ok_or_else(|| {
            PlayError::BadRequest(format!("spec `{pref}` is not allowed for this game"))
        })?;
        let s = specs.remove(i);
        specs.insert(0, s);
    }
    let mut timers: TrialDefaults = serde_json::from_str(&game.trial_defaults)?;
    if let Some(t) = trial_secs {
        timers.max_play_seconds = t;
    }
    if link_deadline.is_some() {
        timers.connect_deadline_seconds = link_deadline;
    }
    let stable = store::plays::published_version(&state.db.pool, &game_id)
        .await?
        .ok_or(PlayError::GameNotPlayable)?;
    let who = crate::grey::Who {
        user_key: &user_key,
        link_id: link_id.as_deref(),
        campaign: campaign.as_deref(),
    };
    let version_id = match store::grey::for_game(&state.db.pool, &game_id).await? {
        Some(release) if crate::grey::chooses(&release, who) => release.version_id,
        _ => stable,
    };
    if let Some(archive) = req.archive_id.as_deref() {
        // A chosen archive must exist for this player and fit the instances' Android version.
        crate::archives::to_restore(
            &state.db.pool,
            &tenant_id,
            &user_key,
            &game_id,
            Some(archive),
            super::lifecycle::INSTANCE_SDK,
        )
        .await?;
    }
    Ok(Play {
        version_id,
        package: game.package_name.unwrap_or_default(),
        priority_tier: game.priority_tier as i32,
        tenant_id,
        game_id,
        specs,
        user_key,
        user_level,
        link_id,
        timers,
        request: req,
    })
}

/// How many times a reservation is retried when a concurrent one took the room's or the
/// order's last place between the read and the write (PostgreSQL only: SQLite's single writer
/// never races).
const RACE_RETRIES: usize = 4;
/// How many (spec, room) places one acquire looks at before it queues: the rooms are ranked by
/// the player's RTT first, so the rest would be too far anyway, and the work stays bounded.
const MAX_TRIES: usize = 16;
/// How often a reservation that found every free board locked looks again before it waits.
const SKIPPED_RETRIES: usize = 3;
/// Boards read (and on PostgreSQL locked) per tried room: the least or most loaded, by the
/// room's policy, among which a warm one is preferred.
const BOARDS_PER_ROOM: i64 = 4;
/// Boards holding the play's game ready read (and locked) per tried room, besides those.
const PRIMED_PER_ROOM: i64 = 2;

/// Acquire, end to end.
pub async fn acquire(
    state: &AppState,
    idempotency_key: Option<String>,
    req: AcquireRequest,
) -> PlayResult<AcquireResponse> {
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 128)
    {
        return Err(PlayError::BadRequest(
            "Idempotency-Key must be 1–128 characters".into(),
        ));
    }
    let play = resolve(state, req).await?;
    let started = std::time::Instant::now();
    for _ in 0..RACE_RETRIES {
        let (answer, fresh) = match attempt(state, idempotency_key.as_deref(), &play).await {
            Ok(Some(done)) => done,
            Ok(None) => continue, // raced: read again
            // The database broke a deadlock (or a serialization conflict) by rolling this
            // transaction back: nothing of it was kept, so it is run again here rather than
            // handed to the player as BUSY.
            Err(PlayError::Db(e)) if crate::error::is_collision(&e) => {
                metrics::counter!("playrack_acquire_collisions_total").increment(1);
                continue;
            }
            Err(e) => return Err(e),
        };
        if let (true, AcquireResponse::Assigned { session_id, .. }) = (fresh, &answer) {
            super::lifecycle::dispatch_prepare(state, std::slice::from_ref(session_id)).await?;
        }
        let outcome = if matches!(answer, AcquireResponse::Assigned { .. }) {
            "assigned"
        } else {
            "queued"
        };
        metrics::counter!("playrack_acquires_total", "outcome" => outcome).increment(1);
        metrics::histogram!("playrack_acquire_seconds").record(started.elapsed().as_secs_f64());
        return keyed(state, answer).await;
    }
    Err(PlayError::Busy)
}

/// One try of an acquire in one transaction: the player's answer and whether it is new (not
/// the live play or a stored idempotent answer), or `None` when a concurrent reservation took
/// the place between the read and the write.
async fn attempt(
    state: &AppState,
    idempotency_key: Option<&str>,
    play: &Play,
) -> PlayResult<Option<(AcquireResponse, bool)>> {
    let mut tx = begin_for_player(state, play).await?;
    // Read once the transaction is ours: a ticket's place in line (its arrival instant) is
    // then never earlier than the moment it could be seen by a promotion, however long the
    // request waited for SQLite's writer.
    let now = crate::now();
    if let Some(k) = idempotency_key
        && let Some(s) = store::idempotency::get(&mut tx, &play.user_key, k).await?
    {
        return Ok(Some((serde_json::from_str(&s)?, false)));
    }
    let (answer, fresh) = match existing(&mut tx, play).await? {
        Some(a) => (a, false),
        None => match place_or_queue(state, &mut tx, play, now.millis()).await? {
            Some(a) => (a, true),
            None => return Ok(None),
        },
    };
    if let (true, Some(link)) = (fresh, &play.link_id) {
        let queued = matches!(answer, AcquireResponse::Queued { .. });
        crate::figures::on_acquire(&mut tx, link, queued, now.millis()).await?;
    }
    if let Some(k) = idempotency_key {
        let answer_json = serde_json::to_string(&answer).expect("json");
        store::idempotency::put(&mut tx, &play.user_key, k, &answer_json, now.millis()).await?;
    }
    tx.commit().await?;
    Ok(Some((answer, fresh)))
}

/// The answer with its play key. Answers are stored (for idempotency) without it: the key is
/// derived again on every answer, so no secret sits in the idempotency table.
async fn keyed(state: &AppState, mut answer: AcquireResponse) -> PlayResult<AcquireResponse> {
    let secret = super::lifecycle::signing_key(state).await?;
    match &mut answer {
        AcquireResponse::Assigned {
            session_id,
            play_key,
            ..
        } => *play_key = identity::play_key(&secret, identity::Held::Session(session_id)),
        AcquireResponse::Queued {
            ticket_id,
            play_key,
            ..
        } => *play_key = identity::play_key(&secret, identity::Held::Ticket(ticket_id)),
    }
    Ok(answer)
}

/// A write transaction in which this player's plays cannot change under us: SQLite's single
/// writer, or on PostgreSQL a transaction-scoped advisory lock on the player's live key (only
/// the same player's concurrent requests ever wait on it).
pub async fn begin_for_player(state: &AppState, play: &Play) -> PlayResult<WriteTx> {
    let mut tx = state.db.write().await?;
    store::advisory_lock(
        &mut tx,
        state.db.backend,
        &format!("player|{}", play.live_key()),
    )
    .await?;
    Ok(tx)
}

/// The player's live session or ticket for this game, if any ("already playing" returns it).
async fn existing(tx: &mut WriteTx, play: &Play) -> PlayResult<Option<AcquireResponse>> {
    let key = play.live_key();
    if let Some(r) = store::sessions::live_by_key(tx, &key).await? {
        return Ok(Some(AcquireResponse::Assigned {
            session_id: r.id,
            room_id: r.room_id,
            board_id: r.board_id,
            spec_id: r.spec_id,
            downgraded: r.downgraded != 0,
            play_key: String::new(),
        }));
    }
    if let Some(id) = store::tickets::live_by_key(tx, &key).await? {
        let t = queue::view(tx, &id).await?;
        return Ok(Some(queued_answer(&t)));
    }
    Ok(None)
}

pub fn queued_answer(t: &playrack_wire::api::Ticket) -> AcquireResponse {
    AcquireResponse::Queued {
        ticket_id: t.id.clone(),
        position: t.position.unwrap_or(0),
        queue_length: t.queue_length,
        eta_secs: t.eta_secs,
        reason: t.reason.clone(),
        poll_after_ms: POLL_AFTER_MS,
        play_key: String::new(),
    }
}

/// Places the play (a reserved session) or queues it; `None` when a concurrent reservation
/// took the place chosen (the caller starts over).
async fn place_or_queue(
    state: &AppState,
    tx: &mut WriteTx,
    play: &Play,
    now: i64,
) -> PlayResult<Option<AcquireResponse>> {
    match place(state, tx, play, now, Locked::Wait).await? {
        Placed::Raced => Ok(None),
        Placed::Assigned(a) => {
            let session_id = reserve(state, tx, play, &a, now, None).await?;
            Ok(Some(AcquireResponse::Assigned {
                session_id,
                room_id: a.room_id,
                board_id: a.board_id,
                spec_id: a.spec_id,
                downgraded: a.downgraded,
                play_key: String::new(),
            }))
        }
        Placed::Queue(reason) => {
            let id = queue::enqueue(state, tx, play, reason.as_str()).await?;
            let t = queue::view(tx, &id).await?;
            Ok(Some(queued_answer(&t)))
        }
    }
}

/// A place with its slot, room and order already counted in the transaction.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub spec_id: String,
    pub order_id: String,
    pub room_id: String,
    pub board_id: String,
    pub downgraded: bool,
}

pub enum Placed {
    Assigned(Assignment),
    Queue(QueueReason),
    /// The room's or order's last place went to a concurrent transaction: roll back, retry.
    Raced,
}

/// What [`place`] does when every free board of a room is locked by a reservation in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// Wait for one: only for a transaction that holds nothing anyone else waits on (a fresh
    /// acquire holds only its player's lock).
    Wait,
    /// Pass the room by: for a transaction that holds a lock others wait on (a promotion holds
    /// its line, which a queued acquire waits for while it may still hold a board row — on
    /// PostgreSQL a `FOR UPDATE` keeps the lock on a row whose recheck failed — so waiting for
    /// a board there could close a cycle).
    Skip,
}

/// Chooses a place with the placement core and takes it: the tenant's orders and the rooms
/// where the version is ready are read with their counts, then only the tried rooms' best
/// boards (locked, skipping locked ones, on PostgreSQL). O(orders + rooms + tries), never
/// O(boards) or O(history).
pub async fn place(
    state: &AppState,
    tx: &mut WriteTx,
    play: &Play,
    now: i64,
    locked: Locked,
) -> PlayResult<Placed> {
    // Degrade switches: new plays paused for everyone or this tenant, or in some rooms, or
    // capped to the lowest spec.
    let switches = state.switches.now();
    if switches.stops(SwitchName::NewPlays, &play.tenant_id) {
        return Ok(Placed::Queue(QueueReason::NewPlaysPaused));
    }
    let orders = store::capacity::orders(tx, &play.tenant_id, now).await?;
    let mut rooms = store::capacity::rooms(tx, &play.version_id).await?;
    if !switches.is_empty() {
        let deployed = rooms.len();
        rooms.retain(|r| !switches.stops_room(&r.id, &r.region_id));
        if deployed > 0 && rooms.is_empty() {
            return Ok(Placed::Queue(QueueReason::NewPlaysPaused));
        }
    }
    let mut request = play.placement_request();
    // Capped to the game's lowest spec: the play is downgraded whatever the boards have free.
    let capped = request.specs.len() > 1 && switches.stops(SwitchName::LowestSpec, &play.tenant_id);
    if capped {
        request.specs.drain(..request.specs.len() - 1);
    }
    let (tries, reason) = placement::tries(&request, &orders, &rooms);
    for t in tries.iter().take(MAX_TRIES) {
        let binpack = t.room.placement == playrack_wire::api::Placement::Binpack;
        let backend = state.db.backend;
        let mut rows =
            store::slots::candidates(tx, backend, &t.room.id, t.spec, binpack, BOARDS_PER_ROOM)
                .await?;
        if rows.is_empty() && backend == store::Backend::Postgres {
            // Every free board may be locked by a reservation in flight (each lasts a few
            // milliseconds): look again after a short random pause, so waiters spread over
            // the boards instead of queueing on one; only then wait for a locked one.
            for _ in 0..SKIPPED_RETRIES {
                let pause = rand::random_range(1..=4);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                let room = &t.room.id;
                rows =
                    store::slots::candidates(tx, backend, room, t.spec, binpack, BOARDS_PER_ROOM)
                        .await?;
                if !rows.is_empty() {
                    break;
                }
            }
            if rows.is_empty() && locked == Locked::Wait {
                rows.extend(store::slots::first_free_waiting(tx, &t.room.id, t.spec).await?);
            }
        }
        // Boards holding the play's game ready (installed and started) come first; without
        // any, boards with a blank warm instance do.
        let primed = store::warm::primed_candidates(
            tx,
            backend,
            &t.room.id,
            t.spec,
            &play.version_id,
            PRIMED_PER_ROOM,
        )
        .await?;
        let is_primed = |id: &str| primed.iter().any(|p| p.board_id == id);
        rows.retain(|r| !is_primed(&r.board_id));
        let any_primed = !primed.is_empty();
        let boards: Vec<BoardView> = primed
            .iter()
            .map(|c| (c, true))
            .chain(rows.iter().map(|c| (c, !any_primed && c.warm > 0)))
            .map(|(c, warm)| BoardView {
                id: c.board_id.clone(),
                healthy: true,
                draining: false,
                capacity: [(t.spec.to_owned(), c.capacity.max(0) as u32)].into(),
                in_use: [(t.spec.to_owned(), c.in_use.max(0) as u32)].into(),
                warm_specs: if warm {
                    [t.spec.to_owned()].into()
                } else {
                    Default::default()
                },
            })
            .collect();
        let Some(board) = placement::choose_among(&boards, t.room.placement, t.spec) else {
            continue;
        };
        let Decision::Assign {
            spec_id,
            order_id,
            room_id,
            board_id,
            downgraded,
            ..
        } = t.assign(board)
        else {
            unreachable!("assign always assigns")
        };
        if !store::slots::take(tx, &board_id, &spec_id).await?
            || !store::capacity::take_room(tx, &room_id).await?
            || !store::capacity::take_order(tx, &order_id).await?
        {
            return Ok(Placed::Raced);
        }
        return Ok(Placed::Assigned(Assignment {
            spec_id,
            order_id,
            room_id,
            board_id,
            downgraded: downgraded || capped,
        }));
    }
    Ok(Placed::Queue(reason))
}

/// Inserts the reserved session of an assignment (and counts a link play).
pub async fn reserve(
    state: &AppState,
    tx: &mut WriteTx,
    play: &Play,
    a: &Assignment,
    now: i64,
    ticket_id: Option<&str>,
) -> PlayResult<String> {
    if let Some(link) = &play.link_id {
        let used = store::capacity::take_link_play(tx, link).await?;
        if !used {
            return Err(PlayError::LinkExhausted);
        }
    }
    let id = db::new_id("ses");
    let key = play.live_key();
    let device = play
        .request
        .device
        .as_ref()
        .map(|d| serde_json::to_string(d).expect("json"));
    let connect_secs = play
        .timers
        .connect_deadline_seconds
        .unwrap_or(state.config.connect_deadline_secs);
    store::sessions::insert_reserved(
        tx,
        &store::sessions::NewSession {
            id: &id,
            tenant_id: &play.tenant_id,
            game_id: &play.game_id,
            version_id: &play.version_id,
            user_key: &play.user_key,
            link_id: play.link_id.as_deref(),
            spec_id: &a.spec_id,
            order_id: &a.order_id,
            room_id: &a.room_id,
            board_id: &a.board_id,
            downgraded: a.downgraded,
            max_play_secs: play.timers.max_play_seconds,
            reconnect_grace_secs: play.timers.reconnect_grace_seconds,
            idle_kick_secs: play.timers.idle_kick_seconds,
            device,
            created_at: now,
            connect_deadline: now + i64::from(connect_secs) * 1000,
            live_key: &key,
            archive_id: play.request.archive_id.as_deref(),
            ticket_id,
        },
    )
    .await?;
    Ok(id)
}
