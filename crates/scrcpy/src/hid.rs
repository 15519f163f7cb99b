//! The HID devices a scrcpy client creates on the device with UHID_CREATE and feeds with
//! UHID_INPUT (scrcpy's `hid/hid_gamepad.c` and `hid/hid_mouse.c`): their ids, their report
//! descriptors and their input reports, written by a client and read back by a server.
//!
//! The descriptors are the HID class's own format (USB HID 1.11, HID Usage Tables 1.5), byte
//! for byte what scrcpy's client sends, so the kernel on a real device builds the same input
//! devices from ours as from scrcpy's: a gamepad with two sticks, two analog triggers, 16
//! buttons and a hat switch, and a relative mouse with five buttons, a wheel and a horizontal
//! pan. Multi-byte report fields are little-endian (HID), unlike the control messages that
//! carry them.

/// The UHID id of the keyboard, the mouse and the first gamepad (scrcpy's `SC_HID_ID_*`).
pub const HID_ID_KEYBOARD: u16 = 1;
pub const HID_ID_MOUSE: u16 = 2;
pub const HID_ID_GAMEPAD_FIRST: u16 = 3;
/// Most gamepads at once (`SC_MAX_GAMEPADS`); ids `HID_ID_GAMEPAD_FIRST..+MAX_GAMEPADS`.
pub const MAX_GAMEPADS: u16 = 8;

/// The gamepad's report descriptor: one application collection (Generic Desktop, Gamepad)
/// holding X, Y, Rx, Ry as 16-bit absolute values 0–65535; Z and Rz (the triggers) as 16-bit
/// values 0–32767; buttons 1–16, one bit each; and a 4-bit hat switch, 1–8 with a null state.
pub const GAMEPAD_REPORT_DESC: [u8; 80] = [
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x05, // Usage (Gamepad)
    0xA1, 0x01, // Collection (Application)
    0xA1, 0x00, // Collection (Physical)
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x30, // Usage (X): left stick
    0x09, 0x31, // Usage (Y)
    0x09, 0x33, // Usage (Rx): right stick
    0x09, 0x34, // Usage (Ry)
    0x15, 0x00, // Logical Minimum (0)
    0x27, 0xFF, 0xFF, 0x00, 0x00, // Logical Maximum (65535), 4 bytes: 2 would read as -1
    0x75, 0x10, // Report Size (16)
    0x95, 0x04, // Report Count (4)
    0x81, 0x02, // Input (Data, Variable, Absolute)
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x32, // Usage (Z): left trigger
    0x09, 0x35, // Usage (Rz): right trigger
    0x15, 0x00, // Logical Minimum (0)
    0x26, 0xFF, 0x7F, // Logical Maximum (32767)
    0x75, 0x10, // Report Size (16)
    0x95, 0x02, // Report Count (2)
    0x81, 0x02, // Input (Data, Variable, Absolute)
    0x05, 0x09, // Usage Page (Button)
    0x19, 0x01, // Usage Minimum (1)
    0x29, 0x10, // Usage Maximum (16)
    0x15, 0x00, // Logical Minimum (0)
    0x25, 0x01, // Logical Maximum (1)
    0x95, 0x10, // Report Count (16)
    0x75, 0x01, // Report Size (1)
    0x81, 0x02, // Input (Data, Variable, Absolute)
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x39, // Usage (Hat switch)
    0x15, 0x01, // Logical Minimum (1)
    0x25, 0x08, // Logical Maximum (8)
    0x75, 0x04, // Report Size (4)
    0x95, 0x01, // Report Count (1)
    0x81, 0x42, // Input (Data, Variable, Absolute, Null State)
    0xC0, // End Collection
    0xC0, // End Collection
];

