//! `node-agent doctor`: run on a board, it checks what a play needs, in the order a play uses
//! it, and says what fails and how to fix it.
//!
//! The checks, with the board's own configuration (the same file, variables and flags as the
//! agent):
//! - **runtime**: the Docker engine answers and has the image (or the `virtual-device` binary
//!   exists, for the process driver);
//! - **kernel**: binder and ashmem/memfd, for a redroid image (Playrack's virtual-device image
//!   needs neither);
//! - **limits**: `pid_max`, inotify instances and open files against what N instances need
//!   (`docs/boards.md`, section 4);
//! - **disk**: free space under the data directory against the package cache budget;
//! - **adb**: the `adb` binary runs and its server starts;
//! - then one real instance of the board's first spec: **instance** (booted and reached over
//!   adb), **injector** (the scrcpy server jar pushed and answering to the agent's version),
//!   **encoders** (the H.264 encoders listed and the one the agent would use, after the deny
//!   list), **encode** (frames streamed with that encoder and decoded with openh264 at the
//!   spec's size) and **input** (a control-socket round trip: the clipboard set, acknowledged
//!   and read back, then a touch injected).
//!
//! A failed check blocks those that need it (reported, not run). The doctor never disturbs a running agent: its
//! instance carries its own agent label, its adb server its own port and home, and all of it
//! is removed at the end whatever failed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use playrack_scrcpy::client::{self, CONNECT_ATTEMPTS, CONNECT_DELAY};
use playrack_scrcpy::control_msg::{
    AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP, ControlMsg, POINTER_ID_GENERIC_FINGER,
    Position,
};
use playrack_scrcpy::device_msg::DeviceMsg;
use playrack_scrcpy::encoders::{self, EncoderKind};
use playrack_scrcpy::options::{LogLevel, SERVER_PATH};
use playrack_scrcpy::stream::PacketMerger;
use playrack_scrcpy::{Options, StreamEvent};
use serde::Serialize;
use tokio::net::TcpStream;

use crate::adb::Adb;
use crate::config::{Config, RuntimeKind};
use crate::play::{choose_encoder, server_command};
use crate::runtime::docker::DockerDriver;
use crate::runtime::process::ProcessDriver;
use crate::runtime::{Driver, Instance, InstanceSpec, Runtime};

/// `kernel.pid_max` above this breaks 32-bit Android processes (redroid's notes).
const PID_MAX_LIMIT: u64 = 65_535;
/// `fs.inotify.max_user_instances` docs/boards.md asks for on a board with many instances.
const INOTIFY_INSTANCES: u64 = 8192;
/// Open files the agent and its adb server may hold per instance (adb transports, scrcpy
/// sockets, players' peers and uploads), with room to spare.
const FILES_PER_INSTANCE: u64 = 256;
/// Open files the agent holds whatever it runs.
const FILES_BASE: u64 = 1024;

/// How a check came out (`blocked` in JSON: not run, something it needs failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Works, but not as a production board should.
    Warn,
    Fail,
    /// Not run: something it needs failed.
    Blocked,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a warning or a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Every check, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    /// No check failed.
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// The check called `name`.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    fn push(&mut self, name: &'static str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
            fix: None,
        });
    }

    fn push_fix(
        &mut self,
        name: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }

    fn blocked(&mut self, names: &[&'static str], why: &str) {
        for name in names {
            self.push(name, Status::Blocked, why);
        }
    }

    /// The report for a terminal: one line per check, the fix indented under it, a summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let tag = match c.status {
                Status::Pass => "ok",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
                Status::Blocked => "—",
            };
            out += &format!("{tag:<5} {:<9} {}\n", c.name, c.detail);
            if let Some(fix) = &c.fix {
                for (i, line) in fix.lines().enumerate() {
                    let lead = if i == 0 { "fix:" } else { "" };
                    out += &format!("{:16}{lead:<5}{line}\n", "");
                }
            }
        }
        let count = |s| self.checks.iter().filter(|c| c.status == s).count();
        let (failed, warned) = (count(Status::Fail), count(Status::Warn));
        out += &if failed == 0 {
            format!("The board is ready ({warned} warning(s)).\n")
        } else {
            format!(
                "{failed} check(s) failed, {warned} warning(s): fix the failures and run `node-agent doctor` again.\n"
            )
        };
        out
    }
}

