//! Degrade switches at run time: every replica keeps the switches that are on in memory (an
//! [`Active`] set behind an `ArcSwap`, so the hot paths read it without a lock) and reads the
//! table again every [`REFRESH`] — a handful of rows — so a switch flipped through any replica
//! takes effect on all of them within that time; the replica that flips one reloads at once.
//!
//! What each switch stops is checked where that thing starts: placement (new plays, and the
//! lowest-spec cap), the watch view (spectators), the webhook sender (deliveries), a play's
//! preparation and end (saves).

use crate::state::AppState;
use crate::store;
use arc_swap::ArcSwap;
use playrack_wire::api::{SwitchName, SwitchScope};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// How often each replica reads the switches again.
pub const REFRESH: Duration = Duration::from_millis(250);

/// The switches that are on.
#[derive(Debug, Default, Clone)]
pub struct Active(HashSet<(SwitchName, SwitchScope)>);

impl Active {
    fn on(&self, name: SwitchName, scope: SwitchScope) -> bool {
        self.0.contains(&(name, scope))
    }

    /// Whether `name` is on for the whole platform.
    pub fn platform(&self, name: SwitchName) -> bool {
        self.on(name, SwitchScope::Platform)
    }

    /// Whether `name` is on for the platform or for `tenant`.
    pub fn stops(&self, name: SwitchName, tenant: &str) -> bool {
        self.on(name, SwitchScope::Platform) || self.on(name, SwitchScope::Tenant(tenant.into()))
    }

    /// Whether new plays may not start in this room (switched off there or in its region).
    pub fn stops_room(&self, room: &str, region: &str) -> bool {
        self.on(SwitchName::NewPlays, SwitchScope::Room(room.into()))
            || self.on(SwitchName::NewPlays, SwitchScope::Region(region.into()))
    }

    /// Whether any switch is on (the common case is none).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// This replica's view of the switches.
#[derive(Debug, Default)]
pub struct Switches(ArcSwap<Active>);

impl Switches {
    /// The switches on now.
    pub fn now(&self) -> Arc<Active> {
        self.0.load_full()
    }
}

/// Reads the switches from the store into this replica's view.
pub async fn reload(state: &AppState) -> Result<(), sqlx::Error> {
    let rows = store::switches::all(&state.db.pool).await?;
    let set = rows
        .iter()
        .filter_map(|r| {
            Some((
                SwitchName::parse(&r.name)?,
                SwitchScope::parse(&r.scope).ok()?,
            ))
        })
        .collect();
    let new = Active(set);
    let old = state.switches.0.swap(Arc::new(new.clone()));
    if old.0 != new.0 {
        tracing::info!(on = new.0.len(), "degrade switches changed");
        metrics::gauge!("playrack_switches_on").set(new.0.len() as f64);
        // Plays queued behind a switch that went off may start now.
        if old.0.iter().any(|s| !new.0.contains(s)) {
            crate::play::queue::request_promotion(state);
        }
    }
    Ok(())
}

/// Keeps this replica's view current.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = reload(&state).await {
                tracing::warn!("reading the degrade switches failed: {e}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_applies_at_its_scope_and_no_other() {
        let mut a = Active::default();
        assert!(a.is_empty());
        a.0.insert((SwitchName::Spectators, SwitchScope::Tenant("ten_a".into())));
        a.0.insert((SwitchName::NewPlays, SwitchScope::Region("reg_e".into())));
        assert!(a.stops(SwitchName::Spectators, "ten_a"));
        assert!(!a.stops(SwitchName::Spectators, "ten_b"));
        assert!(!a.stops(SwitchName::Webhooks, "ten_a"));
        assert!(a.stops_room("room_1", "reg_e"));
        assert!(!a.stops_room("room_1", "reg_w"));
        a.0.insert((SwitchName::Webhooks, SwitchScope::Platform));
        assert!(a.stops(SwitchName::Webhooks, "ten_b"));
    }
}
