//! A link's embed origins (`playrack_wire::api::embed_origin`), which end up in the player
//! page's `Content-Security-Policy: frame-ancestors`. What is accepted parses back the same and
//! holds nothing a header or a policy list could read as more than one origin.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_wire::api::embed_origin;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(o) = embed_origin(text) {
        assert_eq!(embed_origin(&o).as_deref(), Ok(o.as_str()), "parses back the same");
        assert!(o.starts_with("https://") || o.starts_with("http://"), "{o}");
        assert!(
            o.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-:/[]".contains(&b)),
            "{o}"
        );
        let host = o.split_once("://").unwrap().1;
        assert!(!host.is_empty() && !host.contains('/'), "{o}");
    }
});
