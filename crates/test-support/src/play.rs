//! Player-side helpers shared by the play tests: tickets, sessions and their event streams.
use super::Ctl;
pub use array_controller::play::identity::Held;
use playrack_wire::api::*;
use reqwest::{Method, StatusCode};

/// How long a test waits for something the platform does on its own.
pub const SECS_20: std::time::Duration = std::time::Duration::from_secs(20);

/// The play key the controller hands the holder of a ticket or session (acquire returns it;
/// `a_play_is_acted_on_only_with_its_play_key` checks that it is exactly this).
pub async fn key(ctl: &Ctl, held: Held<'_>) -> String {
    let state = ctl.running.as_ref().expect("running").state.clone();
    array_controller::play::lifecycle::play_key(&state, held)
        .await
        .expect("the signing key")
}

/// `GET /v1/play/tickets/{id}`: keeps the ticket in line (and claims a promotion).
pub async fn poll(ctl: &Ctl, ticket: &str) -> Ticket {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/play/tickets/{ticket}"),
        &key(ctl, Held::Ticket(ticket)).await,
        None,
        StatusCode::OK,
    )
    .await
}

pub fn ticket_of(a: &AcquireResponse) -> String {
    match a {
        AcquireResponse::Queued { ticket_id, .. } => ticket_id.clone(),
        other => panic!("expected a ticket: {other:?}"),
    }
}

pub fn session_of(a: &AcquireResponse) -> String {
    match a {
        AcquireResponse::Assigned { session_id, .. } => session_id.clone(),
        other => panic!("expected a session: {other:?}"),
    }
}

/// The state of a ticket, read without polling it (a poll would claim a promotion).
pub async fn ticket_state(ctl: &Ctl, id: &str) -> String {
    let state = ctl.running.as_ref().unwrap().state.clone();
    sqlx::query_scalar("SELECT state FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
}

/// The player's view of a session.
pub async fn play_session(ctl: &Ctl, id: &str) -> PlaySession {
    ctl.ok::<(), _>(
        Method::GET,
        &format!("/v1/play/sessions/{id}"),
        &key(ctl, Held::Session(id)).await,
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls the player's view of a session until `cond` holds (20 s at most).
pub async fn wait_session(
    ctl: &Ctl,
    id: &str,
    what: &str,
    cond: impl Fn(&PlaySession) -> bool,
) -> PlaySession {
    super::wait_value(
        &format!("the session to become {what}"),
        SECS_20,
        || async {
            let s = play_session(ctl, id).await;
            if cond(&s) { Ok(s) } else { Err(s) }
        },
    )
    .await
}

/// Reads server-sent `ticket` events from a response body.
pub struct TicketEvents {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>,
    buf: String,
}

impl TicketEvents {
    pub async fn open(ctl: &Ctl, ticket: &str) -> TicketEvents {
        // Not `ctl.http`: its whole-request timeout would cut a stream that outlives it (a
        // slow run); each event has its own deadline in `next` instead.
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let resp = http
            .get(format!("{}/v1/play/tickets/{ticket}/events", ctl.url))
            .query(&[("key", key(ctl, Held::Ticket(ticket)).await)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        TicketEvents {
            body: Box::pin(futures_util::StreamExt::map(resp.bytes_stream(), |r| {
                r.map(|b| b.to_vec())
            })),
            buf: String::new(),
        }
    }

    /// The next ticket event (10 s at most).
    pub async fn next(&mut self) -> Ticket {
        use futures_util::StreamExt;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("stream open")
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// `DELETE /v1/play/sessions/{id}`: the player leaves.
pub async fn leave(ctl: &Ctl, session: &str) -> Session {
    ctl.ok::<(), _>(
        Method::DELETE,
        &format!("/v1/play/sessions/{session}"),
        &key(ctl, Held::Session(session)).await,
        None,
        StatusCode::OK,
    )
    .await
}

/// Polls a ticket (as a player's SDK does) until its promotion is claimed, failing after
/// [`SECS_20`] with `what` and the last state seen.
pub async fn claimed(ctl: &Ctl, ticket: &str, what: &str) -> Ticket {
    super::wait_value(what, SECS_20, || async {
        let t = poll(ctl, ticket).await;
        if t.state == TicketState::Claimed {
            Ok(t)
        } else {
            Err(t)
        }
    })
    .await
}
