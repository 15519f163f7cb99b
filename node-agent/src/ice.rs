//! The ICE servers a player is offered in the signaling `welcome`: STUN URLs, and TURN servers
//! either with fixed credentials (`turn:user:password@host:port`, the same for every player) or
//! — given a shared secret — with credentials made for the one session, valid for a while.
//!
//! The per-session credentials follow the TURN REST API scheme coturn implements
//! (`use-auth-secret` with `static-auth-secret`): the username is `<expiry, Unix seconds>:<session
//! id>` and the password is base64(HMAC-SHA1(secret, username)). The TURN server checks them
//! with the same secret and refuses them after the expiry; nothing is stored anywhere, and a
//! player's credentials are useless to anyone once its play is over.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use playrack_wire::signaling::IceServer;

/// How long per-session TURN credentials are valid by default: longer than any play, so a
/// TURN allocation's refreshes keep working to the end of it.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(12 * 3600);

/// What the agent offers players.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    /// STUN servers and TURN servers with fixed credentials.
    fixed: Vec<IceServer>,
    /// TURN servers whose credentials are made per session.
    rest: Option<TurnRest>,
}

#[derive(Clone)]
struct TurnRest {
    urls: Vec<String>,
    secret: String,
    ttl: Duration,
}

impl std::fmt::Debug for TurnRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnRest")
            .field("urls", &self.urls)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// A `turn:`/`turns:` URL split into the URL without credentials and the credentials.
fn split_turn(url: &str) -> (String, Option<(String, String)>) {
    let (scheme, rest) = match url.split_once(':') {
        Some((s @ ("turn" | "turns"), rest)) => (s, rest),
        _ => ("turn", url),
    };
    match rest.rsplit_once('@') {
        Some((creds, host)) => {
            let (user, pass) = creds.split_once(':').unwrap_or((creds, ""));
            (
                format!("{scheme}:{host}"),
                Some((user.to_owned(), pass.to_owned())),
            )
        }
        None => (format!("{scheme}:{rest}"), None),
    }
}

impl IceConfig {
    /// From the configured `stun:` URLs and `turn:` URLs. With `turn_secret`, TURN URLs without
    /// credentials of their own get per-session credentials valid for `ttl`.
    pub fn new(
        stun: &[String],
        turn: &[String],
        turn_secret: Option<&str>,
        ttl: Duration,
    ) -> IceConfig {
        let mut fixed: Vec<IceServer> = stun
            .iter()
            .map(|u| IceServer {
                urls: vec![u.clone()],
                username: None,
                credential: None,
            })
            .collect();
        let mut rest_urls = Vec::new();
        for t in turn {
            match (split_turn(t), turn_secret) {
                ((url, Some((user, pass))), _) => fixed.push(IceServer {
                    urls: vec![url],
                    username: Some(user),
                    credential: Some(pass),
                }),
                ((url, None), Some(_)) => rest_urls.push(url),
                ((url, None), None) => fixed.push(IceServer {
                    urls: vec![url],
                    username: None,
                    credential: None,
                }),
            }
        }
        let rest = match turn_secret {
            Some(secret) if !rest_urls.is_empty() => Some(TurnRest {
                urls: rest_urls,
                secret: secret.to_owned(),
                ttl,
            }),
            _ => None,
        };
        IceConfig { fixed, rest }
    }

    /// The servers for `session_id`'s player, at `now`.
    pub fn for_session(&self, session_id: &str, now: SystemTime) -> Vec<IceServer> {
        let mut out = self.fixed.clone();
        if let Some(r) = &self.rest {
            let expiry = (now + r.ttl)
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let username = format!("{expiry}:{session_id}");
            out.push(IceServer {
                urls: r.urls.clone(),
                credential: Some(turn_rest_password(&r.secret, &username)),
                username: Some(username),
            });
        }
        out
    }
}

/// The TURN REST API password for `username`: base64(HMAC-SHA1(secret, username)).
pub fn turn_rest_password(secret: &str, username: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, username.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_turn_urls_carry_their_credentials() {
        let s = IceConfig::new(
            &["stun:stun.example:3478".into()],
            &[
                "turn:alice:s3cret@turn.example:3478".into(),
                "turn:plain:3478".into(),
                "turns:bob:pw@turn.example:5349?transport=tcp".into(),
            ],
            None,
            DEFAULT_TURN_TTL,
        )
        .for_session("ses_1", SystemTime::now());
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].urls, vec!["stun:stun.example:3478"]);
        assert_eq!(s[1].urls, vec!["turn:turn.example:3478"]);
        assert_eq!(s[1].username.as_deref(), Some("alice"));
        assert_eq!(s[1].credential.as_deref(), Some("s3cret"));
        assert_eq!(s[2].urls, vec!["turn:plain:3478"]);
        assert_eq!(s[2].username, None);
        assert_eq!(s[3].urls, vec!["turns:turn.example:5349?transport=tcp"]);
        assert_eq!(s[3].username.as_deref(), Some("bob"));
    }

    #[test]
    fn the_rest_api_password_matches_an_independent_hmac_sha1() {
        // Python: base64.b64encode(hmac.new(b"north-wind", b"1700000000:ses_01abc",
        // hashlib.sha1).digest())
        assert_eq!(
            turn_rest_password("north-wind", "1700000000:ses_01abc"),
            "iS8DwULfIi6eFrfc00h2qO8hOeE="
        );
    }

    #[test]
    fn with_a_secret_each_session_gets_its_own_expiring_credentials() {
        let ice = IceConfig::new(
            &[],
            &[
                "turn:turn.example:3478".into(),
                "turn:turn.example:3478?transport=tcp".into(),
            ],
            Some("north-wind"),
            Duration::from_secs(600),
        );
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = ice.for_session("ses_a", now);
        let b = ice.for_session("ses_b", now);
        assert_eq!(a.len(), 1, "one server entry with both URLs");
        assert_eq!(a[0].urls.len(), 2);
        assert_eq!(a[0].username.as_deref(), Some("1700000600:ses_a"));
        assert_eq!(
            a[0].credential.as_deref(),
            Some(turn_rest_password("north-wind", "1700000600:ses_a").as_str())
        );
        assert_ne!(a[0].credential, b[0].credential);
        assert!(
            !format!("{ice:?}").contains("north-wind"),
            "the secret stays out of logs"
        );
    }
}
