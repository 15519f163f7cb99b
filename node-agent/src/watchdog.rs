//! The watchdog: watches each prepared play's game on its instance and ends the play when the
//! game is gone or stuck, or brings it back when something else took the screen.
//!
//! Every [`PROBE_EVERY`] the shell ([`watch`]) asks the instance, over adb, what a person at the
//! device would see: whether the game's process runs (`pidof <package>`) and which window has
//! the focus (`dumpsys window`: the game's, the system's "Application Not Responding" one, or
//! another app's). The core ([`Judge`]) turns each answer into a [`Verdict`]:
//! - no process, or an instance adb cannot reach [`UNREACHABLE_PROBES`] times in a row: the
//!   game crashed (or its instance died) → end `APP_CRASHED`;
//! - the system's ANR window in focus: → end `APP_NOT_RESPONDING`;
//! - another window in focus (the game opened something, or the launcher came back): relaunch
//!   the game (`am start` without `-S`: its task comes back with its state); a game that leaves
//!   more than [`MAX_RELAUNCHES`] times within [`RELAUNCH_WINDOW`] is ended;
//! - no video frame from the instance for [`FROZEN_AFTER`]: the picture froze (the capture or
//!   the encoder stopped — scrcpy's encoder repeats the last frame every 100 ms on a still
//!   screen, so silence is never just a still game) → end `APP_NOT_RESPONDING`.
//!
//! Ending goes the usual way: the agent reports the play `ending` with the reason, the
//! controller ends the session and sends `end_session` back, which saves the archive (when the
//! game keeps one), tells the player and recycles the instance.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use playrack_wire::agent::{AgentMessage, AgentSessionState};
use playrack_wire::api::EndReason;

use crate::adb::Adb;
use crate::link::shell::LinkHandle;

/// How often a play's game is looked at.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// Probes in a row adb may fail before the instance counts as gone.
pub const UNREACHABLE_PROBES: u32 = 5;
/// Relaunches tolerated within [`RELAUNCH_WINDOW`].
pub const MAX_RELAUNCHES: usize = 3;
pub const RELAUNCH_WINDOW: Duration = Duration::from_secs(60);
/// How long the instance may send no video frame before the picture counts as frozen.
pub const FROZEN_AFTER: Duration = Duration::from_secs(5);

/// Which window has the focus, as far as the game is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Focus {
    Game,
    /// The system's "Application Not Responding" window for the game.
    NotResponding,
    /// Anything else: another app, the launcher, a crash dialog of another app.
    Other(String),
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// adb could not run the probe.
    Unreachable,
    /// The game's process does not run.
    NoProcess,
    Running(Focus),
}

/// What to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Fine,
    Relaunch,
    End(EndReason),
}

/// The watchdog's judgement of one play, fed probes and time.
#[derive(Debug, Default)]
pub struct Judge {
    unreachable: u32,
    relaunches: VecDeque<Instant>,
    /// The video frames counted so far, and when the count last moved.
    frames: Option<(u64, Instant)>,
}

impl Judge {
    /// The instance's video frame count at `now` (it only grows): a count that has not moved
    /// for [`FROZEN_AFTER`] is a frozen picture.
    pub fn frames(&mut self, count: u64, now: Instant) -> Verdict {
        match self.frames {
            Some((seen, since)) if seen == count => {
                if now.duration_since(since) >= FROZEN_AFTER {
                    Verdict::End(EndReason::AppNotResponding)
                } else {
                    Verdict::Fine
                }
            }
            _ => {
                self.frames = Some((count, now));
                Verdict::Fine
            }
        }
    }

    pub fn judge(&mut self, probe: &Probe, now: Instant) -> Verdict {
        if *probe == Probe::Unreachable {
            self.unreachable += 1;
            return if self.unreachable >= UNREACHABLE_PROBES {
                Verdict::End(EndReason::AppCrashed)
            } else {
                Verdict::Fine
            };
        }
        self.unreachable = 0;
        match probe {
            Probe::Unreachable => unreachable!("handled above"),
            Probe::NoProcess => Verdict::End(EndReason::AppCrashed),
            Probe::Running(Focus::NotResponding) => Verdict::End(EndReason::AppNotResponding),
            Probe::Running(Focus::Game) => Verdict::Fine,
            Probe::Running(Focus::Other(_)) => {
                while self
                    .relaunches
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= RELAUNCH_WINDOW)
                {
                    self.relaunches.pop_front();
                }
                if self.relaunches.len() >= MAX_RELAUNCHES {
                    return Verdict::End(EndReason::Error);
                }
                self.relaunches.push_back(now);
                Verdict::Relaunch
            }
        }
    }
}

