//! The synthetic game the virtual device "plays": a sans-IO scene fed input events and time,
//! rendered to I420 frames that carry machine-readable marks.
//!
//! What a test (or a person) can read from a frame:
//! - **frame number**: 32 bits drawn as black/white square blocks along the top, most
//!   significant bit first, 16 per row (2 rows) with blocks of `width / 16` pixels (45 px at
//!   720 wide); below 256 px of width the blocks stay 16 px and the stripe takes more rows.
//!   Large enough to survive H.264 at any sane bit rate. [`read_frame_number`] decodes it.
//! - **latency probe**: a square at the right under the stripe, black or white. A
//!   KEYCODE_F12 DOWN toggles it, and the toggle shows in the very next frame rendered.
//!   [`read_probe_block`] reads it. This is the Gaming@Edge "special input" latency method.
//! - **touch marks**: every pointer that goes down leaves a filled disc of a colour contrasting
//!   with the background where it landed, for [`MARK_LIFETIME_US`]; pointers held down are drawn
//!   where they are. Up to [`MAX_POINTERS`] at once, with scrcpy's pointer-id semantics.
//! - **tap counter**: the number of pointer DOWNs ever, drawn with 7-segment digits and kept by
//!   the caller through [`TapStore`] (`<data>/data/<pkg>/files/taps`), so an archive of the
//!   app's data carries it.
//! - **indicators**: three small squares at the bottom-left light up for a second after BACK,
//!   HOME and text input.
//! - **text field**: text input appends to it and DEL (backspace) removes its last character,
//!   like an Android `EditText` with focus; its content is written by the caller through
//!   [`TapStore`] (`<data>/data/<pkg>/files/text_field`, UTF-8), so what a player typed — 中文
//!   through an IME included — can be read back over adb. It is not drawn (no font here).
//!   SET_CLIPBOARD with paste pastes into it, as into a focused `EditText`.
//! - **scroll position**: wheel notches received in all, kept as a list keeps its position
//!   and saved the same way (`files/scroll`, `H V`).
//! - **plugged-in devices and the phone's sensors**: what the game reads from each gamepad
//!   (`files/gamepads`: a line per pad, `<device> <key codes held, comma-separated, or -> <left
//!   x> <left y> <right x> <right y> <left trigger> <right trigger> <hat x> <hat y>`), from a
//!   captured mouse (`files/mouse`: `<x> <y> <buttons> <wheel>`, motion summed), from its
//!   sensors (`files/sensors`: a line per sensor type, `<type> <v0> <v1> <v2>`) and the
//!   location provider (`files/location`: `<lat> <lon> <accuracy>`), saved by the caller
//!   through [`TapStore::save_readout`] whenever it changes.
//!
//! The background (hue, band width, band direction) is seeded from a hash of the package name,
//! so two games look different; the bands scroll with time (and with scroll events), so the
//! encoder always has motion to code. Coordinates given to the game are display coordinates;
//! frames may be rendered at any size (the video size) and everything scales.

pub mod frame;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};

pub use frame::{I420, LumaRef, Yuv};

use playrack_scrcpy::control_msg::{
    AKEY_EVENT_ACTION_DOWN, AKEYCODE_BACK, AKEYCODE_DEL, AKEYCODE_F12, AKEYCODE_HOME,
    AMOTION_EVENT_ACTION_CANCEL, AMOTION_EVENT_ACTION_DOWN, AMOTION_EVENT_ACTION_MOVE,
    AMOTION_EVENT_ACTION_UP,
};

/// Pointers tracked at once, like scrcpy's `PointersState.MAX_POINTERS`.
pub const MAX_POINTERS: usize = 10;
/// How long a touch mark stays on screen, in µs.
pub const MARK_LIFETIME_US: u64 = 2_000_000;
/// Marks kept at most (the oldest go first).
pub const MAX_MARKS: usize = 64;
/// How long an indicator stays lit after its event, in µs.
pub const INDICATOR_US: u64 = 1_000_000;
/// Blocks per row of the frame-number stripe on frames at least 256 px wide; two rows make
/// 32 bits.
pub const STRIPE_BLOCKS_PER_ROW: usize = 16;
/// The smallest stripe block, in pixels: smaller ones blur away in H.264's 16×16 macroblocks.
pub const STRIPE_MIN_BLOCK: usize = 16;

