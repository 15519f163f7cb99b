//! The warm pool: K booted idle instances per spec, so a play never waits for a boot, and
//! instances per game that hold a game ready, so a play does not wait for its install or
//! start-up either.
//!
//! [`plan`] is the policy, a pure function: given the instances the pool has and the targets,
//! which specs to boot one more instance of, which blank instances to prime with a game and
//! which idle instances to remove. The blank targets are the board's configuration; the games
//! and their counts come from the controller ([`Pool::set_games`]), which sizes them from
//! demand. Priming — installing the game and starting it up to its first frame — is the
//! [`Primer`]'s job (the agent's, over adb). [`Pool`] applies the policy in the background
//! ([`Pool::run`]) and hands instances out ([`Pool::take`]: one primed with the play's game
//! first, then a blank one, then one primed with another game) and back ([`Pool::release`]).
//! A released instance is never reused as is: it is removed (the player's game and data go
//! with it) and the policy boots a fresh one — redroid's "reset by recreating the container".
//!
//! Busy instances are marked in `<state-dir>/busy/<id>`: after an agent restart, adopted
//! instances that were in a play are reset, the others go back into the pool as warm.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::future::BoxFuture;
use playrack_wire::agent::{InstanceReport, InstanceState, WarmGame};
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
    /// The game version it holds ready (or is priming) while idle.
    pub primed: Option<String>,
}

impl Slot {
    fn is_blank_warm(&self) -> bool {
        self.state == InstanceState::Warm && self.primed.is_none()
    }
}

/// What the policy wants done.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Boot one instance of each listed spec (a spec may appear several times).
    pub create: Vec<String>,
    /// Remove these idle instances.
    pub destroy: Vec<String>,
    /// Prime these blank warm instances (id) with these game versions.
    pub prime: Vec<(String, String)>,
}

/// Gets a game ready on a booted, blank instance: installed, and started up to its first
/// frame.
pub trait Primer: Send + Sync + 'static {
    fn prime<'a>(
        &'a self,
        instance: &'a Instance,
        game: &'a WarmGame,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// The pool policy:
/// - per spec, boot until the blank `warm + booting` reaches its target without taking the
///   spec's instances past its capacity (when one is given); remove blank warm instances
///   beyond the target (and every blank warm instance of a spec with no target);
/// - per game, prime blank warm instances of its spec until `primed + priming` reaches its
///   count (the blank target is then refilled as capacity allows); remove idle instances
///   primed with a game beyond its count or no longer listed.
pub fn plan(
    slots: &[Slot],
    targets: &BTreeMap<String, u32>,
    capacity: &BTreeMap<String, u32>,
    games: &[WarmGame],
) -> Plan {
    let mut p = Plan::default();
    let count = |spec: &str, f: &dyn Fn(&Slot) -> bool| {
        slots.iter().filter(|s| s.spec_id == spec && f(s)).count() as u32
    };
    for (spec, &target) in targets {
        let ready = count(spec, &|s| {
            s.primed.is_none() && matches!(s.state, InstanceState::Warm | InstanceState::Booting)
        });
        let total = count(spec, &|s| s.state != InstanceState::Broken);
        let room = capacity
            .get(spec)
            .map(|&cap| cap.saturating_sub(total))
            .unwrap_or(u32::MAX);
        let want = target.saturating_sub(ready).min(room);
        p.create
            .extend(std::iter::repeat_n(spec.clone(), want as usize));
    }
    // Games: blank warm instances become primed ones, in slot order.
    let mut chosen: Vec<&str> = Vec::new();
    for g in games {
        let have = count(&g.spec_id, &|s| {
            s.primed.as_deref() == Some(&g.version_id)
                && matches!(s.state, InstanceState::Warm | InstanceState::Priming)
        });
        let want = g.count.saturating_sub(have) as usize;
        let blanks: Vec<&Slot> = slots
            .iter()
            .filter(|s| {
                s.spec_id == g.spec_id && s.is_blank_warm() && !chosen.contains(&s.id.as_str())
            })
            .take(want)
            .collect();
        for s in blanks {
            chosen.push(&s.id);
            p.prime.push((s.id.clone(), g.version_id.clone()));
        }
    }
    let mut warm_seen: BTreeMap<&str, u32> = BTreeMap::new();
    let mut primed_seen: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    for s in slots {
        match (s.state, &s.primed) {
            (InstanceState::Warm, None) if !chosen.contains(&s.id.as_str()) => {
                let n = warm_seen.entry(&s.spec_id).or_default();
                *n += 1;
                if *n > targets.get(&s.spec_id).copied().unwrap_or(0) {
                    p.destroy.push(s.id.clone());
                }
            }
            (InstanceState::Warm, Some(v)) => {
                let n = primed_seen.entry((v, &s.spec_id)).or_default();
                *n += 1;
                let wanted = games
                    .iter()
                    .find(|g| g.version_id == *v && g.spec_id == s.spec_id)
                    .map_or(0, |g| g.count);
                if *n > wanted {
                    p.destroy.push(s.id.clone());
                }
            }
            (InstanceState::Broken, _) => p.destroy.push(s.id.clone()),
            _ => {}
        }
    }
    p
}

