//! The controller link: the agent's side of the agent channel.
//!
//! [`Link`] is the sans-IO core. It never touches a socket or a clock: the shell feeds it what
//! happened ([`Link::handle_connected`], [`Link::handle_text`], [`Link::handle_disconnected`],
//! [`Link::handle_timeout`], [`Link::command_finished`], [`Link::send`]) and drains what it
//! wants done ([`Link::poll_output`]) until it names the next instant it wants to be woken at
//! ([`Link::poll_timeout`]). It owns:
//!
//! - the handshake: `hello` (with the instances running now) on every connect, then the
//!   controller's `welcome` sets the heartbeat period;
//! - liveness: the shell pings with every heartbeat, and a connection silent for a whole lease
//!   (the welcome's `lease_secs`) is closed and redialled ([`Output::Close`]);
//! - reconnecting: exponential backoff from [`BACKOFF_INITIAL`] to [`BACKOFF_MAX`] with
//!   "equal jitter" (a delay in `[base/2, base]`), reset by a welcome;
//! - idempotent commands: a command id seen before is answered with the same `result`, a
//!   command still running is not started twice, and results of commands that finish while the
//!   link is down are sent after the next welcome.
//!
//! [`shell`] is the tokio-tungstenite loop around it (and the one-time enrolment);
//! [`telemetry`] reads the board's health for the heartbeats.

pub mod shell;
pub mod telemetry;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use playrack_wire::agent::{
    AGENT_PROTOCOL_VERSION, AgentMessage, Command, ControllerMessage, InstanceReport,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// First reconnect delay (before jitter).
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
/// Longest reconnect delay (before jitter) until a welcome names the lease; after one, a third
/// of the lease (a board never waits more than this to come back).
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How many command results are remembered for repeated ids. The controller repeats a command
/// only while it waits for its result, so a few thousand covers any backlog.
pub const REMEMBERED_RESULTS: usize = 4096;
/// Messages kept while the link is down (progress and session reports); older ones are
/// dropped first.
pub const PENDING_LIMIT: usize = 1024;
/// Heartbeat period until a welcome says otherwise.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// Who the board is, for the hello.
#[derive(Debug, Clone)]
pub struct Identity {
    pub board_id: String,
    pub agent_version: String,
    pub capacity: BTreeMap<String, u32>,
    pub signaling_url: String,
}

/// What the link wants the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Open the WebSocket now.
    Connect,
    /// Send this message on the open WebSocket.
    Send(AgentMessage),
    /// Send a heartbeat: the shell reads the telemetry and sends `AgentMessage::Heartbeat`.
    Heartbeat,
    /// Run this command; report with [`Link::command_finished`].
    Execute { id: String, command: Command },
    /// Nothing came from the controller for a whole lease: the connection is dead even if
    /// TCP has not noticed (a NAT dropped it). Close it; the link already counts it as down.
    Close,
}

