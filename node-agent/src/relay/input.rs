//! Player input → scrcpy control messages.
//!
//! The SDKs send [`InputMessage`]s on the DataChannel `input`, with coordinates normalised to
//! the video (0.0–1.0). [`to_control`] turns one into the control messages the injector
//! understands, in pixels of the *current* video size: scrcpy's server drops a touch whose
//! size is not the size it encodes at, so the relay keeps that size from the video stream's
//! session packets and converts at the last moment.

use playrack_scrcpy::control_msg::{
    AKEY_EVENT_ACTION_DOWN, AKEY_EVENT_ACTION_UP, AKEYCODE_BACK, AKEYCODE_F12, AKEYCODE_HOME,
    AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_MOVE, AMOTION_EVENT_ACTION_UP, ControlMsg,
    Position, SENSOR_TYPE_ACCELEROMETER, SENSOR_TYPE_GYROSCOPE, SENSOR_TYPE_ORIENTATION,
};
use playrack_wire::input::{InputMessage, KeyAction, SensorKind, TouchPhase};

/// Whether a player may send this: input stays inside the game. HOME, APP_SWITCH, POWER, the
/// assistant, notifications, settings and app-launching keys would take the player out of
/// the game into the instance's launcher (another app, a shell of the board's instance), so
/// only keys a game can use pass: BACK, MENU, text and editing keys, D-pad, gamepad, function
/// and numpad keys, media and volume keys.
pub fn allowed_for_player(msg: &InputMessage) -> bool {
    match msg {
        InputMessage::Home {} => false,
        InputMessage::Key { keycode, .. } => game_key(*keycode),
        _ => true,
    }
}

/// The Android key codes a game may receive (see `KeyEvent.java`).
fn game_key(code: u32) -> bool {
    matches!(code,
        4 // BACK
        | 7..=18 // digits, * #
        | 19..=23 // D-pad
        | 24 | 25 | 164 // volume up/down, mute
        | 29..=56 // letters, comma, period
        | 57..=60 // alt, shift
        | 61 | 62 | 66 | 67 // tab, space, enter, del
        | 68..=78 | 81 // punctuation, plus
        | 82 // MENU
        | 85..=90 | 126 | 127 // media play/pause, stop, next, previous, rewind, fast forward
        | 92 | 93 // page up/down
        | 96..=110 // gamepad buttons
        | 111..=124 // escape, forward delete, ctrl, caps/scroll lock, meta, function, sysrq excluded below
        | 131..=163 // F1–F12, num lock, numpad
        | 188..=203 // gamepad buttons 1–16
        | 277..=279 // cut, copy, paste
    ) && code != 120 // SYSRQ
}

/// The control messages for one input message at video size `width`×`height`.
pub fn to_control(msg: &InputMessage, width: u16, height: u16) -> Vec<ControlMsg> {
    match msg {
        InputMessage::Touch {
            phase,
            pointer,
            x,
            y,
            pressure,
        } => {
            let action = match phase {
                TouchPhase::Down => AMOTION_EVENT_ACTION_DOWN,
                TouchPhase::Move => AMOTION_EVENT_ACTION_MOVE,
                // A cancelled gesture lifts the finger where it was.
                TouchPhase::Up | TouchPhase::Cancel => AMOTION_EVENT_ACTION_UP,
            };
            let lifted = action == AMOTION_EVENT_ACTION_UP;
            vec![ControlMsg::InjectTouchEvent {
                action,
                pointer_id: u64::from(*pointer),
                position: Position {
                    x: to_pixel(*x, width),
                    y: to_pixel(*y, height),
                    width,
                    height,
                },
                pressure: pressure.unwrap_or(if lifted { 0.0 } else { 1.0 }),
                action_button: 0,
                buttons: 0,
            }]
        }
        InputMessage::Key {
            action,
            keycode,
            meta,
        } => vec![key(
            match action {
                KeyAction::Down => AKEY_EVENT_ACTION_DOWN,
                KeyAction::Up => AKEY_EVENT_ACTION_UP,
            },
            *keycode as i32,
            *meta as i32,
        )],
        InputMessage::Text { text } => vec![ControlMsg::InjectText { text: text.clone() }],
        InputMessage::Scroll { x, y, h, v } => vec![ControlMsg::InjectScrollEvent {
            position: Position {
                x: to_pixel(*x, width),
                y: to_pixel(*y, height),
                width,
                height,
            },
            hscroll: *h,
            vscroll: *v,
            buttons: 0,
        }],
        // Playrack's injector hands these to the game (the engine sends them only to one).
        InputMessage::Custom { data } => vec![ControlMsg::Custom { data: data.clone() }],
        InputMessage::Sensor { kind, values } => vec![ControlMsg::Sensor {
            kind: match kind {
                SensorKind::Accelerometer => SENSOR_TYPE_ACCELEROMETER,
                SensorKind::Gyroscope => SENSOR_TYPE_GYROSCOPE,
                SensorKind::Orientation => SENSOR_TYPE_ORIENTATION,
            },
            values: *values,
        }],
        InputMessage::Location { lat, lon, accuracy } => vec![ControlMsg::Location {
            latitude: *lat,
            longitude: *lon,
            accuracy: *accuracy,
        }],
        // Devices the instance keeps plugged in: the engine's `hid::Plugged` knows their state.
        InputMessage::Gamepad { .. }
        | InputMessage::GamepadGone { .. }
        | InputMessage::Mouse { .. } => Vec::new(),
        // No acknowledgement asked for (sequence 0): nothing waits for one.
        InputMessage::Clipboard { text, paste } => vec![ControlMsg::SetClipboard {
            sequence: 0,
            paste: *paste,
            text: text.clone(),
        }],
        InputMessage::Back {} => press(AKEYCODE_BACK),
        InputMessage::Home {} => press(AKEYCODE_HOME),
        // The game flips its probe square on F12 DOWN; the SDK times the frame that shows it.
        InputMessage::Probe { .. } => press(AKEYCODE_F12),
        // The player's measurement: for the metrics, nothing for the game.
        InputMessage::Latency { .. } | InputMessage::Quality { .. } | InputMessage::Here {} => {
            Vec::new()
        }
    }
}