/// The mouse's report descriptor: buttons 1–5 and 3 bits of padding, then X, Y and the wheel
/// as relative signed bytes (±127), then a horizontal pan (Consumer page, AC Pan), ±127.
pub const MOUSE_REPORT_DESC: [u8; 67] = [
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x02, // Usage (Mouse)
    0xA1, 0x01, // Collection (Application)
    0x09, 0x01, // Usage (Pointer)
    0xA1, 0x00, // Collection (Physical)
    0x05, 0x09, // Usage Page (Button)
    0x19, 0x01, // Usage Minimum (1)
    0x29, 0x05, // Usage Maximum (5)
    0x15, 0x00, // Logical Minimum (0)
    0x25, 0x01, // Logical Maximum (1)
    0x95, 0x05, // Report Count (5)
    0x75, 0x01, // Report Size (1)
    0x81, 0x02, // Input (Data, Variable, Absolute)
    0x95, 0x01, // Report Count (1)
    0x75, 0x03, // Report Size (3)
    0x81, 0x01, // Input (Constant): padding
    0x05, 0x01, // Usage Page (Generic Desktop)
    0x09, 0x30, // Usage (X)
    0x09, 0x31, // Usage (Y)
    0x09, 0x38, // Usage (Wheel)
    0x15, 0x81, // Logical Minimum (-127)
    0x25, 0x7F, // Logical Maximum (127)
    0x75, 0x08, // Report Size (8)
    0x95, 0x03, // Report Count (3)
    0x81, 0x06, // Input (Data, Variable, Relative)
    0x05, 0x0C, // Usage Page (Consumer)
    0x0A, 0x38, 0x02, // Usage (AC Pan)
    0x15, 0x81, // Logical Minimum (-127)
    0x25, 0x7F, // Logical Maximum (127)
    0x75, 0x08, // Report Size (8)
    0x95, 0x01, // Report Count (1)
    0x81, 0x06, // Input (Data, Variable, Relative)
    0xC0, // End Collection
    0xC0, // End Collection
];

/// What a report descriptor describes, from its first usage (Generic Desktop page): what a
/// device makes of a UHID device, as the kernel's HID core classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HidKind {
    Gamepad,
    Mouse,
    Keyboard,
    Other,
}

impl HidKind {
    pub fn of(report_desc: &[u8]) -> HidKind {
        match report_desc.get(..4) {
            Some([0x05, 0x01, 0x09, 0x05]) => HidKind::Gamepad,
            Some([0x05, 0x01, 0x09, 0x02]) => HidKind::Mouse,
            Some([0x05, 0x01, 0x09, 0x06]) => HidKind::Keyboard,
            _ => HidKind::Other,
        }
    }
}

/// Gamepad button bits in [`GamepadReport::buttons`] (the positions scrcpy's client uses, so
/// Android's generic gamepad key layout maps them to `KEYCODE_BUTTON_*`).
pub mod button {
    pub const SOUTH: u16 = 0x0001;
    pub const EAST: u16 = 0x0002;
    pub const WEST: u16 = 0x0008;
    pub const NORTH: u16 = 0x0010;
    pub const LEFT_SHOULDER: u16 = 0x0040;
    pub const RIGHT_SHOULDER: u16 = 0x0080;
    pub const BACK: u16 = 0x0400;
    pub const START: u16 = 0x0800;
    pub const GUIDE: u16 = 0x1000;
    pub const LEFT_STICK: u16 = 0x2000;
    pub const RIGHT_STICK: u16 = 0x4000;
}

/// One gamepad input report (15 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GamepadReport {
    /// Sticks, 0–65535 with 0x8000 at rest (a signed axis shifted by 0x8000).
    pub left_x: u16,
    pub left_y: u16,
    pub right_x: u16,
    pub right_y: u16,
    /// Triggers, 0 (released) – 32767.
    pub left_trigger: u16,
    pub right_trigger: u16,
    /// [`button`] bits.
    pub buttons: u16,
    /// The D-pad as a hat: 0 centred, 1 up, then clockwise to 8 up-left ([`hat`]).
    pub hat: u8,
}

impl GamepadReport {
    pub const SIZE: usize = 15;
    /// Sticks centred, nothing pressed.
    pub const NEUTRAL: GamepadReport = GamepadReport {
        left_x: 0x8000,
        left_y: 0x8000,
        right_x: 0x8000,
        right_y: 0x8000,
        left_trigger: 0,
        right_trigger: 0,
        buttons: 0,
        hat: 0,
    };

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, v) in [
            self.left_x,
            self.left_y,
            self.right_x,
            self.right_y,
            self.left_trigger,
            self.right_trigger,
            self.buttons,
        ]
        .into_iter()
        .enumerate()
        {
            b[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        b[14] = self.hat & 0x0F;
        b
    }

    /// A report of exactly [`Self::SIZE`] bytes; `None` for any other size.
    pub fn parse(data: &[u8]) -> Option<GamepadReport> {
        let b: &[u8; Self::SIZE] = data.try_into().ok()?;
        let at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Some(GamepadReport {
            left_x: at(0),
            left_y: at(2),
            right_x: at(4),
            right_y: at(6),
            left_trigger: at(8),
            right_trigger: at(10),
            buttons: at(12),
            hat: b[14] & 0x0F,
        })
    }
}

