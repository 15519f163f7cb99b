//! Debian's coturn for tests: a TURN server on loopback that takes TURN REST API credentials,
//! and coturn's own client to check what it accepts.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's coturn (`turnserver`) on loopback, taking TURN REST API credentials made with
/// `secret` (`use-auth-secret`), relaying to loopback peers; UDP and TCP on one free port.
pub struct Coturn {
    child: Child,
    pub port: u16,
}

impl Coturn {
    pub fn start(secret: &str) -> Coturn {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("turnserver")
            .args([
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                "--use-auth-secret",
                "--realm=playrack.test",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                "--allow-loopback-peers",
                "--log-file=stdout",
                "--simple-log",
            ])
            .arg(format!("--listening-port={port}"))
            .arg(format!("--static-auth-secret={secret}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("coturn is installed (scripts/install-deps.sh)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "coturn did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Coturn { child, port }
    }

    /// Whether coturn allocates a relay for `username`/`password` and relays a few packets
    /// through it (coturn's own test client, `turnutils_uclient`, over UDP or TCP).
    pub fn relays(&self, username: &str, password: &str, tcp: bool) -> bool {
        let mut cmd = Command::new("turnutils_uclient");
        cmd.args([
            "-u",
            username,
            "-w",
            password,
            "-e",
            "127.0.0.1",
            "-n",
            "3",
            "-m",
            "1",
        ])
        .args(["-p", &self.port.to_string()]);
        if tcp {
            cmd.arg("-t");
        }
        let child = cmd
            .arg("127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("turnutils_uclient (coturn)");
        let out = crate::exit_within(child, Duration::from_secs(30), "turnutils_uclient");
        out.status.success()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
