//! The play itself, on its own thread with a tokio runtime: `playrack-client`'s steps to a
//! ready session (the line's positions reported), the connected play
//! (`playrack_client::session`: reconnection after a drop, the figures, leave), each access
//! unit decoded with openh264, the latest picture left for the window (one slot: a slow
//! window skips frames, it never queues them), each Opus frame handed to [`crate::audio`]
//! (decoded, counted, played when there is a sound card), the window's input sent on, the
//! latency probe, and leave. The window thread and this one share only [`Shared`] and a bounded command
//! channel.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playrack_client::decode::{Decoder, Picture};
use playrack_client::media::MediaEvent;
use playrack_client::play::{self, Api, Identity, Progress};
use playrack_client::probe::{self, Probed, Prober};
use playrack_client::session::{Session, Step};
use playrack_client::stats::Stats;
use playrack_wire::api::DeviceInfo;
use playrack_wire::input::InputMessage;
use tokio::sync::mpsc;

use crate::audio::Audio;

/// Input the window may have in flight to the session; more is dropped (a player's burst).
pub const COMMANDS: usize = 256;
/// How long one probe may wait for its flip.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the window asks of the play.
#[derive(Debug)]
pub enum Command {
    Input(InputMessage),
    Leave,
}

/// Where the play stands, for the window's title and the queue screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Starting,
    /// The link's game.
    Card {
        game: String,
    },
    Queued {
        position: u32,
        length: u32,
        eta_secs: u32,
    },
    Connecting,
    Playing,
    /// The play is over: the agent's or the controller's reason.
    Ended(String),
    Failed(String),
}

/// Shared between the session and the window.
pub struct Shared {
    /// The latest decoded picture not yet shown.
    pub picture: Mutex<Option<Picture>>,
    pub status: Mutex<Status>,
    /// The stream's figures, as the H5 SDK's `stats()` has them (refreshed each second).
    pub stats: Mutex<Stats>,
    /// The link's game, once its card came (the queue screen keeps saying it).
    pub game: Mutex<Option<String>>,
    /// Opus frames decoded so far (over every connection of the play).
    pub audio_frames: AtomicU64,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            picture: Mutex::new(None),
            status: Mutex::new(Status::Starting),
            stats: Mutex::new(Stats::default()),
            game: Mutex::new(None),
            audio_frames: AtomicU64::new(0),
        }
    }
}

/// What a play is asked to do.
pub struct Plan {
    pub api: Api,
    pub who: Identity,
    /// Run this many latency probes, then leave.
    pub probes: Option<u32>,
    /// No sound output (frames are still decoded and counted).
    pub mute: bool,
}

/// Runs the play on a new thread; `wake` tells the window something changed (it is called at
/// most once per change and must not block). The thread's result is the probes' latencies (ms).
pub fn spawn(
    plan: Plan,
    shared: Arc<Shared>,
    wake: Box<dyn Fn() + Send>,
) -> (
    mpsc::Sender<Command>,
    std::thread::JoinHandle<anyhow::Result<Vec<f64>>>,
) {
    let (tx, rx) = mpsc::channel(COMMANDS);
    let leave = tx.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // Ctrl+C or a SIGTERM leaves the play as closing the window does
        rt.spawn(async move {
            terminated().await;
            let _ = leave.send(Command::Leave).await;
        });
        let r = rt.block_on(run(plan, &shared, &*wake, rx));
        if let Err(e) = &r {
            *shared.status.lock().unwrap() = Status::Failed(format!("{e:#}"));
            wake();
        }
        r
    });
    (tx, thread)
}

