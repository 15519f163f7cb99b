//! The portal's configuration: where it listens, which controller it talks to, where the H5 SDK
//! bundle lives, cookie and session policy. Built from flags / `PLAYRACK_PORTAL_*` variables by
//! the binary, or directly by tests and the demo launcher.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything [`crate::Portal::start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// The array controller's base URL, e.g. `http://127.0.0.1:7600` (no trailing slash needed).
    pub controller_url: String,
    /// The URL players and tenants reach the portal at (behind a TLS proxy, say), used for
    /// try-play links and QR codes. `None`: the address it listens on.
    pub public_url: Option<String>,
    /// The H5 SDK's built bundle directory, served at `/assets/sdk/` (`playrack.js` inside).
    pub sdk_dir: PathBuf,
    /// Whether the session cookie carries `Secure`. See [`default_secure_cookies`].
    pub secure_cookies: bool,
    /// A session unused for this long is signed out.
    pub session_idle: Duration,
    /// A session is signed out this long after sign-in, used or not.
    pub session_max: Duration,
    /// Largest request body the `/api` and `/v1/play` proxies buffer (uploads stream instead).
    pub max_body_bytes: usize,
    /// The bearer token a Prometheus on another machine scrapes `/metrics` with; without one,
    /// only this machine may.
    pub metrics_token: Option<String>,
    /// Serve HTTPS with this certificate chain and key (PEM files); `None`: plain HTTP, for a
    /// TLS-terminating proxy in front (give it `public_url`).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A CA (PEM) to trust for an `https://` controller, besides the system's roots.
    pub controller_ca: Option<PathBuf>,
    /// The platform's currency (ISO 4217): prices and charges are micro-units of it.
    pub currency: String,
}

impl Config {
    /// A configuration for `controller_url` listening on a free loopback port: what tests and
    /// the demo launcher use.
    pub fn local(controller_url: impl Into<String>) -> Config {
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
        Config {
            listen,
            controller_url: controller_url.into(),
            public_url: None,
            sdk_dir: PathBuf::from("sdk-h5/dist"),
            secure_cookies: default_secure_cookies(listen, None),
            session_idle: Duration::from_secs(2 * 3600),
            session_max: Duration::from_secs(12 * 3600),
            max_body_bytes: 1024 * 1024,
            metrics_token: None,
            tls: None,
            controller_ca: None,
            currency: "CNY".into(),
        }
    }
}

/// `Secure` is on unless the portal is only reachable over plain HTTP on loopback.
///
/// Browsers do not send (Safari: do not even keep) `Secure` cookies over plain `http://`, so a
/// demo on `http://127.0.0.1` could never sign in with them; traffic on loopback never leaves the
/// machine, so there is nothing for `Secure` to protect there. Anywhere else the portal is
/// expected behind TLS and the cookie must never travel in clear, so it is on — including a
/// plain-HTTP listener on a public interface (sign-in then only works through an HTTPS proxy,
/// which is the point; the binary warns at start-up).
pub fn default_secure_cookies(listen: SocketAddr, public_url: Option<&str>) -> bool {
    match public_url {
        Some(url) => {
            let Some(rest) = url.strip_prefix("http://") else {
                return true; // https:// (or anything unexpected): keep Secure
            };
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = match host.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
                _ => host,
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            !(host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()))
        }
        None => !listen.ip().is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_only_off_for_plain_http_on_loopback() {
        let lo: SocketAddr = "127.0.0.1:7700".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:7700".parse().unwrap();
        assert!(!default_secure_cookies(lo, None));
        assert!(default_secure_cookies(any, None));
        assert!(!default_secure_cookies(any, Some("http://localhost:7700")));
        assert!(!default_secure_cookies(any, Some("http://[::1]:7700/")));
        assert!(default_secure_cookies(lo, Some("https://play.example.com")));
        assert!(default_secure_cookies(lo, Some("http://play.example.com")));
        assert!(default_secure_cookies(
            lo,
            Some("http://127.0.0.1.evil.example/")
        ));
    }
}
