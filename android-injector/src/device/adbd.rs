//! adbd: the async edge that runs the sans-IO [`Connection`] on TCP sockets and starts a
//! service task for every stream the host opens.
//!
//! Per connection, one loop owns the `Connection`: it feeds it socket bytes, writes what it
//! wants sent, and turns its events into per-stream channels. Each service task holds an
//! [`AdbStream`] and talks back to the loop with commands (accept, refuse, write, ack, close),
//! so flow control stays in the state machine: a WRTE from the host is acknowledged only
//! once the service has taken it, and [`AdbStream::write`] returns once the data is handed
//! to the wire with at most one WRTE awaiting its OKAY.
//!
//! Services: `shell` (v1, v2, pty), `exec`, `sync`, `localabstract`, `tcp`, `reboot`, and `reverse`
//! (`adb reverse localabstract:NAME tcp:N`: a listener in the device's abstract namespace whose
//! connections the device opens as streams towards the host; rules live and die with their
//! connection). Anything else is refused with CLSE.
//!
//! A protocol error drops that connection only; the listener and other connections go on.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::Device;
use super::pty::{LineDiscipline, onlcr};
use super::shell::{Input, Io, Output, Session};
use playrack_adb_proto::packet::MAX_PAYLOAD;
use playrack_adb_proto::service::Service;
use playrack_adb_proto::shell_protocol::{self, HostMessage};
use playrack_adb_proto::transport::{Connection, ConnectionConfig, Event, TransportError};

/// Size of the pipes between a shell stream and the command it runs.
const PIPE_CAPACITY: usize = 64 * 1024;
/// Chunks of host data buffered for a command's stdin or a bridged socket before the
/// stream stops reading (and so stops acknowledging) host data.
const INBOUND_CHUNKS: usize = 4;

enum Cmd {
    /// Open a stream towards the host (reverse forwarding).
    Open {
        service: String,
        reply: oneshot::Sender<Option<AdbStream>>,
    },
    Accept(u32),
    Refuse(u32),
    Write {
        id: u32,
        data: Vec<u8>,
        done: oneshot::Sender<bool>,
    },
    Ack(u32),
    Close(u32),
    /// Reboot the device once everything queued so far is on the wire.
    Reboot,
}

/// One stream, from the service's side. Dropping it closes the stream.
pub struct AdbStream {
    id: u32,
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl AdbStream {
    /// Tells the host the service started (OKAY).
    pub fn accept(&self) {
        let _ = self.cmds.send(Cmd::Accept(self.id));
    }

    /// Tells the host the service cannot be started (CLSE), consuming the stream.
    pub fn refuse(self) {
        let _ = self.cmds.send(Cmd::Refuse(self.id));
    }

    /// The next chunk the host wrote; `None` once the host closed the stream. Taking a chunk
    /// acknowledges it, so the host may send the next.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let data = self.rx.recv().await?;
        let _ = self.cmds.send(Cmd::Ack(self.id));
        Some(data)
    }

    /// Sends data to the host; waits until the stream can take more.
    pub async fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let (done, wait) = oneshot::channel();
        let gone = || io::Error::new(io::ErrorKind::BrokenPipe, "adb stream closed");
        self.cmds
            .send(Cmd::Write {
                id: self.id,
                data: data.to_vec(),
                done,
            })
            .map_err(|_| gone())?;
        match wait.await {
            Ok(true) => Ok(()),
            _ => Err(gone()),
        }
    }
}

impl Drop for AdbStream {
    fn drop(&mut self) {
        let _ = self.cmds.send(Cmd::Close(self.id));
    }
}

/// Accepts adb connections forever, one task per connection.
pub async fn serve(device: Arc<Device>, listener: TcpListener) -> io::Result<()> {
    loop {
        let (socket, peer) = listener.accept().await?;
        let device = device.clone();
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            match serve_connection(device, socket, peer).await {
                Ok(()) => tracing::info!(%peer, "adb connection closed"),
                Err(e) => tracing::warn!(%peer, error = %e, "adb connection dropped"),
            }
        });
    }
}

