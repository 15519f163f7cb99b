//! The manifest reader on top of binary XML: package, versions, SDKs, permissions, launchable
//! activity. A launchable activity it returns is always a valid class name (it ends up in
//! `am start -n`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playrack_apk::fuzzing::manifest(data);
});
