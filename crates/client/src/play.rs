//! Getting a play: the controller's player API (`/v1/play/…`) and the steps before any media —
//! a try-play link's card, the round trip to each room's probe, the acquire (with an
//! idempotency key), the line (polled at the pace the controller asks, each new position
//! reported), the claim, and the session until it is ready to connect. The same steps as the
//! H5 SDK's `play()`; a refused step is a [`PlayError::Problem`] with the controller's stable
//! code (`LINK_REVOKED`, `TENANT_QUOTA_FULL`, …).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use playrack_wire::api::{
    AcquireRequest, AcquireResponse, ConnectInfo, DeviceInfo, LinkCard, PlaySession, RoomProbe,
    SessionState, Ticket, TicketState,
};
use reqwest::Method;
use serde::de::DeserializeOwned;

/// The controller's fastest allowed poll of a ticket (it says how often in `poll_after_ms`).
const MIN_POLL: Duration = Duration::from_millis(200);
/// How long the whole room measurement may take.
const RTT_BUDGET: Duration = Duration::from_millis(1500);
/// Timed probes per room (after one that opens the connection).
const RTT_SAMPLES: usize = 3;
/// How long a session may take to become ready (prepare on the board).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a play could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// The controller refused, with its problem's stable `code` and words.
    #[error("{code}: {detail}")]
    Problem {
        status: u16,
        code: String,
        detail: String,
    },
    #[error("cannot reach the controller: {0}")]
    Network(String),
    #[error("the controller's answer is not what this client expects: {0}")]
    BadResponse(String),
    /// The player left the line (or the play was cancelled) first.
    #[error("cancelled")]
    Cancelled,
    /// The ticket ended without a session (`evicted`, `expired`, `cancelled` by the controller).
    #[error("the ticket ended: {0:?}")]
    TicketEnded(TicketState),
    /// The session ended before it was ready (`APP_CRASHED`, `NO_SHOW`, …).
    #[error("the session ended before it was ready: {0}")]
    Ended(String),
    #[error("not a try-play link: {0} (expected https://host/play/<code>)")]
    BadLink(String),
}

impl PlayError {
    /// The stable code: the controller's, or this client's own for what it found itself.
    pub fn code(&self) -> &str {
        match self {
            PlayError::Problem { code, .. } => code,
            PlayError::Network(_) => "NETWORK",
            PlayError::BadResponse(_) => "BAD_RESPONSE",
            PlayError::Cancelled => "CANCELLED",
            PlayError::TicketEnded(_) => "TICKET_ENDED",
            PlayError::Ended(_) => "ENDED",
            PlayError::BadLink(_) => "BAD_LINK",
        }
    }
}

/// A try-play URL split into where its API is and the link's code ([`crate::link::parse`]).
pub fn parse_link(url: &str) -> Result<(String, String), PlayError> {
    let l = crate::link::parse(url).map_err(|e| PlayError::BadLink(e.0))?;
    Ok((l.origin, l.code))
}

/// The controller's player API at `base` (the controller, or a portal that proxies it).
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// The API at `base` with `http` (its TLS roots, timeouts).
    pub fn new(base: &str, http: reqwest::Client) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            http,
        }
    }

    /// An absolute URL for a path the controller gave (probe URLs may be relative).
    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        }
    }

    /// A request on one of the player's own tickets or sessions, with its play key.
    fn keyed(&self, method: Method, what: &str, id: &str, key: &str) -> reqwest::RequestBuilder {
        let url = self.url(&format!("/v1/play/{what}/{}", pct(id)));
        self.http.request(method, url).bearer_auth(key)
    }

    pub async fn link_card(&self, code: &str) -> Result<LinkCard, PlayError> {
        self.call(
            self.http
                .get(self.url(&format!("/v1/play/links/{}", pct(code)))),
        )
        .await
    }

    pub async fn acquire(
        &self,
        ask: &AcquireRequest,
        idempotency_key: &str,
    ) -> Result<AcquireResponse, PlayError> {
        self.call(
            self.http
                .post(self.url("/v1/play/acquire"))
                .header("Idempotency-Key", idempotency_key)
                .json(ask),
        )
        .await
    }

    /// Keeps the ticket in line; claims a promoted one.
    pub async fn poll_ticket(&self, id: &str, key: &str) -> Result<Ticket, PlayError> {
        self.call(self.keyed(Method::GET, "tickets", id, key)).await
    }

    /// Leaves the line.
    pub async fn cancel_ticket(&self, id: &str, key: &str) -> Result<Ticket, PlayError> {
        self.call(self.keyed(Method::DELETE, "tickets", id, key))
            .await
    }

    /// The session and, once ready, a fresh single-use connect token.
    pub async fn session(&self, id: &str, key: &str) -> Result<PlaySession, PlayError> {
        self.call(self.keyed(Method::GET, "sessions", id, key))
            .await
    }

    /// The player leaves (`USER_LEFT`).
    pub async fn leave(&self, id: &str, key: &str) -> Result<(), PlayError> {
        self.call::<serde_json::Value>(self.keyed(Method::DELETE, "sessions", id, key))
            .await
            .map(drop)
    }

    /// The median round trip to each room's probe, for the rooms that answered in time.
    pub async fn measure_rooms(&self, rooms: &[RoomProbe]) -> BTreeMap<String, u32> {
        let deadline = tokio::time::Instant::now() + RTT_BUDGET;
        let one = |room: &RoomProbe| {
            let url = self.url(&room.probe_url);
            let http = self.http.clone();
            let id = room.room_id.clone();
            async move {
                let mut times = Vec::new();
                for i in 0..=RTT_SAMPLES {
                    let t0 = Instant::now();
                    let ok = match http.get(&url).send().await {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    // the first request pays for the connection: not a round trip
                    if ok && i > 0 {
                        times.push(t0.elapsed());
                    }
                }
                times.sort();
                let median = times.get(times.len().saturating_sub(1) / 2).copied();
                median.map(|m| (id, u32::try_from(m.as_millis()).unwrap_or(u32::MAX)))
            }
        };
        let all = futures_util::future::join_all(rooms.iter().map(|r| {
            let f = one(r);
            async move { tokio::time::timeout_at(deadline, f).await.ok().flatten() }
        }));
        all.await.into_iter().flatten().collect()
    }

    async fn call<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, PlayError> {
        let res = req
            .send()
            .await
            .map_err(|e| PlayError::Network(e.to_string()))?;
        let status = res.status();
        let body = res
            .bytes()
            .await
            .map_err(|e| PlayError::Network(e.to_string()))?;
        if !status.is_success() {
            return Err(problem(status.as_u16(), &body));
        }
        let body: &[u8] = if body.is_empty() { b"null" } else { &body };
        serde_json::from_slice(body).map_err(|e| PlayError::BadResponse(e.to_string()))
    }
}

