//! Server-side sign-in sessions: the controller's bearer token stays here, keyed by a random
//! session id that is the only thing the browser holds (the `playrack_session` cookie).
//!
//! Sessions end when idle for `session_idle`, `session_max` after sign-in, when the
//! controller's token expires, on sign-out, or when the controller stops accepting the token.
//! The store is in memory: a portal restart signs everyone out (by design; nothing to leak).

use playrack_wire::Timestamp;
use playrack_wire::api::Principal;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "playrack_session";
/// The short-lived cookie that ties the sign-in form to its browser (login CSRF defence).
pub const SIGNIN_COOKIE: &str = "playrack_signin";

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The controller's bearer token (never sent to the browser).
    pub token: String,
    pub principal: Principal,
    /// The per-session CSRF token every non-GET request must carry.
    pub csrf: String,
    pub token_expires_at: Timestamp,
    created: Instant,
    last_used: Instant,
}

/// The in-memory store.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: Duration,
    max: Duration,
}

/// A random 256-bit value as 64 hex characters.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    /// Stores a new session; returns its id (the cookie value).
    pub fn create(&self, token: String, principal: Principal, expires_at: Timestamp) -> String {
        let id = random_token();
        let now = Instant::now();
        let session = Session {
            token,
            principal,
            csrf: random_token(),
            token_expires_at: expires_at,
            created: now,
            last_used: now,
        };
        let mut map = self.map.lock().expect("sessions lock");
        map.retain(|_, s| self.alive(s, now));
        map.insert(id.clone(), session);
        id
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_used) < self.idle
            && now.duration_since(s.created) < self.max
            && s.token_expires_at > Timestamp::now()
    }

    /// The live session with this id (and marks it used), or `None`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.map.lock().expect("sessions lock");
        let alive = map.get(id).map(|s| self.alive(s, now))?;
        if !alive {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.last_used = now;
        Some(s.clone())
    }

    /// Ends a session; returns it if it existed.
    pub fn remove(&self, id: &str) -> Option<Session> {
        self.map.lock().expect("sessions lock").remove(id)
    }

    /// How many sessions are stored (live or not yet swept).
    pub fn len(&self) -> usize {
        self.map.lock().expect("sessions lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when asked; `max_age`
/// `Some(0)` deletes the cookie, `None` makes a browser-session cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use playrack_wire::api::{PrincipalKind, Role};

    fn principal() -> Principal {
        Principal {
            id: "acc_1".into(),
            kind: PrincipalKind::Account,
            role: Role::TenantAdmin,
            tenant_id: Some("ten_1".into()),
            email: Some("a@b.c".into()),
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_with_the_token() {
        let s = Sessions::new(Duration::from_millis(0), Duration::from_secs(60));
        let id = s.create("t".into(), principal(), Timestamp::now().plus_secs(60));
        assert!(
            s.get(&id).is_none(),
            "an idle limit of zero ends it at once"
        );
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        let id = s.create("t".into(), principal(), Timestamp::now().plus_secs(-1));
        assert!(s.get(&id).is_none(), "an expired controller token ends it");
        let id = s.create("t".into(), principal(), Timestamp::now().plus_secs(60));
        let got = s.get(&id).expect("live");
        assert_eq!(got.token, "t");
        assert_eq!(got.csrf.len(), 64);
        assert!(s.remove(&id).is_some());
        assert!(s.get(&id).is_none());
    }

    #[test]
    fn cookies_and_comparison() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; playrack_session=abc ; b=2".parse().unwrap());
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&h, "zz"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        let c = set_cookie(COOKIE, "v", true, None);
        assert_eq!(
            c,
            "playrack_session=v; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
