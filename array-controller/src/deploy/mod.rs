//! Getting packages onto boards, in two steps. When a version is deployed to a room, the
//! package is first placed on the room's shared volume, once per room ([`placer`]); then every
//! board of the room is told to copy it from that volume (`SyncPackage`, naming the volume),
//! never from the controller. A board that connects later is told about every package placed
//! in its room. Boards' progress reports move the room's deployment state and each board's own
//! (`agents::channel`).

pub mod placer;

use crate::agents::outbox;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store;
use playrack_wire::agent::Command;

/// A sync command. Each request has its own id: boards answer a repeated id from their command
/// cache without running it (and so without a new deployment report), but a deployment of a
/// package a board already holds must still be reported ready — syncing it again is a no-op.
async fn send_sync(
    state: &AppState,
    board_id: &str,
    sha256: &str,
    size: i64,
    volume: &str,
) -> ApiResult<()> {
    let id = format!("sync-{sha256}-{}", crate::db::random_token(8));
    let command = Command::SyncPackage {
        sha256: sha256.to_owned(),
        size_bytes: size.max(0) as u64,
        source: playrack_volume::package_path(sha256),
        volume: Some(volume.to_owned()),
    };
    outbox::send(state, board_id, &id, command, outbox::DEFAULT_TTL).await?;
    Ok(())
}

/// Tells the online boards of `room_id` (connected to any replica) to copy a package placed
/// on the room's `volume`; the others are told when they connect ([`sync_board`]).
pub async fn sync_room(
    state: &AppState,
    room_id: &str,
    sha256: &str,
    size: i64,
    volume: &str,
) -> ApiResult<usize> {
    let boards = store::catalog::online_boards_in_room(&state.db.pool, room_id).await?;
    for b in &boards {
        send_sync(state, b, sha256, size, volume).await?;
    }
    Ok(boards.len())
}

/// Package `sha256` was deployed to `room_id` (and is wanted on its volume,
/// `store::volumes::want`, in the same transaction). If the volume already holds it (another
/// version with the same bytes), the room's boards are told at once; otherwise the placer is
/// woken.
pub async fn deployed(state: &AppState, room_id: &str, sha256: &str, size: i64) -> ApiResult<()> {
    let copy = store::volumes::copy(&state.db.pool, room_id, sha256).await?;
    if copy.is_some_and(|c| c.state == playrack_wire::api::VolumeCopyState::Placed) {
        if let Some(room) = store::topology::room(&state.db.pool, room_id).await? {
            sync_room(state, room_id, sha256, size, &room.shared_volume).await?;
        }
    } else {
        state.placer_wanted.notify_one();
    }
    Ok(())
}

/// Tells a board that just connected to copy every package placed on its room's volume.
pub async fn sync_board(state: &AppState, board_id: &str) -> ApiResult<usize> {
    let packages = store::volumes::placed_for_board(&state.db.pool, board_id).await?;
    for p in &packages {
        send_sync(state, board_id, &p.sha256, p.size_bytes, &p.shared_volume).await?;
    }
    Ok(packages.len())
}
