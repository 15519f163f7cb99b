//! The gamepads and the mouse a player plugs into their game, as scrcpy's client plugs the
//! host's: each becomes a UHID device on the instance (UHID_CREATE with scrcpy's report
//! descriptor on its first message, UHID_INPUT reports after, UHID_DESTROY when unplugged),
//! so the game sees a real Android input device — a gamepad's `KEYCODE_BUTTON_*` and axes, a
//! mouse it can capture for mouse-look. Sans-IO: [`Plugged`] turns player messages into
//! control messages and remembers what the instance has plugged in.

use playrack_scrcpy::control_msg::ControlMsg;
use playrack_scrcpy::hid::{
    GAMEPAD_REPORT_DESC, GamepadReport, HID_ID_GAMEPAD_FIRST, HID_ID_MOUSE, MOUSE_REPORT_DESC,
    MouseReport, button, hat,
};
use playrack_wire::input::InputMessage;

/// What one session's instance has plugged in.
#[derive(Debug, Default)]
pub struct Plugged {
    /// The last report of each of the player's gamepads (0–7) that is plugged in.
    gamepads: [Option<GamepadReport>; 8],
    /// The mouse's buttons, once it is plugged in.
    mouse: Option<u8>,
}

/// The W3C standard mapping's button index → scrcpy's report bit, for the plain buttons.
/// Triggers (6, 7) are analog axes; the D-pad (12–15) is the hat; the guide button (16) is
/// never forwarded: key layouts of common pads map it to HOME, which would leave the game.
const BUTTONS: [(u32, u16); 10] = [
    (0, button::SOUTH),
    (1, button::EAST),
    (2, button::WEST),
    (3, button::NORTH),
    (4, button::LEFT_SHOULDER),
    (5, button::RIGHT_SHOULDER),
    (8, button::BACK),
    (9, button::START),
    (10, button::LEFT_STICK),
    (11, button::RIGHT_STICK),
];

/// A gamepad's state in the wire's terms (validated: axes −1–1, triggers 0–1) as a report.
pub fn gamepad_report(buttons: u32, axes: [f32; 4], triggers: [f32; 2]) -> GamepadReport {
    let pressed = |i: u32| buttons & (1 << i) != 0;
    let stick = |v: f32| (0x8000 + (v.clamp(-1.0, 1.0) * 32767.0).round() as i32) as u16;
    let trigger = |v: f32| (v.clamp(0.0, 1.0) * 32767.0).round() as u16;
    GamepadReport {
        left_x: stick(axes[0]),
        left_y: stick(axes[1]),
        right_x: stick(axes[2]),
        right_y: stick(axes[3]),
        left_trigger: trigger(triggers[0]),
        right_trigger: trigger(triggers[1]),
        buttons: BUTTONS
            .iter()
            .filter(|(i, _)| pressed(*i))
            .fold(0, |acc, (_, bit)| acc | bit),
        hat: hat(pressed(12), pressed(13), pressed(14), pressed(15)),
    }
}

impl Plugged {
    /// The control messages for a gamepad or mouse message; `None` for any other input (the
    /// stateless mapping in `super::input` has those).
    pub fn input(&mut self, msg: &InputMessage) -> Option<Vec<ControlMsg>> {
        Some(match *msg {
            InputMessage::Gamepad {
                pad,
                buttons,
                axes,
                triggers,
                vendor,
                product,
            } => self.gamepad(
                pad,
                gamepad_report(buttons, axes, triggers),
                vendor,
                product,
            ),
            InputMessage::GamepadGone { pad } => self.gamepad_gone(pad),
            InputMessage::Mouse {
                dx,
                dy,
                buttons,
                wheel,
            } => self.mouse(dx, dy, buttons, wheel),
            _ => return None,
        })
    }

    /// Gamepad `pad` (0–7, validated) is now in `report`'s state: plugged in first if it is
    /// new. Nothing when the state did not change.
    pub fn gamepad(
        &mut self,
        pad: u8,
        report: GamepadReport,
        vendor: u16,
        product: u16,
    ) -> Vec<ControlMsg> {
        let id = HID_ID_GAMEPAD_FIRST + u16::from(pad);
        let slot = &mut self.gamepads[usize::from(pad) % 8];
        let mut out = Vec::new();
        match slot {
            Some(last) if *last == report => return out,
            Some(_) => {}
            None => out.push(ControlMsg::UhidCreate {
                id,
                vendor_id: vendor,
                product_id: product,
                name: format!("Playrack Gamepad {}", pad + 1),
                report_desc: GAMEPAD_REPORT_DESC.to_vec(),
            }),
        }
        *slot = Some(report);
        out.push(ControlMsg::UhidInput {
            id,
            data: report.to_bytes().to_vec(),
        });
        out
    }

    /// Gamepad `pad` was unplugged on the player's side.
    pub fn gamepad_gone(&mut self, pad: u8) -> Vec<ControlMsg> {
        match self
            .gamepads
            .get_mut(usize::from(pad))
            .and_then(Option::take)
        {
            Some(_) => vec![ControlMsg::UhidDestroy {
                id: HID_ID_GAMEPAD_FIRST + u16::from(pad),
            }],
            None => Vec::new(),
        }
    }

