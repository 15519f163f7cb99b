//! The warm pool per game, on the leader: every few seconds it sizes, per room, game version
//! and spec, how many instances to keep ready from the plays started there recently
//! (`scheduler::warm`), spreads them over the boards that have the package, and sends each
//! board whose list changed a `WarmGames` command through the outbox. Boards prime blank
//! instances (install, start up to the first frame) and report what they hold ready in their
//! heartbeats; placement prefers a board holding the play's game (`store::warm`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use playrack_wire::agent::{Command, WarmGame};

use crate::scheduler::warm::{RoomGame, distribute, room_target};
use crate::state::AppState;
use crate::store;
use crate::store::warm::Wanted;

/// How often the leader sizes the pools.
pub const TICK: Duration = Duration::from_secs(5);
/// A list not delivered within this is dropped: the next pass sends a newer one.
const COMMAND_TTL: Duration = Duration::from_secs(60);

/// Starts the leader's sizing task.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    crate::leader::every(
        state,
        TICK,
        "sizing the warm pools per game",
        |s| async move { pass(&s).await },
    )
}

/// One sizing pass; returns how many boards were sent a new list.
pub async fn pass(state: &AppState) -> Result<usize, sqlx::Error> {
    let pool = &state.db.pool;
    let window = state.config.warm_games_window_secs;
    let max = state.config.warm_games_max_per_room;
    let now = crate::now().millis();
    let since = crate::db::id_floor("ses", now - i64::from(window) * 1000);
    // A minute ahead covers replicas whose clocks run a little fast.
    let until = crate::db::id_floor("ses", now + 60_000);
    let mut packages: HashMap<String, Option<WarmGame>> = HashMap::new();
    let mut games = Vec::new();
    let mut slots = BTreeMap::new();
    for a in store::warm::arrivals(pool, &since, &until).await? {
        let target = room_target(a.n.clamp(0, i64::from(u32::MAX)) as u32, window, max);
        if target == 0 {
            continue;
        }
        if !packages.contains_key(&a.version_id) {
            let game = store::warm::package(pool, &a.version_id)
                .await?
                .and_then(|p| {
                    let apk: playrack_wire::api::ApkSummary = serde_json::from_str(&p.apk).ok()?;
                    Some(WarmGame {
                        version_id: a.version_id.clone(),
                        spec_id: String::new(),
                        count: 0,
                        package_sha256: p.sha256?,
                        package_name: apk.package,
                        launch_activity: apk.launchable_activity,
                    })
                });
            packages.insert(a.version_id.clone(), game);
        }
        let Some(Some(game)) = packages.get(&a.version_id) else {
            continue;
        };
        let holders =
            store::warm::holders(pool, &a.room_id, &a.spec_id, &game.package_sha256).await?;
        for h in &holders {
            slots.insert(
                (h.board_id.clone(), a.spec_id.clone()),
                h.capacity.clamp(0, i64::from(u32::MAX)) as u32,
            );
        }
        games.push(RoomGame {
            version_id: a.version_id,
            spec_id: a.spec_id,
            target,
            boards: holders.into_iter().map(|h| h.board_id).collect(),
        });
    }
    let desired = distribute(&games, &slots);

    let mut current: BTreeMap<String, Vec<Wanted>> = BTreeMap::new();
    for w in store::warm::wanted(pool).await? {
        current.entry(w.board_id.clone()).or_default().push(w);
    }
    let boards: BTreeSet<&String> = desired.keys().chain(current.keys()).collect();
    let mut sent = 0;
    for board in boards {
        let rows: Vec<Wanted> = desired
            .get(board)
            .into_iter()
            .flatten()
            .map(|((version_id, spec_id), n)| Wanted {
                board_id: board.clone(),
                version_id: version_id.clone(),
                spec_id: spec_id.clone(),
                wanted: i64::from(*n),
            })
            .collect();
        if current.get(board).map_or(&[][..], Vec::as_slice) == rows.as_slice() {
            continue;
        }
        let list = rows
            .iter()
            .filter_map(|r| {
                let g = packages.get(&r.version_id)?.as_ref()?;
                Some(WarmGame {
                    spec_id: r.spec_id.clone(),
                    count: r.wanted as u32,
                    ..g.clone()
                })
            })
            .collect();
        let command = Command::WarmGames {
            revision: now.max(0) as u64,
            games: list,
        };
        let id = format!("warm-{board}-{now}");
        let mut tx = state.db.write().await?;
        store::warm::replace_wanted(&mut tx, board, &rows).await?;
        crate::agents::outbox::send_in(&mut tx, board, &id, command, COMMAND_TTL).await?;
        tx.commit().await?;
        crate::agents::outbox::wake(state, board).await;
        tracing::info!(%board, games = rows.len(), "warm games sent");
        sent += 1;
    }
    Ok(sent)
}
