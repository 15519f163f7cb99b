//! Player input: what the SDKs send on the WebRTC DataChannel `input`, and what the node agent
//! turns into scrcpy control messages at the current video size.
//!
//! Coordinates are normalised to the video (0.0 = left/top, 1.0 = right/bottom), so a client
//! needs no knowledge of the device resolution; the SDK maps pointer positions through the
//! letterboxing of its `<video>` element first. Messages are JSON objects tagged by `t`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most simultaneous pointers (scrcpy's `MAX_POINTERS`).
pub const MAX_POINTERS: u32 = 10;
/// Longest text message, in bytes (scrcpy's client cuts injected text at 300 bytes).
pub const MAX_TEXT_BYTES: usize = 300;
/// Largest input message accepted on the DataChannel, in bytes.
pub const MAX_INPUT_MESSAGE_BYTES: usize = 1024;
/// Longest clipboard text a player may send, in bytes (it travels in one input message).
pub const MAX_CLIPBOARD_BYTES: usize = 768;
/// Longest custom message a page may send its game, in bytes (one input message).
pub const MAX_CUSTOM_BYTES: usize = 768;
/// Most wheel notches in one scroll message, either way (scrcpy's bound).
pub const MAX_SCROLL_NOTCHES: f32 = 16.0;
/// Most gamepads a player may connect at once (scrcpy's `SC_MAX_GAMEPADS`).
pub const MAX_GAMEPADS: u8 = 8;
/// Gamepad buttons are the W3C standard mapping's indexes 0–16 (bit `i` = `buttons[i]`).
pub const GAMEPAD_BUTTONS: u32 = 17;
/// Largest relative mouse motion in one message, either way, in CSS pixels.
pub const MAX_MOUSE_DELTA: i32 = 4096;
/// Largest magnitude of a sensor value (m/s², rad/s or degrees): far past any real reading.
pub const MAX_SENSOR_VALUE: f32 = 10_000.0;
/// Largest touch-to-screen latency a player may report, in ms (a probe gives up long before).
pub const MAX_LATENCY_MS: f32 = 10_000.0;

