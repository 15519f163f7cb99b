//! Grey releases: which version a player gets while a game's candidate goes to a share of its
//! players, and what each version's plays came to.
//!
//! The split is a pure function of the release and the player ([`chooses`]): a player's
//! bucket (0–999) is a SHA-256 of the release's salt and the player's key (the device id of a
//! link play, the tenant's user id of a token play), and the player is chosen when the bucket
//! is under the release's share. So a player keeps their version across plays and replicas,
//! raising the share keeps everyone already chosen, and a new release (a new salt) draws anew.
//!
//! Placement, deployment and the warm pool need nothing of their own: a play carries the
//! version it resolved to, placement looks only at rooms where that version is ready, and the
//! warm pool sizes each version by the plays it started recently, so it follows the split. A
//! queued player's request is resolved again when the queue places it, so a rollback or a
//! promotion reaches the line too; plays under way keep the version they started with.
//!
//! Version figures are counted in the transaction that ends each play (as the ledger is), per
//! version and UTC day, so reading a release's figures reads a few rows, never the sessions.

use crate::db::WriteTx;
use crate::metering::DAY_MS;
use crate::store::grey::{GreyRow, VersionTally};
use sha2::{Digest, Sha256};

/// Buckets a share is counted in (per mille: a percent is ten of them).
pub const BUCKETS: u32 = 1000;

/// The player's bucket in a release, 0 to [`BUCKETS`] − 1.
pub fn bucket(salt: &str, user_key: &str) -> u32 {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update([0u8])
        .chain_update(user_key.as_bytes())
        .finalize();
    let n = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
    (n % u64::from(BUCKETS)) as u32
}

/// Who a play is for, as far as a release cares.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub user_key: &'a str,
    /// The try-play link the player came through, and its campaign tag.
    pub link_id: Option<&'a str>,
    pub campaign: Option<&'a str>,
}

/// Whether the release sends this player to its candidate version.
pub fn chooses(release: &GreyRow, who: Who<'_>) -> bool {
    if release
        .link_id
        .as_deref()
        .is_some_and(|l| who.link_id != Some(l))
    {
        return false;
    }
    if release
        .campaign
        .as_deref()
        .is_some_and(|c| who.campaign != Some(c))
    {
        return false;
    }
    bucket(&release.salt, who.user_key) < release.per_mille.clamp(0, BUCKETS as i32) as u32
}

/// A play of `version` ended: counts it on the day it ended (only plays that reached the
/// player count; `secs` billable seconds, the latency samples its players sent).
pub async fn on_end(
    tx: &mut WriteTx,
    version: &str,
    ended_at: i64,
    crashed: bool,
    secs: u64,
    latency: (i64, i64),
) -> Result<(), sqlx::Error> {
    let t = VersionTally {
        plays: 1,
        crashes: i64::from(crashed),
        play_seconds: secs.min(i64::MAX as u64) as i64,
        latency_samples: latency.0.max(0),
        latency_sum_us: latency.1.max(0),
    };
    crate::store::grey::add(tx, version, ended_at.div_euclid(DAY_MS), &t).await
}

/// A version's summed days as the API shows them.
pub fn figures(version_id: &str, t: &VersionTally) -> playrack_wire::api::VersionFigures {
    let plays = t.plays.max(0) as u64;
    let per_play = |v: i64| {
        if plays == 0 {
            0.0
        } else {
            v as f64 / plays as f64
        }
    };
    playrack_wire::api::VersionFigures {
        version_id: version_id.to_owned(),
        plays,
        crashes: t.crashes.max(0) as u64,
        crash_rate: per_play(t.crashes),
        mean_play_secs: per_play(t.play_seconds),
        mean_latency_ms: (t.latency_samples > 0)
            .then(|| t.latency_sum_us as f64 / t.latency_samples as f64 / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(per_mille: i32, salt: &str) -> GreyRow {
        GreyRow {
            game_id: "gam_1".into(),
            tenant_id: "ten_1".into(),
            version_id: "ver_2".into(),
            per_mille,
            link_id: None,
            campaign: None,
            salt: salt.into(),
            started_at: 0,
            updated_at: 0,
        }
    }

    fn who(user_key: &str) -> Who<'_> {
        Who {
            user_key,
            link_id: None,
            campaign: None,
        }
    }

    #[test]
    fn a_thousand_players_split_twenty_percent_and_keep_their_version() {
        let r = release(200, "salt-a");
        let players: Vec<String> = (0..1000).map(|i| format!("anon:device-{i}")).collect();
        let chosen: Vec<bool> = players.iter().map(|p| chooses(&r, who(p))).collect();
        let n = chosen.iter().filter(|c| **c).count();
        assert!((170..=230).contains(&n), "{n} of 1000 chosen at 20 %");
        // Replays: the same answer every time.
        for (p, c) in players.iter().zip(&chosen) {
            assert_eq!(chooses(&r, who(p)), *c, "{p} switched versions");
        }
        // Raising the share keeps everyone chosen before.
        let wider = release(500, "salt-a");
        for (p, c) in players.iter().zip(&chosen) {
            assert!(
                !c || chooses(&wider, who(p)),
                "{p} left the candidate at 50 %"
            );
        }
        // A new release draws anew.
        let other = release(200, "salt-b");
        let same = players
            .iter()
            .zip(&chosen)
            .filter(|(p, c)| chooses(&other, who(p)) == **c)
            .count();
        assert!(same < 1000, "a new salt chose exactly the same players");
    }

    #[test]
    fn none_and_all() {
        for p in ["a", "b", "user:42"] {
            assert!(!chooses(&release(0, "s"), who(p)));
            assert!(chooses(&release(1000, "s"), who(p)));
        }
    }

    #[test]
    fn a_link_or_campaign_restriction_leaves_everyone_else_out() {
        let mut r = release(1000, "s");
        r.link_id = Some("lnk_1".into());
        assert!(!chooses(&r, who("a")));
        let through = |link, campaign| Who {
            user_key: "a",
            link_id: Some(link),
            campaign,
        };
        assert!(chooses(&r, through("lnk_1", None)));
        assert!(!chooses(&r, through("lnk_2", None)));
        r.link_id = None;
        r.campaign = Some("spring".into());
        assert!(chooses(&r, through("lnk_2", Some("spring"))));
        assert!(!chooses(&r, through("lnk_2", Some("summer"))));
        assert!(!chooses(&r, who("a")));
    }

    #[test]
    fn figures_per_play() {
        let t = VersionTally {
            plays: 4,
            crashes: 1,
            play_seconds: 400,
            latency_samples: 10,
            latency_sum_us: 300_000,
        };
        let f = figures("ver_1", &t);
        assert_eq!((f.plays, f.crashes), (4, 1));
        assert!((f.crash_rate - 0.25).abs() < 1e-9);
        assert!((f.mean_play_secs - 100.0).abs() < 1e-9);
        assert_eq!(f.mean_latency_ms, Some(30.0));
        assert_eq!(figures("v", &VersionTally::default()).mean_latency_ms, None);
    }
}
