//! Service names: what a host asks for in `OPEN(…, "service\0")`.
//!
//! The names adb 29 sends for the commands we serve:
//! - `adb shell CMD` → `shell,v2,raw:CMD` (with `shell_v2`), `shell,v2,TERM=xterm,pty:` when
//!   interactive, or plain `shell:CMD` without the feature;
//! - `adb install` → `exec:cmd package install -S SIZE [args]` (with the `cmd` feature);
//! - `adb push/pull` → `sync:`;
//! - `adb forward tcp:N localabstract:NAME` → `localabstract:NAME` per accepted connection;
//! - `adb reverse localabstract:NAME tcp:N` → `reverse:forward:localabstract:NAME;tcp:N`;
//! - `tcp:PORT` and `reboot:` are part of adbd's service table too.

/// A parsed service request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// `shell[,arg…]:command`. Empty `command` means an interactive shell.
    Shell {
        v2: bool,
        pty: bool,
        term: Option<String>,
        command: String,
    },
    /// `exec:command`: raw stdin/stdout, no shell protocol, no pty.
    Exec(String),
    /// `sync:`: the file sync protocol.
    Sync,
    /// `localabstract:NAME`: connect to an abstract-namespace Unix socket on the device.
    LocalAbstract(String),
    /// `tcp:PORT`: connect to a TCP port on the device's loopback.
    Tcp(u16),
    /// `reboot:[target]`.
    Reboot(String),
    /// `reverse:forward:…`, `reverse:killforward:…`, `reverse:killforward-all`,
    /// `reverse:list-forward` (`adb reverse`); the text after `reverse:`.
    Reverse(String),
    /// Anything else: answered with CLSE.
    Unknown(String),
}

impl Service {
    pub fn parse(name: &str) -> Service {
        if let Some(rest) = name.strip_prefix("shell") {
            // "shell:cmd" or "shell,v2,raw:cmd"; "shells:…" is something else.
            if let Some((args, command)) = rest.split_once(':')
                && (args.is_empty() || args.starts_with(','))
            {
                let mut s = Service::Shell {
                    v2: false,
                    pty: command.is_empty(),
                    term: None,
                    command: command.to_string(),
                };
                if let Service::Shell { v2, pty, term, .. } = &mut s {
                    for arg in args.split(',').filter(|a| !a.is_empty()) {
                        match arg {
                            "v2" => *v2 = true,
                            "raw" => *pty = false,
                            "pty" => *pty = true,
                            t if t.starts_with("TERM=") => *term = Some(t[5..].to_string()),
                            _ => {}
                        }
                    }
                }
                return s;
            }
        }
        if let Some(cmd) = name.strip_prefix("exec:") {
            return Service::Exec(cmd.to_string());
        }
        if name == "sync:" {
            return Service::Sync;
        }
        if let Some(n) = name.strip_prefix("localabstract:") {
            return Service::LocalAbstract(n.to_string());
        }
        if let Some(p) = name.strip_prefix("tcp:")
            && let Ok(port) = p.parse::<u16>()
        {
            return Service::Tcp(port);
        }
        if let Some(r) = name.strip_prefix("reverse:") {
            return Service::Reverse(r.to_string());
        }
        if let Some(t) = name.strip_prefix("reboot:") {
            return Service::Reboot(t.to_string());
        }
        Service::Unknown(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_adb_29_sends() {
        assert_eq!(
            Service::parse("shell,v2,raw:getprop ro.product.cpu.abi"),
            Service::Shell {
                v2: true,
                pty: false,
                term: None,
                command: "getprop ro.product.cpu.abi".into()
            }
        );
        assert_eq!(
            Service::parse("shell,v2,TERM=xterm-256color,pty:"),
            Service::Shell {
                v2: true,
                pty: true,
                term: Some("xterm-256color".into()),
                command: String::new()
            }
        );
        assert_eq!(
            Service::parse("shell:ls -l /data:x"),
            Service::Shell {
                v2: false,
                pty: false,
                term: None,
                command: "ls -l /data:x".into()
            }
        );
        assert_eq!(
            Service::parse("exec:cmd package install -S 100"),
            Service::Exec("cmd package install -S 100".into())
        );
        assert_eq!(Service::parse("sync:"), Service::Sync);
        assert_eq!(
            Service::parse("localabstract:scrcpy_0000002a"),
            Service::LocalAbstract("scrcpy_0000002a".into())
        );
        assert_eq!(Service::parse("tcp:8080"), Service::Tcp(8080));
        assert_eq!(
            Service::parse("reboot:bootloader"),
            Service::Reboot("bootloader".into())
        );
        assert_eq!(
            Service::parse("shellx:ls"),
            Service::Unknown("shellx:ls".into())
        );
        assert_eq!(
            Service::parse("tcp:notaport"),
            Service::Unknown("tcp:notaport".into())
        );
        assert_eq!(
            Service::parse("jdwp:123"),
            Service::Unknown("jdwp:123".into())
        );
    }
}
