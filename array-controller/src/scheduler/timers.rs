//! The three session timers, as pure functions of the session's clock and `now`.
//!
//! - **max play**: the trial or order limit, from the moment the player started playing;
//! - **reconnect grace**: how long a dropped player may take to come back to the same instance;
//! - **idle kick**: how long a connected player may send no input.
//!
//! [`due`] says which one has fired (the earliest, if several have); [`next_deadline`] says
//! when to look again, so the shell sleeps exactly until then.

use playrack_wire::Timestamp;
use playrack_wire::api::EndReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClock {
    pub playing_since: Timestamp,
    pub max_play_secs: u32,
    pub reconnect_grace_secs: u32,
    pub idle_kick_secs: u32,
    /// The last input from the player (or `playing_since` before the first one).
    pub last_input_at: Timestamp,
    /// Set while the player is disconnected.
    pub disconnected_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    TrialOver,
    ReconnectGraceOver,
    Idle,
}

impl Expiry {
    /// The session end reason it causes.
    pub fn reason(self) -> EndReason {
        match self {
            Expiry::TrialOver => EndReason::TrialOver,
            Expiry::ReconnectGraceOver => EndReason::UserLeft,
            Expiry::Idle => EndReason::Idle,
        }
    }
}

fn deadlines(c: &SessionClock) -> [(Timestamp, Expiry); 3] {
    let never = Timestamp(i64::MAX);
    [
        (
            c.playing_since.plus_secs(i64::from(c.max_play_secs)),
            Expiry::TrialOver,
        ),
        (
            c.disconnected_at
                .map_or(never, |d| d.plus_secs(i64::from(c.reconnect_grace_secs))),
            Expiry::ReconnectGraceOver,
        ),
        // A disconnected player is governed by the grace timer, not the idle one.
        (
            if c.disconnected_at.is_some() {
                never
            } else {
                c.last_input_at.plus_secs(i64::from(c.idle_kick_secs))
            },
            Expiry::Idle,
        ),
    ]
}

/// The timer that has fired at `now`, if any (the one whose deadline came first).
pub fn due(c: &SessionClock, now: Timestamp) -> Option<Expiry> {
    deadlines(c)
        .into_iter()
        .filter(|(t, _)| *t <= now)
        .min_by_key(|(t, _)| *t)
        .map(|(_, e)| e)
}

/// When the next timer fires.
pub fn next_deadline(c: &SessionClock) -> Timestamp {
    deadlines(c)
        .into_iter()
        .map(|(t, _)| t)
        .min()
        .expect("three deadlines")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> SessionClock {
        SessionClock {
            playing_since: Timestamp(0),
            max_play_secs: 600,
            reconnect_grace_secs: 60,
            idle_kick_secs: 120,
            last_input_at: Timestamp(0),
            disconnected_at: None,
        }
    }

    #[test]
    fn each_timer_fires_with_its_reason() {
        let mut c = clock();
        // Inputs every 100 s keep the player from idling until the trial ends.
        for t in (100..600).step_by(100) {
            c.last_input_at = Timestamp(t * 1000);
            assert_eq!(due(&c, Timestamp(t * 1000 + 50_000)), None);
        }
        assert_eq!(due(&c, Timestamp(600_000)), Some(Expiry::TrialOver));

        let c = clock();
        assert_eq!(next_deadline(&c), Timestamp(120_000));
        assert_eq!(due(&c, Timestamp(119_999)), None);
        assert_eq!(due(&c, Timestamp(120_000)), Some(Expiry::Idle));

        let mut c = clock();
        c.disconnected_at = Some(Timestamp(100_000));
        assert_eq!(
            due(&c, Timestamp(159_999)),
            None,
            "idle does not apply while away"
        );
        assert_eq!(
            due(&c, Timestamp(160_000)),
            Some(Expiry::ReconnectGraceOver)
        );
        assert_eq!(Expiry::ReconnectGraceOver.reason(), EndReason::UserLeft);
    }

    #[test]
    fn the_earliest_deadline_wins_when_several_passed() {
        let mut c = clock();
        c.disconnected_at = Some(Timestamp(590_000));
        // At 700 s both the trial (600 s) and the grace (650 s) have passed: the trial was first.
        assert_eq!(due(&c, Timestamp(700_000)), Some(Expiry::TrialOver));
    }
}
