//! Session tokens: what lets a player (or spectator) open a board agent's signaling socket.
//!
//! The controller signs `{session, board, role, exp, jti}` (and a watch link's viewer limit) with its Ed25519 key; the agent holds only
//! the public key (given at enrolment) and checks the token offline — signature, board, expiry —
//! without calling the controller, so streaming keeps working while the controller restarts.
//!
//! Format: `pst1.<base64url payload JSON>.<base64url signature of the payload text>`.

use crate::signaling::PeerRole;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "pst1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub session: String,
    pub board: String,
    pub role: PeerRole,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// A unique id, so an agent can refuse a replayed token.
    pub jti: String,
    /// A spectator admitted through a watch link: the board admits at most `max_viewers` of
    /// that link's spectators at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchClaim>,
}

/// The watch link a spectator's token came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchClaim {
    pub link: String,
    pub max_viewers: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
    WrongBoard,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenError::Malformed => "the session token is malformed",
            TokenError::BadSignature => "the session token's signature does not verify",
            TokenError::Expired => "the session token has expired",
            TokenError::WrongBoard => "the session token is for another board",
        })
    }
}

impl std::error::Error for TokenError {}

/// Signs claims with the controller's 32-byte Ed25519 secret key.
pub fn sign(secret: &[u8; 32], claims: &SessionClaims) -> String {
    let body = B64.encode(serde_json::to_vec(claims).expect("claims serialise"));
    let sig = SigningKey::from_bytes(secret).sign(body.as_bytes());
    format!("{PREFIX}.{body}.{}", B64.encode(sig.to_bytes()))
}

/// The public key (base64url) that verifies tokens signed with `secret`.
pub fn public_key(secret: &[u8; 32]) -> String {
    B64.encode(SigningKey::from_bytes(secret).verifying_key().to_bytes())
}

/// Checks a token for `board` at `now_secs` against the controller's public key (base64url).
pub fn verify(
    public_key: &str,
    token: &str,
    board: &str,
    now_secs: i64,
) -> Result<SessionClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(PREFIX), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let key: [u8; 32] = B64
        .decode(public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| TokenError::Malformed)?;
    let sig: [u8; 64] = B64
        .decode(sig)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    key.verify(body.as_bytes(), &Signature::from_bytes(&sig))
        .map_err(|_| TokenError::BadSignature)?;
    let claims: SessionClaims = B64
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.board != board {
        return Err(TokenError::WrongBoard);
    }
    if claims.exp <= now_secs {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_offline_and_refuse_tampering() {
        let secret = [7u8; 32];
        let claims = SessionClaims {
            session: "ses_1".into(),
            board: "brd_1".into(),
            role: PeerRole::Player,
            exp: 100,
            jti: "j1".into(),
            watch: None,
        };
        let t = sign(&secret, &claims);
        let pk = public_key(&secret);
        assert_eq!(verify(&pk, &t, "brd_1", 99).unwrap(), claims);
        assert_eq!(verify(&pk, &t, "brd_1", 100), Err(TokenError::Expired));
        assert_eq!(verify(&pk, &t, "brd_2", 99), Err(TokenError::WrongBoard));
        assert_eq!(
            verify(&public_key(&[8u8; 32]), &t, "brd_1", 99),
            Err(TokenError::BadSignature)
        );
        let forged = {
            let other = SessionClaims {
                exp: 10_000,
                ..claims.clone()
            };
            let body = B64.encode(serde_json::to_vec(&other).unwrap());
            let sig = t.rsplit('.').next().unwrap();
            format!("pst1.{body}.{sig}")
        };
        assert_eq!(
            verify(&pk, &forged, "brd_1", 99),
            Err(TokenError::BadSignature)
        );
        for bad in ["", "pst1", "pst1.a.b", "x.y.z", "pst1.!!.??"] {
            assert!(verify(&pk, bad, "brd_1", 0).is_err(), "{bad}");
        }
    }
}
