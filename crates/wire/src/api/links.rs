//! Try-play links and the card a player sees.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A try-play link: `https://<portal>/play/<code>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Link {
    pub id: String,
    pub code: String,
    pub game_id: String,
    /// Trial length of each play through this link.
    pub trial_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_plays: Option<u32>,
    pub plays_used: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// What the player page offers when a play ends (e.g. "Install the full game").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<CallToAction>,
    /// The link's own connect deadline, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_deadline_seconds: Option<u32>,
    /// The sites whose pages may show the link's player page in an `<iframe>` (see
    /// [`embed_origin`]); none: it is never framed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_origins: Vec<String>,
    pub created_at: Timestamp,
}

/// The tenant's call to action on the player's end screen.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallToAction {
    /// 1–60 characters.
    pub label: String,
    /// An `https://` (or `http://`) URL, at most 2048 characters.
    pub url: String,
}

/// What a player's page shows for a try-play link before playing (public, no account):
/// the game card, the trial length, the call to action, and the rooms whose probe endpoints
/// the SDK measures before acquiring.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LinkCard {
    pub code: String,
    pub game_id: String,
    pub game_name: String,
    /// A public icon URL (relative to the controller), when the game has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    pub trial_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta: Option<CallToAction>,
    /// Rooms where the game is deployed and ready.
    pub rooms: Vec<RoomProbe>,
    /// The sites whose pages may frame the player page (none: it is never framed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embed_origins: Vec<String>,
}

/// A room a play may land in, and the URL clients time a request to (RTT).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RoomProbe {
    pub room_id: String,
    pub probe_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateLink {
    pub game_id: String,
    /// Defaults to the game's max play seconds.
    #[serde(default)]
    pub trial_seconds: Option<u32>,
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    #[serde(default)]
    pub max_plays: Option<u32>,
    #[serde(default)]
    pub campaign: Option<String>,
    #[serde(default)]
    pub cta: Option<CallToAction>,
    /// Seconds a player of this link has to connect after a reservation before it ends
    /// `NO_SHOW` (1–3600); absent: the game's trial defaults, else the controller's default.
    #[serde(default)]
    pub connect_deadline_seconds: Option<u32>,
    /// Sites whose pages may show the player page in an `<iframe>`: at most
    /// [`MAX_EMBED_ORIGINS`] origins such as `https://games.example` (see [`embed_origin`]).
    #[serde(default)]
    pub embed_origins: Vec<String>,
}

/// Changes a link's settings: an absent field stays as it is, `null` clears it (no expiry,
/// no play limit, no campaign, no call to action, the default connect deadline).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLink {
    /// 1–86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_seconds: Option<u32>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Timestamp>, nullable)]
    pub expires_at: Option<Option<Timestamp>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, nullable)]
    pub max_plays: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, nullable)]
    pub campaign: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<CallToAction>, nullable)]
    pub cta: Option<Option<CallToAction>>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, nullable)]
    pub connect_deadline_seconds: Option<Option<u32>>,
    /// Replaces the list (`[]`: the page is never framed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_origins: Option<Vec<String>>,
}

/// A present field of a partial update: `null` becomes `Some(None)` (clear it), a value
/// `Some(Some(v))`; with `#[serde(default)]` an absent field stays `None` (leave it).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The most sites one link may be embedded in.
pub const MAX_EMBED_ORIGINS: usize = 10;

