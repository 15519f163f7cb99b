//! The device's `/dev/uhid` as one server's controller uses it (scrcpy's `UhidManager`): the
//! HID devices a client plugs in with UHID_CREATE, fed with UHID_INPUT reports and unplugged
//! with UHID_DESTROY or when the server exits (closing a uhid fd removes its device).
//!
//! What the kernel's HID core and Android's input stack would make of a report is what the
//! game receives: a gamepad's buttons as `KEYCODE_BUTTON_*` held and its sticks, triggers and
//! hat as axes; a mouse's relative motion, as a game that captured the pointer reads it.
//! Devices whose descriptor is neither (a keyboard, anything else) are plugged in and their
//! reports go nowhere, as a device the game does not read.

use std::collections::BTreeMap;

use playrack_scrcpy::hid::{GamepadReport, HidKind, MouseReport, button};

use crate::game::{Game, PadState};

/// The plugged-in devices of one server, by UHID id.
#[derive(Debug, Default)]
pub struct UhidDevices {
    devices: BTreeMap<u16, HidKind>,
}

/// Android's key codes for the gamepad buttons, in the order of scrcpy's report bits
/// (`KeyEvent.KEYCODE_BUTTON_*`).
const KEYCODES: [(u16, i32); 11] = [
    (button::SOUTH, 96),           // BUTTON_A
    (button::EAST, 97),            // BUTTON_B
    (button::WEST, 99),            // BUTTON_X
    (button::NORTH, 100),          // BUTTON_Y
    (button::LEFT_SHOULDER, 102),  // BUTTON_L1
    (button::RIGHT_SHOULDER, 103), // BUTTON_R1
    (button::BACK, 109),           // BUTTON_SELECT
    (button::START, 108),          // BUTTON_START
    (button::GUIDE, 110),          // BUTTON_MODE
    (button::LEFT_STICK, 106),     // BUTTON_THUMBL
    (button::RIGHT_STICK, 107),    // BUTTON_THUMBR
];

/// A report as the game reads it: buttons held as key codes, axes as Android normalises them
/// (sticks −1–1, triggers 0–1, the hat as −1/0/1 on x and y).
pub fn pad_state(r: &GamepadReport) -> PadState {
    let stick = |v: u16| (f32::from(v) - 32768.0) / 32767.0;
    let trigger = |v: u16| f32::from(v.min(32767)) / 32767.0;
    let (hat_x, hat_y) = match r.hat {
        1 => (0, -1),
        2 => (1, -1),
        3 => (1, 0),
        4 => (1, 1),
        5 => (0, 1),
        6 => (-1, 1),
        7 => (-1, 0),
        8 => (-1, -1),
        _ => (0, 0),
    };
    PadState {
        keycodes: KEYCODES
            .iter()
            .filter(|(bit, _)| r.buttons & bit != 0)
            .map(|(_, code)| *code)
            .collect(),
        axes: [
            stick(r.left_x).max(-1.0),
            stick(r.left_y).max(-1.0),
            stick(r.right_x).max(-1.0),
            stick(r.right_y).max(-1.0),
            trigger(r.left_trigger),
            trigger(r.right_trigger),
        ],
        hat: (hat_x, hat_y),
    }
}

impl UhidDevices {
    /// UHID_CREATE. A descriptor the kernel cannot take (empty) creates nothing; an id in use
    /// replaces its device, as scrcpy's server does ("Duplicate UHID id").
    pub fn create(&mut self, game: &mut Game, id: u16, name: &str, report_desc: &[u8]) {
        if report_desc.is_empty() {
            tracing::warn!("UHID_CREATE {id} ({name:?}): empty report descriptor");
            return;
        }
        if self.devices.contains_key(&id) {
            tracing::warn!("Duplicate UHID id: {id}");
            self.destroy(game, id);
        }
        let kind = HidKind::of(report_desc);
        tracing::info!("UHID device created: id={id} name={name:?} kind={kind:?}");
        self.devices.insert(id, kind);
        if kind == HidKind::Gamepad {
            game.gamepad(id, Some(pad_state(&GamepadReport::NEUTRAL)));
        }
    }

    /// UHID_INPUT: one report for device `id`.
    pub fn input(&mut self, game: &mut Game, id: u16, data: &[u8]) {
        match self.devices.get(&id) {
            None => tracing::warn!("Unknown UHID id: {id}"),
            Some(HidKind::Gamepad) => match GamepadReport::parse(data) {
                Some(r) => game.gamepad(id, Some(pad_state(&r))),
                None => tracing::warn!("gamepad {id}: a report of {} bytes", data.len()),
            },
            Some(HidKind::Mouse) => match MouseReport::parse(data) {
                Some(r) => game.mouse(r.dx.into(), r.dy.into(), r.buttons, r.wheel.into()),
                None => tracing::warn!("mouse {id}: a report of {} bytes", data.len()),
            },
            Some(_) => {}
        }
    }

    /// UHID_DESTROY.
    pub fn destroy(&mut self, game: &mut Game, id: u16) {
        match self.devices.remove(&id) {
            None => tracing::warn!("Unknown UHID id: {id}"),
            Some(HidKind::Gamepad) => game.gamepad(id, None),
            Some(_) => {}
        }
    }

    /// The server is exiting: its uhid fds close and every device it created goes.
    pub fn unplug_all(&mut self, game: &mut Game) {
        for id in self.devices.keys().copied().collect::<Vec<_>>() {
            self.destroy(game, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::GameConfig;
    use playrack_scrcpy::hid::{GAMEPAD_REPORT_DESC, MOUSE_REPORT_DESC};

    #[test]
    fn a_gamepad_is_read_as_android_reads_it_until_unplugged() {
        let mut game = Game::new(GameConfig::new("com.example.game"), 0);
        let mut uhid = UhidDevices::default();
        uhid.input(&mut game, 3, &[0; 15]);
        assert!(game.gamepads().is_empty(), "no such device yet");
        uhid.create(&mut game, 3, "pad", &GAMEPAD_REPORT_DESC);
        let report = GamepadReport {
            left_x: 0,
            right_trigger: 32767,
            buttons: button::SOUTH | button::START,
            hat: 3,
            ..GamepadReport::NEUTRAL
        };
        uhid.input(&mut game, 3, &report.to_bytes());
        let pad = &game.gamepads()[&3];
        assert_eq!(pad.keycodes, [96, 108]);
        assert_eq!(pad.axes[0], -1.0);
        assert_eq!(pad.axes[5], 1.0);
        assert_eq!(pad.hat, (1, 0));
        uhid.input(&mut game, 3, &[0; 14]);
        assert_eq!(
            game.gamepads()[&3].keycodes,
            [96, 108],
            "a short report is dropped"
        );
        uhid.unplug_all(&mut game);
        assert!(game.gamepads().is_empty());
    }

    #[test]
    fn mouse_motion_reaches_a_game_that_captured_the_pointer() {
        let mut game = Game::new(GameConfig::new("com.example.game"), 0);
        let mut uhid = UhidDevices::default();
        uhid.create(&mut game, 2, "mouse", &MOUSE_REPORT_DESC);
        for r in [[1, 10, 0xFB, 0, 0], [1, 5, 0, 1, 0]] {
            uhid.input(&mut game, 2, &r);
        }
        assert_eq!(game.captured_pointer(), (15, -5, 1, 1));
        uhid.create(&mut game, 9, "nothing", &[]);
        uhid.input(&mut game, 9, &[1]);
        assert_eq!(game.captured_pointer(), (15, -5, 1, 1));
    }
}