/// The focus `dumpsys window` reports (its `mCurrentFocus=` line), relative to `package`.
pub fn parse_focus(dumpsys_window: &str, package: &str) -> Focus {
    let Some(line) = dumpsys_window
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("mCurrentFocus="))
    else {
        return Focus::Other(String::new());
    };
    // Window{<hash> u<user> <title>}: the title is `pkg/activity` for an app's window.
    let title = line
        .strip_prefix("Window{")
        .and_then(|w| w.strip_suffix('}'))
        .and_then(|w| w.splitn(3, ' ').nth(2))
        .unwrap_or(line);
    if title.strip_prefix("Application Not Responding: ") == Some(package) {
        Focus::NotResponding
    } else if title.split_once('/').is_some_and(|(pkg, _)| pkg == package) {
        Focus::Game
    } else {
        Focus::Other(title.to_owned())
    }
}

/// One probe of `package` on `serial`.
async fn probe(adb: &Adb, serial: &str, package: &str) -> Probe {
    let pid = match adb.shell(serial, &format!("pidof {package}")).await {
        Ok(o) => o,
        Err(_) => return Probe::Unreachable,
    };
    if !pid.ok() || pid.stdout.trim().is_empty() {
        return Probe::NoProcess;
    }
    match adb.shell(serial, "dumpsys window").await {
        Ok(o) if o.ok() => Probe::Running(parse_focus(&o.stdout, package)),
        _ => Probe::Unreachable,
    }
}

/// What the watchdog watches of one play.
pub struct Watched {
    pub session_id: String,
    pub serial: String,
    pub package: String,
    /// The shell command that brings the game back to the front.
    pub relaunch: String,
    /// The instance's video frames so far (the relay counts them as they arrive); `None`
    /// when the play streams no video.
    pub frames: Option<crate::relay::FrameCount>,
}

