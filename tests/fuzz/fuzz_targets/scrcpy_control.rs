//! scrcpy control messages (client → device), the device-side parser the virtual device's
//! scrcpy server runs on its control socket. Fed in pieces it yields the same messages as fed
//! at once; no message is larger than the maximum; every message read serialises to bytes
//! that read back as the same message, consuming exactly those bytes. Messages are compared as
//! their bytes: a sensor reading may be NaN, which equals nothing, itself included.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::{decode_pieces, same_in_pieces};
use playrack_scrcpy::control_msg::{CONTROL_MSG_MAX_SIZE, ControlMsg, ControlMsgReader};

fn run(chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, String>> {
    decode_pieces(
        chunks,
        ControlMsgReader::new(),
        ControlMsgReader::push,
        ControlMsgReader::next_msg,
        |m| {
            let bytes = m.to_bytes();
            assert!(bytes.len() <= CONTROL_MSG_MAX_SIZE);
            let (again, used) = ControlMsg::deserialize(&bytes)
                .expect("a serialised message reads back")
                .expect("a serialised message is complete");
            assert_eq!(used, bytes.len());
            assert_eq!(again.to_bytes(), bytes);
            bytes
        },
    )
}

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, stream)) = data.split_first() {
        same_in_pieces(stream, sel, run);
    }
});
