//! The warm pool: K booted idle instances per spec, so a play never waits for a boot.
//!
//! [`plan`] is the policy, a pure function: given the instances the pool has and the targets,
//! which specs to boot one more instance of and which idle instances to remove. [`Pool`]
//! applies it in the background ([`Pool::run`]) and hands instances out ([`Pool::take`]) and
//! back ([`Pool::release`]). A released instance is never reused as is: it is removed (the
//! player's game and data go with it) and the policy boots a fresh one — redroid's "reset by
//! recreating the container".
//!
//! Busy instances are marked in `<state-dir>/busy/<id>`: after an agent restart, adopted
//! instances that were in a play are reset, the others go back into the pool as warm.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use playrack_wire::agent::{InstanceReport, InstanceState};
use tokio::sync::Notify;

use crate::runtime::{Instance, InstanceSpec, Runtime};

/// How long a failed boot waits before the pool tries again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);
/// How long a play may wait for an instance that is being reset or booted for it.
pub const TAKE_WAIT: Duration = Duration::from_secs(90);
/// How often a waiting play looks again.
const TAKE_POLL: Duration = Duration::from_millis(25);

/// One instance the pool knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub id: String,
    pub spec_id: String,
    pub state: InstanceState,
    /// Set once booted.
    pub instance: Option<Instance>,
    pub session_id: Option<String>,
    pub package: Option<String>,
    /// The video encoder of its current or last play.
    pub encoder: Option<String>,
    /// When it was booted (or adopted).
    pub booted_at: Option<std::time::SystemTime>,
}

/// What the policy wants done.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Boot one instance of each listed spec (a spec may appear several times).
    pub create: Vec<String>,
    /// Remove these idle instances.
    pub destroy: Vec<String>,
}

/// The pool policy: per spec, boot until `warm + booting` reaches its target without taking
/// the spec's instances past its capacity (when one is given); remove warm instances beyond
/// the target (and every warm instance of a spec with no target).
pub fn plan(
    slots: &[Slot],
    targets: &BTreeMap<String, u32>,
    capacity: &BTreeMap<String, u32>,
) -> Plan {
    let mut p = Plan::default();
    let count = |spec: &str, f: &dyn Fn(InstanceState) -> bool| {
        slots
            .iter()
            .filter(|s| s.spec_id == spec && f(s.state))
            .count() as u32
    };
    for (spec, &target) in targets {
        let ready = count(spec, &|s| {
            matches!(s, InstanceState::Warm | InstanceState::Booting)
        });
        let total = count(spec, &|s| s != InstanceState::Broken);
        let room = capacity
            .get(spec)
            .map(|&cap| cap.saturating_sub(total))
            .unwrap_or(u32::MAX);
        let want = target.saturating_sub(ready).min(room);
        p.create
            .extend(std::iter::repeat_n(spec.clone(), want as usize));
    }
    let mut warm_seen: BTreeMap<&str, u32> = BTreeMap::new();
    for s in slots {
        match s.state {
            InstanceState::Warm => {
                let n = warm_seen.entry(&s.spec_id).or_default();
                *n += 1;
                if *n > targets.get(&s.spec_id).copied().unwrap_or(0) {
                    p.destroy.push(s.id.clone());
                }
            }
            InstanceState::Broken => p.destroy.push(s.id.clone()),
            _ => {}
        }
    }
    p
}

/// The pool manager around a runtime driver.
pub struct Pool<R: Runtime> {
    runtime: Arc<R>,
    specs: BTreeMap<String, InstanceSpec>,
    targets: BTreeMap<String, u32>,
    capacity: BTreeMap<String, u32>,
    slots: Mutex<Vec<Slot>>,
    changed: Notify,
    state_dir: PathBuf,
    next: AtomicU64,
    prefix: String,
}