/// Why a connection ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("protocol error: {0}")]
    Protocol(#[from] TransportError),
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Runs one adb connection until the host disconnects or breaks the protocol.
pub async fn serve_connection<S>(
    device: Arc<Device>,
    socket: S,
    peer: SocketAddr,
) -> Result<(), ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut rd, mut wr) = tokio::io::split(socket);
    let config = ConnectionConfig {
        banner: device.banner(),
        max_payload: MAX_PAYLOAD,
        auth: device.auth_mode(),
    };
    let mut conn = Connection::new(config, Box::new(rand::random));
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Cmd>();
    let mut inbound: HashMap<u32, mpsc::UnboundedSender<Vec<u8>>> = HashMap::new();
    let mut writers: HashMap<u32, oneshot::Sender<bool>> = HashMap::new();
    // Streams we opened towards the host, until it answers.
    let mut opening: HashMap<u32, OpeningStream> = HashMap::new();
    // `adb reverse` listeners belong to this connection and stop with it.
    let reverses = Reverses::default();
    let _stop_reverses = ClearOnDrop(reverses.clone());
    // A reboot ends every connection.
    let mut reboots = device.reboot_signal();
    // Service tasks die with the connection.
    let mut tasks = JoinSet::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        while let Some(event) = conn.poll_event() {
            match event {
                Event::Online {
                    version,
                    max_payload,
                    host_banner,
                } => {
                    tracing::info!(%peer, version = format_args!("{version:#x}"), max_payload, host = %host_banner, "adb host online");
                }
                Event::KeyAccepted { key } => {
                    tracing::info!(%peer, "adb key accepted and remembered");
                    device.remember_key(&key);
                }
                Event::Unauthorized { key_comment } => {
                    tracing::warn!(%peer, key = %key_comment, "adb key not authorised");
                }
                Event::Open { local_id, service } => {
                    tracing::debug!(%peer, local_id, %service, "open");
                    let (tx, rx) = mpsc::unbounded_channel();
                    inbound.insert(local_id, tx);
                    let stream = AdbStream {
                        id: local_id,
                        rx,
                        cmds: cmd_tx.clone(),
                    };
                    let reverse = ReverseContext {
                        cmds: cmd_tx.clone(),
                        reverses: reverses.clone(),
                    };
                    // Abstract sockets are connected here, in packet order, not in the service's
                    // task: scrcpy's client connects video, audio and control back to back and
                    // the server must accept them in that order.
                    let pipe = match Service::parse(&service) {
                        Service::LocalAbstract(name) => Some(device.sockets().connect(&name)),
                        _ => None,
                    };
                    tasks.spawn(run_service(device.clone(), service, stream, reverse, pipe));
                }
                Event::Data { local_id, data } => {
                    let delivered = inbound
                        .get(&local_id)
                        .is_some_and(|tx| tx.send(data).is_ok());
                    if !delivered {
                        // The service is gone; keep the host from stalling until our CLSE lands.
                        conn.ack(local_id);
                    }
                }
                Event::Writable { local_id } => {
                    if let Some(w) = writers.remove(&local_id) {
                        let _ = w.send(true);
                    }
                }
                Event::Opened { local_id } => {
                    if let Some((reply, rx)) = opening.remove(&local_id) {
                        // If the requester is gone, dropping the stream closes it.
                        let _ = reply.send(Some(AdbStream {
                            id: local_id,
                            rx,
                            cmds: cmd_tx.clone(),
                        }));
                    }
                }
                Event::Closed { local_id } => {
                    if let Some((reply, _)) = opening.remove(&local_id) {
                        let _ = reply.send(None);
                    }
                    inbound.remove(&local_id);
                    if let Some(w) = writers.remove(&local_id) {
                        let _ = w.send(false);
                    }
                }
            }
        }
        while let Some(bytes) = conn.poll_transmit() {
            wr.write_all(&bytes).await?;
        }
        tokio::select! {
            n = rd.read(&mut buf) => {
                let n = n?;
                if n == 0 {
                    return Ok(());
                }
                conn.handle_input(&buf[..n])?;
            }
            Some(cmd) = cmd_rx.recv() => match cmd {
                Cmd::Accept(id) => {
                    let _ = conn.accept(id);
                }
                Cmd::Refuse(id) => {
                    inbound.remove(&id);
                    let _ = conn.refuse(id);
                }
                Cmd::Write { id, data, done } => match conn.write(id, &data) {
                    Ok(()) => {
                        writers.insert(id, done);
                    }
                    Err(_) => {
                        let _ = done.send(false);
                    }
                },
                Cmd::Ack(id) => conn.ack(id),
                Cmd::Close(id) => {
                    inbound.remove(&id);
                    conn.close(id);
                }
                Cmd::Reboot => {
                    while let Some(bytes) = conn.poll_transmit() {
                        wr.write_all(&bytes).await?;
                    }
                    device.reboot();
                    return Ok(());
                }
                Cmd::Open { service, reply } => match conn.open(&service) {
                    Some(id) => {
                        let (tx, rx) = mpsc::unbounded_channel();
                        inbound.insert(id, tx);
                        opening.insert(id, (reply, rx));
                    }
                    None => {
                        let _ = reply.send(None);
                    }
                },
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = reboots.changed() => {
                tracing::info!(%peer, "closing the connection for a reboot");
                return Ok(());
            }
        }
    }
}