/// Exponential backoff with equal jitter.
#[derive(Debug)]
pub struct Backoff {
    attempt: u32,
    initial: Duration,
    max: Duration,
    rng: StdRng,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Backoff {
        Backoff {
            attempt: 0,
            initial,
            max,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The base delay of the next attempt (before jitter): `initial · 2^attempt`, capped.
    pub fn base(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The next delay, in `[base/2, base]`, and one more attempt counted.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.base();
        self.attempt = self.attempt.saturating_add(1);
        let half = base / 2;
        let extra = self.rng.random_range(0..=half.as_micros() as u64);
        half + Duration::from_micros(extra)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Lowers (or raises) the longest delay, never below the first one.
    pub fn set_max(&mut self, max: Duration) {
        self.max = max.max(self.initial);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Not connected; connect at this instant.
    Down { retry_at: Instant },
    /// The shell is connecting (an [`Output::Connect`] is out).
    Connecting,
    /// Hello sent, waiting for the welcome.
    Greeting,
    /// Welcomed: heartbeats run; silent past `dead_at`, the connection is given up.
    Up {
        next_heartbeat: Instant,
        dead_at: Instant,
    },
}

/// The sans-IO controller link.
#[derive(Debug)]
pub struct Link {
    identity: Identity,
    state: State,
    backoff: Backoff,
    heartbeat: Duration,
    lease: Duration,
    out: VecDeque<Output>,
    /// Messages to send once welcomed.
    pending: VecDeque<AgentMessage>,
    running: HashSet<String>,
    results: HashMap<String, (bool, Option<String>)>,
    result_order: VecDeque<String>,
}

impl Link {
    /// A link that wants to connect at once; `seed` drives the jitter.
    pub fn new(identity: Identity, now: Instant, seed: u64) -> Link {
        Link {
            identity,
            state: State::Down { retry_at: now },
            backoff: Backoff::new(BACKOFF_INITIAL, BACKOFF_MAX, seed),
            heartbeat: DEFAULT_HEARTBEAT,
            lease: DEFAULT_HEARTBEAT * 3,
            out: VecDeque::new(),
            pending: VecDeque::new(),
            running: HashSet::new(),
            results: HashMap::new(),
            result_order: VecDeque::new(),
        }
    }

    /// Whether the controller has welcomed this connection.
    pub fn is_up(&self) -> bool {
        matches!(self.state, State::Up { .. })
    }

    /// The heartbeat period the controller asked for.
    pub fn heartbeat_period(&self) -> Duration {
        self.heartbeat
    }

    /// When the link wants [`Link::handle_timeout`] called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Down { retry_at } => Some(retry_at),
            State::Up {
                next_heartbeat,
                dead_at,
            } => Some(next_heartbeat.min(dead_at)),
            State::Connecting | State::Greeting => None,
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Time passed: connect when the backoff is over, heartbeat when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Down { retry_at } if now >= retry_at => {
                self.state = State::Connecting;
                self.out.push_back(Output::Connect);
            }
            State::Up { dead_at, .. } if now >= dead_at => {
                self.handle_disconnected(now);
                self.out.push_back(Output::Close);
            }
            State::Up {
                next_heartbeat,
                dead_at,
            } if now >= next_heartbeat => {
                self.out.push_back(Output::Heartbeat);
                self.state = State::Up {
                    next_heartbeat: now + self.heartbeat,
                    dead_at,
                };
            }
            _ => {}
        }
    }

    /// The WebSocket opened: say hello with what runs now.
    pub fn handle_connected(&mut self, _now: Instant, instances: Vec<InstanceReport>) {
        self.state = State::Greeting;
        self.out.push_back(Output::Send(AgentMessage::Hello {
            protocol: AGENT_PROTOCOL_VERSION,
            board_id: self.identity.board_id.clone(),
            agent_version: self.identity.agent_version.clone(),
            capacity: self.identity.capacity.clone(),
            signaling_url: self.identity.signaling_url.clone(),
            instances,
        }));
    }

    /// The connection failed or dropped: retry after the backoff; returns the delay.
    pub fn handle_disconnected(&mut self, now: Instant) -> Duration {
        let delay = self.backoff.next_delay();
        self.state = State::Down {
            retry_at: now + delay,
        };
        // Messages queued for the old connection wait for the next welcome (a hello or a
        // heartbeat is made afresh then); commands still to start are kept.
        let mut requeue = Vec::new();
        self.out.retain(|o| match o {
            Output::Execute { .. } => true,
            Output::Send(AgentMessage::Hello { .. })
            | Output::Heartbeat
            | Output::Connect
            | Output::Close => false,
            Output::Send(m) => {
                requeue.push(m.clone());
                false
            }
        });
        for m in requeue.into_iter().rev() {
            self.pending.push_front(m);
        }
        delay
    }

    /// Anything arrived from the controller (a frame of any kind, a pong): it is alive.
    pub fn handle_heard(&mut self, now: Instant) {
        if let State::Up { next_heartbeat, .. } = self.state {
            self.state = State::Up {
                next_heartbeat,
                dead_at: now + self.lease,
            };
        }
    }

    /// A text frame from the controller.
    pub fn handle_text(&mut self, now: Instant, text: &str) -> Result<(), serde_json::Error> {
        let msg: ControllerMessage = serde_json::from_str(text)?;
        self.handle_heard(now);
        match msg {
            ControllerMessage::Welcome {
                heartbeat_secs,
                lease_secs,
            } => {
                self.heartbeat = Duration::from_secs(u64::from(heartbeat_secs.max(1)));
                // The controller answers every heartbeat's ping; a whole lease without a word
                // means the connection is gone.
                self.lease = Duration::from_secs(u64::from(lease_secs)).max(self.heartbeat * 2);
                self.backoff.reset();
                // Come back well inside a lease: a controller that restarts (or whose database
                // stalled) hears every board again before it may judge any of them lost.
                self.backoff
                    .set_max(BACKOFF_MAX.min(Duration::from_secs(u64::from(lease_secs)) / 3));
                // The first heartbeat goes at once, so the board shows its health right away.
                self.out.push_back(Output::Heartbeat);
                self.state = State::Up {
                    next_heartbeat: now + self.heartbeat,
                    dead_at: now + self.lease,
                };
                while let Some(m) = self.pending.pop_front() {
                    self.out.push_back(Output::Send(m));
                }
            }
            ControllerMessage::Command { id, command } => {
                if let Some((ok, error)) = self.results.get(&id) {
                    let m = AgentMessage::Result {
                        command_id: id,
                        ok: *ok,
                        error: error.clone(),
                    };
                    self.send(m);
                } else if self.running.insert(id.clone()) {
                    self.out.push_back(Output::Execute { id, command });
                }
            }
        }
        Ok(())
    }

    /// A command finished: remember its result and report it (now, or after the next welcome).
    pub fn command_finished(&mut self, id: &str, ok: bool, error: Option<String>) {
        self.running.remove(id);
        if self
            .results
            .insert(id.to_owned(), (ok, error.clone()))
            .is_none()
        {
            self.result_order.push_back(id.to_owned());
            while self.result_order.len() > REMEMBERED_RESULTS {
                if let Some(old) = self.result_order.pop_front() {
                    self.results.remove(&old);
                }
            }
        }
        self.send(AgentMessage::Result {
            command_id: id.to_owned(),
            ok,
            error,
        });
    }

    /// Sends `msg` now if welcomed, else keeps it for the next welcome.
    pub fn send(&mut self, msg: AgentMessage) {
        if self.is_up() {
            self.out.push_back(Output::Send(msg));
        } else {
            if self.pending.len() >= PENDING_LIMIT {
                self.pending.pop_front();
            }
            self.pending.push_back(msg);
        }
    }
}