    /// Relative motion with `buttons` held: the mouse is plugged in first if it is new. A
    /// report moves at most ±127 a way, so a larger motion is split into equal steps.
    pub fn mouse(&mut self, dx: i32, dy: i32, buttons: u8, wheel: i8) -> Vec<ControlMsg> {
        let mut out = Vec::new();
        if self.mouse.is_none() {
            out.push(ControlMsg::UhidCreate {
                id: HID_ID_MOUSE,
                vendor_id: 0,
                product_id: 0,
                name: "Playrack Mouse".into(),
                report_desc: MOUSE_REPORT_DESC.to_vec(),
            });
        }
        self.mouse = Some(buttons);
        let steps = (dx.unsigned_abs().max(dy.unsigned_abs()).div_ceil(127)).max(1) as i32;
        let (mut sent_x, mut sent_y) = (0, 0);
        for i in 1..=steps {
            // Where the pointer should be after step i, rounded: the steps add up exactly.
            let (x, y) = (dx * i / steps, dy * i / steps);
            let report = MouseReport {
                buttons,
                dx: (x - sent_x) as i8,
                dy: (y - sent_y) as i8,
                wheel: if i == steps {
                    wheel.clamp(-127, 127)
                } else {
                    0
                },
                pan: 0,
            };
            (sent_x, sent_y) = (x, y);
            out.push(ControlMsg::UhidInput {
                id: HID_ID_MOUSE,
                data: report.to_bytes().to_vec(),
            });
        }
        out
    }

    /// The player is gone (or lost focus): every pressed button and deflected stick is let
    /// go, so nothing stays held in the game while no one plays. The devices stay plugged in
    /// for the player's return.
    pub fn release(&mut self) -> Vec<ControlMsg> {
        let mut out = Vec::new();
        for (pad, slot) in self.gamepads.iter_mut().enumerate() {
            if let Some(r) = slot
                && *r != GamepadReport::NEUTRAL
            {
                *r = GamepadReport::NEUTRAL;
                out.push(ControlMsg::UhidInput {
                    id: HID_ID_GAMEPAD_FIRST + pad as u16,
                    data: GamepadReport::NEUTRAL.to_bytes().to_vec(),
                });
            }
        }
        if let Some(b) = &mut self.mouse
            && *b != 0
        {
            *b = 0;
            out.push(ControlMsg::UhidInput {
                id: HID_ID_MOUSE,
                data: MouseReport::default().to_bytes().to_vec(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_buttons_map_to_scrcpys_report_and_the_dpad_to_the_hat() {
        // A (0), start (9), D-pad up (12) and right (15), guide (16); left stick full left,
        // right trigger half.
        let r = gamepad_report(
            1 | 1 << 9 | 1 << 12 | 1 << 15 | 1 << 16,
            [-1.0, 0.0, 0.0, 1.0],
            [0.0, 0.5],
        );
        assert_eq!(r.buttons, button::SOUTH | button::START, "guide dropped");
        assert_eq!(r.hat, 2, "up-right");
        assert_eq!((r.left_x, r.left_y, r.right_y), (1, 0x8000, 0xFFFF));
        assert_eq!((r.left_trigger, r.right_trigger), (0, 16384));
    }

    #[test]
    fn a_gamepad_is_plugged_in_once_reported_on_change_and_unplugged() {
        let mut p = Plugged::default();
        let r = gamepad_report(1, [0.0; 4], [0.0; 2]);
        let m = p.gamepad(1, r, 0x045e, 0x02ea);
        assert!(
            matches!(
                &m[..],
                [ControlMsg::UhidCreate { id: 4, vendor_id: 0x045e, product_id: 0x02ea, report_desc, .. },
                 ControlMsg::UhidInput { id: 4, data }]
                    if report_desc[..] == GAMEPAD_REPORT_DESC[..] && data[..] == r.to_bytes()[..]
            ),
            "{m:?}"
        );
        assert!(p.gamepad(1, r, 0, 0).is_empty(), "unchanged");
        assert_eq!(p.gamepad(1, GamepadReport::NEUTRAL, 0, 0).len(), 1);
        assert_eq!(p.gamepad_gone(1), vec![ControlMsg::UhidDestroy { id: 4 }]);
        assert!(p.gamepad_gone(1).is_empty(), "already gone");
        assert!(matches!(
            p.gamepad(1, r, 0, 0)[0],
            ControlMsg::UhidCreate { .. }
        ));
    }

    #[test]
    fn large_mouse_motions_are_split_into_steps_that_add_up() {
        let mut p = Plugged::default();
        let m = p.mouse(300, -5, 1, -1);
        assert!(
            matches!(&m[0], ControlMsg::UhidCreate { id: 2, report_desc, .. } if report_desc[..] == MOUSE_REPORT_DESC[..])
        );
        let reports: Vec<MouseReport> = m[1..]
            .iter()
            .map(|c| match c {
                ControlMsg::UhidInput { id: 2, data } => MouseReport::parse(data).unwrap(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(reports.len(), 3);
        let sum = |f: fn(&MouseReport) -> i8| reports.iter().map(|r| i32::from(f(r))).sum::<i32>();
        assert_eq!(
            (sum(|r| r.dx), sum(|r| r.dy), sum(|r| r.wheel)),
            (300, -5, -1)
        );
        assert!(reports.iter().all(|r| r.buttons == 1));
        assert_eq!(p.mouse(0, 0, 0, 0).len(), 1, "plugged in once");
    }

    #[test]
    fn release_lets_go_of_what_is_held() {
        let mut p = Plugged::default();
        assert!(p.release().is_empty());
        p.gamepad(0, gamepad_report(1, [0.0; 4], [0.0; 2]), 0, 0);
        p.mouse(1, 1, 2, 0);
        let m = p.release();
        assert_eq!(
            m,
            vec![
                ControlMsg::UhidInput {
                    id: 3,
                    data: GamepadReport::NEUTRAL.to_bytes().to_vec()
                },
                ControlMsg::UhidInput {
                    id: 2,
                    data: vec![0; 5]
                },
            ]
        );
        assert!(p.release().is_empty(), "nothing held any more");
    }
}
