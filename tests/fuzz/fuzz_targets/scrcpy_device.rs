//! scrcpy device messages (device → client: clipboard, clipboard ack, UHID output), the
//! client-side parser the node agent runs on the control socket. Fed in pieces it yields the
//! same messages as fed at once; each message serialises to bytes that read back as itself.
#![no_main]
use playrack_scrcpy::device_msg::{DEVICE_MSG_MAX_SIZE, DeviceMsg, DeviceMsgReader};
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::pieces;

fn run(chunks: &[&[u8]]) -> Vec<Result<DeviceMsg, String>> {
    let mut r = DeviceMsgReader::new();
    let mut out = Vec::new();
    for c in chunks {
        r.push(c);
        loop {
            match r.next_msg() {
                Ok(Some(m)) => {
                    let bytes = m.to_bytes();
                    assert!(bytes.len() <= DEVICE_MSG_MAX_SIZE);
                    let (again, used) = DeviceMsg::deserialize(&bytes)
                        .expect("a serialised message reads back")
                        .expect("a serialised message is complete");
                    assert_eq!(used, bytes.len());
                    assert_eq!(again, m);
                    out.push(Ok(m));
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    assert_eq!(run(&[stream]), run(&pieces(stream, sel)));
});
