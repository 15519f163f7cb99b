//! Player identity: anonymous players through a try-play link (a device-bound id), tenant
//! players through a token the tenant's backend signs, and the play keys that prove a player
//! holds a ticket or a session.
//!
//! A device id is the anonymous player's secret: anyone who knows it can acquire as that player
//! (and get their live play and their saves), so it is never stored or shown — the player's
//! key is `device:` and a SHA-256 digest of it ([`anonymous_user`]).
//!
//! A play key is `pk1_<base64url HMAC-SHA256>` of the ticket's or session's id under a key
//! derived from the controller's signing key: nothing is stored, every replica can check it,
//! and a repeated acquire (idempotency key, or "already playing") answers with the same key.
//! Ticket and session ids are not secrets (tenants' consoles, webhooks and audits show them);
//! the play key is, and only the acquire (or the claim of a promoted ticket) returns it.
//!
//! A player token is `v1.<payload>.<signature>`: the payload is base64url JSON
//! `{"tenant": …, "user": …, "exp": <unix seconds>, "level": <optional int>}`, the signature is
//! base64url HMAC-SHA256 of the `<payload>` text under the tenant's player key.

use super::error::{PlayError, PlayResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPayload {
    pub tenant: String,
    pub user: String,
    pub exp: i64,
    #[serde(default)]
    pub level: i32,
}

/// Signs a player token (what a tenant's backend does; here for tests and tools).
pub fn sign(key: &str, payload: &TokenPayload) -> String {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).expect("json"));
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!(
        "v1.{body}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The payload of a token, unverified (to find the tenant whose key verifies it).
pub fn peek(token: &str) -> PlayResult<TokenPayload> {
    let mut parts = token.split('.');
    let (Some("v1"), Some(body), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PlayError::BadPlayerToken("the player token is malformed"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| PlayError::BadPlayerToken("the player token is malformed"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| PlayError::BadPlayerToken("the player token is malformed"))
}

/// Verifies signature and expiry.
pub fn verify(key: &str, token: &str, now_secs: i64) -> PlayResult<TokenPayload> {
    let payload = peek(token)?;
    let (body, sig) = token[3..].split_once('.').expect("peek checked the shape");
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| PlayError::BadPlayerToken("the player token is malformed"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| PlayError::BadPlayerToken("the player token's signature does not verify"))?;
    if payload.exp <= now_secs {
        return Err(PlayError::BadPlayerToken("the player token has expired"));
    }
    if payload.user.is_empty() || payload.user.len() > 128 {
        return Err(PlayError::BadPlayerToken(
            "the player token names no valid user",
        ));
    }
    Ok(payload)
}

/// The stored player key of an anonymous device: `device:` and 32 hex digits of a SHA-256
/// digest of the device id (one-way, so neither the database nor any view reveals the id).
pub fn anonymous_user(device_id: &str) -> String {
    use sha2::Digest;
    let digest = Sha256::new()
        .chain_update(b"playrack anonymous device\0")
        .chain_update(device_id.as_bytes())
        .finalize();
    format!("device:{}", hex::encode(&digest[..16]))
}

/// What a play key proves the holder of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held<'a> {
    Ticket(&'a str),
    Session(&'a str),
}

fn play_mac(secret: &[u8; 32], held: Held) -> Hmac<Sha256> {
    let (kind, id) = match held {
        Held::Ticket(id) => ("ticket", id),
        Held::Session(id) => ("session", id),
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(b"playrack play key v1\0");
    mac.update(kind.as_bytes());
    mac.update(b"\0");
    mac.update(id.as_bytes());
    mac
}

/// The play key of a ticket or session under the controller's `secret`.
pub fn play_key(secret: &[u8; 32], held: Held) -> String {
    format!(
        "pk1_{}",
        URL_SAFE_NO_PAD.encode(play_mac(secret, held).finalize().into_bytes())
    )
}

/// Whether `presented` is the play key of `held` (compared in constant time).
pub fn is_play_key(secret: &[u8; 32], held: Held, presented: &str) -> bool {
    let Some(sig) = presented
        .strip_prefix("pk1_")
        .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
    else {
        return false;
    };
    play_mac(secret, held).verify_slice(&sig).is_ok()
}

/// A device id: 16–64 characters of letters, digits, `-` and `_`.
pub fn valid_device_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_key_and_before_expiry() {
        let p = TokenPayload {
            tenant: "ten_1".into(),
            user: "u42".into(),
            exp: 1_000,
            level: 3,
        };
        let t = sign("k1", &p);
        assert_eq!(verify("k1", &t, 999).unwrap(), p);
        assert!(verify("k2", &t, 999).is_err());
        assert!(verify("k1", &t, 1_000).is_err());
        let tampered = t.replacen("v1.", "v1.x", 1);
        assert!(verify("k1", &tampered, 0).is_err());
        for bad in ["", "v1", "v2.a.b", "v1.a.b.c", "v1.!!.x"] {
            assert!(verify("k1", bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_play_key_proves_one_ticket_or_session_under_one_secret() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let key = play_key(&a, Held::Session("ses_1"));
        assert!(key.starts_with("pk1_"));
        assert_eq!(
            key,
            play_key(&a, Held::Session("ses_1")),
            "derived, not random"
        );
        assert!(is_play_key(&a, Held::Session("ses_1"), &key));
        assert!(!is_play_key(&b, Held::Session("ses_1"), &key));
        assert!(!is_play_key(&a, Held::Session("ses_2"), &key));
        assert!(!is_play_key(&a, Held::Ticket("ses_1"), &key));
        for bad in [
            "",
            "pk1_",
            "pk1_!!",
            "pk2_x",
            &key[4..],
            &key[..key.len() - 1],
        ] {
            assert!(!is_play_key(&a, Held::Session("ses_1"), bad), "{bad}");
        }
    }

    #[test]
    fn an_anonymous_user_key_hides_the_device_id() {
        let device = "device-0123456789abcdef";
        let key = anonymous_user(device);
        assert_eq!(key, anonymous_user(device));
        assert_ne!(key, anonymous_user("device-0123456789abcdeg"));
        assert!(!key.contains(device));
        assert_eq!(key.len(), "device:".len() + 32);
    }
}