/// A site a link's player page may be framed by, normalised: `https://host[:port]` in lower
/// case with no path (one trailing `/` is dropped); `http://` only for `localhost` and the
/// loopback addresses (a developer's page). International names are given in their ASCII
/// (punycode) form. What passes holds only ASCII letters, digits and `.-:/[]`, so it is safe in
/// a `Content-Security-Policy: frame-ancestors` list.
///
/// Hand-written rather than a URL library's: a URL parser accepts paths, user info, and
/// percent-encoded or Unicode hosts that would each need refusing afterwards; this accepts
/// only the one shape a `frame-ancestors` source may take.
pub fn embed_origin(text: &str) -> Result<String, String> {
    let t = text.trim();
    let t = t.strip_suffix('/').unwrap_or(t);
    let bad = |why: &str| Err(format!("`{t}` is not a site's origin: {why}"));
    let lower = t.to_ascii_lowercase();
    let (scheme, rest) = if let Some(r) = lower.strip_prefix("https://") {
        ("https", r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        ("http", r)
    } else {
        return bad("give https://host (and :port if not 443)");
    };
    if rest.is_empty()
        || rest
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
    {
        return bad("only a host and a port, with no path, query or user");
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return bad("an IPv6 address needs its closing ]");
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return bad("not an IPv6 address");
        }
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return bad("junk after the address"),
            },
        };
        (&rest[..addr.len() + 2], port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if let Some(p) = port
        && !(p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n)))
    {
        return bad("the port must be 1–65535");
    }
    if !host.starts_with('[') {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if host.len() > 253 || !host.split('.').all(label_ok) {
            return bad("not a host name");
        }
    }
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
    if scheme == "http" && !loopback {
        return bad("use https:// (plain http only for localhost)");
    }
    Ok(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::{UpdateLink, embed_origin};

    #[test]
    fn an_update_tells_absent_from_null_from_a_value() {
        let u: UpdateLink =
            serde_json::from_str(r#"{"max_plays": null, "campaign": "spring"}"#).unwrap();
        assert_eq!(u.max_plays, Some(None));
        assert_eq!(u.campaign, Some(Some("spring".into())));
        assert_eq!(u.expires_at, None);
        assert_eq!(u.embed_origins, None);
        // What a client sends reads back the same: `null` stays a clear, absent stays absent.
        let again: UpdateLink = serde_json::from_str(&serde_json::to_string(&u).unwrap()).unwrap();
        assert_eq!(again.max_plays, Some(None));
        assert_eq!(again.trial_seconds, None);
        assert!(serde_json::from_str::<UpdateLink>(r#"{"code": "x"}"#).is_err());
        assert!(serde_json::from_str::<UpdateLink>(r#"{"max_plays": "ten"}"#).is_err());
    }

    #[test]
    fn embed_origins_are_normalised() {
        for (given, want) in [
            ("https://Games.Example.com", "https://games.example.com"),
            ("https://games.example.com/", "https://games.example.com"),
            ("  https://a.example:8443 ", "https://a.example:8443"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("https://[2001:db8::1]", "https://[2001:db8::1]"),
            (
                "https://xn--bcher-kva.example",
                "https://xn--bcher-kva.example",
            ),
        ] {
            assert_eq!(embed_origin(given).as_deref(), Ok(want), "{given}");
        }
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for bad in [
            "",
            "games.example.com",
            "ftp://games.example.com",
            "http://games.example.com",
            "http://127.evil.example",
            "https://",
            "https://games.example.com/play",
            "https://games.example.com?x=1",
            "https://user@games.example.com",
            "https://games.example.com:0",
            "https://games.example.com:65536",
            "https://games.example.com:80a",
            "https://games.example.com:",
            "https://-bad.example",
            "https://a..example",
            "https://*.example.com",
            "https://bücher.example",
            "https://games.example.com; script-src *",
            "https://a.example https://b.example",
            "https://[::1",
            "https://[nothex]",
            "https://[::1]x",
            "'self'",
            "https://%61.example",
        ] {
            assert!(embed_origin(bad).is_err(), "{bad:?} passed");
        }
    }
}

/// What try-play links led to, counted by UTC day: how often the card was opened, plays asked
/// for (and how many of those had to queue), plays that started, their billable seconds, and
/// conversions (clicks on the call to action).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Figures {
    pub opens: u64,
    pub acquires: u64,
    pub queued: u64,
    pub plays: u64,
    pub play_seconds: u64,
    pub conversions: u64,
}

impl Figures {
    /// Adds `other` into these.
    pub fn add(&mut self, other: &Figures) {
        self.opens += other.opens;
        self.acquires += other.acquires;
        self.queued += other.queued;
        self.plays += other.plays;
        self.play_seconds += other.play_seconds;
        self.conversions += other.conversions;
    }
}

/// One UTC day's figures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FigureDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A link's (or a campaign's: every link with its tag) figures over `[from, to)`: the days
/// that saw anything, and their total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct LinkFigures {
    /// The link, for one link's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<String>,
    /// The campaign, for a campaign's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// The first day (`YYYY-MM-DD`, inclusive).
    pub from: String,
    /// The day after the last (`YYYY-MM-DD`, exclusive).
    pub to: String,
    pub days: Vec<FigureDay>,
    pub total: Figures,
}

/// A campaign: a tag a tenant's links carry, with its links' figures over the range asked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Campaign {
    pub name: String,
    /// How many of the tenant's links carry it.
    pub links: u32,
    pub total: Figures,
}
