//! Placement: given a play request and a snapshot of orders, rooms and boards, choose a spec,
//! a room and a board — or say why the play has to queue.
//!
//! The rules, in order:
//! 1. Specs are tried in the game's fallback order; the answer says when the spec was
//!    downgraded from the first one.
//! 2. A spec is possible only through an active order of the tenant for that spec with quota
//!    left. If no such order exists for any spec, the reason is `TENANT_QUOTA_FULL`.
//! 3. A room qualifies when the version is deployed and ready there, an order with quota covers
//!    it, it is under its instance cap, and one of its boards has a free slot of the spec.
//!    Rooms are ranked by the client's measured RTT (unmeasured rooms last), then region match,
//!    then load. If quota exists but no room qualifies, the reason is `ROOM_FULL`.
//! 4. In the room, boards that are healthy and not draining with a free slot of the spec are
//!    ranked: a warm instance of the game and spec first, then by the room's placement policy
//!    (spread: least loaded first; binpack: most loaded first), then by id for determinism.

use playrack_wire::api::Placement;
use std::collections::{BTreeMap, BTreeSet};

/// One of the tenant's orders, with how much of it is in use right now.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub id: String,
    pub spec_id: String,
    /// `None` with `rooms` empty never happens (validated at creation).
    pub region_id: Option<String>,
    pub room_ids: Vec<String>,
    pub concurrency: u32,
    pub in_use: u32,
    /// Higher first when two orders could serve the play.
    pub priority: i32,
}

impl OrderView {
    fn covers(&self, room: &RoomView) -> bool {
        match &self.region_id {
            Some(region) => *region == room.region_id,
            None => self.room_ids.contains(&room.id),
        }
    }

    fn has_quota(&self) -> bool {
        self.in_use < self.concurrency
    }
}

#[derive(Debug, Clone)]
pub struct RoomView {
    pub id: String,
    pub region_id: String,
    pub instance_cap: u32,
    /// Instances running or reserved in the room, every spec.
    pub in_use: u32,
    pub placement: Placement,
    /// Whether the play's version is deployed and ready in this room.
    pub deployed: bool,
    pub boards: Vec<BoardView>,
}

#[derive(Debug, Clone)]
pub struct BoardView {
    pub id: String,
    /// Its agent is connected and within its lease.
    pub healthy: bool,
    pub draining: bool,
    /// Slots per spec.
    pub capacity: BTreeMap<String, u32>,
    /// Slots in use per spec.
    pub in_use: BTreeMap<String, u32>,
    /// Specs for which the board holds a warm instance of the play's game.
    pub warm_specs: BTreeSet<String>,
}

impl BoardView {
    fn free(&self, spec: &str) -> u32 {
        let cap = self.capacity.get(spec).copied().unwrap_or(0);
        cap.saturating_sub(self.in_use.get(spec).copied().unwrap_or(0))
    }

    /// Fraction of all its slots in use (for spread / binpack).
    fn load(&self) -> f64 {
        let cap: u32 = self.capacity.values().sum();
        let used: u32 = self.in_use.values().sum();
        if cap == 0 {
            1.0
        } else {
            f64::from(used) / f64::from(cap)
        }
    }
}

/// What the player's client told us.
#[derive(Debug, Clone, Default)]
pub struct PlayRequest {
    /// The game's allowed specs in fallback order (a client preference, if allowed, first).
    pub specs: Vec<String>,
    /// Measured RTT to rooms, in milliseconds.
    pub rtt_ms: BTreeMap<String, u32>,
    pub region_hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueReason {
    /// Every order that could serve the play is at its concurrency.
    TenantQuotaFull,
    /// Quota is left, but no room where the game is deployed has a free slot.
    RoomFull,
    /// An operator has paused new plays (a degrade switch) wherever this one could run.
    NewPlaysPaused,
}

impl QueueReason {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueReason::TenantQuotaFull => "TENANT_QUOTA_FULL",
            QueueReason::RoomFull => "ROOM_FULL",
            QueueReason::NewPlaysPaused => "NEW_PLAYS_PAUSED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Assign {
        spec_id: String,
        order_id: String,
        room_id: String,
        board_id: String,
        downgraded: bool,
        warm: bool,
    },
    Queue(QueueReason),
}

/// One place to try: a spec (its index in the request's fallback list), a room and the order
/// that would pay for it.
#[derive(Debug, Clone, Copy)]
pub struct Try<'a> {
    pub spec_index: usize,
    pub spec: &'a str,
    pub room: &'a RoomView,
    pub order: &'a OrderView,
}