/// How long the doctor waits for things.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// Until the instance's adbd answers and Android has booted.
    pub boot_timeout: Duration,
    /// Frames that must decode.
    pub frames: usize,
    /// Until those frames have arrived (and for each control-socket answer).
    pub stream_timeout: Duration,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        DoctorOptions {
            boot_timeout: crate::play::BOOT_TIMEOUT,
            frames: 5,
            stream_timeout: Duration::from_secs(20),
        }
    }
}

/// The checks that need a running instance.
const DEVICE_CHECKS: [&str; 5] = ["instance", "injector", "encoders", "encode", "input"];

/// Runs every check (see the module doc).
pub async fn run(config: &Config, opts: &DoctorOptions) -> Report {
    let mut report = Report::default();
    let runtime = check_runtime(config, opts, &mut report).await;
    let redroid = runtime.as_ref().is_some_and(|r| r.redroid);
    if config.runtime == RuntimeKind::Docker {
        check_kernel(runtime.is_some(), redroid, &mut report);
    }
    check_limits(config, redroid, &mut report);
    check_disk(config, &mut report);
    let home = config
        .data_dir
        .join(format!("doctor-{}", std::process::id()));
    let adb = check_adb(config, &home, &mut report).await;
    match (runtime, &adb) {
        (Some(runtime), Some(adb)) => {
            check_device(config, opts, &runtime.driver, adb, &mut report).await
        }
        _ => report.blocked(&DEVICE_CHECKS, "needs the runtime and adb"),
    }
    if let Some(adb) = adb {
        adb.kill_server().await;
    }
    let _ = tokio::fs::remove_dir_all(&home).await;
    report
}

struct RuntimeFound {
    driver: Driver,
    /// The image is a redroid (not Playrack's virtual device): the kernel must provide binder.
    redroid: bool,
}

async fn check_runtime(
    config: &Config,
    opts: &DoctorOptions,
    report: &mut Report,
) -> Option<RuntimeFound> {
    let root = config.data_dir.join("doctor-instances");
    // Its own agent label: the running agent neither adopts nor removes the doctor's instance.
    let label = format!("{}-doctor", config.serial);
    match config.runtime {
        RuntimeKind::Process => {
            let Some(found) = find_executable(&config.virtual_device) else {
                report.push_fix(
                    "runtime",
                    Status::Fail,
                    format!("no virtual-device binary at {}", config.virtual_device.display()),
                    "build it (`cargo build -p android-injector --bin virtual-device`) and give its path with --virtual-device, or use --runtime docker on a board",
                );
                return None;
            };
            report.push(
                "runtime",
                Status::Pass,
                format!("process driver with {}", found.display()),
            );
            Some(RuntimeFound {
                driver: Driver::Process(ProcessDriver::new(found, root)),
                redroid: false,
            })
        }
        RuntimeKind::Docker => {
            let docker_fix = "install Docker (`apt-get install docker.io`), start it (`systemctl enable --now docker`) and run the agent as a user who may use /var/run/docker.sock";
            let driver = match DockerDriver::new(
                config.docker_image.clone(),
                config.docker_privileged,
                label,
                root,
            ) {
                Ok(d) => d.with_boot_timeout(opts.boot_timeout),
                Err(e) => {
                    report.push_fix("runtime", Status::Fail, format!("{e:#}"), docker_fix);
                    return None;
                }
            };
            let version = match driver.engine_version().await {
                Ok(v) => v,
                Err(e) => {
                    report.push_fix(
                        "runtime",
                        Status::Fail,
                        format!("the Docker engine does not answer: {e:#}"),
                        docker_fix,
                    );
                    return None;
                }
            };
            let image = &config.docker_image;
            match driver.image().await {
                Ok(Some(facts)) => {
                    let redroid = facts.labels.get("org.playrack.kind").map(String::as_str)
                        != Some("virtual-device");
                    let kind = if redroid {
                        "an Android image"
                    } else {
                        "Playrack's virtual device"
                    };
                    report.push(
                        "runtime",
                        Status::Pass,
                        format!(
                            "Docker {version}; image {image} ({kind}, {}) is on the board",
                            facts.architecture
                        ),
                    );
                    Some(RuntimeFound {
                        driver: Driver::Docker(driver),
                        redroid,
                    })
                }
                Ok(None) => {
                    report.push_fix(
                        "runtime",
                        Status::Fail,
                        format!("Docker {version} answers but has no image {image}"),
                        format!("`docker pull {image}` (redroid, e.g. redroid/redroid:12.0.0_64only-latest) or load it with `docker load`, or give another with --docker-image"),
                    );
                    None
                }
                Err(e) => {
                    report.push_fix("runtime", Status::Fail, format!("{e:#}"), docker_fix);
                    None
                }
            }
        }
    }
}

