//! The virtual Android device: what one instance is, independent of how it is reached.
//!
//! - [`Device`]: the instance — identity and properties ([`props`]), the sandboxed file system
//!   ([`fs`]), installed packages ([`packages`]), abstract sockets ([`sockets`]), the shell
//!   command registry ([`shell`]), the display, the foreground app, and the [`DeviceHooks`]
//!   through which the game and input side learn about `am start`, `input tap` and friends.
//! - [`adbd`]: the adb daemon — TCP listener, one [`playrack_adb_proto::transport::Connection`] per
//!   host, and the services (`shell`, `exec`, `sync`, `localabstract`, `tcp`).
//! - [`sync`]: the file side of the `sync:` service (push / pull / stat / list).
//! - [`pty`]: the line discipline of interactive (`pty`) shell sessions.
//! - [`log`]: the device's log, which `logcat` reads; the system's lines (an app started,
//!   stopped, crashed, not responding) are written here by [`Device`].
//!
//! The scrcpy side plugs in with [`Device::register_command`] (`app_process`),
//! [`Device::set_hooks`] (start the synthetic game, receive input) and
//! [`Device::sockets`] (listen on `scrcpy_%08x`).

pub mod adbd;
pub mod fs;
pub mod log;
pub mod packages;
pub mod props;
pub mod pty;
pub mod shell;
pub mod sockets;
pub mod sync;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub use packages::InstalledPackage;
use playrack_adb_proto::auth::AdbKeys;
use playrack_adb_proto::transport::AuthMode;
pub use props::Identity;
pub use shell::Command;
pub use sockets::{AbstractListener, AbstractSockets};

/// Default storage quota for everything written through the device: 4 GiB.
pub const DEFAULT_STORAGE_QUOTA: u64 = 4 << 30;

/// The adb features this device implements, advertised in its CNXN banner. adb 29 uses
/// `shell_v2` for `adb shell` (exit codes), `cmd` to stream `adb install` into
/// `cmd package install -S`, `stat_v2`/`ls_v2` for push/pull/ls.
pub const FEATURES: &[&str] = &["shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir"];

/// The first pid given to an app process (Android's app pids start above the system's).
const FIRST_APP_PID: u32 = 10_231;

/// How the device authenticates adb hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// No AUTH exchange (`ro.adb.secure=0`).
    Disabled,
    /// AUTH exchange; any offered key is accepted (the default).
    AcceptAny,
    /// Only keys in this `adb_keys` file, re-read for every connection as adbd does.
    KeysFile(PathBuf),
}

/// Everything a device is started with.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub data_dir: PathBuf,
    pub identity: Identity,
    /// Time from start until `sys.boot_completed` is 1.
    pub boot_delay: Duration,
    pub storage_quota: u64,
    pub auth: AuthConfig,
}

/// The display the instance was started with, plus `wm` overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    pub width: u32,
    pub height: u32,
    pub density: u32,
    pub fps: u32,
    pub size_override: Option<(u32, u32)>,
    pub density_override: Option<u32>,
}

impl Display {
    /// The size apps see (the override if one is set).
    pub fn effective_size(&self) -> (u32, u32) {
        self.size_override.unwrap_or((self.width, self.height))
    }
}

/// Input injected with the `input` command.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    Tap {
        x: f32,
        y: f32,
    },
    Swipe {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        duration_ms: u32,
    },
    Key {
        code: u32,
        longpress: bool,
    },
    Text(String),
}

/// What the rest of the system (the synthetic game, the scrcpy server) wants to hear about.
/// Every method has a no-op default.
pub trait DeviceHooks: Send + Sync {
    /// `am start` / `monkey` brought `app` to the foreground with `activity`.
    fn app_started(&self, _device: &Device, _app: &InstalledPackage, _activity: &str) {}
    /// `package` left the screen: `am force-stop`, uninstall, `am crash`, or HOME sent it to
    /// the background (the launcher shows).
    fn app_stopped(&self, _device: &Device, _package: &str) {}
    /// `input tap|swipe|keyevent|text`.
    fn input(&self, _device: &Device, _event: &InputEvent) {}
    /// `setprop` set `name` to `value`.
    fn property_set(&self, _device: &Device, _name: &str, _value: &str) {}
    /// The display's size apps see changed (`wm size`): apps are laid out again, and a
    /// capture of the display restarts at the new size.
    fn display_resized(&self, _device: &Device, _width: u32, _height: u32) {}
    /// Whether the foreground app has left input undispatched for longer than Android's input
    /// dispatching timeout (the system then shows "isn't responding").
    fn not_responding(&self, _device: &Device) -> bool {
        false
    }
}

