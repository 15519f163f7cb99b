//! scrcpy device messages (device → client: clipboard, clipboard ack, UHID output), the
//! client-side parser the node agent runs on the control socket. Fed in pieces it yields the
//! same messages as fed at once; each message serialises to bytes that read back as itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::{decode_pieces, same_in_pieces};
use playrack_scrcpy::device_msg::{DEVICE_MSG_MAX_SIZE, DeviceMsg, DeviceMsgReader};

fn run(chunks: &[&[u8]]) -> Vec<Result<DeviceMsg, String>> {
    decode_pieces(
        chunks,
        DeviceMsgReader::new(),
        DeviceMsgReader::push,
        DeviceMsgReader::next_msg,
        |m| {
            let bytes = m.to_bytes();
            assert!(bytes.len() <= DEVICE_MSG_MAX_SIZE);
            let (again, used) = DeviceMsg::deserialize(&bytes)
                .expect("a serialised message reads back")
                .expect("a serialised message is complete");
            assert_eq!(used, bytes.len());
            assert_eq!(again, m);
            m
        },
    )
}

fuzz_target!(|data: &[u8]| {
    if let Some((&sel, stream)) = data.split_first() {
        same_in_pieces(stream, sel, run);
    }
});
