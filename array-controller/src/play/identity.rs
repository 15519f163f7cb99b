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
//! A player token is a JWT (RFC 7519) signed with HS256 under the tenant's player key (issued
//! from the console or `POST /v1/tenants/{id}/player-key`), with these claims:
//! - `iss`: the tenant's id (which key verifies the token);
//! - `sub`: the player's id in the tenant's own system, 1–128 bytes (their plays, queue place
//!   and saves are theirs across devices);
//! - `exp`: expiry, Unix seconds (required; a few minutes is plenty: the token is used once,
//!   at acquire);
//! - `level`: optional integer, the player's queue priority (higher goes first).
//!
//! Any JWT library signs one; `sdk-h5/examples/player-token.mjs` (Node) and
//! `player_token.py` (Python) do it with their standard libraries. Verification is the
//! `jsonwebtoken` crate's, with HS256 the only algorithm accepted.

use super::error::{PlayError, PlayResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// A player token's claims (see the module doc for their JWT names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPayload {
    #[serde(rename = "iss")]
    pub tenant: String,
    #[serde(rename = "sub")]
    pub user: String,
    pub exp: i64,
    #[serde(default)]
    pub level: i32,
}

const MALFORMED: PlayError = PlayError::BadPlayerToken(
    "the player token is malformed: a JWT signed with HS256 with iss, sub and exp is expected",
);

/// Signs a player token (what a tenant's backend does; here for tests and tools).
pub fn sign(key: &str, payload: &TokenPayload) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        payload,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("HS256 signs any claims")
}

/// The claims of a token, unverified (to find the tenant whose key verifies it).
pub fn peek(token: &str) -> PlayResult<TokenPayload> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| MALFORMED)?;
    if header.alg != Algorithm::HS256 {
        return Err(PlayError::BadPlayerToken(
            "the player token must be signed with HS256",
        ));
    }
    jsonwebtoken::dangerous::insecure_decode::<TokenPayload>(token)
        .map(|t| t.claims)
        .map_err(|_| MALFORMED)
}

/// Verifies the signature under `key`, then the expiry against `now_secs` and the user.
pub fn verify(key: &str, token: &str, now_secs: i64) -> PlayResult<TokenPayload> {
    peek(token)?;
    let mut validation = Validation::new(Algorithm::HS256);
    // The expiry is checked below against the caller's clock, with no leeway.
    validation.validate_exp = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let payload = jsonwebtoken::decode::<TokenPayload>(
        token,
        &DecodingKey::from_secret(key.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => {
            PlayError::BadPlayerToken("the player token's signature does not verify")
        }
        _ => MALFORMED,
    })?
    .claims;
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
        // claims changed after signing
        let (head, rest) = t.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = serde_json::json!({"iss": "ten_1", "sub": "admin", "exp": 1_000});
        let forged = format!(
            "{head}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(forged.to_string())
        );
        assert!(peek(&forged).is_ok());
        assert!(verify("k1", &forged, 0).is_err());
        for bad in ["", "v1", "v2.a.b", "v1.a.b.c", "v1.!!.x", "a.b.c"] {
            assert!(verify("k1", bad, 0).is_err(), "{bad}");
        }
        // alg none, or another algorithm, or a claim missing: refused
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iss":"ten_1","sub":"u","exp":9999999999}"#)
        );
        assert!(verify("k1", &none, 0).is_err());
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &p,
            &EncodingKey::from_secret(b"k1"),
        )
        .unwrap();
        assert!(verify("k1", &hs512, 0).is_err());
        let no_exp = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": "ten_1", "sub": "u"}),
            &EncodingKey::from_secret(b"k1"),
        )
        .unwrap();
        assert!(verify("k1", &no_exp, 0).is_err());
        // the wire names are the JWT ones
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"iss": "ten_1", "sub": "u42", "exp": 1000, "level": 3})
        );
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
