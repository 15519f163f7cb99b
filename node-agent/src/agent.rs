//! The agent: wires the runtime driver, the warm pool, the package cache, adb and the
//! controller link together, and executes the controller's commands.
//!
//! [`Agent::start`] brings everything up in dependency order (driver → pool, adopting what
//! the driver already runs → adb server → package cache → enrolment → link) and returns a
//! [`RunningAgent`]. Each command from the link runs in its own task through
//! [`Agent::execute`], and its outcome goes back through the link, which remembers it by
//! command id (so a repeated command is answered, not run twice).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use playrack_wire::agent::{
    AgentMessage, AgentSessionState, ArchiveRef, Command, InstanceReport, InstanceState,
    OutputStream, Telemetry, WarmGame,
};
use playrack_wire::api::{DeploymentRoomState, Spec};

use crate::adb::Adb;
use crate::config::{Config, RuntimeKind};
use crate::http::{self, HttpState};
use crate::link::Identity;
use crate::link::shell::{self, Board, Credential, Enrolment, LinkHandle};
use crate::link::telemetry::Sampler;
use crate::packages::{PROGRESS_INTERVAL, PackageCache};
use crate::play::{self, Injector, Play, PlayRequest};
use crate::pool::Pool;
use crate::relay::{self, BoardNotice, Relay};
use crate::runtime::docker::DockerDriver;
use crate::runtime::process::ProcessDriver;
use crate::runtime::{Driver, InstanceSpec};

/// Most output one shell command sends back per stream (the rest is read and dropped).
pub const SHELL_OUTPUT_LIMIT: usize = 1 << 20;

/// What the link reads for hellos and heartbeats.
struct BoardState {
    pool: Arc<Pool<Driver>>,
    sampler: Mutex<Sampler>,
    /// The newest sample, for `/metrics` (sampling again there would skew the CPU figure the
    /// heartbeats difference).
    last: Mutex<Option<Telemetry>>,
}

impl Board for BoardState {
    fn instances(&self) -> Vec<InstanceReport> {
        self.pool.reports()
    }

    fn telemetry(&self) -> Telemetry {
        let slots = self.pool.slots();
        let warm = slots
            .iter()
            .filter(|s| s.state == InstanceState::Warm)
            .count() as u32;
        let mut t = self
            .sampler
            .lock()
            .unwrap()
            .sample(slots.len() as u32, warm);
        t.primed = playrack_wire::agent::primed_counts(&self.pool.reports());
        *self.last.lock().unwrap() = Some(t.clone());
        t
    }
}

/// The game a play is prepared with.
#[derive(Debug, Clone, Copy)]
pub struct GameRef<'a> {
    /// Its version: an instance primed with it is taken first.
    pub version_id: Option<&'a str>,
    /// Its package in the board's cache.
    pub sha256: &'a str,
    pub package_name: &'a str,
    pub launch_activity: Option<&'a str>,
}

/// Primes the warm pool's instances with games over adb, from the package cache.
struct GamePrimer {
    adb: Adb,
    packages: Arc<PackageCache>,
}

impl crate::pool::Primer for GamePrimer {
    fn prime<'a>(
        &'a self,
        instance: &'a crate::runtime::Instance,
        game: &'a WarmGame,
    ) -> futures_util::future::BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let sha = &game.package_sha256;
            let apk = self
                .packages
                .get(sha)
                .with_context(|| format!("package {sha} is not in the board's cache"))?;
            self.packages.pin(sha);
            let r = play::prime(
                &self.adb,
                instance,
                &apk,
                &game.package_name,
                game.launch_activity.as_deref(),
            )
            .await;
            self.packages.unpin(sha);
            r
        })
    }
}

/// The board agent.
pub struct Agent {
    pub config: Config,
    pub pool: Arc<Pool<Driver>>,
    pub packages: Arc<PackageCache>,
    pub adb: Adb,
    pub credential: Credential,
    link: LinkHandle,
    http: reqwest::Client,
    /// Prepared plays by session id (their media sockets are the relay's).
    plays: tokio::sync::Mutex<HashMap<String, Play>>,
    draining: AtomicBool,
    /// The WebRTC relay every play streams through.
    pub relay: Relay,
    /// The video encoder this board's instances use, once the first play chose it from an
    /// instance's list (they all run on the same hardware).
    encoder: Mutex<Option<Option<String>>>,
    /// The HTTP server's address (signaling, probe, health, metrics).
    pub http_addr: std::net::SocketAddr,
}