/// A refusal's problem+json as a [`PlayError::Problem`] (its `code` and `detail`, or the
/// status alone when the body is not one).
fn problem(status: u16, body: &[u8]) -> PlayError {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    PlayError::Problem {
        status,
        code: text("code").unwrap_or_else(|| format!("HTTP_{status}")),
        detail: text("detail")
            .or_else(|| text("title"))
            .unwrap_or_else(|| format!("HTTP {status}")),
    }
}

/// Percent-encodes a path segment (ids and codes are plain, but never trust that).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Who plays.
#[derive(Debug, Clone)]
pub enum Identity {
    /// A try-play link's code and the device's anonymous id (16–64 of `[A-Za-z0-9_-]`).
    Link { code: String, device_id: String },
    /// A game and a player token signed by the tenant's backend.
    Player { game_id: String, token: String },
}

/// What happens on the way to a play.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The link's card came (game name, rooms).
    Card(LinkCard),
    /// Waiting in line: 1-based position, line length and the estimate.
    Queued {
        position: u32,
        length: u32,
        eta_secs: u32,
    },
    /// An instance is reserved: the session is being prepared.
    Assigned { session_id: String },
}

/// A play ready to connect.
#[derive(Debug, Clone)]
pub struct Ready {
    pub session_id: String,
    /// The player's proof of the play (to read and leave the session).
    pub play_key: String,
    pub connect: ConnectInfo,
    /// The game's first spec had no capacity; a fallback was used.
    pub downgraded: bool,
}

/// Goes from who plays to a session ready to connect, reporting each step to `progress`.
/// `cancelled` resolving leaves the line (or the reserved session) and ends with
/// [`PlayError::Cancelled`].
pub async fn acquire(
    api: &Api,
    who: &Identity,
    device: Option<DeviceInfo>,
    mut progress: impl FnMut(Progress),
    cancelled: impl std::future::Future<Output = ()>,
) -> Result<Ready, PlayError> {
    let mut cancelled = std::pin::pin!(cancelled);
    let mut held: Option<Held> = None;
    let steps = steps(api, who, device, &mut progress, &mut held);
    tokio::select! {
        r = steps => r,
        () = &mut cancelled => {
            // give back what the play holds, best effort: the controller's timers end it anyway
            match held {
                Some(Held::Ticket { id, key }) => drop(api.cancel_ticket(&id, &key).await),
                Some(Held::Session { id, key }) => drop(api.leave(&id, &key).await),
                None => {}
            }
            Err(PlayError::Cancelled)
        }
    }
}

/// What a play in progress holds, to give back on cancel.
enum Held {
    Ticket { id: String, key: String },
    Session { id: String, key: String },
}