/// Where to look for a board, best first, with the reason to queue if none of them has one.
///
/// Rooms need not carry their boards: the shell asks the store for a room's free boards only
/// for the tries it gets to (rules 1–3 rank without them), so the work of one acquire is
/// bounded by the rooms it tries, not by the boards of the platform.
pub fn tries<'a>(
    req: &'a PlayRequest,
    orders: &'a [OrderView],
    rooms: &'a [RoomView],
) -> (Vec<Try<'a>>, QueueReason) {
    let mut any_quota = false;
    let mut out = Vec::new();
    for (i, spec) in req.specs.iter().enumerate() {
        let mut usable: Vec<&OrderView> = orders
            .iter()
            .filter(|o| o.spec_id == *spec && o.has_quota())
            .collect();
        if usable.is_empty() {
            continue;
        }
        any_quota = true;
        usable.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
        let mut candidates: Vec<(&RoomView, &OrderView)> = rooms
            .iter()
            .filter(|r| r.deployed && r.in_use < r.instance_cap)
            .filter_map(|r| usable.iter().find(|o| o.covers(r)).map(|o| (r, *o)))
            .collect();
        candidates.sort_by(|(a, _), (b, _)| {
            let rtt = |r: &RoomView| req.rtt_ms.get(&r.id).copied().unwrap_or(u32::MAX);
            let region = |r: &RoomView| req.region_hint.as_deref() != Some(r.region_id.as_str());
            let load = |r: &RoomView| f64::from(r.in_use) / f64::from(r.instance_cap.max(1));
            rtt(a)
                .cmp(&rtt(b))
                .then(region(a).cmp(&region(b)))
                .then(load(a).total_cmp(&load(b)))
                .then(a.id.cmp(&b.id))
        });
        out.extend(candidates.into_iter().map(|(room, order)| Try {
            spec_index: i,
            spec,
            room,
            order,
        }));
    }
    let reason = if any_quota {
        QueueReason::RoomFull
    } else {
        QueueReason::TenantQuotaFull
    };
    (out, reason)
}

impl Try<'_> {
    /// The assignment to `board`.
    pub fn assign(&self, board: &BoardView) -> Decision {
        Decision::Assign {
            spec_id: self.spec.to_owned(),
            order_id: self.order.id.clone(),
            room_id: self.room.id.clone(),
            board_id: board.id.clone(),
            downgraded: self.spec_index > 0,
            warm: board.warm_specs.contains(self.spec),
        }
    }
}

/// Decides where a play goes, given every room's boards. Pure: same inputs, same answer.
pub fn decide(req: &PlayRequest, orders: &[OrderView], rooms: &[RoomView]) -> Decision {
    let (tries, reason) = tries(req, orders, rooms);
    tries
        .iter()
        .find_map(|t| choose_board(t.room, t.spec).map(|b| t.assign(b)))
        .unwrap_or(Decision::Queue(reason))
}

fn board_ok(b: &BoardView, spec: &str) -> bool {
    b.healthy && !b.draining && b.free(spec) > 0
}

/// The best board of a room for `spec`, if any.
pub fn choose_board<'a>(room: &'a RoomView, spec: &str) -> Option<&'a BoardView> {
    choose_among(&room.boards, room.placement, spec)
}