/// What the pool says about an instance it changed on its own (not for a play).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Its state now (booted, priming, primed).
    Now(InstanceReport),
    /// Removed.
    Gone(String),
}

/// Where the pool's changes go (the agent sends them to the controller).
pub type Reporter = Box<dyn Fn(Change) + Send + Sync>;

/// The pool manager around a runtime driver.
pub struct Pool<R: Runtime> {
    runtime: Arc<R>,
    specs: BTreeMap<String, InstanceSpec>,
    targets: BTreeMap<String, u32>,
    capacity: BTreeMap<String, u32>,
    slots: Mutex<Vec<Slot>>,
    /// The games to keep ready, as the controller last said, and that list's revision.
    games: Mutex<(u64, Vec<WarmGame>)>,
    primer: std::sync::OnceLock<Arc<dyn Primer>>,
    reporter: std::sync::OnceLock<Reporter>,
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
            games: Mutex::new((0, Vec::new())),
            primer: std::sync::OnceLock::new(),
            reporter: std::sync::OnceLock::new(),
            changed: Notify::new(),
            state_dir,
            next: AtomicU64::new(1),
            prefix,
        })
    }

    pub fn runtime(&self) -> &Arc<R> {
        &self.runtime
    }

    /// Who primes instances with games (once, before [`Pool::run`]); without one, games are
    /// not primed.
    pub fn set_primer(&self, primer: Arc<dyn Primer>) {
        let _ = self.primer.set(primer);
    }

    /// Where changes the pool makes on its own are reported (once, before [`Pool::run`]).
    pub fn set_reporter(&self, reporter: Reporter) {
        let _ = self.reporter.set(reporter);
    }

    fn report(&self, id: &str) {
        if let Some(r) = self.reporter.get() {
            match self.reports().into_iter().find(|i| i.instance_id == id) {
                Some(i) => r(Change::Now(i)),
                None => r(Change::Gone(id.to_owned())),
            }
        }
    }

    /// The games to keep ready from now on: the controller's list replaces the last one,
    /// unless it is older (`revision`) than the list last taken.
    pub fn set_games(&self, revision: u64, games: Vec<WarmGame>) {
        {
            let mut g = self.games.lock().unwrap();
            if revision < g.0 {
                return;
            }
            *g = (revision, games);
        }
        self.changed.notify_one();
    }

    /// The games the pool keeps ready.
    pub fn games(&self) -> Vec<WarmGame> {
        self.games.lock().unwrap().1.clone()
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
                primed: None,
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
                primed_version_id: s.primed,
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

    /// Takes a warm instance of `spec` for a play of `version` — one primed with that game
    /// first, then a blank one, then one primed with another game — or boots one on demand if
    /// none is warm. Says whether the instance holds the play's game ready.
    pub async fn take(
        &self,
        spec: &InstanceSpec,
        session_id: &str,
        version: Option<&str>,
    ) -> anyhow::Result<(Instance, bool)> {
        // A play that follows another on a full board finds the instance still being reset,
        // rebooted or primed by the refill: wait for it rather than refuse.
        let deadline = std::time::Instant::now() + TAKE_WAIT;
        let taken = loop {
            let (taken, coming) = {
                let mut slots = self.slots.lock().unwrap();
                // booting for the warm pool, being primed, or being reset after a play
                let coming = slots.iter().any(|s| {
                    s.spec_id == spec.id
                        && (matches!(s.state, InstanceState::Resetting | InstanceState::Priming)
                            || (s.state == InstanceState::Booting && s.session_id.is_none()))
                });
                let warm = |s: &Slot| s.spec_id == spec.id && s.state == InstanceState::Warm;
                let pick = slots
                    .iter()
                    .position(|s| warm(s) && version.is_some() && s.primed.as_deref() == version)
                    .or_else(|| slots.iter().position(|s| warm(s) && s.primed.is_none()))
                    .or_else(|| slots.iter().position(warm));
                let taken = pick.map(|i| {
                    let s = &mut slots[i];
                    let primed = version.is_some() && s.primed.as_deref() == version;
                    s.state = InstanceState::Preparing;
                    s.session_id = Some(session_id.to_owned());
                    s.primed = None;
                    (
                        s.instance.clone().expect("a warm slot has its instance"),
                        primed,
                    )
                });
                (taken, coming)
            };
            if taken.is_some() || !coming || std::time::Instant::now() >= deadline {
                break taken;
            }
            tokio::time::sleep(TAKE_POLL).await;
        };
        let (inst, primed) = match taken {
            Some(t) => t,
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
                    primed: None,
                });
                match self.runtime.create(&id, spec).await {
                    Ok(i) => {
                        self.update(&id, |s| {
                            s.state = InstanceState::Preparing;
                            s.instance = Some(i.clone());
                            s.booted_at = Some(std::time::SystemTime::now());
                        });
                        (i, false)
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
        Ok((inst, primed))
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
        self.report(id);
        self.changed.notify_one();
        r
    }

    /// One round of the policy: removes, boots and primes what [`plan`] says; returns whether
    /// anything failed.
    pub async fn refill_once(&self) -> bool {
        let games = self.games();
        let mut p = plan(&self.slots(), &self.targets, &self.capacity, &games);
        if self.primer.get().is_none() {
            p.prime.clear();
        }
        let mut failed = false;
        for id in p.destroy {
            self.slots.lock().unwrap().retain(|s| s.id != id);
            if let Err(e) = self.runtime.remove(&id).await {
                tracing::warn!(%id, error = %format!("{e:#}"), "removing an idle instance failed");
            }
            self.report(&id);
        }
        // Boot and prime concurrently: each mostly waits.
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
                primed: None,
            });
            Some(Box::pin(async move {
                match self.runtime.create(&id, &spec).await {
                    Ok(i) => {
                        self.update(&id, |s| {
                            s.state = InstanceState::Warm;
                            s.instance = Some(i);
                            s.booted_at = Some(std::time::SystemTime::now());
                        });
                        self.report(&id);
                        true
                    }
                    Err(e) => {
                        tracing::warn!(%id, error = %format!("{e:#}"), "booting a warm instance failed");
                        self.slots.lock().unwrap().retain(|s| s.id != id);
                        let _ = self.runtime.remove(&id).await;
                        false
                    }
                }
            }) as BoxFuture<'_, bool>)
        });
        let primes = p.prime.into_iter().filter_map(|(id, version)| {
            let game = games.iter().find(|g| g.version_id == version)?.clone();
            let instance = {
                let mut slots = self.slots.lock().unwrap();
                let s = slots.iter_mut().find(|s| s.id == id && s.is_blank_warm())?;
                s.state = InstanceState::Priming;
                s.primed = Some(version.clone());
                s.instance.clone()?
            };
            let primer = self.primer.get()?.clone();
            self.report(&id);
            Some(Box::pin(async move {
                let started = std::time::Instant::now();
                match primer.prime(&instance, &game).await {
                    Ok(()) => {
                        tracing::info!(%id, version = %game.version_id, ms = started.elapsed().as_millis() as u64, "instance primed with a game");
                        self.update(&id, |s| {
                            if s.state == InstanceState::Priming {
                                s.state = InstanceState::Warm;
                            }
                        });
                        self.report(&id);
                        true
                    }
                    Err(e) => {
                        // Half-installed: recycled, never handed out.
                        tracing::warn!(%id, version = %game.version_id, error = %format!("{e:#}"), "priming an instance failed");
                        self.slots.lock().unwrap().retain(|s| s.id != id);
                        let _ = self.runtime.remove(&id).await;
                        self.report(&id);
                        false
                    }
                }
            }) as BoxFuture<'_, bool>)
        });
        let work: Vec<BoxFuture<'_, bool>> = boots.chain(primes).collect();
        let any = !work.is_empty();
        for ok in futures_util::future::join_all(work).await {
            failed |= !ok;
        }
        if any {
            self.changed.notify_one(); // a boot may have made room for a priming, and back
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
            primed: None,
        }
    }

    #[test]
    fn the_policy_fills_to_target_within_capacity_and_trims_excess() {
        let targets = BTreeMap::from([("hd".to_owned(), 2), ("sd".to_owned(), 1)]);
        let cap = BTreeMap::from([("hd".to_owned(), 3)]);
        // Empty: two hd and one sd.
        let p = plan(&[], &targets, &cap, &[]);
        assert_eq!(p.create, ["hd", "hd", "sd"]);
        assert!(p.destroy.is_empty());
        // One booting, two busy hd: only one more fits the capacity of 3... none left.
        let slots = [
            slot("a", "hd", InstanceState::Booting),
            slot("b", "hd", InstanceState::Busy),
            slot("c", "hd", InstanceState::Busy),
            slot("d", "sd", InstanceState::Warm),
        ];
        assert_eq!(plan(&slots, &targets, &cap, &[]), Plan::default());
        // Excess warm ones and warm ones of a spec without a target go; broken ones too.
        let slots = [
            slot("a", "hd", InstanceState::Warm),
            slot("b", "hd", InstanceState::Warm),
            slot("c", "hd", InstanceState::Warm),
            slot("d", "xx", InstanceState::Warm),
            slot("e", "sd", InstanceState::Broken),
            slot("f", "sd", InstanceState::Warm),
        ];
        let p = plan(&slots, &targets, &BTreeMap::new(), &[]);
        assert_eq!(p.destroy, ["c", "d", "e"]);
        assert!(p.create.is_empty());
    }

    fn game(version: &str, spec: &str, count: u32) -> WarmGame {
        WarmGame {
            version_id: version.into(),
            spec_id: spec.into(),
            count,
            package_sha256: "00".repeat(32),
            package_name: "com.example.game".into(),
            launch_activity: None,
        }
    }

    fn primed(id: &str, spec: &str, state: InstanceState, version: &str) -> Slot {
        Slot {
            primed: Some(version.into()),
            ..slot(id, spec, state)
        }
    }

    #[test]
    fn games_are_primed_on_blank_instances_and_the_blanks_refilled_within_capacity() {
        let targets = BTreeMap::from([("hd".to_owned(), 2)]);
        let cap = BTreeMap::from([("hd".to_owned(), 4)]);
        let games = [game("v1", "hd", 1), game("v2", "hd", 1)];
        // Two blank warm: each game gets one; the blanks are booted again (room for two).
        let slots = [
            slot("a", "hd", InstanceState::Warm),
            slot("b", "hd", InstanceState::Warm),
        ];
        let p = plan(&slots, &targets, &cap, &games);
        assert_eq!(
            p.prime,
            [
                ("a".to_owned(), "v1".to_owned()),
                ("b".to_owned(), "v2".to_owned())
            ]
        );
        assert!(p.destroy.is_empty());
        // Primed and priming ones count; blanks are booted only as capacity allows.
        let slots = [
            primed("a", "hd", InstanceState::Warm, "v1"),
            primed("b", "hd", InstanceState::Priming, "v2"),
            slot("c", "hd", InstanceState::Busy),
        ];
        let p = plan(&slots, &targets, &cap, &games);
        assert!(p.prime.is_empty());
        assert_eq!(p.create, ["hd"], "one blank fits the capacity of 4");
        // A game no longer listed, or primed beyond its count, goes; its blank comes back.
        let slots = [
            primed("a", "hd", InstanceState::Warm, "v1"),
            primed("b", "hd", InstanceState::Warm, "v1"),
            primed("c", "hd", InstanceState::Warm, "v3"),
            slot("d", "hd", InstanceState::Warm),
            slot("e", "hd", InstanceState::Warm),
        ];
        let p = plan(&slots, &targets, &cap, &[game("v1", "hd", 1)]);
        assert_eq!(p.destroy, ["b", "c"]);
        assert!(p.prime.is_empty() && p.create.is_empty());
        // Without blanks nothing is primed (and nothing else is taken for it).
        let slots = [slot("a", "hd", InstanceState::Busy)];
        let p = plan(
            &slots,
            &targets,
            &BTreeMap::from([("hd".to_owned(), 1)]),
            &games,
        );
        assert_eq!(p, Plan::default());
        // A blank chosen for priming is not counted as a blank beyond the target.
        let slots = [
            slot("a", "hd", InstanceState::Warm),
            slot("b", "hd", InstanceState::Warm),
            slot("c", "hd", InstanceState::Warm),
        ];
        let p = plan(&slots, &targets, &cap, &[game("v1", "hd", 1)]);
        assert_eq!(p.prime, [("a".to_owned(), "v1".to_owned())]);
        assert!(p.destroy.is_empty(), "{p:?}");
    }
}