/// A started agent and its background tasks.
pub struct RunningAgent {
    pub agent: Arc<Agent>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningAgent {
    /// Stops the link and the pool, removes the instances and stops the adb server.
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        self.agent.relay.shutdown();
        let plays: Vec<Play> = self.agent.plays.lock().await.drain().map(|p| p.1).collect();
        for p in plays {
            play::stop(&self.agent.adb, p).await;
        }
        self.agent.pool.shutdown().await;
        self.agent.adb.kill_server().await;
    }
}

impl Agent {
    /// Starts the agent (see the module doc).
    pub async fn start(config: Config) -> anyhow::Result<RunningAgent> {
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let instances_dir = config.data_dir.join("instances");
        let driver = match config.runtime {
            RuntimeKind::Process => Driver::Process(ProcessDriver::new(
                config.virtual_device.clone(),
                instances_dir,
            )),
            RuntimeKind::Docker => Driver::Docker(DockerDriver::new(
                config.docker_image.clone(),
                config.docker_privileged,
                config.serial.clone(),
                instances_dir,
            )?),
        };
        let pool = Pool::new(
            Arc::new(driver),
            config.specs.clone(),
            config.warm.clone(),
            config.capacity.clone(),
            config.data_dir.clone(),
        );
        pool.adopt().await.context("adopting running instances")?;
        let adb = Adb::start(
            config.adb.clone(),
            config.adb_port,
            config.data_dir.join("adb-home"),
        )
        .await?;
        let packages = Arc::new(PackageCache::open(
            config.package_cache.clone(),
            config.package_cache_bytes,
            config.shared_volume.clone(),
        )?);
        // One TLS configuration for everything the agent sends the controller: the enrolment,
        // uploads (reqwest) and the link (`wss://`).
        let client_tls = Arc::new(
            playrack_tls::client_config(
                config.controller_ca.as_deref(),
                config
                    .client_identity
                    .as_ref()
                    .map(|(c, k)| (c.as_path(), k.as_path())),
            )
            .context("the TLS settings for the controller")?,
        );
        let server_tls = match &config.tls {
            Some((cert, key)) => Some(
                playrack_tls::ServerTls::from_pem_files(cert, key)
                    .context("the HTTP server's certificate")?,
            ),
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .use_preconfigured_tls((*client_tls).clone())
            .build()?;
        let credential = shell::enrol_once(
            &http,
            &Enrolment {
                controller_url: config.controller_url.clone(),
                token: config.enrolment_token.clone(),
                serial: config.serial.clone(),
                model: config.model.clone(),
                capacity: config.capacity.clone(),
                agent_version: crate::AGENT_VERSION.into(),
            },
            &config.credential_path(),
        )
        .await?;
        // The relay and the HTTP server are bound before the hello, which carries the
        // signaling URL.
        let reports = relay::Reports::default();
        let relay = Relay::start(
            std::net::SocketAddr::new(config.listen_address, config.webrtc_port),
            config.public_address,
            reports.clone(),
        )
        .await
        .with_context(|| format!("binding the WebRTC port {}", config.webrtc_port))?;
        let listener = http::bind(config.listen_address, config.http_port)
            .await
            .with_context(|| format!("binding the HTTP port {}", config.http_port))?;
        let http_addr = listener.local_addr()?;
        let mut config = config;
        if config.signaling_url.is_empty() {
            let host = config
                .public_address
                .unwrap_or(if http_addr.ip().is_unspecified() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    http_addr.ip()
                });
            let scheme = if server_tls.is_some() { "wss" } else { "ws" };
            config.signaling_url = format!(
                "{scheme}://{}/v1/signal",
                std::net::SocketAddr::new(host, http_addr.port())
            );
        }
        let board = Arc::new(BoardState {
            pool: pool.clone(),
            sampler: Mutex::new(Sampler::new(config.data_dir.clone())),
            last: Mutex::new(None),
        });
        let metrics = crate::metrics::Metrics::new();
        let readiness = http::Readiness::default();
        let http_task = http::serve(
            listener,
            server_tls,
            HttpState::new(
                crate::signaling::Gate::new(
                    credential.board_id.clone(),
                    credential.session_token_key.clone(),
                ),
                relay.clone(),
                crate::ice::IceConfig::new(
                    &config.stun,
                    &config.turn,
                    config.turn_secret.as_deref(),
                    config.turn_ttl,
                ),
                metrics.clone(),
            )
            .with_instances({
                let pool = pool.clone();
                move || pool.reports()
            })
            .with_telemetry({
                let board = board.clone();
                move || board.last.lock().unwrap().clone()
            })
            .with_metrics_token(config.metrics_token.as_deref())
            .with_readiness(readiness.clone()),
        );
        let (link, mut commands, link_task) = shell::spawn(
            &config.controller_url,
            client_tls,
            credential.clone(),
            Identity {
                board_id: credential.board_id.clone(),
                agent_version: crate::AGENT_VERSION.into(),
                capacity: config.capacity.clone(),
                signaling_url: config.signaling_url.clone(),
            },
            board,
        );
        readiness.set({
            let link = link.clone();
            move || {
                if link.is_up() {
                    Ok(())
                } else {
                    Err("the controller link is down".into())
                }
            }
        });
        let agent = Arc::new(Agent {
            config,
            pool: pool.clone(),
            packages,
            adb,
            credential,
            link,
            http,
            plays: tokio::sync::Mutex::new(HashMap::new()),
            draining: AtomicBool::new(false),
            relay,
            encoder: Mutex::new(None),
            http_addr,
        });
        let reports_task = tokio::spawn(forward_reports(agent.link.clone(), reports, metrics));
        let link = agent.link.clone();
        pool.set_reporter(Box::new(move |change| {
            link.send(match change {
                crate::pool::Change::Now(instance) => AgentMessage::Instance { instance },
                crate::pool::Change::Gone(instance_id) => {
                    AgentMessage::InstanceGone { instance_id }
                }
            })
        }));
        pool.set_primer(Arc::new(GamePrimer {
            adb: agent.adb.clone(),
            packages: agent.packages.clone(),
        }));
        let pool_task = tokio::spawn(pool.run());
        let a = agent.clone();
        let command_task = tokio::spawn(async move {
            while let Some((id, command)) = commands.recv().await {
                let a = a.clone();
                tokio::spawn(async move {
                    let r = a.execute(&id, command).await;
                    if let Err(e) = &r {
                        tracing::warn!(%id, error = %format!("{e:#}"), "command failed");
                    }
                    a.link.finished(&id, r);
                });
            }
        });
        Ok(RunningAgent {
            agent,
            tasks: vec![link_task, pool_task, command_task, http_task, reports_task],
        })
    }

