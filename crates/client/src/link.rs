//! A try-play URL, as a player pastes or taps it: `https://host[:port]/…/play/CODE`, split into
//! the origin its API answers on (the portal proxies `/v1/play/…` to the controller on the same
//! origin) and the link's code. Strict: only `http`/`https` with a host, the code's own
//! alphabet (A–Z a–z 0–9 `-` `_`, 1–64), nothing percent-encoded; a query or fragment is
//! ignored. The URL grammar itself is the `url` crate's (the WHATWG parser reqwest uses).

/// A try-play link's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `scheme://host[:port]`, no trailing slash.
    pub origin: String,
    pub code: String,
}

/// Why a text is not a try-play link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a try-play link: {0} (expected https://host/play/<code>)")]
pub struct BadLink(pub String);

/// The longest link code.
pub const MAX_CODE: usize = 64;

/// Splits a try-play URL; see the module doc.
pub fn parse(text: &str) -> Result<Link, BadLink> {
    let bad = || BadLink(text.to_owned());
    let u = url::Url::parse(text).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    let mut segs: Vec<&str> = u.path_segments().ok_or_else(bad)?.collect();
    if segs.last() == Some(&"") {
        segs.pop();
    }
    let [.., "play", code] = segs.as_slice() else {
        return Err(bad());
    };
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(bad());
    }
    Ok(Link {
        origin: u.origin().ascii_serialization(),
        code: (*code).to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(origin: &str, code: &str) -> Link {
        Link {
            origin: origin.into(),
            code: code.into(),
        }
    }

    #[test]
    fn links_split_into_origin_and_code() {
        let cases = [
            (
                "https://play.example.com/play/abc_DEF-1",
                link("https://play.example.com", "abc_DEF-1"),
            ),
            (
                "http://127.0.0.1:8080/play/xyz/?low_latency=0",
                link("http://127.0.0.1:8080", "xyz"),
            ),
            (
                "https://h.example/t/acme/play/c0de#top",
                link("https://h.example", "c0de"),
            ),
            (
                "HTTPS://EXAMPLE.com:443/play/k",
                link("https://example.com", "k"),
            ),
            ("http://[::1]:9/play/v6", link("http://[::1]:9", "v6")),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn malformed_links_are_refused_with_the_text() {
        let long = format!("https://h/play/{}", "a".repeat(MAX_CODE + 1));
        for bad in [
            "",
            "play/abc",
            "ftp://h/play/abc",
            "https://h/abc",
            "https://h/play/",
            "https://h/play/a%20b",
            "https://h/play/../etc",
            "https://h/play/é",
            "file:///play/abc",
            "data:text/plain,/play/abc",
            "https://h/play/abc/extra",
            "https:///play/abc",
            long.as_str(),
        ] {
            assert_eq!(parse(bad), Err(BadLink(bad.to_owned())), "{bad}");
        }
    }
}
