//! A play for a host app, without JNI: commands in (play, cancel, leave, input) through a
//! bounded channel, [`Event`]s out to a [`Listener`] the host implements (the JNI layer's calls
//! its Java listener). The play runs on one thread with a current-thread tokio runtime; the
//! listener is called on that thread only. A dropped connection connects again with a fresh
//! token while the controller keeps the session, as the H5 SDK and the PC client do.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use playrack_client::media::MediaEvent;
use playrack_client::play::{self, Api, Identity, PlayError, Progress};
use playrack_client::session::{Session, Step};
use playrack_client::stats::Stats;
use playrack_wire::input::InputMessage;
use playrack_wire::signaling::AgentSignal;
use tokio::sync::mpsc;

/// Commands a host may have in flight; input past it is dropped.
const COMMANDS: usize = 256;

/// What the host hears, on the play's thread.
pub trait Listener: Send + 'static {
    /// `queued` (with the position), `connecting`, `playing`, `ended` (with the reason).
    fn state(&mut self, state: &str, detail: &str);
    fn queue(&mut self, position: u32, length: u32, eta_secs: u32);
    /// A refusal or failure: the controller's stable code (or the client's own) and words.
    fn error(&mut self, code: &str, message: &str);
    /// One H.264 access unit (Annex-B), ready for a decoder.
    fn video(&mut self, access_unit: &[u8], keyframe: bool, pts_us: i64);
    /// One Opus frame.
    fn audio(&mut self, frame: &[u8], pts_us: i64);
}

#[derive(Debug)]
enum Command {
    Input(InputMessage),
    /// The host's decoder lost its reference (a new surface, a dropped access unit).
    Keyframe,
    Cancel,
    Leave,
}

/// A play in progress. Dropping it leaves the play and joins its thread (or, dropped on that
/// thread itself — from inside a listener call — lets it end on its own).
pub struct Client {
    commands: mpsc::Sender<Command>,
    stats: Arc<Mutex<Stats>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Client {
    /// Starts a play of `who` through the API at `base`, reporting to `listener`.
    pub fn play(base: &str, who: Identity, listener: impl Listener) -> std::io::Result<Client> {
        let (tx, rx) = mpsc::channel(COMMANDS);
        let stats = Arc::new(Mutex::new(Stats::default()));
        let api = Api::new(
            base,
            reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .map_err(std::io::Error::other)?,
        );
        let shared = stats.clone();
        let thread = std::thread::Builder::new()
            .name("playrack-play".into())
            .spawn(move || {
                let mut listener = listener;
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => return listener.error("RUNTIME", &e.to_string()),
                };
                match rt.block_on(run(api, who, &mut listener, rx, &shared)) {
                    Ok(reason) => listener.state("ended", &reason),
                    Err(e) => {
                        listener.error(e.code(), &e.to_string());
                        listener.state("ended", e.code());
                    }
                }
            })?;
        Ok(Client {
            commands: tx,
            stats,
            thread: Some(thread),
        })
    }

    /// Sends input to the game; false when it could not be queued.
    pub fn input(&self, m: InputMessage) -> bool {
        self.commands.try_send(Command::Input(m)).is_ok()
    }

    /// Asks the board for a key frame (a decoder that lost its reference).
    pub fn keyframe(&self) {
        let _ = self.commands.try_send(Command::Keyframe);
    }

    /// Leaves the line (before the play starts).
    pub fn cancel(&self) {
        let _ = self.commands.try_send(Command::Cancel);
    }

    /// Ends the play.
    pub fn leave(&self) {
        let _ = self.commands.try_send(Command::Leave);
    }

    /// The stream's figures (the H5 SDK's `stats()`), as JSON.
    pub fn stats_json(&self) -> String {
        serde_json::to_string(&*self.stats.lock().unwrap()).unwrap_or_default()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.commands.try_send(Command::Leave);
        if let Some(t) = self.thread.take()
            && t.thread().id() != std::thread::current().id()
        {
            let _ = t.join();
        }
    }
}

async fn run(
    api: Api,
    who: Identity,
    l: &mut dyn Listener,
    mut commands: mpsc::Receiver<Command>,
    shared: &Mutex<Stats>,
) -> Result<String, PlayError> {
    let stop = async {
        while let Some(c) = commands.recv().await {
            if matches!(c, Command::Cancel | Command::Leave) {
                break;
            }
        }
    };
    let ready = {
        let progress = |p: Progress| match p {
            Progress::Card(_) => {}
            Progress::Queued {
                position,
                length,
                eta_secs,
            } => {
                l.queue(position, length, eta_secs);
                l.state("queued", &position.to_string());
            }
            Progress::Assigned { .. } => l.state("connecting", ""),
        };
        play::acquire(&api, &who, None, progress, stop).await?
    };
    let mut session = Session::connect(api, ready).await?;
    let reason = loop {
        if session.stats().tick(Instant::now()) {
            *shared.lock().unwrap() = session.stats().get();
        }
        let deadline = Instant::now() + Duration::from_millis(250);
        tokio::select! {
            step = session.next(deadline) => match step? {
                None => {}
                Some(Step::Media(MediaEvent::InputOpen)) => l.state("playing", ""),
                Some(Step::Media(MediaEvent::Video(au))) => {
                    l.video(&au.data, au.keyframe, au.time.as_micros() as i64);
                }
                Some(Step::Media(MediaEvent::Audio(a))) => {
                    l.audio(&a.data, a.time.as_micros() as i64);
                }
                Some(Step::Media(_)) => {}
                Some(Step::Signal(AgentSignal::Error { code, message })) => l.error(&code, &message),
                Some(Step::Signal(_)) | Some(Step::Reconnected) => {}
                Some(Step::Reconnecting) => l.state("connecting", ""),
                Some(Step::Ended(reason)) => break reason,
            },
            c = commands.recv() => match c {
                Some(Command::Input(m)) => {
                    session.media().send_input(&m);
                }
                Some(Command::Keyframe) => session.media().recover(Instant::now()),
                Some(Command::Cancel) => {}
                Some(Command::Leave) | None => {
                    session.leave().await;
                    break "USER_LEFT".to_owned();
                }
            },
        }
    };
    Ok(reason)
}