/// Watches a play until it ends it (or is aborted, when the play ends another way).
pub async fn watch(adb: Adb, link: LinkHandle, w: Watched) {
    let Watched {
        session_id,
        serial,
        package,
        relaunch,
        frames,
    } = w;
    let mut judge = Judge::default();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let count = |f: &Option<crate::relay::FrameCount>| f.as_ref().map(|f| f.get());
    if let Some(n) = count(&frames) {
        judge.frames(n, Instant::now());
    }
    tick.tick().await;
    loop {
        tick.tick().await;
        let frozen = match count(&frames) {
            Some(n) => judge.frames(n, Instant::now()),
            None => Verdict::Fine,
        };
        let (seen, verdict) = match frozen {
            Verdict::Fine => {
                let seen = probe(&adb, &serial, &package).await;
                let verdict = judge.judge(&seen, Instant::now());
                (Some(seen), verdict)
            }
            frozen => (None, frozen),
        };
        match verdict {
            Verdict::Fine => {}
            Verdict::Relaunch => {
                tracing::info!(session = %session_id, ?seen, "the game left the screen; relaunching it");
                if let Err(e) = adb.shell(&serial, &relaunch).await {
                    tracing::warn!(session = %session_id, "relaunch failed: {e:#}");
                }
            }
            Verdict::End(reason) => {
                tracing::warn!(session = %session_id, ?seen, %reason, "the watchdog ends the play");
                link.send(AgentMessage::Session {
                    session_id,
                    state: AgentSessionState::Ending,
                    reason: Some(reason.as_str().to_owned()),
                    connected: false,
                    last_input_at: None,
                    stats: None,
                    latency_ms: Default::default(),
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_with_no_new_frame_for_a_while_is_frozen() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut j = Judge::default();
        assert_eq!(j.frames(10, at(0)), Verdict::Fine);
        assert_eq!(j.frames(40, at(1)), Verdict::Fine);
        // Still 40 for under FROZEN_AFTER: fine; then frozen.
        assert_eq!(j.frames(40, at(5)), Verdict::Fine);
        assert_eq!(
            j.frames(40, at(6)),
            Verdict::End(EndReason::AppNotResponding)
        );
        // Frames again: the clock starts over.
        let mut j = Judge::default();
        j.frames(1, at(0));
        assert_eq!(j.frames(1, at(4)), Verdict::Fine);
        assert_eq!(j.frames(2, at(8)), Verdict::Fine);
        assert_eq!(j.frames(2, at(12)), Verdict::Fine);
    }

    const PKG: &str = "com.example.game";

    #[test]
    fn the_focus_line_names_the_game_its_anr_or_something_else() {
        let w = |focus: &str| {
            format!(
                "WINDOW MANAGER\n  Display: mDisplayId=0\n  mCurrentFocus={focus}\n  mFocusedApp=x\n"
            )
        };
        assert_eq!(
            parse_focus(
                &w("Window{1 u0 com.example.game/com.example.game.Main}"),
                PKG
            ),
            Focus::Game
        );
        assert_eq!(
            parse_focus(
                &w("Window{2a4e u0 Application Not Responding: com.example.game}"),
                PKG
            ),
            Focus::NotResponding
        );
        assert_eq!(
            parse_focus(
                &w("Window{1 u0 com.android.launcher3/com.android.launcher3.Launcher}"),
                PKG
            ),
            Focus::Other("com.android.launcher3/com.android.launcher3.Launcher".into())
        );
        // Another app's ANR, a prefix of the package, no focus line, garbage.
        assert!(matches!(
            parse_focus(
                &w("Window{2 u0 Application Not Responding: com.other}"),
                PKG
            ),
            Focus::Other(_)
        ));
        assert!(matches!(
            parse_focus(&w("Window{1 u0 com.example.gamex/.Main}"), PKG),
            Focus::Other(_)
        ));
        assert!(matches!(parse_focus("nothing here", PKG), Focus::Other(_)));
        assert!(matches!(
            parse_focus("mCurrentFocus=\u{0}{{{", PKG),
            Focus::Other(_)
        ));
    }

    #[test]
    fn crashes_anrs_and_lost_instances_end_the_play_and_a_wandering_game_is_brought_back() {
        let t0 = Instant::now();
        let mut j = Judge::default();
        assert_eq!(j.judge(&Probe::Running(Focus::Game), t0), Verdict::Fine);
        assert_eq!(
            j.judge(&Probe::NoProcess, t0),
            Verdict::End(EndReason::AppCrashed)
        );
        assert_eq!(
            Judge::default().judge(&Probe::Running(Focus::NotResponding), t0),
            Verdict::End(EndReason::AppNotResponding)
        );

        // adb hiccups are tolerated; an instance that stays unreachable is gone.
        let mut j = Judge::default();
        for _ in 1..UNREACHABLE_PROBES {
            assert_eq!(j.judge(&Probe::Unreachable, t0), Verdict::Fine);
        }
        assert_eq!(j.judge(&Probe::Running(Focus::Game), t0), Verdict::Fine);
        for _ in 1..UNREACHABLE_PROBES {
            assert_eq!(j.judge(&Probe::Unreachable, t0), Verdict::Fine);
        }
        assert_eq!(
            j.judge(&Probe::Unreachable, t0),
            Verdict::End(EndReason::AppCrashed)
        );

        // Relaunched up to the limit within the window, then ended; the window slides.
        let mut j = Judge::default();
        let away = Probe::Running(Focus::Other("com.android.launcher3/.Launcher".into()));
        for i in 0..MAX_RELAUNCHES {
            assert_eq!(
                j.judge(&away, t0 + Duration::from_secs(i as u64)),
                Verdict::Relaunch
            );
        }
        assert_eq!(
            j.judge(&away, t0 + Duration::from_secs(10)),
            Verdict::End(EndReason::Error)
        );
        assert_eq!(j.judge(&away, t0 + RELAUNCH_WINDOW), Verdict::Relaunch);
    }
}