/// A path as given, or a bare name looked up on `PATH`.
fn find_executable(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_owned());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn check_kernel(have_runtime: bool, redroid: bool, report: &mut Report) {
    if !have_runtime {
        report.push(
            "kernel",
            Status::Blocked,
            "needs the image to know what it needs",
        );
        return;
    }
    if !redroid {
        report.push(
            "kernel",
            Status::Pass,
            "the virtual-device image needs neither binder nor ashmem",
        );
        return;
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let binder = filesystems
        .lines()
        .any(|l| l.trim_end().ends_with("binder"))
        || Path::new("/dev/binderfs").exists()
        || Path::new("/dev/binder").exists();
    if !binder {
        report.push_fix(
            "kernel",
            Status::Fail,
            "no binder: the kernel has neither binderfs nor /dev/binder",
            "load it: `modprobe binder_linux devices=binder,hwbinder,vndbinder` (a kernel with CONFIG_ANDROID_BINDERFS=y); see docs/boards.md, section 1",
        );
        return;
    }
    if Path::new("/dev/ashmem").exists() {
        report.push("kernel", Status::Pass, "binder and ashmem are there");
    } else {
        report.push_fix(
            "kernel",
            Status::Warn,
            "binder is there, ashmem is not",
            "redroid 12 and later run without ashmem when booted with androidboot.use_memfd=1; older images need `modprobe ashmem_linux`",
        );
    }
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn check_limits(config: &Config, redroid: bool, report: &mut Report) {
    let instances: u64 = config
        .capacity
        .values()
        .map(|&n| u64::from(n))
        .sum::<u64>()
        .max(1);
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    if redroid
        && let Some(pid_max) = read_number("/proc/sys/kernel/pid_max")
        && pid_max > PID_MAX_LIMIT
    {
        problems.push(format!("kernel.pid_max is {pid_max}"));
        fixes.push(format!(
            "sysctl -w kernel.pid_max={PID_MAX_LIMIT} (32-bit Android processes abort past it)"
        ));
    }
    if let Some(n) = read_number("/proc/sys/fs/inotify/max_user_instances") {
        let want = if instances > 4 {
            INOTIFY_INSTANCES
        } else {
            128 * instances
        };
        if n < want {
            problems.push(format!("fs.inotify.max_user_instances is {n}"));
            fixes.push(format!(
                "sysctl -w fs.inotify.max_user_instances={INOTIFY_INSTANCES}"
            ));
        }
    }
    let soft = open_files_limit();
    let want_files = FILES_BASE + FILES_PER_INSTANCE * instances;
    if soft < want_files {
        problems.push(format!("the open-file limit is {soft}"));
        fixes.push(format!(
            "LimitNOFILE=1048576 in the agent's unit, as deploy/systemd/node-agent.service sets (or `ulimit -n {}`)",
            want_files.max(65_536)
        ));
    }
    if problems.is_empty() {
        report.push(
            "limits",
            Status::Pass,
            format!("enough for {instances} instance(s) (open files {soft})"),
        );
    } else {
        report.push_fix(
            "limits",
            Status::Warn,
            format!("for {instances} instance(s): {}", problems.join(", ")),
            fixes.join("\n"),
        );
    }
}

fn open_files_limit() -> u64 {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given and nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) } != 0 {
        return 0;
    }
    l.rlim_cur
}

