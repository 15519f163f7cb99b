//! DataChannel input: `playrack_wire::input::InputMessage::parse` and the node agent's relay
//! (`node-agent/src/relay/input.rs`) that turns an input into scrcpy control messages. A parsed
//! message serialises and parses back the same; its control messages carry positions inside
//! the video, keys a player may send only if allowed, and serialise to bytes the device reads
//! back as the same messages. Gamepads and the mouse go through the relay's UHID state
//! (`node-agent/src/relay/hid.rs`): their reports read back, and a mouse's steps add up to
//! its motion.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::relay_hid::{Plugged, gamepad_report};
use playrack_fuzz::relay_input::{allowed_for_player, to_control};
use playrack_scrcpy::control_msg::ControlMsg;
use playrack_scrcpy::hid::{GamepadReport, MouseReport};
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
    let mut plugged = Plugged::default();
    let hid = plugged.input(&msg).unwrap_or_default();
    match msg {
        InputMessage::Gamepad {
            buttons,
            axes,
            triggers,
            ..
        } => {
            let report = gamepad_report(buttons, axes, triggers);
            let inputs: Vec<_> = hid
                .iter()
                .filter_map(|c| match c {
                    ControlMsg::UhidInput { data, .. } => Some(GamepadReport::parse(data)),
                    _ => None,
                })
                .collect();
            assert_eq!(inputs, vec![Some(report)]);
        }
        InputMessage::Mouse { dx, dy, .. } => {
            let (mut x, mut y) = (0i32, 0i32);
            for c in &hid {
                if let ControlMsg::UhidInput { data, .. } = c {
                    let r = MouseReport::parse(data).expect("a mouse report");
                    x += i32::from(r.dx);
                    y += i32::from(r.dy);
                }
            }
            assert_eq!((x, y), (dx, dy));
        }
        _ => {}
    }
    for c in hid.into_iter().chain(plugged.release()) {
        let bytes = c.to_bytes();
        let (read, used) = ControlMsg::deserialize(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(read, c);
    }
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
