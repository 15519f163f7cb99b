//! A degrade switch's scope (`playrack_wire::api::SwitchScope::parse`), read from operators'
//! requests and from the store. What is accepted reads back the same, and its id holds only
//! the characters ids have (so it can name nothing else and go into an audit object id).
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_wire::api::SwitchScope;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match SwitchScope::parse(text) {
        Ok(scope) => {
            let again = scope.to_string();
            assert_eq!(again, text, "reads back the same");
            assert_eq!(SwitchScope::parse(&again), Ok(scope));
            if let Some((_, id)) = again.split_once(':') {
                assert!(
                    !id.is_empty()
                        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                    "{again}"
                );
            }
        }
        Err(why) => assert!(!why.is_empty()),
    }
});
