//! A play once its board is ready, kept going until it ends: the connection to the board's
//! agent (connected again with a fresh token when it drops, while the controller keeps the
//! session), the player's `stats()` fed from what arrives, and leave. Each native player (the
//! PC client, the Android SDK) drives [`Session::next`] from its own loop and keeps only its
//! own handling of the media: decode and show, or hand to the app.

use std::time::{Instant, SystemTime};

use playrack_wire::api::ConnectInfo;
use playrack_wire::signaling::AgentSignal;

use crate::connection::{Connection, Event};
use crate::media::{Media, MediaEvent};
use crate::play::{self, Api, PlayError, Ready};
use crate::stats::StatsTracker;

/// What [`Session::next`] hands the player.
#[derive(Debug)]
pub enum Step {
    /// Video, audio, the input channel opening, the receive figures (already in the stats).
    Media(MediaEvent),
    /// A signal from the agent other than the play's end: stats (already in the stats),
    /// notices, errors.
    Signal(AgentSignal),
    /// The connection dropped; the next call connects again (show "connecting").
    Reconnecting,
    /// Connected again: a decoder starts over from the next key frame, the input channel
    /// opens anew.
    Reconnected,
    /// The play is over, for this reason (`USER_LEFT`, `IDLE`, `APP_CRASHED`, …).
    Ended(String),
}

/// A connected play; see the module doc.
pub struct Session {
    api: Api,
    ready: Ready,
    conn: Connection,
    stats: StatsTracker,
    /// The connection dropped and is not back yet.
    lost: bool,
}

impl Session {
    /// Connects to the board `ready` names.
    pub async fn connect(api: Api, ready: Ready) -> Result<Session, PlayError> {
        let conn = connect(&ready.connect).await?;
        Ok(Session {
            api,
            ready,
            conn,
            stats: StatsTracker::new(Instant::now()),
            lost: false,
        })
    }

    /// The session as the controller gave it.
    pub fn ready(&self) -> &Ready {
        &self.ready
    }

    /// The WebRTC side: input, key-frame requests.
    pub fn media(&mut self) -> &mut Media {
        self.conn.media()
    }

    /// The player's figures, fed with every access unit, receive report and agent report
    /// [`Session::next`] passes; the player adds its decode times and probes.
    pub fn stats(&mut self) -> &mut StatsTracker {
        &mut self.stats
    }

    /// The next step, or `None` when nothing came by `deadline`. Cancel-safe: a reconnection
    /// cut short is tried again on the next call.
    pub async fn next(&mut self, deadline: Instant) -> Result<Option<Step>, PlayError> {
        if self.lost {
            return match play::resume(&self.api, &self.ready).await {
                Ok(info) => {
                    self.conn = connect(&info).await?;
                    self.lost = false;
                    Ok(Some(Step::Reconnected))
                }
                Err(PlayError::Ended(why)) => Ok(Some(Step::Ended(why))),
                Err(e) => Err(e),
            };
        }
        let Some(event) = self.conn.next(deadline).await else {
            return Ok(None);
        };
        Ok(Some(match event {
            Event::Media(MediaEvent::Disconnected) | Event::SignalingClosed => {
                self.lost = true;
                Step::Reconnecting
            }
            Event::Media(m) => {
                match &m {
                    MediaEvent::Video(au) => self.stats.access_unit(au, SystemTime::now()),
                    MediaEvent::Received(r) => self.stats.received(r),
                    _ => {}
                }
                Step::Media(m)
            }
            Event::Signal(AgentSignal::Ended { reason }) => Step::Ended(reason),
            Event::Signal(s) => {
                if let AgentSignal::Stats { stats } = &s {
                    self.stats.agent(stats.clone());
                }
                Step::Signal(s)
            }
        }))
    }

    /// Leaves: goodbye to the agent, and the session ended on the controller at once (the
    /// agent's report would end it too, later).
    pub async fn leave(&mut self) {
        self.conn.bye().await;
        let _ = self
            .api
            .leave(&self.ready.session_id, &self.ready.play_key)
            .await;
    }
}

/// Signals with the board's agent and opens the media socket on the route to it.
async fn connect(info: &ConnectInfo) -> Result<Connection, PlayError> {
    Connection::player(info)
        .await
        .map_err(|e| PlayError::Network(format!("connecting to the board: {e}")))
}