    /// The link to the controller.
    pub fn link(&self) -> &LinkHandle {
        &self.link
    }

    /// The prepared plays, by session id.
    pub fn plays(&self) -> &tokio::sync::Mutex<HashMap<String, Play>> {
        &self.plays
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Runs one command.
    pub async fn execute(&self, id: &str, command: Command) -> anyhow::Result<()> {
        match command {
            Command::SyncPackage {
                sha256,
                size_bytes,
                source,
                volume,
            } => {
                self.sync_package(volume.as_deref(), &sha256, size_bytes, &source)
                    .await
            }
            Command::PrepareSession {
                session_id,
                version_id,
                package_sha256,
                package_name,
                launch_activity,
                spec,
                archive,
                idle_kick_secs,
            } => {
                let game = GameRef {
                    version_id: version_id.as_deref(),
                    sha256: &package_sha256,
                    package_name: &package_name,
                    launch_activity: launch_activity.as_deref(),
                };
                let idle_kick = idle_kick_secs.map(|s| Duration::from_secs(s.into()));
                self.prepare_session(&session_id, &game, &spec, archive.map(|a| *a), idle_kick)
                    .await
            }
            Command::EndSession {
                session_id,
                reason,
                save_archive,
            } => self.end_session(&session_id, &reason, save_archive).await,
            Command::WarmGames { revision, games } => {
                // Only games whose package this board has: the others cannot be primed.
                let (have, missing): (Vec<_>, Vec<_>) = games
                    .into_iter()
                    .partition(|g| self.packages.get(&g.package_sha256).is_some());
                for g in &missing {
                    tracing::warn!(version = %g.version_id, sha256 = %g.package_sha256, "not priming a game whose package is not here");
                }
                self.pool.set_games(revision, have);
                Ok(())
            }
            Command::Drain { draining, notice } => {
                self.draining.store(draining, Ordering::Relaxed);
                // Players in session are told (and those who reconnect); undraining withdraws it.
                let notice = notice
                    .filter(|_| draining)
                    .map(|message| BoardNotice { message, at: None });
                self.relay.notice(notice).await;
                Ok(())
            }
            Command::Notice { notice, at } => {
                // Maintenance ahead: players are told when it starts (neither words nor a time
                // withdraws the notice).
                let notice = (notice.is_some() || at.is_some()).then(|| BoardNotice {
                    message: notice.unwrap_or_else(|| "maintenance".into()),
                    at,
                });
                self.relay.notice(notice).await;
                Ok(())
            }
            Command::Shell {
                instance_id,
                command,
                timeout_secs,
            } => self.shell(id, &instance_id, &command, timeout_secs).await,
            Command::StartRecording {
                session_id,
                recording_id,
            } => self.start_recording(&session_id, &recording_id).await,
            Command::StopRecording { recording_id } => {
                match self.relay.stop_recording(&recording_id) {
                    Some(t) => self.deliver(t).await,
                    None => Ok(()), // already delivered (the play ended) or never started
                }
            }
            Command::TailLog { lines } => {
                self.tail_log(id, lines);
                Ok(())
            }
        }
    }

    fn deployment(&self, sha256: &str, state: DeploymentRoomState, pct: u8, error: Option<String>) {
        self.link.send(AgentMessage::Deployment {
            sha256: sha256.to_owned(),
            state,
            progress_percent: pct,
            error,
        });
    }

    /// `sync_package`: rsync into the cache, with progress reports.
    /// Copies a package from `volume` (the board's configured shared volume when `None`),
    /// reporting progress to the controller.
    pub async fn sync_package(
        &self,
        volume: Option<&str>,
        sha256: &str,
        size: u64,
        source: &str,
    ) -> anyhow::Result<()> {
        self.deployment(sha256, DeploymentRoomState::Syncing, 0, None);
        let mut last = Instant::now();
        let r = self
            .packages
            .sync_from(volume, sha256, size, source, |pct| {
                if last.elapsed() >= PROGRESS_INTERVAL && pct < 100 {
                    last = Instant::now();
                    self.deployment(sha256, DeploymentRoomState::Syncing, pct, None);
                }
            })
            .await;
        match r {
            Ok(_) => {
                self.deployment(sha256, DeploymentRoomState::Ready, 100, None);
                Ok(())
            }
            Err(e) => {
                self.deployment(
                    sha256,
                    DeploymentRoomState::Failed,
                    0,
                    Some(format!("{e:#}")),
                );
                Err(e)
            }
        }
    }

    fn report_instance(&self, id: &str) {
        if let Some(r) = self
            .pool
            .reports()
            .into_iter()
            .find(|r| r.instance_id == id)
        {
            self.link.send(AgentMessage::Instance { instance: r });
        }
    }

    fn report_session(&self, session_id: &str, state: AgentSessionState, reason: Option<String>) {
        self.link.send(AgentMessage::Session {
            session_id: session_id.to_owned(),
            state,
            reason,
            connected: false,
            last_input_at: None,
            stats: None,
            latency_ms: Default::default(),
        });
    }

    /// `prepare_session`: a warm instance becomes this play (see [`play::prepare`]).
    pub async fn prepare_session(
        &self,
        session_id: &str,
        game: &GameRef<'_>,
        spec: &Spec,
        archive: Option<ArchiveRef>,
        idle_kick: Option<Duration>,
    ) -> anyhow::Result<()> {
        let GameRef {
            version_id,
            sha256,
            package_name,
            launch_activity,
        } = *game;
        if self.plays.lock().await.contains_key(session_id) {
            return Ok(()); // already prepared (a repeat under another command id)
        }
        ensure!(!self.is_draining(), "the board is draining");
        let jar = self
            .config
            .injector_jar
            .clone()
            .context("no injector jar configured")?;
        // Packages arrive through deployments (`sync_package`) before any play of them.
        let apk = self
            .packages
            .get(sha256)
            .with_context(|| format!("package {sha256} is not in the board's cache"))?;
        self.packages.pin(sha256);
        let ispec = self
            .config
            .specs
            .get(&spec.id)
            .cloned()
            .unwrap_or_else(|| InstanceSpec::from(spec));
        tracing::info!(
            session = %session_id,
            package = %package_name,
            archive = ?archive.as_ref().map(|a| &a.sha256),
            "preparing a play"
        );
        self.report_session(session_id, AgentSessionState::Preparing, None);
        // The video starts at the spec's top rate; the relay moves it with the player's link.
        let start_bps = spec.bitrate_max_kbps.saturating_mul(1000);
        let result = async {
            let (instance, primed) = self.pool.take(&ispec, session_id, version_id).await?;
            tracing::info!(session = %session_id, instance = %instance.id, primed, "instance taken");
            self.report_instance(&instance.id);
            let r = async {
                let archive_path = match &archive {
                    Some(a) => {
                        let dir = self.config.data_dir.join("archives");
                        tokio::fs::create_dir_all(&dir).await?;
                        ensure!(
                            crate::packages::is_sha256_hex(&a.sha256),
                            "archive hash {:?} is not a SHA-256",
                            a.sha256
                        );
                        let dest = dir.join(format!("{}.tar.gz", a.sha256));
                        let url = crate::archive::resolve_url(&self.config.controller_url, &a.url);
                        crate::archive::fetch(
                            &self.http,
                            &url,
                            Some(&self.credential.credential),
                            &a.sha256,
                            &dest,
                        )
                        .await?;
                        Some(dest)
                    }
                    None => None,
                };
                let req = PlayRequest {
                    session_id: session_id.to_owned(),
                    package_name: package_name.to_owned(),
                    launch_activity: launch_activity.map(str::to_owned),
                    apk: apk.clone(),
                    archive: archive_path.clone(),
                    width: spec.width,
                    height: spec.height,
                    fps: spec.fps,
                    bitrate_bps: start_bps,
                    audio: true,
                    scid: rand::random::<u32>() & 0x7fff_ffff,
                    encoder: match self.encoder.lock().unwrap().clone() {
                        Some(known) => play::EncoderChoice::Known(known),
                        None => play::EncoderChoice::Pick {
                            deny: self.config.encoder_deny.clone(),
                        },
                    },
                    primed,
                    slices: self.config.video_slices,
                };
                let injector = Injector {
                    jar,
                    version: self.config.injector_version.clone(),
                };
                let p = play::prepare(&self.adb, &instance, &injector, &req).await;
                if let Some(a) = archive_path {
                    let _ = tokio::fs::remove_file(a).await;
                }
                p
            }
            .await;
            match r {
                Ok(mut p) => {
                    *self.encoder.lock().unwrap() = Some(p.video_encoder.clone());
                    let encoder = p.video_encoder.clone();
                    let frames = match p.video.take() {
                        Some(video) => Some(
                            self.relay
                                .attach(
                                    session_id,
                                    p.width,
                                    p.height,
                                    video,
                                    p.audio.take(),
                                    p.control.take(),
                                    crate::relay::StreamOptions {
                                        bitrate: self.config.injector_live_bit_rate.then(|| {
                                            crate::relay::Bitrate {
                                                window: crate::relay::bitrate::Window::from_kbps(
                                                    spec.bitrate_min_kbps,
                                                    spec.bitrate_max_kbps,
                                                ),
                                                start_bps,
                                            }
                                        }),
                                        idle_kick,
                                        // Playrack's injector (the flag's meaning) has both
                                        // extensions; scrcpy's server neither.
                                        custom: self.config.injector_live_bit_rate,
                                    },
                                )
                                .await,
                        ),
                        None => None,
                    };
                    let watched = crate::watchdog::Watched {
                        session_id: session_id.to_owned(),
                        serial: p.serial.clone(),
                        package: package_name.to_owned(),
                        relaunch: play::start_command(package_name, launch_activity, false)?,
                        frames,
                    };
                    p.watchdog = Some(
                        tokio::spawn(crate::watchdog::watch(
                            self.adb.clone(),
                            self.link.clone(),
                            watched,
                        ))
                        .abort_handle(),
                    );
                    self.pool.update(&instance.id, |s| {
                        s.state = InstanceState::Busy;
                        s.package = Some(package_name.to_owned());
                        s.encoder = encoder.clone();
                    });
                    self.report_instance(&instance.id);
                    self.plays.lock().await.insert(session_id.to_owned(), p);
                    Ok(())
                }
                Err(e) => {
                    let _ = self.pool.release(&instance.id).await;
                    self.adb.disconnect(&instance.serial()).await;
                    Err(e)
                }
            }
        }
        .await;
        self.packages.unpin(sha256);
        match &result {
            Ok(()) => self.report_session(session_id, AgentSessionState::Ready, None),
            Err(e) => self.report_session(
                session_id,
                AgentSessionState::Ended,
                Some(format!("prepare_failed: {e:#}")),
            ),
        }
        result
    }

    /// `end_session`: stop streaming, save the player's archive when asked, stop the server
    /// and reset the instance.
    pub async fn end_session(
        &self,
        session_id: &str,
        reason: &str,
        save_archive: bool,
    ) -> anyhow::Result<()> {
        let Some(p) = self.plays.lock().await.remove(session_id) else {
            // Not playing here. While a preparation for it is still running, that path ends
            // it (the controller repeats the end once it hears `ready`); otherwise say so, so
            // the controller gives back a slot it may still count as held here.
            let preparing = self
                .pool
                .slots()
                .iter()
                .any(|s| s.session_id.as_deref() == Some(session_id));
            if !preparing {
                self.report_session(
                    session_id,
                    AgentSessionState::Ended,
                    Some(reason.to_owned()),
                );
            }
            return Ok(());
        };
        let mut p = p;
        if let Some(w) = p.watchdog.take() {
            w.abort(); // the game is stopped on purpose from here on
        }
        for t in self.relay.stop_recordings(session_id) {
            if let Err(e) = self.deliver(t).await {
                tracing::warn!(%session_id, error = %format!("{e:#}"), "recording not delivered");
            }
        }
        self.relay.detach(session_id, reason).await;
        // The instance is on its way back: a play waiting for one waits for it.
        self.pool
            .update(&p.instance.id, |s| s.state = InstanceState::Resetting);
        if save_archive && let Err(e) = self.save_archive(&p).await {
            // The play still ends; the player keeps their previous archive.
            tracing::warn!(%session_id, error = %format!("{e:#}"), "archive not saved");
        }
        let id = p.instance.id.clone();
        play::stop(&self.adb, p).await;
        self.pool.release(&id).await?;
        self.report_session(
            session_id,
            AgentSessionState::Ended,
            Some(reason.to_owned()),
        );
        Ok(())
    }

    /// Saves the play's app data and uploads it to the controller.
    async fn save_archive(&self, p: &Play) -> anyhow::Result<()> {
        let dir = self.config.data_dir.join("archives");
        tokio::fs::create_dir_all(&dir).await?;
        let dest = dir.join(format!("save-{}.tar.gz", p.session_id));
        let r = async {
            let (sha, size) =
                crate::archive::save(&self.adb, &p.serial, &p.package_name, &dest).await?;
            let sdk = crate::archive::sdk_level(&self.adb, &p.serial).await?;
            crate::archive::upload(
                &self.http,
                &self.config.controller_url,
                &self.credential.credential,
                &p.session_id,
                &dest,
                &sha,
                sdk,
            )
            .await?;
            tracing::info!(session = %p.session_id, %sha, size, "archive saved");
            Ok(())
        }
        .await;
        let _ = tokio::fs::remove_file(&dest).await;
        r
    }

    /// `start_recording`: the session's video into `<data>/recordings/<id>.mp4`.
    async fn start_recording(&self, session_id: &str, recording_id: &str) -> anyhow::Result<()> {
        ensure!(
            crate::recording::is_recording_id(recording_id),
            "{recording_id:?} is not a recording id"
        );
        let dir = self.config.data_dir.join("recordings");
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{recording_id}.mp4"));
        self.relay
            .start_recording(session_id, recording_id, &path)
            .await
    }

    /// Uploads a stopped recording, then removes its file.
    async fn deliver(&self, t: crate::relay::Taped) -> anyhow::Result<()> {
        let summary = match t.result {
            Ok(s) => s,
            Err(e) => {
                let _ = tokio::fs::remove_file(&t.path).await;
                return Err(e.context("finishing the recording"));
            }
        };
        let r = crate::recording::upload(
            &self.http,
            &self.config.controller_url,
            &self.credential.credential,
            &t.id,
            &t.path,
            summary,
        )
        .await;
        let _ = tokio::fs::remove_file(&t.path).await;
        r
    }

    /// `tail_log`: the agent's last `lines` log lines go back as `shell_output`, in chunks.
    pub fn tail_log(&self, command_id: &str, lines: u32) {
        let text =
            crate::logtail::tail().last(lines.clamp(1, crate::logtail::LINES as u32) as usize);
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let cut = rest.floor_char_boundary(rest.len().min(8192));
            let (chunk, more) = rest.split_at(cut);
            self.link.send(AgentMessage::ShellOutput {
                command_id: command_id.to_owned(),
                stream: OutputStream::Stdout,
                data: chunk.to_owned(),
                exit_code: None,
            });
            rest = more;
        }
        self.link.send(AgentMessage::ShellOutput {
            command_id: command_id.to_owned(),
            stream: OutputStream::Stdout,
            data: String::new(),
            exit_code: Some(0),
        });
    }