/// A normalised coordinate (already validated to 0.0–1.0) in pixels of a `size`-pixel axis.
fn to_pixel(v: f32, size: u16) -> i32 {
    let max = i32::from(size.max(1)) - 1;
    ((v * f32::from(size)) as i32).clamp(0, max)
}

fn key(action: u8, keycode: i32, metastate: i32) -> ControlMsg {
    ControlMsg::InjectKeycode {
        action,
        keycode,
        repeat: 0,
        metastate,
    }
}

/// A key pressed and released.
fn press(keycode: i32) -> Vec<ControlMsg> {
    vec![
        key(AKEY_EVENT_ACTION_DOWN, keycode, 0),
        key(AKEY_EVENT_ACTION_UP, keycode, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn players_cannot_leave_the_game() {
        let key = |keycode| InputMessage::Key {
            action: KeyAction::Down,
            keycode,
            meta: 0,
        };
        // HOME, POWER, APP_SWITCH, ASSIST, SETTINGS, NOTIFICATION, SEARCH, ALL_APPS, SYSRQ,
        // CALL, CAMERA, EXPLORER, CALCULATOR
        for code in [3, 26, 187, 219, 176, 83, 84, 284, 120, 5, 27, 64, 210] {
            assert!(!allowed_for_player(&key(code)), "{code}");
        }
        assert!(!allowed_for_player(&InputMessage::Home {}));
        // BACK, ENTER, A, D-pad centre, gamepad A, F1, volume up
        for code in [4, 66, 29, 23, 96, 131, 24] {
            assert!(allowed_for_player(&key(code)), "{code}");
        }
        assert!(allowed_for_player(&InputMessage::Back {}));
        assert!(allowed_for_player(&InputMessage::Text {
            text: "hi".into()
        }));
    }

    fn parse(s: &str) -> InputMessage {
        InputMessage::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn touches_land_in_pixels_of_the_current_video_size() {
        let m = to_control(
            &parse(r#"{"t":"touch","phase":"down","pointer":2,"x":0.5,"y":0.25}"#),
            720,
            1280,
        );
        assert_eq!(
            m,
            vec![ControlMsg::InjectTouchEvent {
                action: AMOTION_EVENT_ACTION_DOWN,
                pointer_id: 2,
                position: Position {
                    x: 360,
                    y: 320,
                    width: 720,
                    height: 1280
                },
                pressure: 1.0,
                action_button: 0,
                buttons: 0,
            }]
        );
        // The far edge stays inside the screen; a cancel lifts the finger with no pressure.
        let m = to_control(
            &parse(r#"{"t":"touch","phase":"cancel","pointer":0,"x":1.0,"y":1.0}"#),
            360,
            640,
        );
        let ControlMsg::InjectTouchEvent {
            action,
            position,
            pressure,
            ..
        } = &m[0]
        else {
            panic!("{m:?}")
        };
        assert_eq!(*action, AMOTION_EVENT_ACTION_UP);
        assert_eq!((position.x, position.y), (359, 639));
        assert_eq!(*pressure, 0.0);
    }

    #[test]
    fn the_wheel_scrolls_where_it_turns_and_the_clipboard_is_set() {
        assert_eq!(
            to_control(
                &parse(r#"{"t":"scroll","x":0.5,"y":0.5,"h":0,"v":-2}"#),
                360,
                640
            ),
            vec![ControlMsg::InjectScrollEvent {
                position: Position {
                    x: 180,
                    y: 320,
                    width: 360,
                    height: 640
                },
                hscroll: 0.0,
                vscroll: -2.0,
                buttons: 0,
            }]
        );
        assert_eq!(
            to_control(
                &parse(r#"{"t":"clipboard","text":"code 42","paste":true}"#),
                1,
                1
            ),
            vec![ControlMsg::SetClipboard {
                sequence: 0,
                paste: true,
                text: "code 42".into()
            }]
        );
    }

    #[test]
    fn buttons_are_presses_and_the_probe_is_f12() {
        for (msg, code) in [
            (r#"{"t":"back"}"#, AKEYCODE_BACK),
            (r#"{"t":"home"}"#, AKEYCODE_HOME),
            (r#"{"t":"probe","seq":7}"#, AKEYCODE_F12),
        ] {
            let m = to_control(&parse(msg), 100, 100);
            assert_eq!(
                m,
                vec![
                    key(AKEY_EVENT_ACTION_DOWN, code, 0),
                    key(AKEY_EVENT_ACTION_UP, code, 0)
                ],
                "{msg}"
            );
        }
        assert_eq!(
            to_control(&parse(r#"{"t":"text","text":"hi"}"#), 1, 1),
            vec![ControlMsg::InjectText { text: "hi".into() }]
        );
        assert_eq!(
            to_control(
                &parse(r#"{"t":"key","action":"up","keycode":66,"meta":1}"#),
                1,
                1
            ),
            vec![key(AKEY_EVENT_ACTION_UP, 66, 1)]
        );
    }
}
