//! Getting packages onto boards: when a version is deployed to a room (or a board of that room
//! connects), every board of the room is told to sync the package from the room's shared
//! volume (`SyncPackage`); their progress reports move the room's deployment state
//! (`agents::channel`).

use crate::agents::outbox;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store;
use playrack_wire::agent::Command;

/// Where a package lives on a room's shared volume, relative to the volume: the package
/// store's own layout (the board joins it to the volume path or rsync URL it is configured with).
pub fn package_source(sha256: &str) -> String {
    format!("apk/{}/{sha256}.apk", &sha256[..2.min(sha256.len())])
}

/// A sync command. Each request has its own id: boards answer a repeated id from their command
/// cache without running it (and so without a new deployment report), but a deployment of a
/// package a board already holds must still be reported ready — syncing it again is a no-op.
async fn send_sync(
    state: &AppState,
    board_id: &str,
    sha256: &str,
    size: i64,
    source: String,
) -> ApiResult<()> {
    let id = format!("sync-{sha256}-{}", crate::db::random_token(8));
    let command = Command::SyncPackage {
        sha256: sha256.to_owned(),
        size_bytes: size.max(0) as u64,
        source,
    };
    outbox::send(state, board_id, &id, command, outbox::DEFAULT_TTL).await?;
    Ok(())
}

/// Tells the online boards of `room_id` (connected to any replica) to sync `version_id`'s
/// package; the others sync it when they connect ([`sync_board`]).
pub async fn sync_room(state: &AppState, room_id: &str, version_id: &str) -> ApiResult<usize> {
    let Some(package) = store::catalog::package(&state.db.pool, version_id).await? else {
        return Ok(0);
    };
    let Some(sha) = package.sha256 else {
        return Ok(0);
    };
    let source = package_source(&sha);
    let boards = store::catalog::online_boards_in_room(&state.db.pool, room_id).await?;
    for b in &boards {
        send_sync(state, b, &sha, package.size_bytes, source.clone()).await?;
    }
    Ok(boards.len())
}

/// Tells a board that just connected to sync every package deployed (and not yet ready) in
/// its room.
pub async fn sync_board(state: &AppState, board_id: &str) -> ApiResult<usize> {
    let packages = store::catalog::packages_for_board(&state.db.pool, board_id).await?;
    for p in &packages {
        let source = package_source(&p.sha256);
        send_sync(state, board_id, &p.sha256, p.size_bytes, source).await?;
    }
    Ok(packages.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_follow_the_store_layout() {
        let sha = "ab".repeat(32);
        assert_eq!(package_source(&sha), format!("apk/ab/{sha}.apk"));
    }
}