/// Resolves on Ctrl+C (and, on Unix, SIGTERM).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn run(
    plan: Plan,
    shared: &Shared,
    wake: &dyn Fn(),
    mut commands: mpsc::Receiver<Command>,
) -> anyhow::Result<Vec<f64>> {
    let set = |s: Status| {
        *shared.status.lock().unwrap() = s;
        wake();
    };
    let device = DeviceInfo {
        model: Some("PC".into()),
        os: Some(std::env::consts::OS.into()),
        user_agent: Some(format!("playrack-play/{}", env!("CARGO_PKG_VERSION"))),
    };
    let left = async {
        while let Some(c) = commands.recv().await {
            if matches!(c, Command::Leave) {
                break;
            }
        }
    };
    let ready = play::acquire(
        &plan.api,
        &plan.who,
        Some(device),
        |p| match p {
            Progress::Card(card) => {
                *shared.game.lock().unwrap() = Some(card.game_name.clone());
                set(Status::Card {
                    game: card.game_name,
                })
            }
            Progress::Queued {
                position,
                length,
                eta_secs,
            } => set(Status::Queued {
                position,
                length,
                eta_secs,
            }),
            Progress::Assigned { .. } => set(Status::Connecting),
        },
        left,
    )
    .await?;

    let mut session = Session::connect(plan.api.clone(), ready).await?;
    // the sound card is opened once the board is there, not while in line
    let mut audio = Audio::start(plan.mute);

    let mut decoder = Decoder::new()?;
    let mut prober = Prober::default();
    let mut samples = Vec::new();
    let mut input_open = false;
    let mut pause_until = Instant::now();
    // None: the player leaves (the window closed, or the probes are done)
    let ended = loop {
        let wants_probe = plan
            .probes
            .is_some_and(|n| samples.len() < n as usize && input_open);
        if wants_probe
            && Instant::now() >= pause_until
            && let Some(m) = prober.start(Instant::now())
            && !session.media().send_input(&m)
        {
            prober.unsent();
        }
        if plan.probes.is_some_and(|n| samples.len() >= n as usize) {
            break None;
        }
        if session.stats().tick(Instant::now()) {
            *shared.stats.lock().unwrap() = session.stats().get();
            wake();
        }
        let deadline = Instant::now() + Duration::from_millis(if wants_probe { 5 } else { 500 });
        tokio::select! {
            step = session.next(deadline) => match step? {
                None => {}
                Some(Step::Media(MediaEvent::InputOpen)) => {
                    input_open = true;
                    set(Status::Playing);
                }
                Some(Step::Media(MediaEvent::Video(au))) => {
                    let started = Instant::now();
                    let decoded = decoder.decode(&au.data);
                    let now = Instant::now();
                    match decoded {
                        Ok(Some(picture)) => {
                            let (w, h) = (picture.width as u32, picture.height as u32);
                            session.stats().decoded(w, h, now - started);
                            if plan.probes.is_some() {
                                let lit = probe::lit(&picture.y, picture.width, picture.height, picture.width);
                                if let Some(Probed::Done { seq, latency }) = prober.frame(lit, now, PROBE_TIMEOUT) {
                                    let ms = latency.as_secs_f64() * 1e3;
                                    samples.push(ms);
                                    session.stats().probe(ms);
                                    // the board counts it in its metrics, as the H5 SDK's are
                                    session.media().send_input(&InputMessage::Latency { seq, ms: ms as f32 });
                                    // land the next probe anywhere in the game's frame interval
                                    pause_until = now + Duration::from_millis(u64::from(seq.wrapping_mul(17) % 50));
                                }
                            }
                            let fresh = shared.picture.lock().unwrap().replace(picture).is_none();
                            if fresh {
                                wake();
                            }
                        }
                        Ok(None) => {}
                        Err(_) => session.media().recover(now),
                    }
                }
                Some(Step::Media(MediaEvent::Audio(frame))) => {
                    audio.frame(&frame.data);
                    shared.audio_frames.store(audio.frames(), Ordering::Relaxed);
                }
                Some(Step::Media(_)) | Some(Step::Signal(_)) => {}
                // the connection dropped: connect again with a fresh token while the
                // controller keeps the session (its reconnect grace), as the H5 SDK does
                Some(Step::Reconnecting) => set(Status::Connecting),
                Some(Step::Reconnected) => {
                    decoder = Decoder::new()?;
                    input_open = false;
                    prober.unsent();
                }
                Some(Step::Ended(reason)) => break Some(reason),
            },
            c = commands.recv() => match c {
                Some(Command::Input(m)) => {
                    session.media().send_input(&m);
                }
                Some(Command::Leave) | None => break None,
            },
        }
    };
    let ended = match ended {
        Some(reason) => reason,
        None => {
            session.leave().await;
            "USER_LEFT".to_owned()
        }
    };
    set(Status::Ended(ended));
    Ok(samples)
}
