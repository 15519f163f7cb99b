//! Data upgrades that SQL migrations cannot express because they need Rust, run after the
//! migrations on every start and recorded by name in `upgrades` once done. Each is idempotent
//! (it rewrites only rows still in the old form), so replicas starting together, or a start
//! cut off half-way, do no harm.
//!
//! - `anonymous_device_digests`: anonymous players' keys were `anon:<device id>`, which showed
//!   the device id — the anonymous player's only secret — in consoles, webhooks and exports.
//!   Each becomes [`crate::play::identity::anonymous_user`] of the id (`device:<digest>`), in
//!   sessions, tickets, archives and the usage ledger, so saves stay with their player.

use crate::db::Db;
use crate::play::identity;
use crate::store::upgrades::{self, KeyedTable};

/// Rows read and rewritten per transaction.
const BATCH: i64 = 500;

const ANONYMOUS_DEVICE_DIGESTS: &str = "anonymous_device_digests";

/// Runs every upgrade not yet recorded as done.
pub async fn run(db: &Db) -> Result<(), sqlx::Error> {
    if upgrades::is_done(&db.pool, ANONYMOUS_DEVICE_DIGESTS).await? {
        return Ok(());
    }
    let mut rewritten = 0u64;
    for table in KeyedTable::ALL {
        let mut after = String::new();
        loop {
            let mut tx = db.write().await?;
            let rows = upgrades::page(&mut tx, table, &after, BATCH).await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.id.clone();
            for row in &rows {
                let Some(device) = row.user_key.strip_prefix("anon:") else {
                    continue;
                };
                let user = identity::anonymous_user(device);
                let live = row
                    .live_key
                    .as_ref()
                    .map(|_| format!("{}|{}|{}", row.tenant_id, user, row.game_id));
                upgrades::rekey(&mut tx, table, row, &user, live.as_deref()).await?;
                rewritten += 1;
            }
            tx.commit().await?;
        }
    }
    let mut tx = db.write().await?;
    upgrades::mark_done(&mut tx, ANONYMOUS_DEVICE_DIGESTS, crate::now().millis()).await?;
    tx.commit().await?;
    tracing::info!(
        upgrade = ANONYMOUS_DEVICE_DIGESTS,
        rewritten,
        "data upgrade done"
    );
    Ok(())
}