/// Hooks that do nothing.
#[derive(Debug, Default)]
pub struct NoHooks;
impl DeviceHooks for NoHooks {}

/// Why an app could not be launched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("package {0} is not installed")]
    NotInstalled(String),
}

/// One virtual Android device.
pub struct Device {
    config: DeviceConfig,
    pub fs: fs::Sandbox,
    pub props: props::Props,
    pub packages: packages::Packages,
    /// What `logcat` reads.
    pub log: log::Log,
    sockets: AbstractSockets,
    commands: RwLock<HashMap<String, Arc<dyn Command>>>,
    hooks: RwLock<Arc<dyn DeviceHooks>>,
    display: Mutex<Display>,
    foreground: Mutex<Option<(String, String)>>,
    /// Running app processes: package → pid.
    processes: Mutex<BTreeMap<String, u32>>,
    next_pid: std::sync::atomic::AtomicU32,
    /// Set once the current "not responding" spell is in the log.
    anr_logged: std::sync::atomic::AtomicBool,
    owners: Mutex<BTreeMap<String, String>>,
    /// Bumped by every reboot; adb connections end when it changes.
    reboots: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("serial", &self.config.identity.serial)
            .finish_non_exhaustive()
    }
}

impl Device {
    /// Opens the device's data directory and registers the built-in shell commands.
    pub fn open(config: DeviceConfig) -> io::Result<Arc<Device>> {
        let started = Instant::now();
        let fs = fs::Sandbox::open(&config.data_dir, config.storage_quota)?;
        let packages = packages::Packages::load(&config.data_dir.join("state"))?;
        let props = props::Props::new(&config.identity, started, config.boot_delay);
        let id = &config.identity;
        let display = Display {
            width: id.width,
            height: id.height,
            density: id.dpi,
            fps: id.fps,
            size_override: None,
            density_override: None,
        };
        let device = Arc::new(Device {
            config,
            fs,
            props,
            packages,
            log: log::Log::default(),
            sockets: AbstractSockets::new(),
            commands: RwLock::new(HashMap::new()),
            hooks: RwLock::new(Arc::new(NoHooks)),
            display: Mutex::new(display),
            foreground: Mutex::new(None),
            processes: Mutex::new(BTreeMap::new()),
            next_pid: std::sync::atomic::AtomicU32::new(FIRST_APP_PID),
            anr_logged: std::sync::atomic::AtomicBool::new(false),
            owners: Mutex::new(BTreeMap::new()),
            reboots: tokio::sync::watch::channel(0).0,
        });
        shell::builtins::register(&device);
        shell::pm::register(&device);
        shell::tar::register(&device);
        device.register_command("logcat", shell::logcat::logcat);
        device.register_command("log", shell::logcat::log);
        Ok(device)
    }

    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// The in-process abstract socket namespace.
    pub fn sockets(&self) -> &AbstractSockets {
        &self.sockets
    }

    /// Adds (or replaces) a shell command.
    pub fn register_command(&self, name: &str, command: impl Command + 'static) {
        self.commands
            .write()
            .unwrap()
            .insert(name.to_string(), Arc::new(command));
    }

    /// The command registered under `name`.
    pub fn command(&self, name: &str) -> Option<Arc<dyn Command>> {
        self.commands.read().unwrap().get(name).cloned()
    }

    /// Installs the hooks (replacing the previous ones).
    pub fn set_hooks(&self, hooks: Arc<dyn DeviceHooks>) {
        *self.hooks.write().unwrap() = hooks;
    }

    fn hooks(&self) -> Arc<dyn DeviceHooks> {
        self.hooks.read().unwrap().clone()
    }

    pub fn display(&self) -> Display {
        *self.display.lock().unwrap()
    }

    pub fn set_size_override(&self, size: Option<(u32, u32)>) {
        let (before, after) = {
            let mut d = self.display.lock().unwrap();
            let before = d.effective_size();
            d.size_override = size;
            (before, d.effective_size())
        };
        if before != after {
            self.hooks().display_resized(self, after.0, after.1);
        }
    }

    pub fn set_density_override(&self, density: Option<u32>) {
        self.display.lock().unwrap().density_override = density;
    }

