//! Where a session's video bit rate should be, sans-IO: fed the player's bandwidth estimate
//! (str0m's send-side estimate from the browser's transport-wide congestion feedback) and the
//! player's own ceiling, it answers the rate the injector's encoder should run at — always
//! inside the spec's window.
//!
//! The rules:
//! - The encoder gets [`HEADROOM`] of the estimate: the rest is for audio, RTP and SRTP
//!   overhead and retransmissions, so the video alone never fills the link.
//! - Down at once (at most every [`DOWN_INTERVAL`]): a queue building at the bottleneck is the
//!   latency the player feels. Up slowly: at most [`UP_STEP`] a step, every [`UP_INTERVAL`],
//!   so one optimistic estimate does not overshoot the link again.
//! - Changes smaller than [`DEADBAND`] are not made: each one is a control message and a jolt
//!   in the encoder's rate control.
//! - Never below the window's minimum (a spec's picture below it is not worth showing) nor
//!   above the player's ceiling, itself inside the window.

use std::time::{Duration, Instant};

/// The share of the estimate the encoder gets.
pub const HEADROOM: f64 = 0.85;
/// The shortest time between two decreases.
pub const DOWN_INTERVAL: Duration = Duration::from_millis(500);
/// The shortest time after any change before an increase.
pub const UP_INTERVAL: Duration = Duration::from_secs(2);
/// The largest increase in one step (a factor).
pub const UP_STEP: f64 = 1.25;
/// Relative changes smaller than this are not made.
pub const DEADBAND: f64 = 0.1;

/// A spec's bit rate window, in bits per second (`min ≤ max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub min_bps: u32,
    pub max_bps: u32,
}

impl Window {
    /// The window from a spec's kb/s bounds, put in order if they are not.
    pub fn from_kbps(min_kbps: u32, max_kbps: u32) -> Window {
        let (a, b) = (min_kbps.saturating_mul(1000), max_kbps.saturating_mul(1000));
        Window {
            min_bps: a.min(b),
            max_bps: a.max(b),
        }
    }

    pub fn clamp(&self, bps: u32) -> u32 {
        bps.clamp(self.min_bps, self.max_bps)
    }
}

/// See the module doc.
#[derive(Debug, Clone)]
pub struct BitrateControl {
    window: Window,
    /// The player's ceiling, inside the window.
    ceiling: u32,
    target: u32,
    estimate: Option<u32>,
    last_change: Option<Instant>,
}

impl BitrateControl {
    /// A session whose encoder was started at `start_bps` (clamped into the window).
    pub fn new(window: Window, start_bps: u32) -> BitrateControl {
        BitrateControl {
            window,
            ceiling: window.max_bps,
            target: window.clamp(start_bps),
            estimate: None,
            last_change: None,
        }
    }

    pub fn window(&self) -> Window {
        self.window
    }

    /// The rate the encoder runs at.
    pub fn target(&self) -> u32 {
        self.target
    }

    /// The last bandwidth estimate (bits per second).
    pub fn estimate(&self) -> Option<u32> {
        self.estimate
    }

    /// The player's ceiling.
    pub fn ceiling(&self) -> u32 {
        self.ceiling
    }

    /// A new bandwidth estimate; the new target when it changes.
    pub fn on_estimate(&mut self, estimate_bps: u64, now: Instant) -> Option<u32> {
        self.estimate = Some(estimate_bps.min(u64::from(u32::MAX)) as u32);
        self.decide(now)
    }

    /// The player's ceiling (`None`: the window's maximum), clamped into the window; the new
    /// target when it changes. A ceiling below the target applies at once.
    pub fn set_ceiling(&mut self, ceiling_bps: Option<u32>, now: Instant) -> Option<u32> {
        self.ceiling = self
            .window
            .clamp(ceiling_bps.unwrap_or(self.window.max_bps));
        if self.target > self.ceiling {
            return self.change(self.ceiling, now);
        }
        self.decide(now)
    }