/// The default display: 720×1280 portrait at 60 fps.
pub const DEFAULT_WIDTH: u32 = 720;
pub const DEFAULT_HEIGHT: u32 = 1280;
pub const DEFAULT_FPS: u32 = 60;

/// What the instance was started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameConfig {
    pub package: String,
    /// Display size in pixels (the coordinates of input events).
    pub width: u32,
    pub height: u32,
    /// Display refresh rate: the game renders at most this many frames per second.
    pub fps: u32,
}

impl GameConfig {
    pub fn new(package: &str) -> GameConfig {
        GameConfig {
            package: package.to_string(),
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
            fps: DEFAULT_FPS,
        }
    }
}

/// Where things are in a frame of a given size; shared by the renderer and the readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub height: usize,
    /// Side of one stripe block.
    pub block: usize,
    /// Stripe blocks per row.
    pub per_row: usize,
    /// Probe square: x, y, side.
    pub probe: (usize, usize, usize),
    /// Tap counter: x, y, digit height.
    pub counter: (usize, usize, usize),
}

impl Layout {
    pub fn new(width: usize, height: usize) -> Layout {
        let block = (width / STRIPE_BLOCKS_PER_ROW).max(STRIPE_MIN_BLOCK);
        let per_row = (width / block).max(1);
        let stripe_h = 32usize.div_ceil(per_row) * block;
        let margin = block / 2;
        let side = width / 4;
        Layout {
            width,
            height,
            block,
            per_row,
            probe: (width - side - margin, stripe_h + margin, side),
            // six digits of width h/2 plus gaps stay left of the probe
            counter: (margin, stripe_h + margin, (width / 10).min(height / 10)),
        }
    }
}

/// Reads the frame number from the stripe of a decoded frame (its luma plane).
pub fn read_frame_number(luma: LumaRef<'_>) -> u32 {
    let l = Layout::new(luma.width, luma.height);
    let b = l.block;
    let mut n = 0u32;
    for i in 0..32 {
        let (row, col) = (i / l.per_row, i % l.per_row);
        let (x, y) = (col * b, row * b);
        // the central half of the block, away from edges H.264 may blur
        let bit = luma.mean(x + b / 4, y + b / 4, x + 3 * b / 4, y + 3 * b / 4) >= 128;
        n = (n << 1) | bit as u32;
    }
    n
}

/// Reads the tap counter's six 7-segment digits from a decoded frame (its luma plane);
/// `None` when a digit shows no valid pattern (e.g. a frame too blurred to read).
pub fn read_tap_counter(luma: LumaRef<'_>) -> Option<u64> {
    // Segment bits as `frame::draw_digit` draws them: a..g = bits 0..6.
    const SEGMENTS: [u8; 10] = [
        0b011_1111, 0b000_0110, 0b101_1011, 0b100_1111, 0b110_0110, 0b110_1101, 0b111_1101,
        0b000_0111, 0b111_1111, 0b110_1111,
    ];
    let l = Layout::new(luma.width, luma.height);
    let (x0, y, h) = l.counter;
    let (w, gap, t) = (h / 2, (h / 6).max(2), (h / 8).max(2));
    let lit = |x0: usize, y0: usize, x1: usize, y1: usize| luma.mean(x0, y0, x1, y1) >= 128;
    let mut value = 0u64;
    for i in 0..6 {
        let x = x0 + i * (w + gap);
        let mid = y + h / 2 - t / 2;
        // the middle of each segment, clear of the corners where segments meet
        let samples = [
            (x + t, y, x + w - t, y + t),
            (x + w - t, y + t, x + w, y + h / 2 - t),
            (x + w - t, y + h / 2 + t, x + w, y + h - t),
            (x + t, y + h - t, x + w - t, y + h),
            (x, y + h / 2 + t, x + t, y + h - t),
            (x, y + t, x + t, y + h / 2 - t),
            (x + t, mid, x + w - t, mid + t),
        ];
        let bits = samples.iter().enumerate().fold(0u8, |acc, (b, r)| {
            acc | (u8::from(lit(r.0, r.1, r.2, r.3)) << b)
        });
        let digit = SEGMENTS.iter().position(|&s| s == bits)?;
        value = value * 10 + digit as u64;
    }
    Some(value)
}

/// Reads the latency-probe square: true when it is lit (white).
pub fn read_probe_block(luma: LumaRef<'_>) -> bool {
    let l = Layout::new(luma.width, luma.height);
    let (x, y, s) = l.probe;
    luma.mean(x + s / 4, y + s / 4, x + 3 * s / 4, y + 3 * s / 4) >= 128
}

