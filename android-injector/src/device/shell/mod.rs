//! The device shell: what `adb shell`, `exec:` and scripts run.
//!
//! - [`parse`]: the command-line grammar (quotes, `;`/`&&`/`||`, `NAME=v` prefixes, `>`).
//! - [`Session`]: the interpreter. It keeps the working directory, environment and `$?`,
//!   applies redirections through the device's sandbox, and runs each simple command: the
//!   special builtins `cd`, `exit`, `export` itself, everything else through the device's
//!   command registry.
//! - [`Command`]: what a registered command implements. Other modules add commands with
//!   [`crate::device::Device::register_command`] — e.g. `app_process` for the scrcpy server:
//!
//! ```no_run
//! # use android_injector::device::{Device, shell::Context};
//! # fn f(device: &Device) {
//! device.register_command("app_process", |mut ctx: Context| async move {
//!     let classpath = ctx.env.get("CLASSPATH").cloned().unwrap_or_default();
//!     ctx.out(format!("would start {classpath} with {:?}\n", ctx.args())).await;
//!     0
//! });
//! # }
//! ```
//!
//! - `builtins`, `pm`, `tar`: the commands a real device has that adb and the node agent use.
//!
//! Unknown commands print `/system/bin/sh: NAME: not found` and exit 127, as a shell does.

pub mod builtins;
pub mod logcat;
pub mod parse;
pub mod pm;
pub mod tar;

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

use super::Device;
use parse::{Connector, Redirect, Target};

/// Exit status of a command that was not found.
pub const STATUS_NOT_FOUND: i32 = 127;
/// Exit status of a syntax error.
pub const STATUS_SYNTAX: i32 = 1;
/// The shell's name in its error messages.
pub const SH: &str = "/system/bin/sh";

/// A command's standard input; clones share the same stream.
#[derive(Clone)]
pub struct Input(Arc<Mutex<Box<dyn AsyncRead + Send + Unpin>>>);

/// A command's standard output or error; clones (and `2>&1`) share the same stream.
#[derive(Clone)]
pub struct Output(Arc<Mutex<Box<dyn AsyncWrite + Send + Unpin>>>);

impl Input {
    pub fn new(r: impl AsyncRead + Send + Unpin + 'static) -> Self {
        Input(Arc::new(Mutex::new(Box::new(r))))
    }

    /// An input that is at EOF at once.
    pub fn empty() -> Self {
        Input::new(tokio::io::empty())
    }

    /// Reads some bytes; 0 means EOF.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().await.read(buf).await
    }

    /// Reads exactly `n` bytes (or fails with `UnexpectedEof`).
    pub async fn read_exact_vec(&self, n: usize) -> io::Result<Vec<u8>> {
        let mut v = vec![0; n];
        self.0.lock().await.read_exact(&mut v).await?;
        Ok(v)
    }

    /// Reads to EOF, refusing more than `limit` bytes.
    pub async fn read_to_end(&self, limit: usize) -> io::Result<Vec<u8>> {
        let mut v = Vec::new();
        let mut g = self.0.lock().await;
        let n = (&mut *g).take(limit as u64 + 1).read_to_end(&mut v).await?;
        if n > limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "standard input too large",
            ));
        }
        Ok(v)
    }

    /// Reads one line without its newline; `None` at EOF.
    pub async fn read_line(&self) -> io::Result<Option<String>> {
        let mut line = Vec::new();
        let mut g = self.0.lock().await;
        let mut b = [0u8; 1];
        loop {
            if g.read(&mut b).await? == 0 {
                return Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()));
            }
            if b[0] == b'\n' {
                return Ok(Some(
                    String::from_utf8_lossy(&line)
                        .trim_end_matches('\r')
                        .to_string(),
                ));
            }
            line.push(b[0]);
        }
    }
}

impl Output {
    pub fn new(w: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        Output(Arc::new(Mutex::new(Box::new(w))))
    }

    /// An output that discards everything (`/dev/null`).
    pub fn null() -> Self {
        Output::new(tokio::io::sink())
    }

    /// Writes all of `data` and flushes.
    pub async fn write(&self, data: &[u8]) -> io::Result<()> {
        let mut g = self.0.lock().await;
        g.write_all(data).await?;
        g.flush().await
    }

    /// Flushes and closes the stream (the reader sees EOF once every clone is dropped).
    pub async fn shutdown(&self) -> io::Result<()> {
        self.0.lock().await.shutdown().await
    }
}

/// The three standard streams.
#[derive(Clone)]
pub struct Io {
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
}

