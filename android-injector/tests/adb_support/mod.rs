//! Test support for the adb tests: a virtual device (as a child process or in-process), an
//! isolated real adb server (its own port and `HOME`, so its keys and device list are its
//! own), and a minimal raw adb host for the cases real adb never produces.
//!
//! Everything waits on conditions with timeouts; nothing sleeps and hopes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use android_injector::device::{AuthConfig, Device, DeviceConfig, Identity};
use playrack_adb_proto::packet::{
    self, A_CNXN, A_OPEN, A_VERSION, MAX_PAYLOAD, Packet, PacketDecoder,
};

/// How long any single condition may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Polls `cond` until it is true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `virtual-device` child process; killed on drop.
pub struct DeviceProcess {
    child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl DeviceProcess {
    /// Starts the binary with a fresh data directory and `extra` flags.
    pub fn start(extra: &[&str]) -> DeviceProcess {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut d = Self::start_in(&dir, extra);
        d._tmp = Some(tmp);
        d
    }

    /// Starts the binary on an existing data directory (a restart keeps it).
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> DeviceProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_virtual-device"))
            .args(["--adb-port", "0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            // The device's log goes next to its data, to read when a test fails.
            .stderr(std::fs::File::create(data_dir.join("virtual-device.log")).unwrap())
            .spawn()
            .expect("start virtual-device");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(TIMEOUT)
            .expect("virtual-device did not report its port");
        let port = line
            .trim()
            .strip_prefix("virtual-device listening on 127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        DeviceProcess {
            child,
            port,
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
        }
    }

    pub fn serial(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the process and keeps the data directory (for restarts).
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self._tmp.take()
    }
}

impl Drop for DeviceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A device served in this test process (so the test can use its Rust API, e.g. to listen
/// on an abstract socket). Dropping it stops its runtime.
pub struct InProcessDevice {
    pub device: Arc<Device>,
    pub port: u16,
    pub runtime: tokio::runtime::Runtime,
    _tmp: tempfile::TempDir,
}

impl InProcessDevice {
    pub fn start(auth: AuthConfig) -> InProcessDevice {
        let tmp = tempfile::tempdir().unwrap();
        let device = Device::open(DeviceConfig {
            data_dir: tmp.path().to_path_buf(),
            identity: identity(),
            boot_delay: Duration::ZERO,
            storage_quota: 1 << 30,
            auth,
        })
        .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let d = device.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let _ = android_injector::device::adbd::serve(d, listener).await;
        });
        InProcessDevice {
            device,
            port,
            runtime,
            _tmp: tmp,
        }
    }

    pub fn serial(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

pub fn identity() -> Identity {
    Identity {
        serial: "test0001".into(),
        model: "Playrack Test".into(),
        product: "playrack_arm64".into(),
        width: 720,
        height: 1280,
        dpi: 320,
        fps: 60,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real adb server on its own port with its own HOME; killed on drop.
pub struct AdbServer {
    pub port: u16,
    pub home: tempfile::TempDir,
}

impl AdbServer {
    /// Starts a server on a free port. The port is free when picked, but another test's
    /// listener may take it before adb binds it (adb then reads that listener as a broken
    /// server: "protocol fault"), so a failed start is tried again on a newly picked port.
    pub fn start() -> AdbServer {
        let mut last = String::new();
        for _ in 0..5 {
            let server = AdbServer {
                port: free_port(),
                home: tempfile::tempdir().unwrap(),
            };
            let out = server.adb(&["start-server"]);
            if out.status.success() {
                return server;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("adb start-server failed on five ports; last: {last}");
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new("adb");
        c.env("HOME", self.home.path())
            .env("ANDROID_ADB_SERVER_PORT", self.port.to_string())
            .env_remove("ADB_VENDOR_KEYS")
            .env_remove("ANDROID_SERIAL")
            .stdin(Stdio::null());
        c
    }

    /// Runs `adb ARGS` against this server.
    pub fn adb(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run adb")
    }

    /// Runs `adb -s SERIAL ARGS`.
    pub fn adb_s(&self, serial: &str, args: &[&str]) -> Output {
        let mut all = vec!["-s", serial];
        all.extend_from_slice(args);
        self.adb(&all)
    }

    /// `adb shell` and its (stdout, stderr, exit code).
    pub fn shell(&self, serial: &str, cmd: &str) -> (String, String, i32) {
        let o = self.adb_s(serial, &["shell", cmd]);
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.status.code().unwrap_or(-1),
        )
    }

    /// The state `adb devices` reports for `serial` (`device`, `unauthorized`, …).
    pub fn state(&self, serial: &str) -> Option<String> {
        let o = self.adb(&["devices"]);
        String::from_utf8_lossy(&o.stdout).lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(serial)).then(|| parts.next().unwrap_or("").to_string())
        })
    }

    /// `adb connect` and wait until the device reaches `state`.
    pub fn connect_until(&self, serial: &str, state: &str) {
        let o = self.adb(&["connect", serial]);
        assert!(o.status.success(), "adb connect: {o:?}");
        assert!(
            wait_for(TIMEOUT, || self.state(serial).as_deref() == Some(state)),
            "{serial} never became {state}: {:?}",
            self.state(serial)
        );
    }

    pub fn connect(&self, serial: &str) {
        self.connect_until(serial, "device");
    }

    /// The adb public key this server generated in its HOME.
    pub fn public_key(&self) -> String {
        let path = self.home.path().join(".android/adbkey.pub");
        assert!(
            wait_for(TIMEOUT, || path.exists()),
            "adb did not create {}",
            path.display()
        );
        std::fs::read_to_string(path).unwrap()
    }
}

impl Drop for AdbServer {
    fn drop(&mut self) {
        let _ = self.adb(&["kill-server"]);
    }
}

/// A raw adb host over TCP, built on the crate's own packet codec.
pub struct RawHost {
    pub sock: TcpStream,
    decoder: PacketDecoder,
}

impl RawHost {
    pub fn connect(port: u16) -> RawHost {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        RawHost {
            sock,
            decoder: PacketDecoder::new(),
        }
    }

    pub fn send(&mut self, p: &Packet) {
        self.sock.write_all(&packet::encode(p)).unwrap();
    }

    /// The next packet; `None` if the device closed the connection.
    pub fn recv(&mut self) -> Option<Packet> {
        loop {
            if let Some(p) = self
                .decoder
                .next_packet(u32::MAX, packet::Checksum::Skip)
                .unwrap()
            {
                return Some(p);
            }
            let mut buf = [0u8; 65536];
            match self.sock.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.decoder.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// CNXN against a device without auth; returns the device's CNXN.
    pub fn handshake(&mut self) -> Packet {
        self.send(&Packet::new(
            A_CNXN,
            A_VERSION,
            MAX_PAYLOAD,
            b"host::features=shell_v2,cmd,stat_v2\0".to_vec(),
        ));
        let p = self.recv().expect("CNXN reply");
        assert_eq!(p.command, A_CNXN);
        p
    }

    /// Opens a service as host stream `id`; returns the device's id, or `None` on CLSE.
    pub fn open(&mut self, id: u32, service: &str) -> Option<u32> {
        self.send(&Packet::new(A_OPEN, id, 0, format!("{service}\0")));
        loop {
            let p = self.recv().expect("reply to OPEN");
            match p.command {
                // Late packets of streams opened before (their CLSE, say) are not ours.
                _ if p.arg1 != id => continue,
                packet::A_OKAY => return Some(p.arg0),
                packet::A_CLSE if p.arg0 == 0 => return None,
                _ => panic!("unexpected reply to OPEN {service}: {p:?}"),
            }
        }
    }

    /// Writes on a stream and waits for the device's OKAY; collects any WRTE that arrives
    /// meanwhile (acknowledging it) into `got`.
    pub fn write(&mut self, local: u32, remote: u32, data: &[u8], got: &mut Vec<u8>) {
        self.send(&Packet::new(packet::A_WRTE, local, remote, data.to_vec()));
        loop {
            let p = self.recv().expect("reply to WRTE");
            match p.command {
                _ if p.arg1 != local => continue,
                packet::A_OKAY => return,
                packet::A_WRTE => {
                    got.extend_from_slice(&p.data);
                    self.send(&Packet::new(packet::A_OKAY, local, remote, Vec::new()));
                }
                other => panic!("unexpected {} while writing", packet::command_name(other)),
            }
        }
    }

    /// Reads stream data until at least `n` bytes arrived or the stream closed.
    pub fn read_at_least(&mut self, local: u32, remote: u32, n: usize, got: &mut Vec<u8>) -> bool {
        while got.len() < n {
            let Some(p) = self.recv() else { return false };
            match p.command {
                _ if p.arg1 != local => continue,
                packet::A_WRTE => {
                    got.extend_from_slice(&p.data);
                    self.send(&Packet::new(packet::A_OKAY, local, remote, Vec::new()));
                }
                packet::A_CLSE => return false,
                _ => {}
            }
        }
        true
    }
}