async fn run_service(
    device: Arc<Device>,
    name: String,
    mut stream: AdbStream,
    reverse: ReverseContext,
    abstract_pipe: Option<io::Result<tokio::io::DuplexStream>>,
) {
    match Service::parse(&name) {
        Service::Shell {
            v2, pty, command, ..
        } => {
            stream.accept();
            run_shell(
                device,
                stream,
                command,
                ShellMode {
                    v2,
                    pty,
                    exec: false,
                },
            )
            .await;
        }
        Service::Exec(command) => {
            stream.accept();
            run_shell(
                device,
                stream,
                command,
                ShellMode {
                    v2: false,
                    pty: false,
                    exec: true,
                },
            )
            .await;
        }
        Service::Sync => {
            stream.accept();
            super::sync::serve(&device, stream).await;
        }
        Service::LocalAbstract(socket) => {
            match abstract_pipe.unwrap_or_else(|| device.sockets().connect(&socket)) {
                Ok(pipe) => {
                    stream.accept();
                    bridge(stream, pipe).await;
                }
                Err(e) => {
                    tracing::info!(socket = %socket, error = %e, "localabstract: nothing listening");
                    stream.refuse();
                }
            }
        }
        Service::Tcp(port) => match TcpStream::connect(("127.0.0.1", port)).await {
            Ok(sock) => {
                stream.accept();
                bridge(stream, sock).await;
            }
            Err(e) => {
                tracing::info!(port, error = %e, "tcp: connect failed");
                stream.refuse();
            }
        },
        Service::Reverse(request) => {
            stream.accept();
            let reply = reverse.handle(&device, &request);
            let _ = stream.write(&reply).await;
        }
        Service::Reboot(target) => {
            // adbd acknowledges, then the device goes down (bootloader/recovery targets are
            // treated as a plain reboot: there is no other mode to go to).
            stream.accept();
            tracing::info!(target = %target, "reboot requested");
            let cmds = stream.cmds.clone();
            drop(stream);
            // Queued after the OKAY and CLSE, so the host sees both before the connection goes.
            let _ = cmds.send(Cmd::Reboot);
        }
        Service::Unknown(_) => {
            tracing::info!(service = %name, "refusing unsupported service");
            stream.refuse();
        }
    }
}

/// Writes host data into `w` from its own task, so a slow reader never blocks the stream's
/// output. The returned sender holds at most [`INBOUND_CHUNKS`] chunks.
fn spawn_writer<W: AsyncWrite + Unpin + Send + 'static>(mut w: W) -> mpsc::Sender<Vec<u8>> {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(INBOUND_CHUNKS);
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if w.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    });
    tx
}

/// Copies bytes both ways between an adb stream and a local socket until either side closes.
async fn bridge<S: AsyncRead + AsyncWrite + Send + 'static>(mut stream: AdbStream, socket: S) {
    let (mut r, w) = tokio::io::split(socket);
    let to_socket = spawn_writer(w);
    // A chunk taken from the host and waiting for room towards the socket. While one waits,
    // no more host data is taken (so none is acknowledged): that is the backpressure.
    let mut pending: Option<Vec<u8>> = None;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            n = r.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => if stream.write(&buf[..n]).await.is_err() { break },
            },
            permit = to_socket.reserve(), if pending.is_some() => match permit {
                Ok(permit) => permit.send(pending.take().unwrap_or_default()),
                Err(_) => break,
            },
            data = stream.recv(), if pending.is_none() => match data {
                Some(d) => pending = Some(d),
                None => break,
            },
        }
    }
}

/// A stream we asked the host to open, and the receiver its data will arrive on.
type OpeningStream = (
    oneshot::Sender<Option<AdbStream>>,
    mpsc::UnboundedReceiver<Vec<u8>>,
);

/// One `adb reverse` rule: device-side name → host-side service, with its listener task.
struct Reverse {
    local: String,
    _listener: AbortOnDrop<()>,
}

/// The reverse rules of one connection, by device-side name (`localabstract:NAME`).
type Reverses = Arc<std::sync::Mutex<std::collections::BTreeMap<String, Reverse>>>;

/// Stops every reverse listener of a connection when the connection ends.
struct ClearOnDrop(Reverses);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

/// What the `reverse:` service needs from its connection.
struct ReverseContext {
    cmds: mpsc::UnboundedSender<Cmd>,
    reverses: Reverses,
}

