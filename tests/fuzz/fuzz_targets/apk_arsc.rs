//! `resources.arsc`: decode arbitrary bytes as a resource table and resolve a spread of ids in
//! every package, as the label and icon lookups do (`playrack_apk::fuzzing::arsc`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playrack_apk::fuzzing::arsc(data);
});