impl<R: Runtime> Pool<R> {
    /// A pool over `runtime`; `state_dir` keeps the busy markers.
    pub fn new(
        runtime: Arc<R>,
        specs: BTreeMap<String, InstanceSpec>,
        targets: BTreeMap<String, u32>,
        capacity: BTreeMap<String, u32>,
        state_dir: PathBuf,
    ) -> Arc<Pool<R>> {
        // Ids stay unique across agent restarts: a time prefix, then a counter.
        let prefix = format!(
            "i{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        );
        Arc::new(Pool {
            runtime,
            specs,
            targets,
            capacity,
            slots: Mutex::new(Vec::new()),
            changed: Notify::new(),
            state_dir,
            next: AtomicU64::new(1),
            prefix,
        })
    }

    pub fn runtime(&self) -> &Arc<R> {
        &self.runtime
    }

    fn busy_marker(&self, id: &str) -> PathBuf {
        self.state_dir.join("busy").join(id)
    }

    fn new_id(&self) -> String {
        format!(
            "{}-{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Takes over what the driver already runs (after an agent restart): instances that were
    /// in a play are reset, the others become warm.
    pub async fn adopt(&self) -> anyhow::Result<()> {
        for inst in self.runtime.list().await? {
            if self.busy_marker(&inst.id).exists() {
                tracing::info!(id = %inst.id, "resetting an instance left from a play");
                self.runtime.remove(&inst.id).await?;
                let _ = std::fs::remove_file(self.busy_marker(&inst.id));
                continue;
            }
            tracing::info!(id = %inst.id, spec = %inst.spec_id, "adopted a warm instance");
            self.slots.lock().unwrap().push(Slot {
                id: inst.id.clone(),
                spec_id: inst.spec_id.clone(),
                state: InstanceState::Warm,
                instance: Some(inst),
                session_id: None,
                package: None,
                encoder: None,
                booted_at: Some(std::time::SystemTime::now()),
            });
        }
        self.changed.notify_one();
        Ok(())
    }

    /// A snapshot of every slot.
    pub fn slots(&self) -> Vec<Slot> {
        self.slots.lock().unwrap().clone()
    }

    /// What the hello and instance reports say.
    pub fn reports(&self) -> Vec<InstanceReport> {
        self.slots()
            .into_iter()
            .map(|s| InstanceReport {
                instance_id: s.id,
                spec_id: s.spec_id,
                state: s.state,
                session_id: s.session_id,
                package: s.package,
                encoder: s.encoder,
                booted_at: s.booted_at.map(Into::into),
            })
            .collect()
    }

    /// How many warm instances of `spec` there are.
    pub fn warm(&self, spec: &str) -> usize {
        self.slots()
            .iter()
            .filter(|s| s.spec_id == spec && s.state == InstanceState::Warm)
            .count()
    }

    /// Takes a warm instance of `spec` for a play, or boots one on demand if none is warm.
    pub async fn take(&self, spec: &InstanceSpec, session_id: &str) -> anyhow::Result<Instance> {
        // A play that follows another on a full board finds the instance still being reset
        // or rebooted by the refill: wait for it rather than refuse.
        let deadline = std::time::Instant::now() + TAKE_WAIT;
        let taken = loop {
            let (taken, coming) = {
                let mut slots = self.slots.lock().unwrap();
                // booting for the warm pool, or being reset after a play that ended
                let coming = slots.iter().any(|s| {
                    s.spec_id == spec.id
                        && (s.state == InstanceState::Resetting
                            || (s.state == InstanceState::Booting && s.session_id.is_none()))
                });
                let taken = slots
                    .iter_mut()
                    .find(|s| s.spec_id == spec.id && s.state == InstanceState::Warm)
                    .map(|s| {
                        s.state = InstanceState::Preparing;
                        s.session_id = Some(session_id.to_owned());
                        s.instance.clone().expect("a warm slot has its instance")
                    });
                (taken, coming)
            };
            if taken.is_some() || !coming || std::time::Instant::now() >= deadline {
                break taken;
            }
            tokio::time::sleep(TAKE_POLL).await;
        };
        let inst = match taken {
            Some(i) => i,
            None => {
                let total = self
                    .slots()
                    .iter()
                    .filter(|s| s.spec_id == spec.id && s.state != InstanceState::Broken)
                    .count() as u32;
                if let Some(&cap) = self.capacity.get(&spec.id)
                    && total >= cap
                {
                    bail!("no capacity left for spec {}", spec.id);
                }
                let id = self.new_id();
                self.slots.lock().unwrap().push(Slot {
                    id: id.clone(),
                    spec_id: spec.id.clone(),
                    state: InstanceState::Booting,
                    instance: None,
                    session_id: Some(session_id.to_owned()),
                    package: None,
                    encoder: None,
                    booted_at: None,
                });
                match self.runtime.create(&id, spec).await {
                    Ok(i) => {
                        self.update(&id, |s| {
                            s.state = InstanceState::Preparing;
                            s.instance = Some(i.clone());
                            s.booted_at = Some(std::time::SystemTime::now());
                        });
                        i
                    }
                    Err(e) => {
                        self.slots.lock().unwrap().retain(|s| s.id != id);
                        return Err(e.context("booting an instance on demand"));
                    }
                }
            }
        };
        if let Some(dir) = self.busy_marker(&inst.id).parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(self.busy_marker(&inst.id), session_id)
            .context("writing the busy marker")?;
        self.changed.notify_one();
        Ok(inst)
    }

    /// Changes a slot in place.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut Slot)) {
        if let Some(s) = self.slots.lock().unwrap().iter_mut().find(|s| s.id == id) {
            f(s);
        }
    }

    /// Ends a play on `id`: the instance is removed and the pool boots a fresh one.
    pub async fn release(&self, id: &str) -> anyhow::Result<()> {
        self.update(id, |s| s.state = InstanceState::Resetting);
        let r = self.runtime.remove(id).await;
        self.slots.lock().unwrap().retain(|s| s.id != id);
        let _ = std::fs::remove_file(self.busy_marker(id));
        self.changed.notify_one();
        r
    }

    /// One round of the policy: boots and removes what [`plan`] says; returns whether anything
    /// failed.
    pub async fn refill_once(&self) -> bool {
        let p = plan(&self.slots(), &self.targets, &self.capacity);
        let mut failed = false;
        for id in p.destroy {
            self.slots.lock().unwrap().retain(|s| s.id != id);
            if let Err(e) = self.runtime.remove(&id).await {
                tracing::warn!(%id, error = %format!("{e:#}"), "removing an idle instance failed");
            }
        }
        // Boot them concurrently: each boot mostly waits.
        let boots = p.create.into_iter().filter_map(|spec_id| {
            let spec = self.specs.get(&spec_id)?.clone();
            let id = self.new_id();
            self.slots.lock().unwrap().push(Slot {
                id: id.clone(),
                spec_id,
                state: InstanceState::Booting,
                instance: None,
                session_id: None,
                package: None,
                encoder: None,
                booted_at: None,
            });
            Some(async move {
                match self.runtime.create(&id, &spec).await {
                    Ok(i) => {
                        self.update(&id, |s| {
                            s.state = InstanceState::Warm;
                            s.instance = Some(i);
                            s.booted_at = Some(std::time::SystemTime::now());
                        });
                        true
                    }
                    Err(e) => {
                        tracing::warn!(%id, error = %format!("{e:#}"), "booting a warm instance failed");
                        self.slots.lock().unwrap().retain(|s| s.id != id);
                        let _ = self.runtime.remove(&id).await;
                        false
                    }
                }
            })
        });
        for ok in futures_util::future::join_all(boots).await {
            failed |= !ok;
        }
        failed
    }

    /// Keeps the pool filled until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            let notified = self.changed.notified();
            if self.refill_once().await {
                tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                continue;
            }
            // Sleep until something changes (a take, a release) or a periodic check.
            let _ = tokio::time::timeout(Duration::from_secs(5), notified).await;
        }
    }

