//! Debian's coturn for tests: a TURN server on loopback (or another local address) that takes TURN REST API credentials,
//! and coturn's own client to check what it accepts.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's coturn (`turnserver`) on loopback, taking TURN REST API credentials made with
/// `secret` (`use-auth-secret`), relaying to loopback peers; UDP and TCP on one free port.
pub struct Coturn {
    child: Child,
    /// Where it listens and relays from.
    pub ip: std::net::Ipv4Addr,
    pub port: u16,
}

impl Coturn {
    pub fn start(secret: &str) -> Coturn {
        Self::start_on(std::net::Ipv4Addr::LOCALHOST, secret)
    }

    /// The same, listening and relaying on `ip` (an address of this machine, e.g. its side of
    /// a test's network namespace).
    pub fn start_on(ip: std::net::Ipv4Addr, secret: &str) -> Coturn {
        let port = std::net::TcpListener::bind((ip, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("turnserver")
            .arg(format!("--listening-ip={ip}"))
            .arg(format!("--relay-ip={ip}"))
            .args([
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
        while std::net::TcpStream::connect((ip, port)).is_err() {
            assert!(Instant::now() < deadline, "coturn did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Coturn { child, ip, port }
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
            &self.ip.to_string(),
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
            .arg(self.ip.to_string())
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
