//! Link figures: what each try-play link led to, per UTC day — card opens, acquires (and those
//! that queued), plays that started, their billable seconds, and call-to-action clicks. A
//! campaign's figures are its links' summed (the store reads them: [`crate::store::figures`]).
//!
//! Counted two ways. What a transaction writes anyway — an acquire, a play's start, its end — is
//! counted in that transaction, so it is exact. Opening a link's card and clicking its call to
//! action are public requests that write nothing else: they go through a bounded channel to one
//! task per replica that sums them and adds each link's counts once a second, so a link opened
//! by a crowd costs an upsert a second, not one per player. A crash loses at most that second's
//! opens and clicks, and a full channel drops counts (`playrack_link_figures_dropped_total`)
//! rather than hold a player up.

use crate::db::WriteTx;
use crate::metering::DAY_MS;
use crate::state::AppState;
use crate::store::figures::{self, Tally};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// How many public counts wait for the flusher at most.
const CHANNEL: usize = 8192;
/// How often the flusher adds what it summed.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A public event on a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Public {
    /// The link's card was read.
    Open,
    /// The player clicked the call to action.
    Conversion,
}

/// The channel public counts go through (the receiving end is taken by [`spawn`]).
pub struct Counter {
    tx: mpsc::Sender<(String, i64, Public)>,
    rx: Mutex<Option<mpsc::Receiver<(String, i64, Public)>>>,
}

impl Default for Counter {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(CHANNEL);
        Counter {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

impl Counter {
    /// Counts a public event on `link_id` now; never waits.
    pub fn count(&self, link_id: &str, event: Public) {
        let day = crate::now().millis() / DAY_MS;
        if self.tx.try_send((link_id.to_owned(), day, event)).is_err() {
            metrics::counter!("playrack_link_figures_dropped_total").increment(1);
        }
    }
}

/// The day an instant (ms since the epoch) falls on.
pub fn day_of(millis: i64) -> i64 {
    millis.div_euclid(DAY_MS)
}

/// Adds one transaction's counts to a link's day.
async fn add(tx: &mut WriteTx, link_id: &str, at: i64, t: Tally) -> Result<(), sqlx::Error> {
    figures::add(tx, link_id, day_of(at), &t).await
}

/// A fresh acquire through a link: placed, or `queued`.
pub async fn on_acquire(
    tx: &mut WriteTx,
    link_id: &str,
    queued: bool,
    at: i64,
) -> Result<(), sqlx::Error> {
    let t = Tally {
        acquires: 1,
        queued: i64::from(queued),
        ..Tally::default()
    };
    add(tx, link_id, at, t).await
}

/// A play through a link started (its first frame reached the player).
pub async fn on_play(tx: &mut WriteTx, link_id: &str, at: i64) -> Result<(), sqlx::Error> {
    let t = Tally {
        plays: 1,
        ..Tally::default()
    };
    add(tx, link_id, at, t).await
}

/// A play through a link ended with `secs` billable seconds (counted on the day it ended, as
/// the usage ledger counts it).
pub async fn on_end(
    tx: &mut WriteTx,
    link_id: &str,
    secs: u64,
    at: i64,
) -> Result<(), sqlx::Error> {
    let t = Tally {
        play_seconds: secs.min(i64::MAX as u64) as i64,
        ..Tally::default()
    };
    add(tx, link_id, at, t).await
}

/// Starts this replica's flusher of public counts.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let rx = state.figures.rx.lock().expect("figures lock").take();
    tokio::spawn(async move {
        let Some(mut rx) = rx else {
            return; // a second start of the same state: the first flusher runs
        };
        let mut pending: HashMap<(String, i64), Tally> = HashMap::new();
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                got = rx.recv() => match got {
                    Some((link, day, event)) => {
                        let t = pending.entry((link, day)).or_default();
                        match event {
                            Public::Open => t.opens += 1,
                            Public::Conversion => t.conversions += 1,
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => flush(&state, &mut pending).await,
            }
        }
        flush(&state, &mut pending).await;
    })
}

/// Adds the summed counts; what fails to write is kept for the next flush.
async fn flush(state: &AppState, pending: &mut HashMap<(String, i64), Tally>) {
    let mut failed = HashMap::new();
    for ((link, day), t) in pending.drain() {
        if let Err(e) = figures::add_now(&state.db.pool, &link, day, &t).await {
            tracing::warn!(error = %e, link = %link, "link figures: could not add counts");
            failed.insert((link, day), t);
        }
    }
    // Bounded: a database that stays away does not grow the map past one channel's worth.
    if failed.len() <= CHANNEL {
        *pending = failed;
    }
}