/// adbd's reply to a forward request: `OKAY` (one: the host server adds its own before it),
/// or `FAIL` + 4 hex digits of length + message.
fn reverse_fail(message: &str) -> Vec<u8> {
    format!("FAIL{:04x}{message}", message.len()).into_bytes()
}

impl ReverseContext {
    /// Handles `reverse:<request>`; returns the bytes adbd writes back before closing.
    fn handle(&self, device: &Arc<Device>, request: &str) -> Vec<u8> {
        let mut rules = self.reverses.lock().unwrap();
        if request == "list-forward" {
            let list: String = rules
                .iter()
                .map(|(remote, r)| format!("host {remote} {}\n", r.local))
                .collect();
            // Only the host server puts an OKAY before the list; adbd sends the string alone.
            return format!("{:04x}{list}", list.len()).into_bytes();
        }
        if request == "killforward-all" {
            rules.clear();
            return b"OKAY".to_vec();
        }
        if let Some(remote) = request.strip_prefix("killforward:") {
            return match rules.remove(remote) {
                Some(_) => b"OKAY".to_vec(),
                None => reverse_fail(&format!("listener '{remote}' not found")),
            };
        }
        let Some(spec) = request.strip_prefix("forward:") else {
            return reverse_fail(&format!("unknown reverse request '{request}'"));
        };
        let (no_rebind, spec) = match spec.strip_prefix("norebind:") {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let Some((remote, local)) = spec.split_once(';') else {
            return reverse_fail("malformed forward spec");
        };
        let Some(name) = remote.strip_prefix("localabstract:") else {
            return reverse_fail(&format!(
                "unsupported reverse listener '{remote}' (only localabstract:)"
            ));
        };
        if rules.contains_key(remote) {
            if no_rebind {
                return reverse_fail("cannot rebind existing socket");
            }
            // Rebinding: the old listener goes first, then the name is free again.
            rules.remove(remote);
        }
        let mut listener = match device.sockets().listen(name) {
            Ok(l) => l,
            Err(e) => return reverse_fail(&format!("cannot bind listener: {e}")),
        };
        let cmds = self.cmds.clone();
        let target = local.to_string();
        let task = tokio::spawn(async move {
            while let Ok(conn) = listener.accept().await {
                let (reply, answer) = oneshot::channel();
                if cmds
                    .send(Cmd::Open {
                        service: target.clone(),
                        reply,
                    })
                    .is_err()
                {
                    return;
                }
                tokio::spawn(async move {
                    // The host refusing (nothing on its port) closes the device-side client.
                    if let Ok(Some(stream)) = answer.await {
                        bridge(stream, conn).await;
                    }
                });
            }
        });
        tracing::info!(%remote, %local, "reverse forward");
        rules.insert(
            remote.to_string(),
            Reverse {
                local: local.to_string(),
                _listener: AbortOnDrop(task),
            },
        );
        b"OKAY".to_vec()
    }
}

/// How a shell stream is framed and what closing it means.
#[derive(Debug, Clone, Copy)]
struct ShellMode {
    /// Shell v2 framing (stdout/stderr/exit packets).
    v2: bool,
    /// An interactive terminal: echo, line editing, `\r\n`.
    pty: bool,
    /// `exec:`: the host closing the stream only ends the command's input.
    exec: bool,
}

/// A task handle that aborts the task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a command line for `shell:`/`exec:` (raw: stdout and stderr mixed, no exit code) or
/// `shell,v2:` (framed streams and an exit message). With `pty` (interactive `adb shell`) the
/// device does the terminal's work: echo, line editing, `\r\n` output, prompts.
async fn run_shell(device: Arc<Device>, mut stream: AdbStream, command: String, mode: ShellMode) {
    let ShellMode { v2, pty, exec } = mode;
    let (stdin_w, stdin_r) = tokio::io::duplex(PIPE_CAPACITY);
    let (stdout_w, mut stdout_r) = tokio::io::duplex(PIPE_CAPACITY);
    let (stderr_w, mut stderr_r) = tokio::io::duplex(PIPE_CAPACITY);
    let io = Io {
        stdin: Input::new(stdin_r),
        stdout: Output::new(stdout_w),
        stderr: Output::new(stderr_w),
    };
    tracing::info!(%command, v2, "shell");
    // Aborted when this service ends for any reason (including the connection dropping),
    // as adbd's SIGHUP ends the process group of a shell whose stream is gone.
    let mut task = AbortOnDrop(tokio::spawn(async move {
        let mut session = Session::new(device);
        let status = if command.trim().is_empty() {
            session.interactive(&io, pty).await
        } else {
            session.run(&command, &io).await
        };
        // Every clone of stdout/stderr may not be dropped yet (a command could keep one):
        // close them explicitly so the pump sees EOF.
        let _ = io.stdout.shutdown().await;
        let _ = io.stderr.shutdown().await;
        status
    }));
    let mut stdin = Some(spawn_writer(stdin_w));
    // Stdin chunks decoded from host data, waiting for room in the command's stdin. Host data
    // is taken (and so acknowledged) only when this is empty: backpressure without ever
    // blocking the loop, so the command's output keeps flowing meanwhile.
    let mut pending: VecDeque<Vec<u8>> = VecDeque::new();
    // Close stdin once `pending` is delivered (CloseStdin, Ctrl-D, or a raw stream closed).
    let mut close_stdin = false;
    // The host closed the stream: output is discarded from then on.
    let mut host_gone = false;
    let mut decoder = shell_protocol::Decoder::default();
    let (mut out_open, mut err_open) = (true, true);
    let mut status: Option<i32> = None;
    let mut obuf = vec![0u8; PIPE_CAPACITY];
    let mut ebuf = vec![0u8; PIPE_CAPACITY];
    let mut line_discipline = pty.then(LineDiscipline::default);
    let frame = |id: u8, data: &[u8]| {
        let data = if pty { onlcr(data) } else { data.to_vec() };
        if v2 {
            shell_protocol::encode(id, &data)
        } else {
            data
        }
    };
    while out_open || err_open || status.is_none() {
        if close_stdin && pending.is_empty() {
            stdin = None;
        }
        let stdin_tx = stdin.clone();
        tokio::select! {
            r = stdout_r.read(&mut obuf), if out_open => match r {
                Ok(0) | Err(_) => out_open = false,
                Ok(n) => if !host_gone && stream.write(&frame(shell_protocol::ID_STDOUT, &obuf[..n])).await.is_err() {
                    host_gone = true;
                },
            },
            r = stderr_r.read(&mut ebuf), if err_open => match r {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => if !host_gone && stream.write(&frame(shell_protocol::ID_STDERR, &ebuf[..n])).await.is_err() {
                    host_gone = true;
                },
            },
            r = &mut task.0, if status.is_none() => {
                status = Some(r.unwrap_or(1));
                stdin = None;
                pending.clear();
            },
            permit = async { stdin_tx.as_ref()?.reserve().await.ok() }, if stdin.is_some() && !pending.is_empty() => {
                match permit {
                    Some(permit) => permit.send(pending.pop_front().unwrap_or_default()),
                    // The command closed its stdin: drop what it will never read.
                    None => {
                        stdin = None;
                        pending.clear();
                    }
                }
            },
            data = stream.recv(), if !host_gone && pending.is_empty() && !close_stdin => {
                let Some(data) = data else {
                    if !exec {
                        // The shell's stream is gone (adb killed, Ctrl-C): SIGHUP ends the
                        // command, as adbd does. This is also how a scrcpy server started with
                        // `adb shell app_process …` is stopped.
                        task.0.abort();
                        return;
                    }
                    // `exec:` streams have no half-close: the host closing means end of input
                    // (`adb exec-in`). The command runs to completion; its output is dropped.
                    host_gone = true;
                    close_stdin = true;
                    continue;
                };
                let mut raw = Some(data);
                if v2 {
                    decoder.feed(raw.as_deref().unwrap_or_default());
                }
                loop {
                    let message = if v2 { decoder.next_message() } else { Ok(raw.take().map(HostMessage::Stdin)) };
                    match message {
                        Ok(Some(HostMessage::Stdin(bytes))) => match &mut line_discipline {
                            Some(ld) => {
                                let p = ld.input(&bytes);
                                if !p.echo.is_empty() && stream.write(&frame(shell_protocol::ID_STDOUT, &p.echo)).await.is_err() {
                                    host_gone = true;
                                }
                                pending.extend(p.lines);
                                close_stdin |= p.eof;
                            }
                            None => pending.push_back(bytes),
                        },
                        Ok(Some(HostMessage::CloseStdin)) => close_stdin = true,
                        Ok(Some(HostMessage::WindowSizeChange(_))) => {}
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "bad shell protocol message; closing the stream");
                            task.0.abort();
                            return;
                        }
                    }
                }
            },
        }
    }
    if host_gone {
        return;
    }
    if v2 {
        let _ = stream
            .write(&shell_protocol::exit(status.unwrap_or(1)))
            .await;
    }
}
