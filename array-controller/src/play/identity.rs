//! Player identity: anonymous players through a try-play link (a device-bound id), tenant
//! players through a token the tenant's backend signs.
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
}