/// What one rendered frame showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub number: u32,
    pub probe: bool,
    pub taps: u64,
}

#[derive(Debug, Clone, Copy)]
struct Pointer {
    id: u64,
    x: i32,
    y: i32,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    x: i32,
    y: i32,
    at_us: u64,
}

/// The scene parameters drawn from the package name.
#[derive(Debug, Clone, Copy)]
struct Scene {
    background: Yuv,
    band: Yuv,
    mark: Yuv,
    band_width: i64,
    diagonal: bool,
}

/// FNV-1a: a stable hash, so a package looks the same on every run and machine.
fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Scene {
    fn for_package(package: &str) -> Scene {
        let h = fnv1a(package);
        let hue = (h % 360) as f32;
        // dark, saturated background; bands a little lighter; marks light and of the opposite hue
        let background = Yuv::from_hsv(hue, 0.7, 0.35);
        let band = Yuv::from_hsv(hue, 0.6, 0.45);
        let mut mark = Yuv::from_hsv(hue + 180.0, 0.5, 1.0);
        mark.y = mark.y.max(200);
        Scene {
            background,
            band,
            mark,
            band_width: 24 + ((h >> 16) % 40) as i64,
            diagonal: (h >> 32) & 1 == 1,
        }
    }
}

/// The game state. Feed it events and render frames; it never touches a clock or a file.
#[derive(Debug)]
pub struct Game {
    config: GameConfig,
    scene: Scene,
    pointers: Vec<Pointer>,
    marks: VecDeque<Mark>,
    taps: u64,
    taps_dirty: bool,
    frame_number: u32,
    probe: bool,
    probe_toggled_at: Option<u32>,
    scroll: (f32, f32),
    last_back_us: Option<u64>,
    last_home_us: Option<u64>,
    last_text_us: Option<u64>,
    typed_text: String,
    text_dirty: bool,
    scroll_dirty: bool,
    keys: Vec<(u8, i32)>,
    gamepads: BTreeMap<u16, PadState>,
    /// Summed relative motion, buttons held and wheel notches of a captured mouse.
    captured: (i64, i64, u8, i64),
    /// The latest reading per sensor type (Android's `Sensor.TYPE_*`).
    sensors: BTreeMap<u8, [f32; 3]>,
    location: Option<(f64, f64, f32)>,
    readouts_dirty: BTreeSet<&'static str>,
}

/// One gamepad as a game reads it from Android: the `KEYCODE_BUTTON_*` held, the axes (left
/// x, left y, right x, right y: −1–1; left and right trigger: 0–1) and the hat (x, y: −1/0/1).
#[derive(Debug, Clone, PartialEq)]
pub struct PadState {
    pub keycodes: Vec<i32>,
    pub axes: [f32; 6],
    pub hat: (i8, i8),
}

impl Game {
    /// A game for `config`, resuming from a saved tap count.
    pub fn new(config: GameConfig, taps: u64) -> Game {
        Game {
            scene: Scene::for_package(&config.package),
            config,
            pointers: Vec::new(),
            marks: VecDeque::new(),
            taps,
            taps_dirty: false,
            frame_number: 0,
            probe: false,
            probe_toggled_at: None,
            scroll: (0.0, 0.0),
            last_back_us: None,
            last_home_us: None,
            last_text_us: None,
            typed_text: String::new(),
            text_dirty: false,
            scroll_dirty: false,
            keys: Vec::new(),
            gamepads: BTreeMap::new(),
            captured: (0, 0, 0, 0),
            sensors: BTreeMap::new(),
            location: None,
            readouts_dirty: BTreeSet::new(),
        }
    }

    /// Input device `device`, a gamepad, is now in `state`; `None`: it was unplugged.
    pub fn gamepad(&mut self, device: u16, state: Option<PadState>) {
        match state {
            Some(s) => self.gamepads.insert(device, s),
            None => self.gamepads.remove(&device),
        };
        self.readouts_dirty.insert("gamepads");
    }

    /// The gamepads plugged in, by input device.
    pub fn gamepads(&self) -> &BTreeMap<u16, PadState> {
        &self.gamepads
    }

    /// Relative motion from a mouse the game captured (`View.requestPointerCapture`).
    pub fn mouse(&mut self, dx: i64, dy: i64, buttons: u8, wheel: i64) {
        let c = &mut self.captured;
        *c = (c.0 + dx, c.1 + dy, buttons, c.3 + wheel);
        self.readouts_dirty.insert("mouse");
    }