fn check_disk(config: &Config, report: &mut Report) {
    // The data directory may not exist yet: measure the nearest ancestor that does.
    let mut dir = config.data_dir.as_path();
    while !dir.exists() {
        match dir.parent() {
            Some(p) => dir = p,
            None => break,
        }
    }
    let Some(free) = crate::link::telemetry::disk_free_mb(dir).map(|mb| mb << 20) else {
        report.push(
            "disk",
            Status::Warn,
            format!("cannot measure {}", dir.display()),
        );
        return;
    };
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    let one_instance = u64::from(
        config
            .specs
            .values()
            .map(|s| s.data_mb)
            .max()
            .unwrap_or(crate::runtime::DEFAULT_DATA_MB),
    ) << 20;
    if free < one_instance {
        report.push_fix(
            "disk",
            Status::Fail,
            format!(
                "{} free under {}: less than one instance's /data ({})",
                gib(free),
                dir.display(),
                gib(one_instance)
            ),
            "free space there, or give a larger disk with --data-dir",
        );
    } else if free < config.package_cache_bytes {
        report.push_fix(
            "disk",
            Status::Warn,
            format!(
                "{} free under {}, less than the package cache budget ({})",
                gib(free),
                dir.display(),
                gib(config.package_cache_bytes)
            ),
            "lower --package-cache-bytes or free space: the cache would fill the disk",
        );
    } else {
        report.push(
            "disk",
            Status::Pass,
            format!("{} free under {}", gib(free), dir.display()),
        );
    }
}

async fn check_adb(config: &Config, home: &Path, report: &mut Report) -> Option<Adb> {
    let fix = "install adb (`apt-get install adb`) or give its path with --adb";
    let Some(bin) = find_executable(&config.adb) else {
        report.push_fix(
            "adb",
            Status::Fail,
            format!("no adb binary at {}", config.adb.display()),
            fix,
        );
        return None;
    };
    let version = tokio::process::Command::new(&bin)
        .arg("version")
        .output()
        .await
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default();
    // Its own server on a free port: the agent's server (and its devices) stay untouched.
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => {
            report.push(
                "adb",
                Status::Fail,
                format!("no free port for an adb server: {e}"),
            );
            return None;
        }
    };
    match Adb::start(bin.clone(), port, home.join("adb")).await {
        Ok(adb) => {
            report.push(
                "adb",
                Status::Pass,
                format!("{} ({version})", bin.display()),
            );
            Some(adb)
        }
        Err(e) => {
            report.push_fix(
                "adb",
                Status::Fail,
                format!("the adb server does not start: {e:#}"),
                fix,
            );
            None
        }
    }
}