    /// `shell`: run a command in an instance; its output goes back as `shell_output`.
    pub async fn shell(
        &self,
        command_id: &str,
        instance_id: &str,
        command: &str,
        timeout_secs: u32,
    ) -> anyhow::Result<()> {
        let Some(inst) = self
            .pool
            .slots()
            .into_iter()
            .find(|s| s.id == instance_id)
            .and_then(|s| s.instance)
        else {
            bail!("no instance {instance_id:?} on this board");
        };
        let serial = inst.serial();
        self.adb.connect(&serial, play::BOOT_TIMEOUT).await?;
        let mut child = self
            .adb
            .command()
            .args(["-s", &serial, "shell", command])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting adb shell")?;
        // Both streams are forwarded chunk by chunk as they come, up to SHELL_OUTPUT_LIMIT.
        let pump = |stream: OutputStream, mut r: Box<dyn tokio::io::AsyncRead + Send + Unpin>| {
            let link = self.link.clone();
            let id = command_id.to_owned();
            async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; 8192];
                let mut sent = 0usize;
                loop {
                    let n = match r.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if sent >= SHELL_OUTPUT_LIMIT {
                        continue; // keep draining so the command is not blocked
                    }
                    let take = n.min(SHELL_OUTPUT_LIMIT - sent);
                    sent += take;
                    link.send(AgentMessage::ShellOutput {
                        command_id: id.clone(),
                        stream,
                        data: String::from_utf8_lossy(&buf[..take]).into_owned(),
                        exit_code: None,
                    });
                }
            }
        };
        let out = pump(
            OutputStream::Stdout,
            Box::new(child.stdout.take().expect("piped")),
        );
        let err = pump(
            OutputStream::Stderr,
            Box::new(child.stderr.take().expect("piped")),
        );
        let run = async {
            let ((), (), status) = tokio::join!(out, err, child.wait());
            status
        };
        let status = match tokio::time::timeout(
            std::time::Duration::from_secs(u64::from(timeout_secs.max(1))),
            run,
        )
        .await
        {
            Ok(status) => status?,
            Err(_) => bail!("the command timed out after {timeout_secs} s"),
        };
        self.link.send(AgentMessage::ShellOutput {
            command_id: command_id.to_owned(),
            stream: OutputStream::Stdout,
            data: String::new(),
            exit_code: Some(status.code().unwrap_or(-1)),
        });
        Ok(())
    }
}

/// Turns the relay's session reports into `session` messages for the controller: `playing`
/// from the player's first connection on, with the connection state and the last input.
async fn forward_reports(
    link: LinkHandle,
    reports: relay::Reports,
    metrics: crate::metrics::Metrics,
) {
    loop {
        for r in reports.take().await {
            metrics.latencies(r.latency_ms.as_slice());
            let state = if r.played {
                AgentSessionState::Playing
            } else {
                AgentSessionState::Ready
            };
            let last_input_at = r.last_input.map(|t| {
                playrack_wire::time::Timestamp::from(std::time::SystemTime::now() - t.elapsed())
            });
            link.send(AgentMessage::Session {
                session_id: r.session,
                state,
                reason: None,
                connected: r.connected,
                last_input_at,
                stats: r.stats,
                latency_ms: r.latency_ms,
            });
        }
    }
}