/// Whether `ms` is a touch-to-screen latency a player may report: finite, 0–[`MAX_LATENCY_MS`].
pub fn latency_in_range(ms: f32) -> bool {
    ms.is_finite() && (0.0..=MAX_LATENCY_MS).contains(&ms)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TouchPhase {
    Down,
    Move,
    Up,
    /// The browser cancelled the gesture; injected as UP.
    Cancel,
}

/// Which of the player's sensors a [`InputMessage::Sensor`] reading comes from, in Android's
/// axes and units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Acceleration including gravity, m/s² (`devicemotion`'s `accelerationIncludingGravity`).
    Accelerometer,
    /// Rotation rate about x, y, z, rad/s (`devicemotion`'s `rotationRate`, converted).
    Gyroscope,
    /// Azimuth, pitch and roll in degrees (`deviceorientation`'s alpha, beta, gamma).
    Orientation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyAction {
    Down,
    Up,
}

/// One input event from a player.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputMessage {
    /// A finger (or the mouse, as pointer 0) at a normalised position.
    Touch {
        phase: TouchPhase,
        /// 0..MAX_POINTERS.
        pointer: u32,
        x: f32,
        y: f32,
        /// 0.0–1.0; absent means 1.0 for down/move and 0.0 for up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pressure: Option<f32>,
    },
    /// An Android key code (e.g. 4 BACK, 3 HOME, 66 ENTER).
    Key {
        action: KeyAction,
        keycode: u32,
        #[serde(default)]
        meta: u32,
    },
    /// Text typed by the player (ASCII is what Android's injection handles reliably).
    Text { text: String },
    /// The Android back button (pressed and released).
    Back {},
    /// The Android home button (pressed and released).
    Home {},
    /// The latency probe: the game flips a marker in the next frame it renders; the SDK times
    /// the frame that shows it. `seq` comes back in the agent's stats.
    Probe { seq: u32 },
    /// What the player measured for probe `seq`: input sent → first decoded frame showing it,
    /// in ms (0–10,000). The agent counts it in its metrics and passes it to the controller.
    Latency { seq: u32, ms: f32 },
    /// The player answers the board's idle warning ("I'm here"): it counts as input for the
    /// idle kick and reaches nothing in the game.
    Here {},
    /// A mouse wheel or trackpad turn over the picture at a normalised position, in notches:
    /// `v` positive scrolls up (the wheel turned away from the player), `h` positive right;
    /// each within ±[`MAX_SCROLL_NOTCHES`].
    Scroll { x: f32, y: f32, h: f32, v: f32 },
    /// Text for the device's clipboard (what the player copied on their side); `paste` also
    /// pastes it into the game's focused field.
    Clipboard {
        text: String,
        #[serde(default)]
        paste: bool,
    },
    /// A message from the tenant's page for its game (the custom channel; the game answers
    /// with the agent's `custom` signal). Not input: it does not hold off the idle kick.
    Custom { data: String },
    /// A gamepad's whole state (the W3C standard mapping), sent when it changes: the board
    /// plugs a gamepad into the game (scrcpy's UHID gamepad) on the first one.
    Gamepad {
        /// Which of the player's gamepads, 0–7.
        pad: u8,
        /// Bit `i` set when standard button `i` (0–16: A B X Y, LB RB LT RT, back start,
        /// L3 R3, D-pad up down left right, guide) is pressed.
        buttons: u32,
        /// Left x, left y, right x, right y, each −1.0–1.0 (y grows downwards).
        axes: [f32; 4],
        /// Left and right trigger, 0.0–1.0.
        triggers: [f32; 2],
        /// The USB vendor id the browser reports, when it does (with `product`, it picks
        /// Android's key layout for the pad); 0 when unknown.
        #[serde(default)]
        vendor: u16,
        /// The USB product id the browser reports; 0 when unknown.
        #[serde(default)]
        product: u16,
    },
    /// The player's gamepad `pad` was unplugged.
    GamepadGone { pad: u8 },
    /// Relative mouse motion and buttons while the page holds pointer lock (mouse-look games):
    /// the board plugs a mouse into the game (scrcpy's UHID mouse) on the first one.
    Mouse {
        /// CSS pixels moved, each within ±[`MAX_MOUSE_DELTA`].
        dx: i32,
        dy: i32,
        /// Bit 0 left, 1 right, 2 middle, 3 back, 4 forward.
        buttons: u8,
        /// Wheel notches, positive away from the player.
        #[serde(default)]
        wheel: i8,
    },
    /// One reading of one of the player's sensors, sent on the DataChannel `sensors`. Not
    /// input: a phone lying on a table does not hold off the idle kick.
    Sensor { kind: SensorKind, values: [f32; 3] },
    /// The player's position (Geolocation), on the DataChannel `sensors`.
    Location {
        /// Degrees, −90–90 and −180–180.
        lat: f64,
        lon: f64,
        /// Metres, 0–1,000,000.
        accuracy: f32,
    },
    /// The player's ceiling on the video bit rate, in kb/s (a data saver); absent lifts it.
    /// The agent keeps the rate inside the spec's window whatever the player asks, and below
    /// what the player's link carries.
    Quality {
        #[serde(default)]
        max_kbps: Option<u32>,
    },
}

/// Why an input message is refused. The agent drops the message (and counts it), never the
/// session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    TooLarge(usize),
    Malformed(String),
    OutOfRange(&'static str),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::TooLarge(n) => write!(
                f,
                "input message of {n} bytes exceeds {MAX_INPUT_MESSAGE_BYTES}"
            ),
            InputError::Malformed(e) => write!(f, "malformed input message: {e}"),
            InputError::OutOfRange(what) => write!(f, "input message out of range: {what}"),
        }
    }
}

impl std::error::Error for InputError {}

impl InputMessage {
    /// Parses and validates one DataChannel message.
    pub fn parse(bytes: &[u8]) -> Result<Self, InputError> {
        if bytes.len() > MAX_INPUT_MESSAGE_BYTES {
            return Err(InputError::TooLarge(bytes.len()));
        }
        let msg: InputMessage =
            serde_json::from_slice(bytes).map_err(|e| InputError::Malformed(e.to_string()))?;
        msg.validate()?;
        Ok(msg)
    }

