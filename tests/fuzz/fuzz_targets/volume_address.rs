//! Shared volume addresses and paths inside a volume (`playrack_volume::Volume::parse`,
//! `check_relative`), which become rsync arguments. What is accepted parses back the same,
//! names no parent directory, and nothing rsync could read as an option, a pattern, a
//! remote-shell host or a second argument.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_volume::{Volume, check_relative};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plain = |s: &str| {
        !s.split('/').any(|c| c == "..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-:".contains(&b))
    };
    if let Ok(v) = Volume::parse(text) {
        let s = v.as_str();
        assert!(!s.starts_with('-'));
        assert_eq!(Volume::parse(s).unwrap(), v, "parses back the same");
        match &v {
            Volume::Local(p) => assert!(p.starts_with('/') && p.len() > 1 && plain(p)),
            Volume::Daemon(u) => {
                let rest = u.strip_prefix("rsync://").expect("a daemon URL");
                assert!(plain(rest) && !rest.contains('@') && !rest.starts_with('-'));
            }
        }
        assert_eq!(v.join("apk/ab/x.apk"), format!("{s}/apk/ab/x.apk"));
    }
    if check_relative(text).is_ok() {
        assert!(!text.starts_with(['/', '-']) && plain(text) && !text.contains(':'));
    }
});