    /// Removes every instance (agent shutdown, tests).
    pub async fn shutdown(&self) {
        let ids: Vec<String> = self.slots().into_iter().map(|s| s.id).collect();
        for id in ids {
            let _ = self.runtime.remove(&id).await;
            let _ = std::fs::remove_file(self.busy_marker(&id));
        }
        self.slots.lock().unwrap().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(id: &str, spec: &str, state: InstanceState) -> Slot {
        Slot {
            id: id.into(),
            spec_id: spec.into(),
            state,
            instance: None,
            session_id: None,
            package: None,
            encoder: None,
            booted_at: None,
        }
    }

    #[test]
    fn the_policy_fills_to_target_within_capacity_and_trims_excess() {
        let targets = BTreeMap::from([("hd".to_owned(), 2), ("sd".to_owned(), 1)]);
        let cap = BTreeMap::from([("hd".to_owned(), 3)]);
        // Empty: two hd and one sd.
        let p = plan(&[], &targets, &cap);
        assert_eq!(p.create, ["hd", "hd", "sd"]);
        assert!(p.destroy.is_empty());
        // One booting, two busy hd: only one more fits the capacity of 3... none left.
        let slots = [
            slot("a", "hd", InstanceState::Booting),
            slot("b", "hd", InstanceState::Busy),
            slot("c", "hd", InstanceState::Busy),
            slot("d", "sd", InstanceState::Warm),
        ];
        assert_eq!(plan(&slots, &targets, &cap), Plan::default());
        // Excess warm ones and warm ones of a spec without a target go; broken ones too.
        let slots = [
            slot("a", "hd", InstanceState::Warm),
            slot("b", "hd", InstanceState::Warm),
            slot("c", "hd", InstanceState::Warm),
            slot("d", "xx", InstanceState::Warm),
            slot("e", "sd", InstanceState::Broken),
            slot("f", "sd", InstanceState::Warm),
        ];
        let p = plan(&slots, &targets, &BTreeMap::new());
        assert_eq!(p.destroy, ["c", "d", "e"]);
        assert!(p.create.is_empty());
    }
}
