//! A try-play URL as a player pastes it (`playrack_client::link::parse`, the PC client's
//! argument and the native SDKs'). What is accepted is an http(s) origin and a code of the
//! link alphabet, and the origin with `/play/<code>` parses back to the same parts.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_client::link::{MAX_CODE, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(l) = parse(text) {
        assert!(
            l.origin.starts_with("https://") || l.origin.starts_with("http://"),
            "{l:?}"
        );
        assert!(!l.origin.ends_with('/'), "{l:?}");
        assert!(!l.code.is_empty() && l.code.len() <= MAX_CODE, "{l:?}");
        assert!(
            l.code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{l:?}"
        );
        let again = parse(&format!("{}/play/{}", l.origin, l.code));
        assert_eq!(again.as_ref(), Ok(&l), "parses back the same");
    }
});