    /// What a cold start costs before the first frame: the app reads its package (a game
    /// loads its assets), here every byte of the installed `base.apk` through a CRC-32, so
    /// start-up time grows with the APK as it does on a device. Blocking; returns the bytes
    /// read.
    pub fn load_assets(&self, package: &str) -> io::Result<u64> {
        let app = self
            .packages
            .get(package)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, package.to_string()))?;
        let (_, host) = self
            .fs
            .host_path("/", &app.apk_path)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        let mut file = std::fs::File::open(host)?;
        let mut crc = flate2::Crc::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            total += n as u64;
        }
        std::hint::black_box(crc.sum());
        Ok(total)
    }

    /// Brings an installed package to the foreground (its launcher activity by default).
    pub fn launch(
        &self,
        package: &str,
        activity: Option<&str>,
    ) -> Result<InstalledPackage, LaunchError> {
        let app = self
            .packages
            .get(package)
            .ok_or_else(|| LaunchError::NotInstalled(package.to_string()))?;
        let activity = activity
            .map(str::to_string)
            .or_else(|| app.launchable_activity.clone())
            .unwrap_or_else(|| format!("{package}.MainActivity"));
        *self.foreground.lock().unwrap() = Some((package.to_string(), activity.clone()));
        let mut started = None;
        let pid = *self
            .processes
            .lock()
            .unwrap()
            .entry(package.to_string())
            .or_insert_with(|| {
                let pid = self
                    .next_pid
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                started = Some(pid);
                pid
            });
        self.system_log(
            log::Priority::Info,
            "ActivityTaskManager",
            &format!(
                "START u0 {{act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] flg=0x10000000 cmp={package}/{activity}}} from uid 2000"
            ),
        );
        if started.is_some() {
            self.system_log(
                log::Priority::Info,
                "ActivityManager",
                &format!(
                    "Start proc {pid}:{package}/u0a{} for top-activity {{{package}/{activity}}}",
                    app_index(package)
                ),
            );
        }
        self.anr_logged
            .store(false, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(package, %activity, "app started");
        self.hooks().app_started(self, &app, &activity);
        Ok(app)
    }

    /// Stops a package; it leaves the foreground if it was there.
    pub fn force_stop(&self, package: &str) {
        if self.processes.lock().unwrap().remove(package).is_some() {
            self.system_log(
                log::Priority::Info,
                "ActivityManager",
                &format!(
                    "Force stopping {package} appid={} user=0: from pid 0",
                    10_000 + app_index(package)
                ),
            );
        }
        self.leave_foreground(package);
    }

    /// A line of `system_server`'s in the log.
    fn system_log(&self, priority: log::Priority, tag: &str, message: &str) {
        self.log.write(log::SYSTEM_PID, priority, tag, message);
    }

    /// `am crash PACKAGE|PID`: the app's process dies as on an uncaught exception (since
    /// Android 9 no dialog shows for a first crash: the launcher comes back). Returns the
    /// package, or `None` when no such process runs.
    pub fn crash(&self, target: &str) -> Option<String> {
        let mut procs = self.processes.lock().unwrap();
        let package = match target.parse::<u32>() {
            Ok(pid) => procs
                .iter()
                .find(|(_, p)| **p == pid)
                .map(|(k, _)| k.clone()),
            Err(_) => procs.contains_key(target).then(|| target.to_string()),
        }?;
        let pid = procs.remove(&package).unwrap_or_default();
        drop(procs);
        // What the app's uncaught exception handler and then ActivityManager write.
        self.log.write(
            pid,
            log::Priority::Error,
            "AndroidRuntime",
            &format!(
                "FATAL EXCEPTION: main\nProcess: {package}, PID: {pid}\n\
                 android.app.RemoteServiceException$CrashedByAdbException: shell-induced crash"
            ),
        );
        self.system_log(
            log::Priority::Info,
            "ActivityManager",
            &format!("Process {package} (pid {pid}) has died: fg  TOP "),
        );
        tracing::info!(package, "app crashed");
        self.leave_foreground(&package);
        Some(package)
    }

    /// HOME: the foreground app goes to the background (its process keeps running) and the
    /// launcher shows.
    pub fn home(&self) {
        if let Some((package, _)) = self.foreground() {
            self.leave_foreground(&package);
        }
    }

    fn leave_foreground(&self, package: &str) {
        let mut fg = self.foreground.lock().unwrap();
        if fg.as_ref().is_some_and(|(p, _)| p == package) {
            *fg = None;
        }
        drop(fg);
        self.hooks().app_stopped(self, package);
    }

    /// The pid of `package`'s running process.
    pub fn pid_of(&self, package: &str) -> Option<u32> {
        self.processes.lock().unwrap().get(package).copied()
    }

    /// `setprop`: sets a property and tells the hooks.
    pub fn set_property(&self, name: &str, value: &str) -> Result<(), props::SetPropError> {
        self.props.set(name, value)?;
        self.hooks().property_set(self, name, value);
        Ok(())
    }

    /// The foreground package when it is not responding to input (see
    /// [`DeviceHooks::not_responding`]).
    pub fn not_responding(&self) -> Option<String> {
        use std::sync::atomic::Ordering;
        let fg = self.foreground()?;
        if !self.hooks().not_responding(self) {
            self.anr_logged.store(false, Ordering::Relaxed);
            return None;
        }
        if !self.anr_logged.swap(true, Ordering::Relaxed) {
            let (package, activity) = &fg;
            let pid = self.pid_of(package).unwrap_or_default();
            self.system_log(
                log::Priority::Error,
                "ActivityManager",
                &format!(
                    "ANR in {package} ({package}/{activity})\nPID: {pid}\n\
                     Reason: Input dispatching timed out (Waiting to send non-key event because the touched window has not finished processing certain input events that were delivered to it over 5000.0ms ago.)"
                ),
            );
        }
        Some(fg.0)
    }

    /// The foreground (package, activity), if an app was started.
    pub fn foreground(&self) -> Option<(String, String)> {
        self.foreground.lock().unwrap().clone()
    }

    /// Forwards injected input to the hooks; HOME (`KEYCODE_HOME`, 3) is the system's: it
    /// sends the foreground app to the background.
    pub fn input(&self, event: &InputEvent) {
        if let InputEvent::Key { code: 3, .. } = event {
            self.home();
            return;
        }
        self.hooks().input(self, event);
    }

    /// `adb reboot`: the foreground app stops, every adb connection is dropped (hosts
    /// reconnect, as to a real device coming back), and `sys.boot_completed` turns 1 again
    /// one boot delay later. Files and installed packages stay.
    pub fn reboot(&self) {
        tracing::info!("reboot");
        if let Some((package, _)) = self.foreground() {
            self.force_stop(&package);
        }
        self.props.restart_boot(Instant::now());
        self.reboots.send_modify(|n| *n += 1);
    }

    /// A receiver that changes on every reboot.
    pub fn reboot_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.reboots.subscribe()
    }

    /// Records a `chown` (the sandbox has a single real owner).
    pub fn record_owner(&self, android_path: &str, owner: &str) {
        self.owners
            .lock()
            .unwrap()
            .insert(android_path.to_string(), owner.to_string());
    }

    /// The owner recorded by `chown`, if any.
    pub fn recorded_owner(&self, android_path: &str) -> Option<String> {
        self.owners.lock().unwrap().get(android_path).cloned()
    }

    /// The CNXN banner: `device::ro.product.name=…;ro.product.model=…;ro.product.device=…;features=…`.
    pub fn banner(&self) -> String {
        let p = |k: &str| self.props.get(k).unwrap_or_default();
        format!(
            "device::ro.product.name={};ro.product.model={};ro.product.device={};features={}",
            p("ro.product.name"),
            p("ro.product.model"),
            p("ro.product.device"),
            FEATURES.join(",")
        )
    }

    /// The authentication mode for a new connection (re-reading `adb_keys`).
    pub fn auth_mode(&self) -> AuthMode {
        match &self.config.auth {
            AuthConfig::Disabled => AuthMode::Disabled,
            AuthConfig::AcceptAny => AuthMode::AcceptAny(load_keys(&self.accepted_keys_file())),
            AuthConfig::KeysFile(path) => AuthMode::Keys(load_keys(path)),
        }
    }

    /// Where keys allowed in [`AuthConfig::AcceptAny`] mode are remembered (Android keeps
    /// them in /data/misc/adb/adb_keys).
    fn accepted_keys_file(&self) -> PathBuf {
        self.config.data_dir.join("state/adb_keys")
    }

    /// Remembers a key the host offered and that was accepted.
    pub fn remember_key(&self, key: &str) {
        use std::io::Write;
        let path = self.accepted_keys_file();
        let r = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{key}"));
        if let Err(e) = r {
            tracing::warn!(path = %path.display(), error = %e, "cannot remember adb key");
        }
    }
}

/// The app id an installed package runs as, less the first app uid (10000): stable per
/// package, as the package manager keeps it (`u0a<index>` in process names).
fn app_index(package: &str) -> u32 {
    100 + package
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
        % 900
}

/// Reads an `adb_keys` file; a missing or unreadable file authorises nothing.
fn load_keys(path: &std::path::Path) -> AdbKeys {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read adb_keys; it authorises nothing");
            String::new()
        }
    };
    let (keys, bad) = AdbKeys::parse(&text);
    for (line, e) in bad {
        tracing::warn!(path = %path.display(), line, error = %e, "skipping bad adb_keys line");
    }
    keys
}
