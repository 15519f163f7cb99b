//! Test support: a real `rsync --daemon` on loopback, the `virtual-device` binary, and
//! waiting on conditions with deadlines.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Polls `cond` every 25 ms until it holds or `timeout` passes; says which.
pub async fn wait_until(timeout: Duration, mut cond: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rsync --daemon --no-detach` serving `root` as module `packages` on 127.0.0.1.
pub struct RsyncDaemon {
    child: Child,
    port: u16,
    _conf: tempfile::TempDir,
}

impl RsyncDaemon {
    /// A read-only module on a free port.
    pub fn start(root: &Path) -> RsyncDaemon {
        Self::serve(root, free_port(), true)
    }

    /// A port no daemon listens on yet (for [`RsyncDaemon::serve`] later).
    pub fn free_port() -> u16 {
        free_port()
    }

    /// A module on `port`, writable unless `read_only` (a room's volume, which the controller
    /// writes packages to). Its log records each transfer (`rsync to …` for an upload,
    /// `rsync on …` for a download).
    pub fn serve(root: &Path, port: u16, read_only: bool) -> RsyncDaemon {
        let conf = tempfile::tempdir().unwrap();
        let conf_file = conf.path().join("rsyncd.conf");
        std::fs::write(
            &conf_file,
            format!(
                "use chroot = no\nport = {port}\naddress = 127.0.0.1\npid file = {pid}\nlog file = {log}\n\
                 [packages]\n  path = {root}\n  read only = {ro}\n  uid = {uid}\n  gid = {gid}\n",
                ro = if read_only { "yes" } else { "no" },
                pid = conf.path().join("rsyncd.pid").display(),
                log = conf.path().join("rsyncd.log").display(),
                root = root.display(),
                uid = unsafe { libc::getuid() },
                gid = unsafe { libc::getgid() },
            ),
        )
        .unwrap();
        let child = Command::new("rsync")
            .args(["--daemon", "--no-detach", "--config"])
            .arg(&conf_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rsync is installed (scripts/install-deps.sh)");
        let d = RsyncDaemon {
            child,
            port,
            _conf: conf,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "rsync daemon did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    pub fn url(&self) -> String {
        format!("rsync://127.0.0.1:{}/packages", self.port)
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._conf.path().join("rsyncd.log")).unwrap_or_default()
    }
}

impl Drop for RsyncDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking()
            && let Some(mut e) = self.child.stderr.take()
        {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            eprintln!("rsync daemon stderr: {s}");
        }
    }
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The debug `virtual-device` binary, brought up to date once per test binary.
pub fn virtual_device() -> PathBuf {
    playrack_test_support::bins::virtual_device(false)
}

/// The release `virtual-device` binary, brought up to date once per process (benchmarks that
/// measure the device's own speed).
pub fn virtual_device_release() -> PathBuf {
    playrack_test_support::bins::virtual_device(true)
}

/// The debug `array-controller` binary, brought up to date once per test binary.
pub fn controller_binary() -> PathBuf {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    workspace_binary(&BUILT, "array-controller", "array-controller")
}

/// The debug `playrack-play` binary (the PC client), brought up to date once per test binary.
pub fn play_binary() -> PathBuf {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    workspace_binary(&BUILT, "playrack-play", "playrack-play")
}

/// Runs the PC client `play` headless on the try-play `url` as `device` for `n` latency
/// probes; the figures it prints (JSON: `n`, percentiles, `samples` in ms).
pub async fn client_probes(
    play: &std::path::Path,
    url: &str,
    device: &str,
    n: usize,
) -> serde_json::Value {
    let n = n.to_string();
    let out = tokio::process::Command::new(play)
        .args(["--headless", "--probe", &n, "--device-id", device, url])
        .output()
        .await
        .expect("playrack-play runs");
    assert!(
        out.status.success(),
        "playrack-play --probe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("playrack-play prints its figures as JSON")
}

/// The release `playrack-play` binary (benchmarks measure the optimised client).
pub fn play_release() -> PathBuf {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    playrack_test_support::bins::binary(&BUILT, "playrack-play", "playrack-play", true, &[])
}

/// The debug `portal` binary, brought up to date once per test binary.
pub fn portal_binary() -> PathBuf {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    workspace_binary(&BUILT, "portal", "portal")
}

/// A debug binary of another crate of the workspace, brought up to date once per test binary
/// (`built` remembers it).
fn workspace_binary(built: &std::sync::Mutex<bool>, package: &str, bin: &str) -> PathBuf {
    playrack_test_support::bins::binary(built, package, bin, false, &[])
}

/// A real process a drill kills: started in its own process group, so that whatever it
/// started (an agent's virtual devices and adb server) goes with it when the guard drops,
/// however the test ends.
pub struct Process {
    pub child: Child,
    pub name: String,
}

impl Process {
    /// Starts `cmd` in a new process group; its output goes to the test's output.
    pub fn spawn(name: &str, mut cmd: Command) -> Process {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).stdin(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Process {
            child,
            name: name.to_owned(),
        }
    }

    /// `kill -9` of the process alone (what it started lives on, orphaned, as it would).
    pub fn kill9(&mut self) {
        // SAFETY: a plain kill(2) of a child we own.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(r, 0, "kill -9 {}", self.name);
        let status = self.child.wait().expect("reaping the killed process");
        assert!(!status.success(), "{} was killed", self.name);
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: kill(2) of the process group this guard started.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Stops an adb server started by a test however the test ends (a panic included).
pub struct AdbGuard(pub node_agent::adb::Adb);

impl Drop for AdbGuard {
    fn drop(&mut self) {
        let _ = self
            .0
            .command()
            .arg("kill-server")
            .as_std_mut()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Logs for a test run, filtered by `RUST_LOG` (default: the agent's and the controller's
/// info). The test harness shows them only for a test that fails.
pub fn init_logs() {
    let filter = std::env::var("RUST_LOG")
        .unwrap_or_else(|_| "node_agent=info,array_controller=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(filter)
        .try_init();
}

/// A benchmark's runtime with `workers` threads, its logs warnings only on stderr unless
/// `RUST_LOG` says otherwise (the figures on stdout are the output).
pub fn bench_runtime(workers: usize) -> tokio::runtime::Runtime {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Runs the `docker` CLI with `args`.
pub fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run docker")
}