/// The hat switch value for the D-pad's pressed directions: 1 up, 2 up-right, … 8 up-left,
/// 0 when centred (opposite directions cancel out to the other axis alone).
pub fn hat(up: bool, down: bool, left: bool, right: bool) -> u8 {
    let v = i8::from(down) - i8::from(up);
    let h = i8::from(right) - i8::from(left);
    match (v, h) {
        (-1, 0) => 1,
        (-1, 1) => 2,
        (0, 1) => 3,
        (1, 1) => 4,
        (1, 0) => 5,
        (1, -1) => 6,
        (0, -1) => 7,
        (-1, -1) => 8,
        _ => 0,
    }
}

/// One mouse input report (5 bytes): buttons (bit 0 left, 1 right, 2 middle, 3 back,
/// 4 forward) and relative motion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MouseReport {
    pub buttons: u8,
    pub dx: i8,
    pub dy: i8,
    /// Wheel notches, positive away from the user.
    pub wheel: i8,
    /// Horizontal pan notches, positive right.
    pub pan: i8,
}

impl MouseReport {
    pub const SIZE: usize = 5;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        [
            self.buttons & 0x1F,
            self.dx as u8,
            self.dy as u8,
            self.wheel as u8,
            self.pan as u8,
        ]
    }

    /// A report of exactly [`Self::SIZE`] bytes; `None` for any other size.
    pub fn parse(data: &[u8]) -> Option<MouseReport> {
        let b: &[u8; Self::SIZE] = data.try_into().ok()?;
        Some(MouseReport {
            buttons: b[0] & 0x1F,
            dx: b[1] as i8,
            dy: b[2] as i8,
            wheel: b[3] as i8,
            pan: b[4] as i8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamepad_reports_are_fifteen_little_endian_bytes() {
        let r = GamepadReport {
            left_x: 0x0102,
            right_trigger: 32767,
            buttons: button::SOUTH | button::START,
            hat: hat(true, false, false, true),
            ..GamepadReport::NEUTRAL
        };
        let b = r.to_bytes();
        assert_eq!(&b[..4], [0x02, 0x01, 0x00, 0x80]);
        assert_eq!(&b[10..], [0xFF, 0x7F, 0x01, 0x08, 2]);
        assert_eq!(GamepadReport::parse(&b), Some(r));
        assert_eq!(GamepadReport::parse(&b[..14]), None);
        assert_eq!(GamepadReport::parse(&[0; 16]), None);
    }

    #[test]
    fn the_hat_goes_clockwise_from_up() {
        assert_eq!(hat(false, false, false, false), 0);
        assert_eq!(hat(true, false, false, false), 1);
        assert_eq!(hat(false, false, false, true), 3);
        assert_eq!(hat(false, true, false, false), 5);
        assert_eq!(hat(true, false, true, false), 8);
        assert_eq!(hat(true, true, false, true), 3, "up and down cancel out");
    }

    #[test]
    fn mouse_reports_carry_signed_relative_motion() {
        let r = MouseReport {
            buttons: 1,
            dx: 5,
            dy: -4,
            wheel: 0,
            pan: -1,
        };
        assert_eq!(r.to_bytes(), [1, 5, 0xFC, 0, 0xFF]);
        assert_eq!(MouseReport::parse(&r.to_bytes()), Some(r));
        assert_eq!(MouseReport::parse(&[0; 4]), None);
    }

    #[test]
    fn descriptors_say_what_they_are() {
        assert_eq!(HidKind::of(&GAMEPAD_REPORT_DESC), HidKind::Gamepad);
        assert_eq!(HidKind::of(&MOUSE_REPORT_DESC), HidKind::Mouse);
        assert_eq!(HidKind::of(&[0x05, 0x01, 0x09, 0x06]), HidKind::Keyboard);
        assert_eq!(HidKind::of(&[0x05]), HidKind::Other);
        // Both end their two collections.
        assert_eq!(
            GAMEPAD_REPORT_DESC[GAMEPAD_REPORT_DESC.len() - 2..],
            [0xC0, 0xC0]
        );
        assert_eq!(
            MOUSE_REPORT_DESC[MOUSE_REPORT_DESC.len() - 2..],
            [0xC0, 0xC0]
        );
    }
}
