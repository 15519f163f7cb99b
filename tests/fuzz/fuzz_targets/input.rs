//! DataChannel input: `playrack_wire::input::InputMessage::parse` and the node agent's relay
//! (`node-agent/src/relay/input.rs`) that turns an input into scrcpy control messages. A parsed
//! message serialises and parses back the same; its control messages carry positions inside
//! the video, keys a player may send only if allowed, and serialise to bytes the device reads
//! back as the same messages.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::relay_input::{allowed_for_player, to_control};
use playrack_scrcpy::control_msg::ControlMsg;
use playrack_wire::input::InputMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = InputMessage::parse(data) else {
        return;
    };
    let json = serde_json::to_vec(&msg).unwrap();
    let again: InputMessage = serde_json::from_slice(&json).unwrap();
    assert_eq!(again.validate(), Ok(()));
    assert_eq!(again, msg);
    let _ = allowed_for_player(&msg);
    for (w, h) in [(1080u16, 1920u16), (1, 1), (0, 0), (u16::MAX, 7)] {
        for c in to_control(&msg, w, h) {
            if let ControlMsg::InjectTouchEvent { position, .. } = &c {
                assert!(position.x >= 0 && position.y >= 0);
                assert!(position.x < i32::from(w.max(1)) && position.y < i32::from(h.max(1)));
            }
            let bytes = c.to_bytes();
            let (read, used) = ControlMsg::deserialize(&bytes).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(read.to_bytes(), bytes);
        }
    }
});