    pub fn validate(&self) -> Result<(), InputError> {
        let unit = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        match self {
            InputMessage::Touch {
                pointer,
                x,
                y,
                pressure,
                ..
            } => {
                if *pointer >= MAX_POINTERS {
                    return Err(InputError::OutOfRange("pointer must be below 10"));
                }
                if !unit(*x) || !unit(*y) {
                    return Err(InputError::OutOfRange("x and y must be within 0.0–1.0"));
                }
                if pressure.is_some_and(|p| !unit(p)) {
                    return Err(InputError::OutOfRange("pressure must be within 0.0–1.0"));
                }
            }
            InputMessage::Key { keycode, .. } if *keycode > 0xFFFF => {
                return Err(InputError::OutOfRange("keycode"));
            }
            InputMessage::Text { text } if text.len() > MAX_TEXT_BYTES || text.is_empty() => {
                return Err(InputError::OutOfRange("text must be 1–300 bytes"));
            }
            InputMessage::Scroll { x, y, h, v } => {
                if !unit(*x) || !unit(*y) {
                    return Err(InputError::OutOfRange("x and y must be within 0.0–1.0"));
                }
                let notches = |n: f32| n.is_finite() && n.abs() <= MAX_SCROLL_NOTCHES;
                if !notches(*h) || !notches(*v) {
                    return Err(InputError::OutOfRange("h and v must be within ±16 notches"));
                }
            }
            InputMessage::Clipboard { text, .. } if text.len() > MAX_CLIPBOARD_BYTES => {
                return Err(InputError::OutOfRange(
                    "clipboard text must be at most 768 bytes",
                ));
            }
            InputMessage::Custom { data } if data.len() > MAX_CUSTOM_BYTES => {
                return Err(InputError::OutOfRange(
                    "custom data must be at most 768 bytes",
                ));
            }
            InputMessage::Gamepad {
                pad,
                buttons,
                axes,
                triggers,
                ..
            } => {
                if *pad >= MAX_GAMEPADS {
                    return Err(InputError::OutOfRange("pad must be below 8"));
                }
                if *buttons >> GAMEPAD_BUTTONS != 0 {
                    return Err(InputError::OutOfRange("buttons are bits 0–16"));
                }
                if !axes
                    .iter()
                    .all(|a| a.is_finite() && (-1.0..=1.0).contains(a))
                {
                    return Err(InputError::OutOfRange("axes must be within -1.0–1.0"));
                }
                if !triggers.iter().all(|t| unit(*t)) {
                    return Err(InputError::OutOfRange("triggers must be within 0.0–1.0"));
                }
            }
            InputMessage::GamepadGone { pad } if *pad >= MAX_GAMEPADS => {
                return Err(InputError::OutOfRange("pad must be below 8"));
            }
            InputMessage::Mouse {
                dx, dy, buttons, ..
            } => {
                if dx.abs() > MAX_MOUSE_DELTA || dy.abs() > MAX_MOUSE_DELTA {
                    return Err(InputError::OutOfRange("dx and dy must be within ±4096"));
                }
                if *buttons >= 0x20 {
                    return Err(InputError::OutOfRange("mouse buttons are bits 0–4"));
                }
            }
            InputMessage::Sensor { values, .. }
                if !values
                    .iter()
                    .all(|v| v.is_finite() && v.abs() <= MAX_SENSOR_VALUE) =>
            {
                return Err(InputError::OutOfRange(
                    "sensor values must be within ±10000",
                ));
            }
            InputMessage::Location { lat, lon, accuracy } => {
                let on_globe = (-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon);
                if !on_globe {
                    return Err(InputError::OutOfRange(
                        "lat must be within -90–90 and lon within -180–180",
                    ));
                }
                if !(accuracy.is_finite() && (0.0..=1_000_000.0).contains(accuracy)) {
                    return Err(InputError::OutOfRange(
                        "accuracy must be within 0–1000000 m",
                    ));
                }
            }
            InputMessage::Latency { ms, .. } if !latency_in_range(*ms) => {
                return Err(InputError::OutOfRange("latency ms must be within 0–10000"));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_messages_have_a_stable_json_shape() {
        let m = InputMessage::Touch {
            phase: TouchPhase::Down,
            pointer: 1,
            x: 0.25,
            y: 0.5,
            pressure: None,
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"t":"touch","phase":"down","pointer":1,"x":0.25,"y":0.5}"#
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"probe","seq":7}"#).unwrap(),
            InputMessage::Probe { seq: 7 }
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"latency","seq":7,"ms":23.5}"#).unwrap(),
            InputMessage::Latency { seq: 7, ms: 23.5 }
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"quality","max_kbps":1500}"#).unwrap(),
            InputMessage::Quality {
                max_kbps: Some(1500)
            }
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"quality"}"#).unwrap(),
            InputMessage::Quality { max_kbps: None }
        );
        assert!(InputMessage::parse(br#"{"t":"quality","max_kbps":-1}"#).is_err());
        assert_eq!(
            InputMessage::parse(br#"{"t":"back"}"#).unwrap(),
            InputMessage::Back {}
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"scroll","x":0.5,"y":0.25,"h":0,"v":-1.5}"#).unwrap(),
            InputMessage::Scroll {
                x: 0.5,
                y: 0.25,
                h: 0.0,
                v: -1.5
            }
        );
        assert_eq!(
            InputMessage::parse("{\"t\":\"clipboard\",\"text\":\"你好\"}".as_bytes()).unwrap(),
            InputMessage::Clipboard {
                text: "你好".into(),
                paste: false
            }
        );
        for bad in [
            r#"{"t":"scroll","x":1.5,"y":0,"h":0,"v":1}"#,
            r#"{"t":"scroll","x":0,"y":0,"h":0,"v":17}"#,
            r#"{"t":"scroll","x":0,"y":0,"h":-16.5,"v":0}"#,
            r#"{"t":"scroll","x":0,"y":0,"v":1}"#,
        ] {
            assert!(InputMessage::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        let long = format!(r#"{{"t":"clipboard","text":"{}"}}"#, "x".repeat(769));
        assert!(matches!(
            InputMessage::parse(long.as_bytes()),
            Err(InputError::OutOfRange(_))
        ));
    }

    #[test]
    fn gamepads_mice_and_sensors_parse_within_their_ranges() {
        assert_eq!(
            InputMessage::parse(
                br#"{"t":"gamepad","pad":1,"buttons":4097,"axes":[0,-1,0.5,1],"triggers":[0,0.25]}"#
            )
            .unwrap(),
            InputMessage::Gamepad {
                pad: 1,
                buttons: 4097,
                axes: [0.0, -1.0, 0.5, 1.0],
                triggers: [0.0, 0.25],
                vendor: 0,
                product: 0
            }
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"mouse","dx":-3,"dy":200,"buttons":1}"#).unwrap(),
            InputMessage::Mouse {
                dx: -3,
                dy: 200,
                buttons: 1,
                wheel: 0
            }
        );
        assert_eq!(
            InputMessage::parse(br#"{"t":"sensor","kind":"gyroscope","values":[0.1,0,-0.1]}"#)
                .unwrap(),
            InputMessage::Sensor {
                kind: SensorKind::Gyroscope,
                values: [0.1, 0.0, -0.1]
            }
        );
        assert!(
            InputMessage::parse(br#"{"t":"location","lat":31.23,"lon":121.47,"accuracy":20}"#)
                .is_ok()
        );
        for bad in [
            r#"{"t":"gamepad","pad":8,"buttons":0,"axes":[0,0,0,0],"triggers":[0,0]}"#,
            r#"{"t":"gamepad","pad":0,"buttons":131072,"axes":[0,0,0,0],"triggers":[0,0]}"#,
            r#"{"t":"gamepad","pad":0,"buttons":0,"axes":[0,0,1.5,0],"triggers":[0,0]}"#,
            r#"{"t":"gamepad","pad":0,"buttons":0,"axes":[0,0,0],"triggers":[0,0]}"#,
            r#"{"t":"gamepad","pad":0,"buttons":0,"axes":[0,0,0,0],"triggers":[-0.1,0]}"#,
            r#"{"t":"gamepad_gone","pad":9}"#,
            r#"{"t":"mouse","dx":5000,"dy":0,"buttons":0}"#,
            r#"{"t":"mouse","dx":0,"dy":0,"buttons":32}"#,
            r#"{"t":"mouse","dx":0,"dy":0,"buttons":0,"wheel":300}"#,
            r#"{"t":"sensor","kind":"barometer","values":[0,0,0]}"#,
            r#"{"t":"sensor","kind":"gyroscope","values":[0,0,20000]}"#,
            r#"{"t":"location","lat":91,"lon":0,"accuracy":1}"#,
            r#"{"t":"location","lat":0,"lon":0,"accuracy":-1}"#,
        ] {
            assert!(InputMessage::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_and_out_of_range_input_is_refused() {
        for bad in [
            &br#"{"t":"touch","phase":"down","pointer":10,"x":0.1,"y":0.1}"#[..],
            br#"{"t":"touch","phase":"down","pointer":0,"x":1.5,"y":0.1}"#,
            br#"{"t":"touch","phase":"down","pointer":0,"x":0.1}"#,
            br#"{"t":"touch","phase":"hover","pointer":0,"x":0.1,"y":0.1}"#,
            br#"{"t":"teleport"}"#,
            br#"{"t":"back","extra":1}"#,
            br#"{"t":"text","text":""}"#,
            br#"{"t":"latency","seq":1,"ms":-1}"#,
            br#"{"t":"latency","seq":1,"ms":10000.5}"#,
            br#"{"t":"latency","seq":1}"#,
            b"not json",
            b"",
        ] {
            assert!(
                InputMessage::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(r#"{{"t":"text","text":"{}"}}"#, "a".repeat(2000));
        assert!(matches!(
            InputMessage::parse(long.as_bytes()),
            Err(InputError::TooLarge(_))
        ));
    }
}