async fn steps(
    api: &Api,
    who: &Identity,
    device: Option<DeviceInfo>,
    progress: &mut impl FnMut(Progress),
    held: &mut Option<Held>,
) -> Result<Ready, PlayError> {
    let mut ask = AcquireRequest {
        device,
        ..AcquireRequest::default()
    };
    match who {
        Identity::Link { code, device_id } => {
            let card = api.link_card(code).await?;
            ask.rtt_ms = api.measure_rooms(&card.rooms).await;
            progress(Progress::Card(card));
            ask.link = Some(code.clone());
            ask.device_id = Some(device_id.clone());
        }
        Identity::Player { game_id, token } => {
            ask.game_id = Some(game_id.clone());
            ask.player_token = Some(token.clone());
        }
    }
    let key = idempotency_key();
    let (session_id, play_key, downgraded) = match api.acquire(&ask, &key).await? {
        AcquireResponse::Assigned {
            session_id,
            play_key,
            downgraded,
            ..
        } => (session_id, play_key, downgraded),
        AcquireResponse::Queued {
            ticket_id,
            position,
            queue_length,
            eta_secs,
            poll_after_ms,
            play_key,
            ..
        } => {
            *held = Some(Held::Ticket {
                id: ticket_id.clone(),
                key: play_key.clone(),
            });
            progress(Progress::Queued {
                position,
                length: queue_length,
                eta_secs,
            });
            let (id, key) =
                wait_in_line(api, &ticket_id, &play_key, poll_after_ms, progress).await?;
            (id, key, false)
        }
    };
    *held = Some(Held::Session {
        id: session_id.clone(),
        key: play_key.clone(),
    });
    progress(Progress::Assigned {
        session_id: session_id.clone(),
    });
    let connect = wait_ready(api, &session_id, &play_key).await?;
    Ok(Ready {
        session_id,
        play_key,
        connect,
        downgraded,
    })
}

/// A fresh connect token for a play whose connection dropped, while the controller keeps the
/// session (through its reconnect grace window): connect again with it, as the H5 SDK's
/// reconnect does. [`PlayError::Ended`] once the play is over.
pub async fn resume(api: &Api, ready: &Ready) -> Result<ConnectInfo, PlayError> {
    wait_ready(api, &ready.session_id, &ready.play_key).await
}

/// Polls the ticket until it is claimed: the session's id and play key.
async fn wait_in_line(
    api: &Api,
    id: &str,
    key: &str,
    poll_after_ms: u32,
    progress: &mut impl FnMut(Progress),
) -> Result<(String, String), PlayError> {
    let mut every = Duration::from_millis(u64::from(poll_after_ms)).max(MIN_POLL);
    let mut last = None;
    loop {
        // poll well inside the controller's window, so a slow answer does not evict the ticket
        tokio::time::sleep(every / 2).await;
        let t = api.poll_ticket(id, key).await?;
        every = Duration::from_millis(u64::from(t.poll_after_ms)).max(MIN_POLL);
        match t.state {
            TicketState::Waiting | TicketState::Promoted => {
                let now = (t.position.unwrap_or(0), t.queue_length, t.eta_secs);
                if last != Some(now) {
                    last = Some(now);
                    progress(Progress::Queued {
                        position: now.0,
                        length: now.1,
                        eta_secs: now.2,
                    });
                }
            }
            TicketState::Claimed => {
                return match (t.session_id, t.play_key) {
                    (Some(s), Some(k)) => Ok((s, k)),
                    _ => Err(PlayError::BadResponse(
                        "a claimed ticket without its session".into(),
                    )),
                };
            }
            other => return Err(PlayError::TicketEnded(other)),
        }
    }
}

/// Polls the session until it is ready (its connect info) or ends.
async fn wait_ready(api: &Api, id: &str, key: &str) -> Result<ConnectInfo, PlayError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut every = Duration::from_millis(50);
    loop {
        let s = api.session(id, key).await?;
        match (s.session.state, s.connect) {
            (SessionState::Ended | SessionState::Ending, _) => {
                let why = s.session.end_reason.map(|r| r.as_str()).unwrap_or("ERROR");
                return Err(PlayError::Ended(why.to_owned()));
            }
            (_, Some(c)) => return Ok(c),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(PlayError::Network(format!(
                "the session was not ready within {READY_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(every).await;
        every = (every * 2).min(Duration::from_millis(500));
    }
}

/// A fresh random idempotency key (the acquire may be retried with it).
fn idempotency_key() -> String {
    let b: [u8; 16] = rand::random();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh device id for [`Identity::Link`] (32 hex characters); keep it per install.
pub fn new_device_id() -> String {
    idempotency_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_link_keeps_its_code() {
        assert_eq!(
            parse_link("https://h/play/c").unwrap(),
            ("https://h".into(), "c".into())
        );
        let e = parse_link("https://h/x").unwrap_err();
        assert_eq!(e.code(), "BAD_LINK");
        assert!(e.to_string().contains("https://h/x"), "{e}");
    }

    #[test]
    fn refusals_keep_the_controllers_code() {
        let e = problem(
            410,
            br#"{"type":"about:blank","title":"Gone","status":410,"code":"LINK_REVOKED","detail":"this link was revoked"}"#,
        );
        assert_eq!(e.code(), "LINK_REVOKED");
        assert_eq!(e.to_string(), "LINK_REVOKED: this link was revoked");
        let e = problem(502, b"<html>bad gateway</html>");
        assert_eq!(e.code(), "HTTP_502");
    }

    #[test]
    fn keys_are_unique_hex_and_segments_are_encoded() {
        let a = idempotency_key();
        let b = idempotency_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(pct("ses_1-a.b"), "ses_1-a.b");
        assert_eq!(pct("a/b?c"), "a%2Fb%3Fc");
    }
}
