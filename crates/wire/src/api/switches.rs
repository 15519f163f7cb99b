//! Degrade switches: what an operator turns off at runtime — for the whole platform, a region,
//! a room or a tenant — to shed load or take a feature out while it misbehaves.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a switch turns off while it is on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SwitchName {
    /// No new plays start: players who ask are queued (`NEW_PLAYS_PAUSED`) and keep their place
    /// until the switch is off; plays under way go on. Any scope.
    NewPlays,
    /// No one new watches a play (watch links and walls answer `SPECTATORS_OFF`); platform or
    /// tenant.
    Spectators,
    /// Webhook deliveries wait (nothing is dropped; they go out once the switch is off);
    /// platform or tenant.
    Webhooks,
    /// Plays start without restoring a save and end without keeping one; platform or tenant.
    Archives,
    /// New plays start at the game's lowest spec (the last of its fallback order: SD instead
    /// of HD), so the boards fit more of them; they are marked `downgraded` and the player is
    /// told. Plays under way keep theirs. Platform or tenant.
    LowestSpec,
}

impl SwitchName {
    pub const ALL: [SwitchName; 5] = [
        SwitchName::NewPlays,
        SwitchName::Spectators,
        SwitchName::Webhooks,
        SwitchName::Archives,
        SwitchName::LowestSpec,
    ];

    /// The name as the API spells it (`new_plays`).
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchName::NewPlays => "new_plays",
            SwitchName::Spectators => "spectators",
            SwitchName::Webhooks => "webhooks",
            SwitchName::Archives => "archives",
            SwitchName::LowestSpec => "lowest_spec",
        }
    }

    /// The name from its spelling.
    pub fn parse(text: &str) -> Option<SwitchName> {
        SwitchName::ALL.into_iter().find(|n| n.as_str() == text)
    }

    /// Whether the switch can be set for a region or a room (else only the platform or a
    /// tenant).
    pub fn by_place(self) -> bool {
        self == SwitchName::NewPlays
    }
}

/// Where a switch applies: `platform`, `region:<id>`, `room:<id>` or `tenant:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SwitchScope {
    Platform,
    Region(String),
    Room(String),
    Tenant(String),
}

impl SwitchScope {
    /// Reads a scope; says what is wrong otherwise.
    pub fn parse(text: &str) -> Result<SwitchScope, String> {
        if text == "platform" {
            return Ok(SwitchScope::Platform);
        }
        let (kind, id) = text.split_once(':').ok_or_else(|| {
            format!("`{text}` is not a scope: give platform, region:<id>, room:<id> or tenant:<id>")
        })?;
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("`{text}`: the id after `{kind}:` is not an id"));
        }
        match kind {
            "region" => Ok(SwitchScope::Region(id.to_owned())),
            "room" => Ok(SwitchScope::Room(id.to_owned())),
            "tenant" => Ok(SwitchScope::Tenant(id.to_owned())),
            _ => Err(format!(
                "`{kind}` is not a kind of scope: give platform, region:<id>, room:<id> or tenant:<id>"
            )),
        }
    }
}

impl std::fmt::Display for SwitchScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SwitchScope::Platform => f.write_str("platform"),
            SwitchScope::Region(id) => write!(f, "region:{id}"),
            SwitchScope::Room(id) => write!(f, "room:{id}"),
            SwitchScope::Tenant(id) => write!(f, "tenant:{id}"),
        }
    }
}

/// A switch that is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Switch {
    pub name: SwitchName,
    /// `platform`, `region:<id>`, `room:<id>` or `tenant:<id>`.
    pub scope: String,
    /// Why it is on, for the other operators (and the history); tenants never see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub since: Timestamp,
    /// Who turned it on.
    pub by: String,
}

/// Turns a switch on (again: only its note changes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetSwitch {
    pub name: SwitchName,
    /// `platform`, `region:<id>`, `room:<id>` or `tenant:<id>`.
    pub scope: String,
    /// At most 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_back_as_they_are_written_and_bad_ones_say_why() {
        for text in ["platform", "region:reg_01", "room:room_x-1", "tenant:ten_9"] {
            assert_eq!(SwitchScope::parse(text).unwrap().to_string(), text);
        }
        for (bad, says) in [
            ("", "not a scope"),
            ("everywhere", "not a scope"),
            ("room:", "not an id"),
            ("room:a b", "not an id"),
            ("room:../x", "not an id"),
            ("board:brd_1", "not a kind of scope"),
        ] {
            let e = SwitchScope::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        for n in SwitchName::ALL {
            assert_eq!(SwitchName::parse(n.as_str()), Some(n));
        }
        assert_eq!(SwitchName::parse("everything"), None);
    }
}
