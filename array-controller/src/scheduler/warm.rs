//! The warm pool per game: how many instances of each game version a room keeps ready
//! (installed and started, waiting for a player), and which boards hold them.
//!
//! Sizing is predictive: a game that players started recently in a room will be started
//! again, so the room keeps enough ready to cover the plays expected while a used instance is
//! replaced (booted, installed, started up again): the recent arrival rate times that refill
//! time, with headroom, at least one while the game is played at all, at most the configured
//! cap. A game nobody started within the window keeps none (its instances go back to blank).
//! Distribution spreads each room's count over the boards that have the package, one at a
//! time to the board with the most room left, so one board's loss costs few ready instances
//! and no board is asked for more than its slots of the spec. Pure functions; the leader's
//! task (`crate::warmpool`) reads the inputs and sends each board its list.

use std::collections::BTreeMap;

/// How long replacing a used ready instance takes, as far as sizing is concerned (boot,
/// install and start-up of a large game on a board).
pub const REFILL_SECS: f64 = 30.0;
/// Headroom over the expected arrivals during a refill.
pub const HEADROOM: f64 = 1.5;

/// Ready instances a room should keep for one game version and spec, from the plays started
/// there within the last `window_secs`.
pub fn room_target(arrivals: u32, window_secs: u32, max: u32) -> u32 {
    if arrivals == 0 || max == 0 {
        return 0;
    }
    let rate = f64::from(arrivals) / f64::from(window_secs.max(1));
    let expected = (rate * REFILL_SECS * HEADROOM).ceil() as u32;
    expected.clamp(1, max)
}

/// One game version and spec a room should keep ready, with the boards that can hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomGame {
    pub version_id: String,
    pub spec_id: String,
    pub target: u32,
    /// Boards of the room with the package and slots of the spec.
    pub boards: Vec<String>,
}

/// Spreads each room game's target over its boards, in rounds so that games share a board's
/// slots fairly: each round, every game still short of its target (largest targets first,
/// then by version) places one instance on its board with the most of its spec's slots left
/// (`slots`: per board and spec), ties by board id. Returns, per board, `(version, spec) →
/// count`. Whatever finds no board left is not placed.
pub fn distribute(
    games: &[RoomGame],
    slots: &BTreeMap<(String, String), u32>,
) -> BTreeMap<String, BTreeMap<(String, String), u32>> {
    let mut left = slots.clone();
    let mut order: Vec<(&RoomGame, u32)> = games.iter().map(|g| (g, g.target)).collect();
    order.sort_by(|a, b| {
        b.0.target
            .cmp(&a.0.target)
            .then(a.0.version_id.cmp(&b.0.version_id))
    });
    let mut out: BTreeMap<String, BTreeMap<(String, String), u32>> = BTreeMap::new();
    loop {
        let mut placed = false;
        for (g, wanted) in order.iter_mut().filter(|(_, w)| *w > 0) {
            let best = g
                .boards
                .iter()
                .filter_map(|b| {
                    let n = *left.get(&(b.clone(), g.spec_id.clone()))?;
                    (n > 0).then_some((n, b))
                })
                .max_by(|x, y| x.0.cmp(&y.0).then(y.1.cmp(x.1)));
            let Some((_, board)) = best else {
                *wanted = 0; // no board left for it
                continue;
            };
            let board = board.clone();
            *left
                .get_mut(&(board.clone(), g.spec_id.clone()))
                .expect("listed") -= 1;
            *out.entry(board)
                .or_default()
                .entry((g.version_id.clone(), g.spec_id.clone()))
                .or_default() += 1;
            *wanted -= 1;
            placed = true;
        }
        if !placed {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_follows_recent_demand_within_the_cap() {
        assert_eq!(room_target(0, 300, 8), 0, "not played: none kept");
        assert_eq!(room_target(1, 300, 8), 1, "played at all: one kept");
        // 60 plays in 5 min = 0.2/s → 6 expected in a 30-s refill, ×1.5 → 9, capped at 8.
        assert_eq!(room_target(60, 300, 8), 8);
        assert_eq!(room_target(20, 300, 8), 3); // 0.0667/s × 30 × 1.5 = 3
        assert_eq!(room_target(500, 300, 0), 0, "disabled");
    }

    fn game(v: &str, target: u32, boards: &[&str]) -> RoomGame {
        RoomGame {
            version_id: v.into(),
            spec_id: "hd".into(),
            target,
            boards: boards.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn instances_spread_over_boards_with_the_package_and_never_past_their_slots() {
        let slots = BTreeMap::from([
            (("b1".to_owned(), "hd".to_owned()), 2),
            (("b2".to_owned(), "hd".to_owned()), 2),
            (("b3".to_owned(), "hd".to_owned()), 1),
        ]);
        let out = distribute(
            &[game("v1", 3, &["b1", "b2", "b3"]), game("v2", 3, &["b3"])],
            &slots,
        );
        let at = |b: &str, v: &str| {
            out.get(b)
                .and_then(|m| m.get(&(v.to_owned(), "hd".to_owned())))
                .copied()
                .unwrap_or(0)
        };
        // In rounds, v1 before v2 (equal targets: by version): v1 → b1 (most left, lowest id),
        // v2 → b3 (its only board, now full); v1 → b2; v1 → b1 (1 left each).
        assert_eq!((at("b1", "v1"), at("b2", "v1"), at("b3", "v1")), (2, 1, 0));
        assert_eq!(at("b3", "v2"), 1, "v2 only fits on b3, which has one slot");
        let total: u32 = out.values().flat_map(|m| m.values()).sum();
        assert_eq!(total, 4);
        // Two games on one two-slot board share it.
        let one = BTreeMap::from([(("b1".to_owned(), "hd".to_owned()), 2)]);
        let out = distribute(&[game("v1", 3, &["b1"]), game("v2", 3, &["b1"])], &one);
        assert_eq!(
            out["b1"].values().copied().collect::<Vec<_>>(),
            [1, 1],
            "{out:?}"
        );
        assert!(distribute(&[game("v1", 2, &[])], &slots).is_empty());
    }
}