    fn decide(&mut self, now: Instant) -> Option<u32> {
        let wanted = match self.estimate {
            Some(e) => (f64::from(e) * HEADROOM) as u32,
            None => self.ceiling,
        };
        let wanted = wanted.clamp(self.window.min_bps, self.ceiling);
        let target = f64::from(self.target);
        let since = self.last_change.map(|t| now.saturating_duration_since(t));
        // Below the deadband, or down to the floor; above it, or up to the ceiling.
        let down = f64::from(wanted) < target * (1.0 - DEADBAND)
            || (wanted < self.target && wanted == self.window.min_bps);
        let up = f64::from(wanted) > target * (1.0 + DEADBAND)
            || (wanted > self.target && wanted == self.ceiling);
        if down && since.is_none_or(|d| d >= DOWN_INTERVAL) {
            return self.change(wanted, now);
        }
        if up && since.is_none_or(|d| d >= UP_INTERVAL) {
            let step = (target * UP_STEP) as u32;
            return self.change(wanted.min(step.max(self.target + 1)), now);
        }
        None
    }

    fn change(&mut self, to: u32, now: Instant) -> Option<u32> {
        if to == self.target {
            return None;
        }
        self.target = to;
        self.last_change = Some(now);
        Some(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Window = Window {
        min_bps: 500_000,
        max_bps: 4_000_000,
    };

    #[test]
    fn down_at_once_up_in_steps_never_outside_the_window() {
        let t0 = Instant::now();
        let mut c = BitrateControl::new(W, 4_000_000);
        assert_eq!(c.target(), 4_000_000);
        // a 1 Mb/s link: down to 85 % of it at once
        assert_eq!(c.on_estimate(1_000_000, t0), Some(850_000));
        // a lower estimate inside the down interval waits
        assert_eq!(
            c.on_estimate(700_000, t0 + Duration::from_millis(100)),
            None
        );
        assert_eq!(c.on_estimate(700_000, t0 + DOWN_INTERVAL), Some(595_000));
        // far below the window: the window's minimum
        let t1 = t0 + DOWN_INTERVAL * 2;
        assert_eq!(c.on_estimate(100_000, t1), Some(500_000));
        assert_eq!(c.on_estimate(50_000, t1 + DOWN_INTERVAL * 2), None);
        // the link comes back: up by at most UP_STEP every UP_INTERVAL
        let mut t = t1;
        assert_eq!(c.on_estimate(10_000_000, t + Duration::from_secs(1)), None);
        let mut steps = vec![];
        while c.target() < W.max_bps {
            t += UP_INTERVAL;
            let before = c.target();
            let after = c.on_estimate(10_000_000, t).expect("a step up");
            assert!(f64::from(after) <= f64::from(before) * UP_STEP + 1.0);
            steps.push(after);
        }
        assert_eq!(steps.last(), Some(&4_000_000));
        assert!(steps.len() >= 6, "{steps:?}");
        // small wobbles change nothing
        assert_eq!(c.on_estimate(4_500_000, t + UP_INTERVAL * 2), None);
    }

    #[test]
    fn the_players_ceiling_applies_at_once_and_stays_in_the_window() {
        let t0 = Instant::now();
        let mut c = BitrateControl::new(W, 4_000_000);
        assert_eq!(c.set_ceiling(Some(1_000_000), t0), Some(1_000_000));
        assert_eq!(c.on_estimate(20_000_000, t0 + UP_INTERVAL * 3), None);
        assert_eq!(c.set_ceiling(Some(1), t0), Some(500_000));
        assert_eq!(c.ceiling(), 500_000);
        // lifted: back up in steps
        assert_eq!(c.set_ceiling(None, t0 + UP_INTERVAL * 4), Some(625_000));
        assert_eq!(BitrateControl::new(W, 9_000_000).target(), 4_000_000);
        assert_eq!(
            Window::from_kbps(4000, 500),
            Window {
                min_bps: 500_000,
                max_bps: 4_000_000
            }
        );
    }
}