    /// The captured mouse: (x, y) moved in all, buttons held, wheel notches in all.
    pub fn captured_pointer(&self) -> (i64, i64, u8, i64) {
        self.captured
    }

    /// A sensor event (Android's `Sensor.TYPE_*` and its values).
    pub fn sensor(&mut self, kind: u8, values: [f32; 3]) {
        self.sensors.insert(kind, values);
        self.readouts_dirty.insert("sensors");
    }

    /// A location fix from the location provider.
    pub fn location(&mut self, lat: f64, lon: f64, accuracy: f32) {
        self.location = Some((lat, lon, accuracy));
        self.readouts_dirty.insert("location");
    }

    /// The readouts that changed since the last call, as (file name, contents): the caller
    /// saves them ([`TapStore::save_readout`]).
    pub fn take_readouts(&mut self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut self.readouts_dirty)
            .into_iter()
            .map(|name| (name, self.readout(name)))
            .collect()
    }

    fn readout(&self, name: &str) -> String {
        let mut out = String::new();
        match name {
            "gamepads" => {
                for (device, p) in &self.gamepads {
                    let keys = if p.keycodes.is_empty() {
                        "-".to_owned()
                    } else {
                        let codes: Vec<String> = p.keycodes.iter().map(i32::to_string).collect();
                        codes.join(",")
                    };
                    let axes: Vec<String> = p.axes.iter().map(|a| format!("{a:.2}")).collect();
                    out += &format!(
                        "{device} {keys} {} {} {}\n",
                        axes.join(" "),
                        p.hat.0,
                        p.hat.1
                    );
                }
            }
            "mouse" => {
                let (x, y, b, w) = self.captured;
                out = format!("{x} {y} {b} {w}\n");
            }
            "sensors" => {
                for (kind, v) in &self.sensors {
                    out += &format!("{kind} {} {} {}\n", v[0], v[1], v[2]);
                }
            }
            "location" => {
                if let Some((lat, lon, acc)) = self.location {
                    out = format!("{lat} {lon} {acc}\n");
                }
            }
            _ => {}
        }
        out
    }

    pub fn config(&self) -> &GameConfig {
        &self.config
    }

    /// The display is now `width`×`height` (a `wm size`, a rotation): the game is laid out
    /// again at that size; pointers down are lifted, as Android cancels gestures on a
    /// configuration change.
    pub fn resize(&mut self, width: u32, height: u32) {
        self.config.width = width;
        self.config.height = height;
        self.pointers.clear();
    }

    /// Pointer DOWNs since the app's data was created.
    pub fn taps(&self) -> u64 {
        self.taps
    }

    /// True once after the tap count changed: the caller should save it.
    pub fn take_taps_dirty(&mut self) -> bool {
        std::mem::take(&mut self.taps_dirty)
    }

    /// Frames rendered so far; the next frame carries this number.
    pub fn frame_number(&self) -> u32 {
        self.frame_number
    }

    pub fn probe(&self) -> bool {
        self.probe
    }

    /// The number of the first frame that shows the latest probe toggle (the frame rendered
    /// right after the F12), so a client can check the toggle landed in that very frame.
    pub fn probe_toggle_frame(&self) -> Option<u32> {
        self.probe_toggled_at
    }

    /// The text field: text received through INJECT_TEXT, less what DEL took back (printable
    /// key events are not added).
    pub fn typed_text(&self) -> &str {
        &self.typed_text
    }

    /// True once after the text field changed: the caller should save it.
    pub fn take_text_dirty(&mut self) -> bool {
        std::mem::take(&mut self.text_dirty)
    }

    /// Wheel notches received in all, (horizontal, vertical).
    pub fn scrolled(&self) -> (f32, f32) {
        self.scroll
    }

    /// True once after a scroll: the caller should save the position.
    pub fn take_scroll_dirty(&mut self) -> bool {
        std::mem::take(&mut self.scroll_dirty)
    }

    /// Every key event received: (action, keycode).
    pub fn keys(&self) -> &[(u8, i32)] {
        &self.keys
    }

    /// Pointers currently down.
    pub fn pointers_down(&self) -> usize {
        self.pointers.len()
    }

    /// One pointer's DOWN/UP/MOVE/CANCEL, in display coordinates (scrcpy's per-pointer actions).
    pub fn touch(&mut self, action: u8, pointer_id: u64, x: i32, y: i32, now_us: u64) {
        let idx = self.pointers.iter().position(|p| p.id == pointer_id);
        match action {
            AMOTION_EVENT_ACTION_DOWN => {
                if idx.is_none() && self.pointers.len() >= MAX_POINTERS {
                    // scrcpy refuses an 11th pointer
                    return;
                }
                match idx {
                    Some(i) => {
                        self.pointers[i] = Pointer {
                            id: pointer_id,
                            x,
                            y,
                        }
                    }
                    None => self.pointers.push(Pointer {
                        id: pointer_id,
                        x,
                        y,
                    }),
                }
                self.taps += 1;
                self.taps_dirty = true;
                if self.marks.len() == MAX_MARKS {
                    self.marks.pop_front();
                }
                self.marks.push_back(Mark {
                    x,
                    y,
                    at_us: now_us,
                });
            }
            AMOTION_EVENT_ACTION_MOVE => {
                if let Some(i) = idx {
                    self.pointers[i].x = x;
                    self.pointers[i].y = y;
                }
            }
            AMOTION_EVENT_ACTION_UP => {
                if let Some(i) = idx {
                    self.pointers.remove(i);
                }
            }
            AMOTION_EVENT_ACTION_CANCEL => self.pointers.clear(),
            _ => {}
        }
    }

    /// A key event. F12 DOWN toggles the latency probe; BACK and HOME light their indicators.
    pub fn key(&mut self, action: u8, keycode: i32, now_us: u64) {
        self.keys.push((action, keycode));
        if action != AKEY_EVENT_ACTION_DOWN {
            return;
        }
        match keycode {
            AKEYCODE_F12 => {
                self.probe = !self.probe;
                self.probe_toggled_at = Some(self.frame_number);
            }
            AKEYCODE_BACK => self.last_back_us = Some(now_us),
            AKEYCODE_HOME => self.last_home_us = Some(now_us),
            AKEYCODE_DEL => self.text_dirty |= self.typed_text.pop().is_some(),
            _ => {}
        }
    }

    /// BACK_OR_SCREEN_ON: the screen is always on here, so this is BACK.
    pub fn back_or_screen_on(&mut self, action: u8, now_us: u64) {
        self.key(action, AKEYCODE_BACK, now_us);
    }

    /// Text typed through the virtual keyboard.
    pub fn text(&mut self, text: &str, now_us: u64) {
        self.typed_text.push_str(text);
        self.text_dirty = !text.is_empty() || self.text_dirty;
        self.last_text_us = Some(now_us);
    }

    /// Scroll notches move the background bands; the game keeps its scroll position as a
    /// list would (saved by the caller, see [`TapStore::save_scroll`]).
    pub fn scroll(&mut self, hscroll: f32, vscroll: f32) {
        self.scroll.0 += hscroll;
        self.scroll.1 += vscroll;
        self.scroll_dirty |= hscroll != 0.0 || vscroll != 0.0;
    }

    /// Renders the next frame at `frame`'s size and advances the frame number.
    pub fn render(&mut self, frame: &mut I420, now_us: u64) -> FrameInfo {
        let number = self.frame_number;
        let (fw, fh) = (frame.width as i64, frame.height as i64);
        let (dw, dh) = (
            self.config.width.max(1) as i64,
            self.config.height.max(1) as i64,
        );
        let sx = |x: i32| x as i64 * fw / dw;
        let sy = |y: i32| y as i64 * fh / dh;
        let s = self.scene;

        // background: bands scrolling by 2 px per frame, plus scroll events
        frame.clear(s.background);
        let bw = (s.band_width * fw / dw).max(8);
        let offset = (number as i64 * 2 + (self.scroll.1 * 40.0) as i64).rem_euclid(2 * bw);
        if s.diagonal {
            // diagonal bands drawn as stair-stepped 8-row strips
            for y in (0..fh).step_by(8) {
                let mut x = -2 * bw + (y + offset).rem_euclid(2 * bw);
                while x < fw {
                    frame.fill_rect(x, y, x + bw, y + 8, s.band);
                    x += 2 * bw;
                }
            }
        } else {
            let mut y = -2 * bw + offset;
            while y < fh {
                frame.fill_rect(0, y, fw, y + bw, s.band);
                y += 2 * bw;
            }
        }

        // touch marks, then the pointers held down
        self.marks
            .retain(|m| now_us.saturating_sub(m.at_us) < MARK_LIFETIME_US);
        let r = (fw / 24).max(6);
        for m in &self.marks {
            frame.fill_disc(sx(m.x), sy(m.y), r, s.mark);
        }
        for p in &self.pointers {
            frame.fill_disc(sx(p.x), sy(p.y), r * 2 / 3, Yuv::WHITE);
        }

        let l = Layout::new(frame.width, frame.height);
        // frame-number stripe
        let b = l.block as i64;
        for i in 0..32 {
            let bit = (number >> (31 - i)) & 1 == 1;
            let (row, col) = ((i / l.per_row) as i64, (i % l.per_row) as i64);
            let c = if bit { Yuv::WHITE } else { Yuv::BLACK };
            frame.fill_rect(col * b, row * b, (col + 1) * b, (row + 1) * b, c);
        }
        // latency probe
        let (px, py, ps) = (l.probe.0 as i64, l.probe.1 as i64, l.probe.2 as i64);
        let c = if self.probe { Yuv::WHITE } else { Yuv::BLACK };
        frame.fill_rect(px, py, px + ps, py + ps, c);
        // tap counter on a dark panel
        let (cx, cy, ch) = (l.counter.0 as i64, l.counter.1 as i64, l.counter.2 as i64);
        let digits = 6usize;
        let panel_w = digits as i64 * (ch / 2 + (ch / 6).max(2)) + ch / 4;
        frame.fill_rect(
            cx - ch / 8,
            cy - ch / 8,
            cx + panel_w,
            cy + ch + ch / 8,
            Yuv::BLACK,
        );
        frame.draw_number(cx, cy, ch, self.taps % 1_000_000, digits, Yuv::WHITE);
        // indicators: back, home, text
        let is = (fw / 20).max(8);
        let iy = fh - 2 * is;
        let lit = |t: Option<u64>| t.is_some_and(|t| now_us.saturating_sub(t) < INDICATOR_US);
        let colours = [
            (self.last_back_us, Yuv::from_rgb(255, 64, 64)),
            (self.last_home_us, Yuv::from_rgb(64, 255, 64)),
            (self.last_text_us, Yuv::from_rgb(64, 128, 255)),
        ];
        for (i, (t, on)) in colours.into_iter().enumerate() {
            let x = is / 2 + i as i64 * is * 3 / 2;
            let c = if lit(t) { on } else { Yuv::BLACK };
            frame.fill_rect(x, iy, x + is, iy + is, c);
        }

        self.frame_number = self.frame_number.wrapping_add(1);
        FrameInfo {
            number,
            probe: self.probe,
            taps: self.taps,
        }
    }
}