async fn check_device(
    config: &Config,
    opts: &DoctorOptions,
    driver: &Driver,
    adb: &Adb,
    report: &mut Report,
) {
    let spec = config
        .specs
        .values()
        .next()
        .cloned()
        .unwrap_or_else(|| InstanceSpec::parse("doctor=720x1280@30").expect("a valid spec"));
    let id = format!("doctor-{}", std::process::id());
    let started = Instant::now();
    let created = tokio::time::timeout(
        opts.boot_timeout + Duration::from_secs(5),
        driver.create(&id, &spec),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no instance within {:?}", opts.boot_timeout))
    .and_then(|r| r);
    let instance = match created {
        Ok(i) => i,
        Err(e) => {
            report.push_fix(
                "instance",
                Status::Fail,
                format!("the instance's adbd is unreachable: {e:#}"),
                "the image must start adbd on port 5555 in the container (redroid does); check `docker logs` of the container, and that nothing on the board blocks 127.0.0.1",
            );
            report.blocked(&DEVICE_CHECKS[1..], "needs an instance");
            let _ = driver.remove(&id).await;
            return;
        }
    };
    device_checks(config, opts, adb, &instance, &spec, started, report).await;
    adb.disconnect(&instance.serial()).await;
    if let Err(e) = driver.remove(&id).await {
        tracing::warn!(error = %format!("{e:#}"), "removing the doctor's instance");
    }
}

async fn device_checks(
    config: &Config,
    opts: &DoctorOptions,
    adb: &Adb,
    instance: &Instance,
    spec: &InstanceSpec,
    started: Instant,
    report: &mut Report,
) {
    let serial = instance.serial();
    let reached = async {
        adb.connect(&serial, opts.boot_timeout).await?;
        adb.wait_boot(&serial, opts.boot_timeout).await?;
        let o = adb
            .shell(
                &serial,
                "getprop ro.build.version.release; getprop ro.product.model",
            )
            .await?;
        Ok::<_, anyhow::Error>(
            o.stdout
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
    .await;
    match reached {
        Ok(about) => report.push(
            "instance",
            Status::Pass,
            format!(
                "{} ({}x{}@{}) booted in {:.2} s at {serial}: Android {about}",
                spec.id,
                spec.width,
                spec.height,
                spec.fps,
                started.elapsed().as_secs_f64()
            ),
        ),
        Err(e) => {
            report.push_fix(
                "instance",
                Status::Fail,
                format!("adb cannot reach the instance at {serial}: {e:#}"),
                "the image must start adbd on port 5555 without authentication (redroid does); `adb connect` it by hand to see what it says",
            );
            report.blocked(&DEVICE_CHECKS[1..], "needs an instance adb reaches");
            return;
        }
    }

    // The injector: pushed, and answering to the agent's version with its encoder list.
    let version = &config.injector_version;
    let jar = match &config.injector_jar {
        Some(jar) if jar.is_file() => jar.clone(),
        other => {
            let detail = match other {
                Some(jar) => format!("no injector jar at {}", jar.display()),
                None => "no injector jar configured".to_owned(),
            };
            report.push_fix(
                "injector",
                Status::Fail,
                detail,
                format!("give the scrcpy server {version} jar with --injector-jar (scrcpy-server-v{version} from scrcpy's release)"),
            );
            report.blocked(&DEVICE_CHECKS[2..], "needs the injector");
            return;
        }
    };
    let listing = async {
        adb.push(&serial, &jar, SERVER_PATH)
            .await
            .context("pushing the jar")?;
        let opts = Options {
            log_level: LogLevel::Info,
            list_encoders: true,
            ..Options::default()
        };
        adb.shell(&serial, &server_command(&opts, version)).await
    }
    .await;
    let listing = match listing {
        Ok(o) if o.ok() => o,
        Ok(o) => {
            let said = format!("{} {}", o.stdout.trim(), o.stderr.trim());
            let fix = if said.contains("does not match") {
                format!(
                    "the jar is another scrcpy version: give the {version} jar, or --injector-version with the jar's version"
                )
            } else {
                "check the jar is scrcpy's server (a dex in a zip) and that the image can run app_process".to_owned()
            };
            report.push_fix(
                "injector",
                Status::Fail,
                format!("the server refused to start: {}", said.trim()),
                fix,
            );
            report.blocked(&DEVICE_CHECKS[2..], "needs the injector");
            return;
        }
        Err(e) => {
            report.push_fix(
                "injector",
                Status::Fail,
                format!("{e:#}"),
                "check the instance's /data/local/tmp is writable",
            );
            report.blocked(&DEVICE_CHECKS[2..], "needs the injector");
            return;
        }
    };
    report.push(
        "injector",
        Status::Pass,
        format!("scrcpy server {version} answers ({})", jar.display()),
    );

    let listed = encoders::parse_list(&listing.stdout);
    let names = listed
        .iter()
        .filter(|e| e.codec == "h264")
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let chosen = choose_encoder(&listed, &config.encoder_deny).cloned();
    let encoder = match chosen {
        None if names.is_empty() => {
            report.push_fix(
                "encoders",
                Status::Fail,
                "the instance lists no H.264 video encoder",
                "the image needs a working AVC encoder: on RK3588 a redroid image with the Rockchip codec2/OMX service and /dev/mpp_service passed in (docs/boards.md, section 3)",
            );
            report.blocked(&DEVICE_CHECKS[3..], "needs an encoder");
            return;
        }
        None => {
            report.push_fix(
                "encoders",
                Status::Fail,
                format!("every H.264 encoder listed ({names}) is on --encoder-deny"),
                "take one off --encoder-deny (the software c2.android.avc.encoder works everywhere, at a CPU cost)",
            );
            report.blocked(&DEVICE_CHECKS[3..], "needs an encoder");
            return;
        }
        Some(e) => e,
    };
    if encoder.kind == EncoderKind::Hardware {
        report.push(
            "encoders",
            Status::Pass,
            format!(
                "listed: {names}; the agent uses {} (hardware)",
                encoder.name
            ),
        );
    } else {
        report.push_fix(
            "encoders",
            Status::Warn,
            format!("listed: {names}; no usable hardware encoder, the agent uses {} (software)", encoder.name),
            "software encoding costs a CPU core per stream or more: check the image's vendor codecs (docs/boards.md, section 3)",
        );
    }

    stream_checks(config, opts, adb, &serial, spec, &encoder.name, report).await;
}

async fn stream_checks(
    config: &Config,
    opts: &DoctorOptions,
    adb: &Adb,
    serial: &str,
    spec: &InstanceSpec,
    encoder: &str,
    report: &mut Report,
) {
    let options = Options {
        log_level: LogLevel::Info,
        scid: Some(rand::random::<u32>() & 0x7fff_ffff),
        video: true,
        audio: false,
        control: true,
        max_size: spec.width.max(spec.height),
        max_fps: spec.fps as f32,
        video_encoder: Some(encoder.to_owned()),
        tunnel_forward: true,
        ..Options::default()
    };
    let port = match adb
        .forward(serial, &format!("localabstract:{}", options.socket_name()))
        .await
    {
        Ok(p) => p,
        Err(e) => {
            report.push_fix(
                "encode",
                Status::Fail,
                format!("adb forward: {e:#}"),
                "check the adb server's logs",
            );
            report.blocked(&DEVICE_CHECKS[4..], "needs the stream");
            return;
        }
    };
    let server = adb
        .command()
        .args([
            "-s",
            serial,
            "shell",
            &server_command(&options, &config.injector_version),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut server = match server {
        Ok(s) => s,
        Err(e) => {
            report.push("encode", Status::Fail, format!("starting the server: {e}"));
            report.blocked(&DEVICE_CHECKS[4..], "needs the stream");
            adb.remove_forward(serial, port).await;
            return;
        }
    };
    let outcome = stream(opts, &options, port, spec, encoder).await;
    let _ = server.start_kill();
    let said = server_output(&mut server).await;
    adb.remove_forward(serial, port).await;
    match outcome {
        Stream::NoConnection(e) | Stream::NoFrames(e) => {
            report.push_fix(
                "encode",
                Status::Fail,
                format!("{e} (the server said: {:?})", said.trim()),
                format!("this encoder does not work under capture here: add --encoder-deny {encoder} and run the doctor again"),
            );
            report.blocked(&DEVICE_CHECKS[4..], "needs the stream");
        }
        Stream::Frames {
            decoded,
            elapsed,
            input,
        } => {
            report.push(
                "encode",
                Status::Pass,
                format!(
                    "{decoded} frames of {}x{} decoded in {:.2} s with {encoder}",
                    spec.width,
                    spec.height,
                    elapsed.as_secs_f64()
                ),
            );
            match input {
                Ok(rtt) if !said.contains("Could not inject") => report.push(
                    "input",
                    Status::Pass,
                    format!("control round trip in {:.1} ms (clipboard set, acknowledged and read back; a touch injected)", rtt.as_secs_f64() * 1e3),
                ),
                Ok(_) => report.push_fix(
                    "input",
                    Status::Fail,
                    format!("the server could not inject a touch: {:?}", said.trim()),
                    "the image must let the shell user inject input (INJECT_EVENTS); use a redroid build, not a locked-down ROM",
                ),
                Err(e) => report.push_fix(
                    "input",
                    Status::Fail,
                    format!("{e:#}"),
                    "the control socket does not answer: check the injector version and the server's log",
                ),
            }
        }
    }
}

enum Stream {
    NoConnection(String),
    NoFrames(String),
    Frames {
        decoded: usize,
        elapsed: Duration,
        /// The control round trip's time, or why it failed.
        input: anyhow::Result<Duration>,
    },
}

async fn stream(
    opts: &DoctorOptions,
    options: &Options,
    port: u16,
    spec: &InstanceSpec,
    encoder: &str,
) -> Stream {
    let started = Instant::now();
    let c = match client::connect_forward(
        options,
        || TcpStream::connect(("127.0.0.1", port)),
        CONNECT_ATTEMPTS,
        CONNECT_DELAY,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return Stream::NoConnection(format!("no stream from the server: {e}")),
    };
    let Some(mut video) = c.video else {
        return Stream::NoConnection("the server opened no video socket".into());
    };
    let decoded = tokio::time::timeout(opts.stream_timeout, async {
        let mut decoder = Decoder::new().context("starting openh264")?;
        let mut merger = PacketMerger::new();
        let mut decoded = 0;
        while decoded < opts.frames {
            match video.next().await? {
                Some(StreamEvent::Codec(id)) => anyhow::ensure!(
                    id == playrack_scrcpy::stream::CODEC_ID_H264,
                    "{encoder} streams codec {id:#x}, not H.264"
                ),
                Some(StreamEvent::Config(c)) => merger.config(c),
                Some(StreamEvent::Frame { data, .. }) => {
                    let frame = merger.merge(data);
                    match decoder.decode(&frame) {
                        Ok(Some(yuv)) => {
                            let (w, h) = yuv.dimensions();
                            anyhow::ensure!(
                                (w as u32, h as u32) == (spec.width, spec.height),
                                "frames decode at {w}x{h}, not the spec's {}x{}",
                                spec.width,
                                spec.height
                            );
                            decoded += 1;
                        }
                        Ok(None) => {}
                        Err(e) => anyhow::bail!("a frame from {encoder} does not decode: {e}"),
                    }
                }
                Some(_) => {}
                None => anyhow::bail!("the server closed the video socket"),
            }
        }
        Ok(decoded)
    })
    .await;
    let decoded = match decoded {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Stream::NoFrames(format!("{e:#}")),
        Err(_) => {
            return Stream::NoFrames(format!(
                "fewer than {} decodable frames within {:?}",
                opts.frames, opts.stream_timeout
            ));
        }
    };
    let elapsed = started.elapsed();
    let input = match c.control {
        Some(control) => tokio::time::timeout(opts.stream_timeout, input_round_trip(control, spec))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "no answer on the control socket within {:?}",
                    opts.stream_timeout
                ))
            }),
        None => Err(anyhow::anyhow!("the server opened no control socket")),
    };
    // Keep the video drained until here so the server never blocks on a full socket.
    drop(video);
    Stream::Frames {
        decoded,
        elapsed,
        input,
    }
}

/// Sets the clipboard (asking for an acknowledgement), reads it back, then injects a touch.
async fn input_round_trip(control: TcpStream, spec: &InstanceSpec) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let (mut tx, mut rx) = client::split_control(control);
    let sequence = rand::random::<u64>() | 1;
    let text = format!("playrack doctor {sequence:x}");
    tx.send(&ControlMsg::SetClipboard {
        sequence,
        paste: false,
        text: text.clone(),
    })
    .await?;
    loop {
        match rx.next().await? {
            Some(DeviceMsg::AckClipboard { sequence: s }) if s == sequence => break,
            Some(_) => {}
            None => {
                anyhow::bail!("the control socket closed before the clipboard was acknowledged")
            }
        }
    }
    tx.send(&ControlMsg::GetClipboard { copy_key: 0 }).await?;
    loop {
        match rx.next().await? {
            Some(DeviceMsg::Clipboard { text: t }) if t == text => break,
            Some(DeviceMsg::Clipboard { text: t }) => {
                anyhow::bail!("the clipboard reads back {t:?}, not {text:?}")
            }
            Some(_) => {}
            None => anyhow::bail!("the control socket closed before the clipboard was read back"),
        }
    }
    let rtt = started.elapsed();
    // A tap in the middle of the screen; the server reports a failed injection in its log.
    let position = Position {
        x: (spec.width / 2) as i32,
        y: (spec.height / 2) as i32,
        width: spec.width as u16,
        height: spec.height as u16,
    };
    for action in [AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_UP] {
        tx.send(&ControlMsg::InjectTouchEvent {
            action,
            pointer_id: POINTER_ID_GENERIC_FINGER,
            position,
            pressure: if action == AMOTION_EVENT_ACTION_UP {
                0.0
            } else {
                1.0
            },
            action_button: 0,
            buttons: 0,
        })
        .await?;
    }
    Ok(rtt)
}