/// The best of `boards` for `spec` under a room's `placement` policy, if any.
pub fn choose_among<'a>(
    boards: &'a [BoardView],
    placement: Placement,
    spec: &str,
) -> Option<&'a BoardView> {
    let mut boards: Vec<&BoardView> = boards.iter().filter(|b| board_ok(b, spec)).collect();
    boards.sort_by(|a, b| {
        let warm = |x: &BoardView| !x.warm_specs.contains(spec);
        let by_load = match placement {
            Placement::Spread => a.load().total_cmp(&b.load()),
            Placement::Binpack => b.load().total_cmp(&a.load()),
        };
        warm(a).cmp(&warm(b)).then(by_load).then(a.id.cmp(&b.id))
    });
    boards.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(id: &str, cap: u32, used: u32) -> BoardView {
        BoardView {
            id: id.into(),
            healthy: true,
            draining: false,
            capacity: [("hd".to_owned(), cap), ("sd".to_owned(), cap)].into(),
            in_use: [("hd".to_owned(), used)].into(),
            warm_specs: BTreeSet::new(),
        }
    }

    fn room(id: &str, region: &str, boards: Vec<BoardView>) -> RoomView {
        RoomView {
            id: id.into(),
            region_id: region.into(),
            instance_cap: 100,
            in_use: 0,
            placement: Placement::Spread,
            deployed: true,
            boards,
        }
    }

    fn order(spec: &str, region: &str, concurrency: u32, in_use: u32) -> OrderView {
        OrderView {
            id: format!("ord-{spec}-{region}"),
            spec_id: spec.into(),
            region_id: Some(region.into()),
            room_ids: vec![],
            concurrency,
            in_use,
            priority: 0,
        }
    }

    fn req(specs: &[&str]) -> PlayRequest {
        PlayRequest {
            specs: specs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn lowest_rtt_wins_then_region_then_load() {
        let rooms = vec![
            room("a", "east", vec![board("a1", 4, 0)]),
            room("b", "west", vec![board("b1", 4, 0)]),
        ];
        let orders = vec![order("hd", "east", 10, 0), order("hd", "west", 10, 0)];
        let mut r = req(&["hd"]);
        r.rtt_ms = [("a".to_owned(), 40), ("b".to_owned(), 12)].into();
        assert!(
            matches!(decide(&r, &orders, &rooms), Decision::Assign { room_id, .. } if room_id == "b")
        );
        // Without RTT, the region hint decides.
        let mut r = req(&["hd"]);
        r.region_hint = Some("east".into());
        assert!(
            matches!(decide(&r, &orders, &rooms), Decision::Assign { room_id, .. } if room_id == "a")
        );
        // Without either, the less loaded room.
        let mut rooms2 = rooms.clone();
        rooms2[0].in_use = 50;
        assert!(
            matches!(decide(&req(&["hd"]), &orders, &rooms2), Decision::Assign { room_id, .. } if room_id == "b")
        );
    }

    #[test]
    fn quota_full_and_room_full_are_told_apart() {
        let rooms = vec![room("a", "east", vec![board("a1", 1, 1)])];
        // Quota left, but the only board is full: ROOM_FULL.
        assert_eq!(
            decide(&req(&["hd"]), &[order("hd", "east", 5, 1)], &rooms),
            Decision::Queue(QueueReason::RoomFull)
        );
        // No quota: TENANT_QUOTA_FULL, whatever the rooms say.
        let free = vec![room("a", "east", vec![board("a1", 4, 0)])];
        assert_eq!(
            decide(&req(&["hd"]), &[order("hd", "east", 2, 2)], &free),
            Decision::Queue(QueueReason::TenantQuotaFull)
        );
        // No order for the spec at all is also a quota problem.
        assert_eq!(
            decide(&req(&["hd"]), &[], &free),
            Decision::Queue(QueueReason::TenantQuotaFull)
        );
        // Not deployed anywhere with capacity: ROOM_FULL (quota exists).
        let mut undeployed = free.clone();
        undeployed[0].deployed = false;
        assert_eq!(
            decide(&req(&["hd"]), &[order("hd", "east", 2, 0)], &undeployed),
            Decision::Queue(QueueReason::RoomFull)
        );
        // The room's own cap counts too.
        let mut capped = free.clone();
        capped[0].instance_cap = 3;
        capped[0].in_use = 3;
        assert_eq!(
            decide(&req(&["hd"]), &[order("hd", "east", 9, 0)], &capped),
            Decision::Queue(QueueReason::RoomFull)
        );
    }

    #[test]
    fn falls_back_along_the_spec_list_and_says_so() {
        let rooms = vec![room("a", "east", vec![board("a1", 2, 2)])];
        let orders = vec![order("hd", "east", 5, 0), order("sd", "east", 5, 0)];
        match decide(&req(&["hd", "sd"]), &orders, &rooms) {
            Decision::Assign {
                spec_id,
                downgraded,
                ..
            } => {
                assert_eq!(spec_id, "sd");
                assert!(downgraded);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn boards_prefer_warm_then_follow_the_room_policy() {
        let mut r = room(
            "a",
            "east",
            vec![board("b1", 4, 1), board("b2", 4, 3), board("b3", 4, 0)],
        );
        assert_eq!(
            choose_board(&r, "hd").unwrap().id,
            "b3",
            "spread: least loaded"
        );
        r.placement = Placement::Binpack;
        assert_eq!(
            choose_board(&r, "hd").unwrap().id,
            "b2",
            "binpack: most loaded with room"
        );
        r.boards[0].warm_specs.insert("hd".into());
        assert_eq!(choose_board(&r, "hd").unwrap().id, "b1", "warm first");
        r.boards[0].draining = true;
        r.boards[1].healthy = false;
        assert_eq!(
            choose_board(&r, "hd").unwrap().id,
            "b3",
            "draining and unhealthy boards take nothing"
        );
    }

    #[test]
    fn room_orders_cover_only_their_rooms() {
        let rooms = vec![
            room("a", "east", vec![board("a1", 4, 0)]),
            room("b", "east", vec![board("b1", 4, 0)]),
        ];
        let o = OrderView {
            room_ids: vec!["b".into()],
            region_id: None,
            ..order("hd", "east", 3, 0)
        };
        assert!(
            matches!(decide(&req(&["hd"]), &[o], &rooms), Decision::Assign { room_id, .. } if room_id == "b")
        );
    }
}
