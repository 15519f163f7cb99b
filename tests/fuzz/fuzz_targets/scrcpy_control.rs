//! scrcpy control messages (client → device), the device-side parser the virtual device's
//! scrcpy server runs on its control socket. Fed in pieces it yields the same messages as fed
//! at once; no message is larger than the maximum; every message read serialises to bytes
//! that read back as the same message, consuming exactly those bytes.
#![no_main]
use playrack_scrcpy::control_msg::{CONTROL_MSG_MAX_SIZE, ControlMsg, ControlMsgReader};
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::pieces;

fn run(chunks: &[&[u8]]) -> Vec<Result<ControlMsg, String>> {
    let mut r = ControlMsgReader::new();
    let mut out = Vec::new();
    for c in chunks {
        r.push(c);
        loop {
            match r.next_msg() {
                Ok(Some(m)) => {
                    let bytes = m.to_bytes();
                    assert!(bytes.len() <= CONTROL_MSG_MAX_SIZE);
                    let (again, used) = ControlMsg::deserialize(&bytes)
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