/// What the server wrote on stderr, once it is stopped.
async fn server_output(server: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncReadExt;
    let mut text = String::new();
    if let Some(mut err) = server.stderr.take() {
        let _ = tokio::time::timeout(Duration::from_secs(2), err.read_to_string(&mut text)).await;
    }
    let _ = server.wait().await;
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_says_what_failed_and_how_to_fix_it() {
        let mut r = Report::default();
        r.push("adb", Status::Pass, "/usr/bin/adb");
        r.push_fix(
            "encoders",
            Status::Fail,
            "no H.264 encoder",
            "use another image\nor deny less",
        );
        r.blocked(&["encode"], "needs an encoder");
        assert!(!r.passed());
        let text = r.render();
        assert!(text.contains("ok    adb       /usr/bin/adb\n"), "{text}");
        assert!(text.contains("FAIL  encoders  no H.264 encoder\n                fix: use another image\n                     or deny less\n"), "{text}");
        assert!(
            text.contains("—     encode    needs an encoder\n"),
            "{text}"
        );
        assert!(text.ends_with("1 check(s) failed, 0 warning(s): fix the failures and run `node-agent doctor` again.\n"), "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["checks"][1]["status"], "fail");
        assert!(json["checks"][0].get("fix").is_none());
        r.checks.retain(|c| c.status != Status::Fail);
        assert!(r.passed());
    }

    #[test]
    fn executables_are_found_by_path_or_on_path() {
        assert!(find_executable(Path::new("sh")).is_some());
        assert!(find_executable(Path::new("/nonexistent/adb")).is_none());
        assert!(find_executable(Path::new("no-such-binary-anywhere")).is_none());
    }
}
