//! Network namespaces for tests (root: CAP_NET_ADMIN and CAP_SYS_ADMIN): a namespace joined to
//! the host by veth pairs, made with iproute2 and removed on drop, links shaped with `tc`, and
//! UDP sockets bound inside it. Test traffic stays between the host and namespaces the tests
//! made.
#![allow(dead_code)]

use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::process::Command;

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (iproute2): {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn ip(args: &[&str]) {
    run("ip", args);
}

pub fn tc(args: &[&str]) {
    run("tc", args);
}

/// A network namespace (see the module doc).
pub struct Namespace {
    pub name: String,
    /// Host ends of its veth pairs.
    links: Vec<String>,
}

impl Namespace {
    /// A fresh namespace `name` with its loopback up (one an earlier, killed run left behind
    /// is removed first).
    pub fn add(name: &str) -> Namespace {
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        ip(&["netns", "add", name]);
        let ns = Namespace {
            name: name.to_owned(),
            links: Vec::new(),
        };
        ns.exec_ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip args` inside the namespace.
    pub fn exec_ip(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", &self.name, "ip"];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// A veth pair: `host_if` on the host with `host_cidr`, `ns_if` inside with `ns_cidr`,
    /// both up.
    pub fn veth(&mut self, host_if: &str, ns_if: &str, host_cidr: &str, ns_cidr: &str) {
        let _ = Command::new("ip").args(["link", "del", host_if]).output();
        ip(&[
            "link", "add", host_if, "type", "veth", "peer", "name", ns_if,
        ]);
        self.links.push(host_if.to_owned());
        ip(&["link", "set", ns_if, "netns", &self.name]);
        ip(&["addr", "add", host_cidr, "dev", host_if]);
        ip(&["link", "set", host_if, "up"]);
        self.exec_ip(&["addr", "add", ns_cidr, "dev", ns_if]);
        self.exec_ip(&["link", "set", ns_if, "up"]);
    }

    /// A UDP socket bound at `addr` inside the namespace (a thread enters it to bind; the
    /// socket stays there), ready for tokio.
    pub fn udp_socket(&self, addr: IpAddr) -> tokio::net::UdpSocket {
        let path = format!("/run/netns/{}", self.name);
        let socket = std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("the namespace's handle");
            // SAFETY: setns on this thread only, with a namespace fd it owns.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            let s = std::net::UdpSocket::bind((addr, 0)).expect("bind in the namespace");
            s.set_nonblocking(true).unwrap();
            s
        })
        .join()
        .unwrap();
        tokio::net::UdpSocket::from_std(socket).unwrap()
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        for link in &self.links {
            let _ = Command::new("ip").args(["link", "del", link]).output();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
