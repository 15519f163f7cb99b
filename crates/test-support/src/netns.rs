//! A network namespace a test creates for a player: joined to this machine only by a veth pair
//! (`10.213.N.1` here, `10.213.N.2` inside), with chosen TCP ports of this machine's loopback
//! forwarded into its own loopback. A program run inside (`ip netns exec`) reaches exactly
//! those ports at `127.0.0.1` and this machine's side of the veth, nothing else: in particular
//! no UDP port of loopback, so a board's host candidate (`127.0.0.1:<port>`) is out of reach.
//!
//! Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2's `ip`.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;

/// A namespace, removed (with its veth pair) on drop.
pub struct PlayerNetns {
    pub name: String,
    /// This machine's end of the veth pair: what the namespace reaches it at.
    pub host_ip: Ipv4Addr,
    host_link: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e} (apt-get install iproute2)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl PlayerNetns {
    /// Creates `playrack-<pid>` with its veth pair up and addressed, or says why it cannot.
    pub fn create() -> Result<PlayerNetns, String> {
        let pid = std::process::id();
        let name = format!("playrack-{pid}");
        let (host_link, ns_link) = (
            format!("prh{}", pid % 100_000),
            format!("prn{}", pid % 100_000),
        );
        let subnet = (pid % 250) as u8;
        let host_ip = Ipv4Addr::new(10, 213, subnet, 1);
        let ns_ip = Ipv4Addr::new(10, 213, subnet, 2);
        // Leftovers of a crashed run with the same pid go first.
        let _ = ip(&["netns", "del", &name]);
        let _ = ip(&["link", "del", &host_link]);
        ip(&["netns", "add", &name])?;
        let netns = PlayerNetns {
            name: name.clone(),
            host_ip,
            host_link: host_link.clone(),
        };
        ip(&[
            "link", "add", &host_link, "type", "veth", "peer", "name", &ns_link,
        ])?;
        ip(&["link", "set", &ns_link, "netns", &name])?;
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_link])?;
        ip(&["link", "set", &host_link, "up"])?;
        ip(&[
            "-n",
            &name,
            "addr",
            "add",
            &format!("{ns_ip}/30"),
            "dev",
            &ns_link,
        ])?;
        ip(&["-n", &name, "link", "set", &ns_link, "up"])?;
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// Makes `127.0.0.1:<port>` inside the namespace lead to `127.0.0.1:<port>` here, for each
    /// port, until the namespace goes (a thread per listener and per connection).
    pub fn forward_tcp(&self, ports: &[u16]) -> Result<(), String> {
        for &port in ports {
            let path = format!("/var/run/netns/{}", self.name);
            // Only the thread that enters the namespace is in it; the listener it binds stays
            // there after the thread ends.
            let listener = std::thread::spawn(move || -> Result<TcpListener, String> {
                let ns = File::open(&path).map_err(|e| format!("{path}: {e}"))?;
                // SAFETY: setns moves only this thread, with a descriptor that stays open.
                if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(format!("setns: {}", std::io::Error::last_os_error()));
                }
                TcpListener::bind((Ipv4Addr::LOCALHOST, port))
                    .map_err(|e| format!("binding 127.0.0.1:{port} in the namespace: {e}"))
            })
            .join()
            .map_err(|_| "the namespace thread panicked".to_owned())??;
            std::thread::spawn(move || {
                for inside in listener.incoming().flatten() {
                    let Ok(outside) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
                        continue;
                    };
                    pipe(inside, outside);
                }
            });
        }
        Ok(())
    }

    /// `ip netns exec <name> <program>`: a script that runs `program` with its arguments
    /// inside the namespace, written to `path` (for tools that take one executable path).
    pub fn wrapper(&self, program: &str, path: &std::path::Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(
            path,
            format!(
                "#!/bin/sh\nexec ip netns exec {} {program} \"$@\"\n",
                self.name
            ),
        )?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
    }
}

/// Copies both ways between two sockets until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one_way = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    one_way(a, b2);
    one_way(b, a2);
}

impl Drop for PlayerNetns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
        let _ = ip(&["link", "del", &self.host_link]);
    }
}