/// The game's files in the app's files directory (`<data>/data/<pkg>/files`): the tap
/// counter (`taps`, one decimal number) and the text field (`text_field`, UTF-8).
#[derive(Debug, Clone)]
pub struct TapStore {
    path: PathBuf,
}

impl TapStore {
    pub fn new(files_dir: &Path) -> TapStore {
        TapStore {
            path: files_dir.join("taps"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved count; 0 when the file does not exist yet.
    pub fn load(&self) -> io::Result<u64> {
        match std::fs::read_to_string(&self.path) {
            Ok(s) => s.trim().parse().map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Saves the count atomically (write a temporary file, then rename).
    pub fn save(&self, taps: u64) -> io::Result<()> {
        write_atomically(&self.path, format!("{taps}\n").as_bytes())
    }

    /// The text field's file.
    pub fn text_path(&self) -> PathBuf {
        self.path.with_file_name("text_field")
    }

    /// Saves the text field's content atomically.
    pub fn save_text(&self, text: &str) -> io::Result<()> {
        write_atomically(&self.text_path(), text.as_bytes())
    }

    /// The scroll position's file.
    pub fn scroll_path(&self) -> PathBuf {
        self.path.with_file_name("scroll")
    }

    /// Saves the scroll position, `H V` in notches, atomically.
    pub fn save_scroll(&self, (h, v): (f32, f32)) -> io::Result<()> {
        write_atomically(&self.scroll_path(), format!("{h} {v}\n").as_bytes())
    }

    /// Saves one of [`Game::take_readouts`]' files atomically.
    pub fn save_readout(&self, name: &str, contents: &str) -> io::Result<PathBuf> {
        let path = self.path.with_file_name(name);
        write_atomically(&path, contents.as_bytes())?;
        Ok(path)
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn game() -> Game {
        Game::new(GameConfig::new("com.example.game"), 0)
    }

    #[test]
    fn frame_number_reads_back() {
        let mut g = game();
        let mut f = I420::new(720, 1280);
        for _ in 0..3 {
            let info = g.render(&mut f, 0);
            assert_eq!(read_frame_number(f.luma()), info.number);
        }
        g.frame_number = 0xA5C3_0F01;
        g.render(&mut f, 0);
        assert_eq!(read_frame_number(f.luma()), 0xA5C3_0F01);
        // smaller video sizes still read back, down to a narrow 184-pixel frame
        for (w, h) in [(360, 640), (184, 320)] {
            let mut small = I420::new(w, h);
            let info = g.render(&mut small, 0);
            assert_eq!(read_frame_number(small.luma()), info.number);
            assert!(Layout::new(w, h).block >= STRIPE_MIN_BLOCK);
        }
    }

    #[test]
    fn the_tap_counter_reads_back_at_every_size() {
        for (taps, w, h) in [
            (0, 720, 1280),
            (123_456, 720, 1280),
            (907_381, 360, 640),
            (42, 184, 320),
        ] {
            let mut g = Game::new(GameConfig::new("com.example.game"), taps);
            let mut f = I420::new(w, h);
            g.render(&mut f, 0);
            assert_eq!(read_tap_counter(f.luma()), Some(taps), "{w}x{h}");
        }
        // a frame without a counter (all grey) is not misread
        let grey = I420::new(360, 640);
        assert_eq!(read_tap_counter(grey.luma()), None);
    }

    #[test]
    fn probe_toggles_on_the_very_next_frame() {
        let mut g = game();
        let mut f = I420::new(720, 1280);
        g.render(&mut f, 0);
        assert!(!read_probe_block(f.luma()));
        g.key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12, 1);
        assert_eq!(g.probe_toggle_frame(), Some(1));
        let info = g.render(&mut f, 2);
        assert_eq!(info.number, 1);
        assert!(read_probe_block(f.luma()));
        // UP does not toggle
        g.key(1, AKEYCODE_F12, 3);
        g.render(&mut f, 4);
        assert!(read_probe_block(f.luma()));
        g.key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_F12, 5);
        g.render(&mut f, 6);
        assert!(!read_probe_block(f.luma()));
    }

    #[test]
    fn touch_leaves_a_mark_that_fades() {
        let mut g = game();
        let mut f = I420::new(720, 1280);
        g.render(&mut f, 0);
        let before = f.luma().at(360, 900);
        g.touch(AMOTION_EVENT_ACTION_DOWN, 7, 360, 900, 10);
        g.touch(AMOTION_EVENT_ACTION_UP, 7, 360, 900, 20);
        g.render(&mut f, 30);
        let after = f.luma().at(360, 900);
        assert!(
            after >= 200 && before < 150,
            "before {before} after {after}"
        );
        assert_eq!(g.taps(), 1);
        assert!(g.take_taps_dirty());
        assert!(!g.take_taps_dirty());
        g.render(&mut f, 10 + MARK_LIFETIME_US);
        assert!(f.luma().at(360, 900) < 150);
    }

    #[test]
    fn marks_scale_to_the_video_size() {
        let mut g = game();
        let mut f = I420::new(360, 640);
        g.touch(AMOTION_EVENT_ACTION_DOWN, 1, 600, 1000, 0);
        g.render(&mut f, 1);
        assert!(f.luma().at(300, 500) >= 200);
    }

    #[test]
    fn at_most_ten_pointers() {
        let mut g = game();
        for id in 0..12 {
            g.touch(AMOTION_EVENT_ACTION_DOWN, id, 100, 600, 0);
        }
        assert_eq!(g.pointers_down(), MAX_POINTERS);
        assert_eq!(g.taps(), 10);
        g.touch(AMOTION_EVENT_ACTION_UP, 3, 0, 0, 1);
        assert_eq!(g.pointers_down(), 9);
        g.touch(AMOTION_EVENT_ACTION_CANCEL, 0, 0, 0, 2);
        assert_eq!(g.pointers_down(), 0);
    }

    #[test]
    fn scene_depends_on_package() {
        let mut a = Game::new(GameConfig::new("com.a"), 0);
        let mut b = Game::new(GameConfig::new("com.b.other"), 0);
        let (mut fa, mut fb) = (I420::new(720, 1280), I420::new(720, 1280));
        a.render(&mut fa, 0);
        b.render(&mut fb, 0);
        assert_ne!(fa.u, fb.u);
    }

    #[test]
    fn scrolls_add_up_and_mark_the_position_for_saving() {
        let mut g = game();
        assert!(!g.take_scroll_dirty());
        g.scroll(0.0, -1.5);
        g.scroll(1.0, -0.5);
        assert_eq!(g.scrolled(), (1.0, -2.0));
        assert!(g.take_scroll_dirty());
        assert!(!g.take_scroll_dirty(), "once");
        g.scroll(0.0, 0.0);
        assert!(!g.take_scroll_dirty(), "nothing moved");
        let dir = tempfile::tempdir().unwrap();
        let store = TapStore::new(dir.path());
        store.save_scroll(g.scrolled()).unwrap();
        assert_eq!(
            std::fs::read_to_string(store.scroll_path()).unwrap(),
            "1 -2\n"
        );
    }

    #[test]
    fn the_text_field_takes_text_and_backspace_and_is_saved_as_utf8() {
        let mut g = game();
        assert!(!g.take_text_dirty());
        g.text("你好", 0);
        g.text("中文", 1);
        assert!(g.take_text_dirty());
        assert!(!g.take_text_dirty(), "once");
        g.key(AKEY_EVENT_ACTION_DOWN, AKEYCODE_DEL, 2);
        g.key(1, AKEYCODE_DEL, 3); // the UP does nothing
        assert_eq!(g.typed_text(), "你好中");
        assert!(g.take_text_dirty());
        let dir = tempfile::tempdir().unwrap();
        let store = TapStore::new(dir.path());
        store.save_text(g.typed_text()).unwrap();
        assert_eq!(
            std::fs::read_to_string(store.text_path()).unwrap(),
            "你好中"
        );
        assert_eq!(store.text_path(), dir.path().join("text_field"));
    }

    #[test]
    fn indicators_and_text() {
        let mut g = game();
        g.text("hi", 0);
        g.back_or_screen_on(AKEY_EVENT_ACTION_DOWN, 0);
        assert_eq!(g.typed_text(), "hi");
        assert_eq!(g.keys(), &[(0, AKEYCODE_BACK)]);
        let mut f = I420::new(720, 1280);
        g.render(&mut f, 10);
        let is = 720 / 20;
        // the back indicator is lit red (luma of pure-ish red is ~100, not black)
        assert!(
            f.luma().at(
                (is / 2 + is / 2) as usize,
                (1280 - 2 * is + is / 2) as usize
            ) > 40
        );
    }

    #[test]
    fn readouts_are_written_once_per_change_in_their_files_format() {
        let mut g = game();
        assert!(g.take_readouts().is_empty());
        g.gamepad(
            3,
            Some(PadState {
                keycodes: vec![96, 108],
                axes: [-1.0, 0.0, 0.25, 0.0, 0.0, 0.5],
                hat: (0, -1),
            }),
        );
        g.gamepad(4, None);
        g.mouse(5, -2, 1, 0);
        g.mouse(5, 0, 0, -1);
        g.sensor(4, [1.5, 0.0, -0.25]);
        g.sensor(1, [0.0, 9.5, 0.0]);
        g.location(31.2304, 121.4737, 12.0);
        let r: BTreeMap<_, _> = g.take_readouts().into_iter().collect();
        assert_eq!(
            r["gamepads"],
            "3 96,108 -1.00 0.00 0.25 0.00 0.00 0.50 0 -1\n"
        );
        assert_eq!(r["mouse"], "10 -2 0 -1\n");
        assert_eq!(r["sensors"], "1 0 9.5 0\n4 1.5 0 -0.25\n");
        assert_eq!(r["location"], "31.2304 121.4737 12\n");
        assert!(g.take_readouts().is_empty(), "nothing changed since");
        g.gamepad(3, None);
        assert_eq!(g.take_readouts(), vec![("gamepads", String::new())]);
    }

    #[test]
    fn tap_store_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("data/com.x/files");
        let s = TapStore::new(&files);
        assert_eq!(s.load().unwrap(), 0);
        s.save(42).unwrap();
        assert_eq!(s.load().unwrap(), 42);
        assert_eq!(std::fs::read_to_string(files.join("taps")).unwrap(), "42\n");
    }
}