/// What a command gets when it runs.
pub struct Context {
    pub device: Arc<Device>,
    /// `argv[0]` is the command name as typed (a `/system/bin/` prefix removed).
    pub argv: Vec<String>,
    /// The environment, including `NAME=v` prefixes of this command.
    pub env: BTreeMap<String, String>,
    /// The working directory (an Android path).
    pub cwd: String,
    pub io: Io,
}

impl Context {
    /// The arguments after the command name.
    pub fn args(&self) -> &[String] {
        &self.argv[1..]
    }

    /// Writes to stdout (errors — a closed stream — are ignored, as SIGPIPE would end us).
    pub async fn out(&mut self, s: impl AsRef<[u8]>) {
        let _ = self.io.stdout.write(s.as_ref()).await;
    }

    /// Writes to stderr.
    pub async fn err(&mut self, s: impl AsRef<[u8]>) {
        let _ = self.io.stderr.write(s.as_ref()).await;
    }

    /// Prints `name: message` on stderr and returns `status`.
    pub async fn fail(&mut self, status: i32, message: impl std::fmt::Display) -> i32 {
        let line = format!("{}: {message}\n", self.argv[0]);
        self.err(line).await;
        status
    }
}

/// The future a command returns: its exit status.
pub type CommandFuture = Pin<Box<dyn Future<Output = i32> + Send + 'static>>;

/// A shell command. Implemented for every `Fn(Context) -> impl Future<Output = i32>`.
pub trait Command: Send + Sync {
    fn run(&self, ctx: Context) -> CommandFuture;
}

impl<F, Fut> Command for F
where
    F: Fn(Context) -> Fut + Send + Sync,
    Fut: Future<Output = i32> + Send + 'static,
{
    fn run(&self, ctx: Context) -> CommandFuture {
        Box::pin(self(ctx))
    }
}

/// One shell: working directory, environment and last status, kept across command lines.
pub struct Session {
    device: Arc<Device>,
    pub env: BTreeMap<String, String>,
    pub cwd: String,
    pub status: i32,
    /// Set by `exit`: stop running further commands.
    pub exited: bool,
}

