//! The signaling gate: the sans-IO check every player or spectator passes before the agent
//! negotiates WebRTC with them. It reads the client's first message, verifies the session token
//! offline (the controller's Ed25519 signature, this board, expiry — no call to the controller,
//! so streaming keeps working while the controller restarts), refuses a token seen before
//! (replay), and says which session and role the peer gets.
//!
//! The WebSocket shell around it (on the agent's HTTP port) and the str0m peer connection come
//! with the WebRTC relay.

use playrack_wire::session_token::{self, SessionClaims, TokenError, WatchClaim};
use playrack_wire::signaling::{ClientSignal, PeerRole};
use std::collections::HashMap;

/// Why a peer was refused: a stable code (sent in the `error` signal) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A peer let in: the session it may reach and as what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub session_id: String,
    pub role: PeerRole,
    /// The watch link a spectator came through (its viewer limit is the relay's to keep).
    pub watch: Option<WatchClaim>,
}

/// Verifies hellos for one board. Remembers each token id until its expiry, so a token works
/// once (a reconnecting player asks the controller for a fresh one).
pub struct Gate {
    board_id: String,
    /// The controller's public key (from enrolment); `None` refuses everyone.
    public_key: Option<String>,
    /// Token ids already used, with their expiry (Unix seconds).
    used: HashMap<String, i64>,
}

impl Gate {
    pub fn new(board_id: impl Into<String>, public_key: Option<String>) -> Self {
        Self {
            board_id: board_id.into(),
            public_key,
            used: HashMap::new(),
        }
    }

    /// Checks a client's first message at `now_secs`.
    pub fn admit(&mut self, first_message: &str, now_secs: i64) -> Result<Admission, Refusal> {
        self.used.retain(|_, exp| *exp > now_secs);
        let hello =
            ClientSignal::parse(first_message).map_err(|e| Refusal::new("BAD_MESSAGE", e))?;
        let ClientSignal::Hello { token, role } = hello else {
            return Err(Refusal::new(
                "HELLO_FIRST",
                "the first message must be hello",
            ));
        };
        let key = self.public_key.as_deref().ok_or_else(|| {
            Refusal::new("NOT_ENROLLED", "this board has no session-token key yet")
        })?;
        let claims: SessionClaims = session_token::verify(key, &token, &self.board_id, now_secs)
            .map_err(|e| {
                let code = match e {
                    TokenError::Expired => "TOKEN_EXPIRED",
                    TokenError::WrongBoard => "TOKEN_WRONG_BOARD",
                    TokenError::BadSignature | TokenError::Malformed => "TOKEN_INVALID",
                };
                Refusal::new(code, e.to_string())
            })?;
        if role == PeerRole::Player && claims.role != PeerRole::Player {
            return Err(Refusal::new(
                "ROLE_NOT_ALLOWED",
                "this token only allows spectating",
            ));
        }
        if self.used.contains_key(&claims.jti) {
            return Err(Refusal::new(
                "TOKEN_REPLAYED",
                "this session token was already used",
            ));
        }
        self.used.insert(claims.jti.clone(), claims.exp);
        Ok(Admission {
            session_id: claims.session,
            role,
            watch: claims.watch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [9; 32];

    fn token(board: &str, role: PeerRole, exp: i64, jti: &str) -> String {
        session_token::sign(
            &SECRET,
            &SessionClaims {
                session: "ses_1".into(),
                board: board.into(),
                role,
                exp,
                jti: jti.into(),
                watch: None,
            },
        )
    }

    fn hello(token: &str, role: &str) -> String {
        format!(r#"{{"type":"hello","token":"{token}","role":"{role}"}}"#)
    }

    fn gate() -> Gate {
        Gate::new("brd_1", Some(session_token::public_key(&SECRET)))
    }

    #[test]
    fn a_valid_token_admits_once() {
        let mut g = gate();
        let t = token("brd_1", PeerRole::Player, 100, "j1");
        assert_eq!(
            g.admit(&hello(&t, "player"), 50),
            Ok(Admission {
                session_id: "ses_1".into(),
                role: PeerRole::Player,
                watch: None,
            })
        );
        assert_eq!(
            g.admit(&hello(&t, "player"), 51).unwrap_err().code,
            "TOKEN_REPLAYED"
        );
        // A player token may also watch; a spectator token may not play.
        let t2 = token("brd_1", PeerRole::Player, 100, "j2");
        assert_eq!(
            g.admit(&hello(&t2, "spectator"), 50).unwrap().role,
            PeerRole::Spectator
        );
        let s = token("brd_1", PeerRole::Spectator, 100, "j3");
        assert_eq!(
            g.admit(&hello(&s, "player"), 50).unwrap_err().code,
            "ROLE_NOT_ALLOWED"
        );
    }

    #[test]
    fn bad_tokens_and_messages_are_refused_with_their_codes() {
        let mut g = gate();
        let cases = [
            (
                hello(&token("brd_1", PeerRole::Player, 10, "a"), "player"),
                "TOKEN_EXPIRED",
            ),
            (
                hello(&token("brd_2", PeerRole::Player, 100, "b"), "player"),
                "TOKEN_WRONG_BOARD",
            ),
            (hello("pst1.e30.AAAA", "player"), "TOKEN_INVALID"),
            (
                hello(
                    &session_token::sign(
                        &[1; 32],
                        &SessionClaims {
                            session: "s".into(),
                            board: "brd_1".into(),
                            role: PeerRole::Player,
                            exp: 100,
                            jti: "c".into(),
                            watch: None,
                        },
                    ),
                    "player",
                ),
                "TOKEN_INVALID",
            ),
            (r#"{"type":"offer","sdp":"v=0"}"#.to_owned(), "HELLO_FIRST"),
            ("not json".to_owned(), "BAD_MESSAGE"),
            (
                format!(
                    r#"{{"type":"hello","token":"{}","role":"player"}}"#,
                    "x".repeat(70_000)
                ),
                "BAD_MESSAGE",
            ),
        ];
        for (msg, code) in cases {
            assert_eq!(
                g.admit(&msg, 50).unwrap_err().code,
                code,
                "{}",
                &msg[..msg.len().min(80)]
            );
        }
        let mut unenrolled = Gate::new("brd_1", None);
        assert_eq!(
            unenrolled
                .admit(
                    &hello(&token("brd_1", PeerRole::Player, 100, "d"), "player"),
                    50
                )
                .unwrap_err()
                .code,
            "NOT_ENROLLED"
        );
    }

    #[test]
    fn used_token_ids_are_forgotten_after_they_expire() {
        let mut g = gate();
        g.admit(
            &hello(&token("brd_1", PeerRole::Player, 100, "e"), "player"),
            50,
        )
        .unwrap();
        assert_eq!(g.used.len(), 1);
        let _ = g.admit("not json", 101);
        assert!(g.used.is_empty());
    }
}
