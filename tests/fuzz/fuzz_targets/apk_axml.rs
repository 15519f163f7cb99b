//! Android binary XML (the compiled `AndroidManifest.xml`): decode arbitrary bytes and walk
//! every element, attribute and string of what decodes (`playrack_apk::fuzzing::axml`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    playrack_apk::fuzzing::axml(data);
});