impl Session {
    pub fn new(device: Arc<Device>) -> Session {
        let env = [
            ("PATH", "/product/bin:/apex/com.android.runtime/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin"),
            ("HOME", "/"),
            ("SHELL", "/system/bin/sh"),
            ("USER", "shell"),
            ("LOGNAME", "shell"),
            ("HOSTNAME", "localhost"),
            ("TMPDIR", "/data/local/tmp"),
            ("ANDROID_DATA", "/data"),
            ("ANDROID_ROOT", "/system"),
            ("EXTERNAL_STORAGE", "/sdcard"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Session {
            device,
            env,
            cwd: "/".into(),
            status: 0,
            exited: false,
        }
    }

    fn lookup(&self, name: &str) -> String {
        if name == "?" {
            return self.status.to_string();
        }
        self.env.get(name).cloned().unwrap_or_default()
    }

    /// Runs one command line; returns its status (also kept in `$?`).
    pub async fn run(&mut self, line: &str, io: &Io) -> i32 {
        let script = match parse::parse(line) {
            Ok(s) => s,
            Err(e) => {
                let _ = io.stderr.write(format!("{SH}: {e}\n").as_bytes()).await;
                self.status = STATUS_SYNTAX;
                return self.status;
            }
        };
        for (connector, cmd) in script {
            if self.exited {
                break;
            }
            let run = match connector {
                Connector::Seq => true,
                Connector::And => self.status == 0,
                Connector::Or => self.status != 0,
            };
            if run {
                self.status = self.run_simple(cmd, io).await;
            }
        }
        self.status
    }

    /// Reads command lines from stdin until EOF or `exit` (`adb shell` without a command).
    /// Prompts are printed only on a terminal, as mksh does.
    pub async fn interactive(&mut self, io: &Io, prompt: bool) -> i32 {
        loop {
            if prompt {
                let device = self
                    .device
                    .props
                    .get("ro.product.device")
                    .unwrap_or_default();
                let p = format!("{device}:{} $ ", self.cwd);
                let _ = io.stdout.write(p.as_bytes()).await;
            }
            match io.stdin.read_line().await {
                Ok(Some(line)) => {
                    self.run(&line, io).await;
                    if self.exited {
                        return self.status;
                    }
                }
                _ => return self.status,
            }
        }
    }

    async fn run_simple(&mut self, cmd: parse::SimpleCommand, io: &Io) -> i32 {
        let lookup = |v: &str| self.lookup(v);
        let mut argv: Vec<String> = cmd.words.iter().map(|w| w.expand(&lookup)).collect();
        let assignments: Vec<(String, String)> = cmd
            .assignments
            .iter()
            .map(|(k, w)| (k.clone(), w.expand(&lookup)))
            .collect();
        if argv.is_empty() {
            // `NAME=value` alone sets a shell variable.
            self.env.extend(assignments);
            return 0;
        }
        let io = match self.redirect(&cmd.redirects, io).await {
            Ok(io) => io,
            Err(msg) => {
                let _ = io.stderr.write(format!("{SH}: {msg}\n").as_bytes()).await;
                return 1;
            }
        };
        for prefix in ["/system/bin/", "/system/xbin/", "/vendor/bin/"] {
            if let Some(name) = argv[0].strip_prefix(prefix) {
                argv[0] = name.to_string();
            }
        }
        match argv[0].as_str() {
            "cd" => {
                let target = argv.get(1).cloned().unwrap_or_else(|| "/".into());
                return match self.device.fs.stat(&self.cwd, &target) {
                    Ok(st) if st.mode & 0o170000 == 0o040000 => {
                        self.cwd = super::fs::normalize(&self.cwd, &target);
                        0
                    }
                    Ok(_) => {
                        self.builtin_error(&io, &format!("cd: {target}: Not a directory"))
                            .await
                    }
                    Err(e) => self.builtin_error(&io, &format!("cd: {target}: {e}")).await,
                };
            }
            "exit" => {
                self.exited = true;
                return argv
                    .get(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(self.status);
            }
            "export" => {
                for a in &argv[1..] {
                    if let Some((k, v)) = a.split_once('=') {
                        self.env.insert(k.to_string(), v.to_string());
                    }
                }
                return 0;
            }
            _ => {}
        }
        let Some(command) = self.device.command(&argv[0]) else {
            let _ = io
                .stderr
                .write(format!("{SH}: {}: not found\n", argv[0]).as_bytes())
                .await;
            return STATUS_NOT_FOUND;
        };
        let mut env = self.env.clone();
        env.extend(assignments);
        let ctx = Context {
            device: self.device.clone(),
            argv,
            env,
            cwd: self.cwd.clone(),
            io: io.clone(),
        };
        let status = command.run(ctx).await;
        // Redirected files are flushed by their own writes; nothing more to do here.
        status
    }

    async fn builtin_error(&self, io: &Io, msg: &str) -> i32 {
        let _ = io.stderr.write(format!("{SH}: {msg}\n").as_bytes()).await;
        1
    }

    /// Applies redirections left to right, as a shell does.
    async fn redirect(&self, redirects: &[Redirect], io: &Io) -> Result<Io, String> {
        let mut io = io.clone();
        for r in redirects {
            let target = match &r.target {
                Target::Fd(1) => Some(io.stdout.clone()),
                Target::Fd(2) => Some(io.stderr.clone()),
                Target::Fd(_) => return Err("bad file descriptor".into()),
                Target::File(_) => None,
            };
            let lookup = |v: &str| self.lookup(v);
            match (r.fd, target, &r.target) {
                (1, Some(out), _) => io.stdout = out,
                (2, Some(out), _) => io.stderr = out,
                (0, _, Target::File(w)) => {
                    let path = w.expand(&lookup);
                    io.stdin = if path == "/dev/null" {
                        Input::empty()
                    } else {
                        let f = self
                            .device
                            .fs
                            .open_read(&self.cwd, &path)
                            .map_err(|e| format!("{path}: {e}"))?;
                        Input::new(tokio::fs::File::from_std(f))
                    };
                }
                (fd @ (1 | 2), None, Target::File(w)) => {
                    let path = w.expand(&lookup);
                    let out = if path == "/dev/null" {
                        Output::null()
                    } else {
                        let f = if r.append {
                            self.device.fs.append_file(&self.cwd, &path)
                        } else {
                            self.device
                                .fs
                                .create_file(&self.cwd, &path)
                                .map(|(_, _, f)| f)
                        }
                        .map_err(|e| format!("can't create {path}: {e}"))?;
                        Output::new(tokio::fs::File::from_std(f))
                    };
                    if fd == 1 {
                        io.stdout = out;
                    } else {
                        io.stderr = out;
                    }
                }
                _ => return Err("unsupported redirection".into()),
            }
        }
        Ok(io)
    }
}
