//! Signaling: the client's WebSocket messages (`playrack_wire::signaling::ClientSignal`) and
//! the node agent's gate over the first one (`node-agent/src/signaling.rs`: hello, session
//! token, board, expiry, replay). Parsed messages serialise and parse back the same. Besides
//! the input as it is, the hello's token payload is signed with a test key, so the claims
//! parser behind the signature check is reached too; a token is admitted at most once.
#![no_main]
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::signaling::Gate;
use playrack_wire::session_token;
use playrack_wire::signaling::ClientSignal;

const SECRET: [u8; 32] = [9; 32];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut gate = Gate::new("brd_fuzz", Some(session_token::public_key(&SECRET)));
    let _ = gate.admit(text, 1_000);
    let Ok(signal) = ClientSignal::parse(text) else {
        return;
    };
    let json = serde_json::to_string(&signal).unwrap();
    assert_eq!(ClientSignal::parse(&json).as_ref(), Ok(&signal));
    if let ClientSignal::Hello { token, role } = signal {
        // The token's text as a claims payload, signed as the controller would sign it.
        let body = B64.encode(token.as_bytes());
        let sig = SigningKey::from_bytes(&SECRET).sign(body.as_bytes());
        let signed = format!("pst1.{body}.{}", B64.encode(sig.to_bytes()));
        let hello = serde_json::json!({"type": "hello", "token": signed, "role": role}).to_string();
        let mut gate = Gate::new("brd_fuzz", Some(session_token::public_key(&SECRET)));
        if gate.admit(&hello, 1_000).is_ok() {
            assert!(
                gate.admit(&hello, 1_000).is_err(),
                "a token is admitted once"
            );
        }
    }
});
