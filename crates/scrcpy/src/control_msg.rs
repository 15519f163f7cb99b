//! Control messages, client → device, on the control socket (scrcpy's `control_msg.c` and
//! `ControlMessageReader.java`).
//!
//! Every message starts with a one-byte type (0..=22 in 4.1), followed by a fixed layout per
//! type. All integers are big-endian. Strings are a length (u32, or u8 for the "tiny" ones) then
//! UTF-8 bytes. A message never exceeds [`CONTROL_MSG_MAX_SIZE`] bytes.
//!
//! [`ControlMsg::serialize`] writes what scrcpy's client writes (text cut at a UTF-8 boundary to
//! the client's limits, pressure and scroll as fixed point); [`ControlMsg::deserialize`] reads
//! what the server reads, from a buffer that may hold a partial message (`Ok(None)`: feed more
//! bytes). [`ControlMsgReader`] keeps the partial bytes between socket reads.
//!
//! Four types are Playrack's own, outside scrcpy's numbering: [`ControlMsg::SetVideoBitRate`]
//! (type [`SET_VIDEO_BIT_RATE`], 0xC0), which Playrack's injector answers by changing its
//! encoder's bit rate in place (Android's `MediaCodec.setParameters` with
//! `PARAMETER_KEY_VIDEO_BITRATE`), and [`ControlMsg::Custom`] (type [`CUSTOM`], 0xC1): a
//! tenant's page's message for its game, `len:u32` + UTF-8, at most [`CUSTOM_MAX_LENGTH`]
//! bytes (the game answers with the device message of the same type); [`ControlMsg::Sensor`]
//! ([`SENSOR`], 0xC2: `kind:u8` + three `f32`) and [`ControlMsg::Location`] ([`LOCATION`],
//! 0xC3: latitude and longitude as `f64`, accuracy as `f32`), the player's phone's sensors and
//! position, which the injector hands to Android's sensor and location services as a virtual
//! sensor and a mock location provider would. scrcpy's own server
//! knows neither and would stop reading the control socket, so a client sends them only to a
//! server it knows is the injector.
//!
//! An unknown type, a length that would make the message larger than the maximum, or a string
//! longer than its field's limit (after invalid UTF-8 is replaced) is an
//! error: the server stops reading the control socket, as scrcpy's controller does.

use std::fmt;

/// The largest message either side accepts: 256 KiB (`SC_CONTROL_MSG_MAX_SIZE`).
pub const CONTROL_MSG_MAX_SIZE: usize = 1 << 18;
/// The client cuts INJECT_TEXT to this many bytes (`SC_CONTROL_MSG_INJECT_TEXT_MAX_LENGTH`).
pub const INJECT_TEXT_MAX_LENGTH: usize = 300;
/// SET_CLIPBOARD text limit: the max size less type(1), sequence(8), paste(1), length(4).
pub const CLIPBOARD_TEXT_MAX_LENGTH: usize = CONTROL_MSG_MAX_SIZE - 14;
/// SCAN_FILE path limit (`SC_CONTROL_MSG_SCAN_FILE_PATH_MAX_LENGTH`).
pub const SCAN_FILE_PATH_MAX_LENGTH: usize = 256;
/// START_APP name limit: its length field is one byte.
pub const START_APP_NAME_MAX_LENGTH: usize = 255;
/// UHID_CREATE name limit (the client asserts it).
pub const UHID_NAME_MAX_LENGTH: usize = 127;

/// Pointer id of the mouse (`SC_POINTER_ID_MOUSE`, -1).
pub const POINTER_ID_MOUSE: u64 = u64::MAX;
/// Pointer id of a finger the client cannot tell apart from others (-2).
pub const POINTER_ID_GENERIC_FINGER: u64 = u64::MAX - 1;
/// Pointer id of the virtual finger of a pinch emulation (-3).
pub const POINTER_ID_VIRTUAL_FINGER: u64 = u64::MAX - 2;

/// `KeyEvent.ACTION_DOWN` / `ACTION_UP`.
pub const AKEY_EVENT_ACTION_DOWN: u8 = 0;
pub const AKEY_EVENT_ACTION_UP: u8 = 1;
/// `MotionEvent` actions the client sends per pointer.
pub const AMOTION_EVENT_ACTION_DOWN: u8 = 0;
pub const AMOTION_EVENT_ACTION_UP: u8 = 1;
pub const AMOTION_EVENT_ACTION_MOVE: u8 = 2;
pub const AMOTION_EVENT_ACTION_CANCEL: u8 = 3;
pub const AMOTION_EVENT_ACTION_HOVER_MOVE: u8 = 7;
/// `MotionEvent.BUTTON_PRIMARY`.
pub const AMOTION_EVENT_BUTTON_PRIMARY: u32 = 1;
/// A few Android keycodes the virtual device acts on.
pub const AKEYCODE_HOME: i32 = 3;
pub const AKEYCODE_BACK: i32 = 4;
pub const AKEYCODE_ENTER: i32 = 66;
/// Backspace.
pub const AKEYCODE_DEL: i32 = 67;
pub const AKEYCODE_F12: i32 = 131;
/// Copies the focused field's text (Ctrl+C as a key).
pub const AKEYCODE_COPY: i32 = 278;
/// `AMETA_SHIFT_ON | AMETA_SHIFT_LEFT_ON`, as in scrcpy's test.
pub const AMETA_SHIFT_ON: i32 = 0x01;
pub const AMETA_SHIFT_LEFT_ON: i32 = 0x40;

/// GET_CLIPBOARD's `copy_key`: which key to press on the device before reading its clipboard.
pub const COPY_KEY_NONE: u8 = 0;
pub const COPY_KEY_COPY: u8 = 1;
pub const COPY_KEY_CUT: u8 = 2;

/// The type byte; the enum order is scrcpy's (`control_msg.h` equals `ControlMessage.java`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ControlMsgType {
    InjectKeycode = 0,
    InjectText = 1,
    InjectTouchEvent = 2,
    InjectScrollEvent = 3,
    BackOrScreenOn = 4,
    ExpandNotificationPanel = 5,
    ExpandSettingsPanel = 6,
    CollapsePanels = 7,
    GetClipboard = 8,
    SetClipboard = 9,
    SetDisplayPower = 10,
    RotateDevice = 11,
    UhidCreate = 12,
    UhidInput = 13,
    UhidDestroy = 14,
    OpenHardKeyboardSettings = 15,
    StartApp = 16,
    ResetVideo = 17,
    CameraSetTorch = 18,
    CameraZoomIn = 19,
    CameraZoomOut = 20,
    ResizeDisplay = 21,
    ScanFile = 22,
    /// Playrack's extension (see the module doc).
    SetVideoBitRate = SET_VIDEO_BIT_RATE,
    /// Playrack's extension (see the module doc).
    Custom = CUSTOM,
    /// Playrack's extension (see the module doc).
    Sensor = SENSOR,
    /// Playrack's extension (see the module doc).
    Location = LOCATION,
}

/// The type byte of Playrack's [`ControlMsg::SetVideoBitRate`]: far from scrcpy's numbering,
/// which grows by one a release.
pub const SET_VIDEO_BIT_RATE: u8 = 0xC0;
/// The type byte of Playrack's [`ControlMsg::Custom`] (and of the device's answer).
pub const CUSTOM: u8 = 0xC1;
/// The longest custom message, in bytes.
pub const CUSTOM_MAX_LENGTH: usize = 4096;
/// The type byte of Playrack's [`ControlMsg::Sensor`].
pub const SENSOR: u8 = 0xC2;
/// The type byte of Playrack's [`ControlMsg::Location`].
pub const LOCATION: u8 = 0xC3;
/// [`ControlMsg::Sensor`]'s kinds, numbered as Android's `Sensor.TYPE_*`: acceleration with
/// gravity (m/s²), rotation rate (rad/s), and the device's orientation (azimuth, pitch and
/// roll in degrees, the deprecated `TYPE_ORIENTATION` games still read).
pub const SENSOR_TYPE_ACCELEROMETER: u8 = 1;
pub const SENSOR_TYPE_ORIENTATION: u8 = 3;
pub const SENSOR_TYPE_GYROSCOPE: u8 = 4;

impl ControlMsgType {
    /// Every type scrcpy's protocol version knows, in id order (Playrack's extension is not
    /// among them).
    pub const ALL: [ControlMsgType; 23] = [
        Self::InjectKeycode,
        Self::InjectText,
        Self::InjectTouchEvent,
        Self::InjectScrollEvent,
        Self::BackOrScreenOn,
        Self::ExpandNotificationPanel,
        Self::ExpandSettingsPanel,
        Self::CollapsePanels,
        Self::GetClipboard,
        Self::SetClipboard,
        Self::SetDisplayPower,
        Self::RotateDevice,
        Self::UhidCreate,
        Self::UhidInput,
        Self::UhidDestroy,
        Self::OpenHardKeyboardSettings,
        Self::StartApp,
        Self::ResetVideo,
        Self::CameraSetTorch,
        Self::CameraZoomIn,
        Self::CameraZoomOut,
        Self::ResizeDisplay,
        Self::ScanFile,
    ];

    /// The type for a wire byte, if this version knows it.
    pub fn from_u8(v: u8) -> Option<Self> {
        if v == SET_VIDEO_BIT_RATE {
            return Some(Self::SetVideoBitRate);
        }
        match v {
            CUSTOM => return Some(Self::Custom),
            SENSOR => return Some(Self::Sensor),
            LOCATION => return Some(Self::Location),
            _ => {}
        }
        Self::ALL.get(v as usize).copied()
    }
}

/// A point and the video size it was computed against (`struct sc_position`, 12 bytes).
///
/// The server drops events whose size is not the current video size (a rotation race).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub x: i32,
    pub y: i32,
    pub width: u16,
    pub height: u16,
}

/// One control message.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlMsg {
    /// A key event (`AKEY_EVENT_ACTION_*`, an Android keycode).
    InjectKeycode {
        action: u8,
        keycode: i32,
        repeat: u32,
        metastate: i32,
    },
    /// Text typed through the virtual keyboard.
    InjectText {
        text: String,
    },
    /// One pointer's DOWN/UP/MOVE; `pressure` is in [0, 1].
    InjectTouchEvent {
        action: u8,
        pointer_id: u64,
        position: Position,
        pressure: f32,
        action_button: u32,
        buttons: u32,
    },
    /// A wheel event; `hscroll`/`vscroll` are notches in [-16, 16].
    InjectScrollEvent {
        position: Position,
        hscroll: f32,
        vscroll: f32,
        buttons: u32,
    },
    /// BACK, or turn the screen on if it is off (only on DOWN).
    BackOrScreenOn {
        action: u8,
    },
    ExpandNotificationPanel,
    ExpandSettingsPanel,
    CollapsePanels,
    /// Ask for the device clipboard (answered with a CLIPBOARD device message).
    GetClipboard {
        copy_key: u8,
    },
    /// Set the device clipboard; a non-zero `sequence` asks for an ACK_CLIPBOARD.
    SetClipboard {
        sequence: u64,
        paste: bool,
        text: String,
    },
    SetDisplayPower {
        on: bool,
    },
    RotateDevice,
    UhidCreate {
        id: u16,
        vendor_id: u16,
        product_id: u16,
        name: String,
        report_desc: Vec<u8>,
    },
    UhidInput {
        id: u16,
        data: Vec<u8>,
    },
    UhidDestroy {
        id: u16,
    },
    OpenHardKeyboardSettings,
    /// Start an app by name or package (`+` force-stops first, `?` searches by name).
    StartApp {
        name: String,
    },
    /// Restart the capture: a new session packet, config packet and key frame follow.
    ResetVideo,
    CameraSetTorch {
        on: bool,
    },
    CameraZoomIn,
    CameraZoomOut,
    /// Resize a new/flex display (v4.0+).
    ResizeDisplay {
        width: u16,
        height: u16,
    },
    /// Ask the media scanner to index a path (v4.1+).
    ScanFile {
        path: String,
    },
    /// Playrack's extension: encode at `bit_rate` bits per second from the next frame on, with
    /// no new key frame or configuration (payload: the rate as a u32).
    SetVideoBitRate {
        bit_rate: u32,
    },
    /// Playrack's extension: a message for the game from its page (UTF-8, cut to
    /// [`CUSTOM_MAX_LENGTH`] bytes).
    Custom {
        data: String,
    },
    /// Playrack's extension: one reading of one of the player's sensors (`kind` is one of the
    /// `SENSOR_TYPE_*`), three values in Android's axes and units.
    Sensor {
        kind: u8,
        values: [f32; 3],
    },
    /// Playrack's extension: the player's position, in degrees, and its accuracy in metres.
    Location {
        latitude: f64,
        longitude: f64,
        accuracy: f32,
    },
}

/// Why bytes on the control socket are not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlMsgError {
    /// The type byte is not one of 0..=22 (`ControlProtocolException`).
    #[error("Unknown event type: {0}")]
    UnknownType(u8),
    /// A length field would make the message larger than [`CONTROL_MSG_MAX_SIZE`].
    #[error(
        "control message type {msg_type} declares {len} bytes, more than the {CONTROL_MSG_MAX_SIZE}-byte maximum"
    )]
    TooLarge { msg_type: u8, len: usize },
    /// A string is longer than its field allows (the limits scrcpy's client cuts to), counted
    /// after invalid UTF-8 is replaced: three bytes of U+FFFD for each bad byte.
    #[error(
        "control message type {msg_type} carries a string of {len} bytes, more than the {max} its field allows"
    )]
    StringTooLong {
        msg_type: u8,
        len: usize,
        max: usize,
    },
}

// Fixed-point helpers (scrcpy's util/binary.h and Binary.java).

/// [0, 1] → u16 fixed point; 1.0 becomes 0xFFFF rather than overflowing to 0x10000.
pub fn float_to_u16fp(f: f32) -> u16 {
    let u = (f.clamp(0.0, 1.0) * 65536.0) as u32;
    u.min(0xffff) as u16
}

/// u16 fixed point → [0, 1]; 0xFFFF decodes to exactly 1.0.
pub fn u16fp_to_float(v: u16) -> f32 {
    if v == 0xffff { 1.0 } else { v as f32 / 65536.0 }
}

/// [-1, 1] → i16 fixed point; 1.0 becomes 0x7FFF.
pub fn float_to_i16fp(f: f32) -> i16 {
    let i = (f.clamp(-1.0, 1.0) * 32768.0) as i32;
    i.min(0x7fff) as i16
}

/// i16 fixed point → [-1, 1]; 0x7FFF decodes to exactly 1.0.
pub fn i16fp_to_float(v: i16) -> f32 {
    if v == 0x7fff { 1.0 } else { v as f32 / 32768.0 }
}

/// The largest prefix of `s` that fits in `max` bytes without cutting a UTF-8 sequence
/// (`sc_str_utf8_truncation_index`).
pub fn utf8_truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

fn write_position(buf: &mut Vec<u8>, p: &Position) {
    buf.extend_from_slice(&p.x.to_be_bytes());
    buf.extend_from_slice(&p.y.to_be_bytes());
    buf.extend_from_slice(&p.width.to_be_bytes());
    buf.extend_from_slice(&p.height.to_be_bytes());
}

/// Writes `len:u32` then the text cut to `max` bytes.
fn write_string(buf: &mut Vec<u8>, s: &str, max: usize) {
    let s = utf8_truncate(s, max);
    buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// Writes `len:u8` then the text cut to `max` (≤ 255) bytes.
fn write_string_tiny(buf: &mut Vec<u8>, s: &str, max: usize) {
    let s = utf8_truncate(s, max);
    buf.push(s.len() as u8);
    buf.extend_from_slice(s.as_bytes());
}

impl ControlMsg {
    /// The type of this message.
    pub fn msg_type(&self) -> ControlMsgType {
        use ControlMsgType as T;
        match self {
            ControlMsg::InjectKeycode { .. } => T::InjectKeycode,
            ControlMsg::InjectText { .. } => T::InjectText,
            ControlMsg::InjectTouchEvent { .. } => T::InjectTouchEvent,
            ControlMsg::InjectScrollEvent { .. } => T::InjectScrollEvent,
            ControlMsg::BackOrScreenOn { .. } => T::BackOrScreenOn,
            ControlMsg::ExpandNotificationPanel => T::ExpandNotificationPanel,
            ControlMsg::ExpandSettingsPanel => T::ExpandSettingsPanel,
            ControlMsg::CollapsePanels => T::CollapsePanels,
            ControlMsg::GetClipboard { .. } => T::GetClipboard,
            ControlMsg::SetClipboard { .. } => T::SetClipboard,
            ControlMsg::SetDisplayPower { .. } => T::SetDisplayPower,
            ControlMsg::RotateDevice => T::RotateDevice,
            ControlMsg::UhidCreate { .. } => T::UhidCreate,
            ControlMsg::UhidInput { .. } => T::UhidInput,
            ControlMsg::UhidDestroy { .. } => T::UhidDestroy,
            ControlMsg::OpenHardKeyboardSettings => T::OpenHardKeyboardSettings,
            ControlMsg::StartApp { .. } => T::StartApp,
            ControlMsg::ResetVideo => T::ResetVideo,
            ControlMsg::CameraSetTorch { .. } => T::CameraSetTorch,
            ControlMsg::CameraZoomIn => T::CameraZoomIn,
            ControlMsg::CameraZoomOut => T::CameraZoomOut,
            ControlMsg::ResizeDisplay { .. } => T::ResizeDisplay,
            ControlMsg::ScanFile { .. } => T::ScanFile,
            ControlMsg::SetVideoBitRate { .. } => T::SetVideoBitRate,
            ControlMsg::Custom { .. } => T::Custom,
            ControlMsg::Sensor { .. } => T::Sensor,
            ControlMsg::Location { .. } => T::Location,
        }
    }

    /// Appends the wire bytes of this message to `buf` (`sc_control_msg_serialize`), and
    /// returns how many were written.
    pub fn serialize(&self, buf: &mut Vec<u8>) -> usize {
        let start = buf.len();
        buf.push(self.msg_type() as u8);
        match self {
            ControlMsg::InjectKeycode {
                action,
                keycode,
                repeat,
                metastate,
            } => {
                buf.push(*action);
                buf.extend_from_slice(&keycode.to_be_bytes());
                buf.extend_from_slice(&repeat.to_be_bytes());
                buf.extend_from_slice(&metastate.to_be_bytes());
            }
            ControlMsg::InjectText { text } => write_string(buf, text, INJECT_TEXT_MAX_LENGTH),
            ControlMsg::InjectTouchEvent {
                action,
                pointer_id,
                position,
                pressure,
                action_button,
                buttons,
            } => {
                buf.push(*action);
                buf.extend_from_slice(&pointer_id.to_be_bytes());
                write_position(buf, position);
                buf.extend_from_slice(&float_to_u16fp(*pressure).to_be_bytes());
                buf.extend_from_slice(&action_button.to_be_bytes());
                buf.extend_from_slice(&buttons.to_be_bytes());
            }
            ControlMsg::InjectScrollEvent {
                position,
                hscroll,
                vscroll,
                buttons,
            } => {
                write_position(buf, position);
                // The wire range [-1, 1] stands for [-16, 16] notches (v3.3.1+).
                buf.extend_from_slice(&float_to_i16fp(hscroll / 16.0).to_be_bytes());
                buf.extend_from_slice(&float_to_i16fp(vscroll / 16.0).to_be_bytes());
                buf.extend_from_slice(&buttons.to_be_bytes());
            }
            ControlMsg::BackOrScreenOn { action } => buf.push(*action),
            ControlMsg::GetClipboard { copy_key } => buf.push(*copy_key),
            ControlMsg::SetClipboard {
                sequence,
                paste,
                text,
            } => {
                buf.extend_from_slice(&sequence.to_be_bytes());
                buf.push(*paste as u8);
                write_string(buf, text, CLIPBOARD_TEXT_MAX_LENGTH);
            }
            ControlMsg::SetDisplayPower { on } | ControlMsg::CameraSetTorch { on } => {
                buf.push(*on as u8)
            }
            ControlMsg::UhidCreate {
                id,
                vendor_id,
                product_id,
                name,
                report_desc,
            } => {
                buf.extend_from_slice(&id.to_be_bytes());
                buf.extend_from_slice(&vendor_id.to_be_bytes());
                buf.extend_from_slice(&product_id.to_be_bytes());
                write_string_tiny(buf, name, UHID_NAME_MAX_LENGTH);
                let desc = &report_desc[..report_desc.len().min(u16::MAX as usize)];
                buf.extend_from_slice(&(desc.len() as u16).to_be_bytes());
                buf.extend_from_slice(desc);
            }
            ControlMsg::UhidInput { id, data } => {
                buf.extend_from_slice(&id.to_be_bytes());
                let data = &data[..data.len().min(u16::MAX as usize)];
                buf.extend_from_slice(&(data.len() as u16).to_be_bytes());
                buf.extend_from_slice(data);
            }
            ControlMsg::UhidDestroy { id } => buf.extend_from_slice(&id.to_be_bytes()),
            ControlMsg::StartApp { name } => {
                write_string_tiny(buf, name, START_APP_NAME_MAX_LENGTH)
            }
            ControlMsg::ResizeDisplay { width, height } => {
                buf.extend_from_slice(&width.to_be_bytes());
                buf.extend_from_slice(&height.to_be_bytes());
            }
            ControlMsg::ScanFile { path } => write_string(buf, path, SCAN_FILE_PATH_MAX_LENGTH),
            ControlMsg::SetVideoBitRate { bit_rate } => {
                buf.extend_from_slice(&bit_rate.to_be_bytes());
            }
            ControlMsg::Custom { data } => write_string(buf, data, CUSTOM_MAX_LENGTH),
            ControlMsg::Sensor { kind, values } => {
                buf.push(*kind);
                for v in values {
                    buf.extend_from_slice(&v.to_be_bytes());
                }
            }
            ControlMsg::Location {
                latitude,
                longitude,
                accuracy,
            } => {
                buf.extend_from_slice(&latitude.to_be_bytes());
                buf.extend_from_slice(&longitude.to_be_bytes());
                buf.extend_from_slice(&accuracy.to_be_bytes());
            }
            ControlMsg::ExpandNotificationPanel
            | ControlMsg::ExpandSettingsPanel
            | ControlMsg::CollapsePanels
            | ControlMsg::RotateDevice
            | ControlMsg::OpenHardKeyboardSettings
            | ControlMsg::ResetVideo
            | ControlMsg::CameraZoomIn
            | ControlMsg::CameraZoomOut => {}
        }
        buf.len() - start
    }

    /// The wire bytes of this message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.serialize(&mut v);
        v
    }

    /// Reads one message from the start of `buf`.
    ///
    /// `Ok(Some((msg, n)))`: a message of `n` bytes; `Ok(None)`: `buf` holds only the beginning
    /// of one, read more; `Err`: the bytes can never form a valid message.
    pub fn deserialize(buf: &[u8]) -> Result<Option<(ControlMsg, usize)>, ControlMsgError> {
        let Some(&type_byte) = buf.first() else {
            return Ok(None);
        };
        let Some(ty) = ControlMsgType::from_u8(type_byte) else {
            return Err(ControlMsgError::UnknownType(type_byte));
        };
        let mut r = Cursor {
            buf,
            pos: 1,
            msg_type: type_byte,
        };
        match r.read(ty) {
            Ok(msg) => Ok(Some((msg, r.pos))),
            Err(Short::NeedMore) => Ok(None),
            Err(Short::Invalid(e)) => Err(e),
        }
    }
}

/// Not enough bytes yet, or never valid.
enum Short {
    NeedMore,
    Invalid(ControlMsgError),
}

/// A read position in a buffer that may end in the middle of a message.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    msg_type: u8,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Short> {
        if self.pos + n > CONTROL_MSG_MAX_SIZE {
            return Err(Short::Invalid(ControlMsgError::TooLarge {
                msg_type: self.msg_type,
                len: self.pos + n,
            }));
        }
        if self.buf.len() < self.pos + n {
            return Err(Short::NeedMore);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Short> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Short> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, Short> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, Short> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64, Short> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn position(&mut self) -> Result<Position, Short> {
        Ok(Position {
            x: self.i32()?,
            y: self.i32()?,
            width: self.u16()?,
            height: self.u16()?,
        })
    }
    /// A byte array with a `size_bytes`-byte length prefix (`parseByteArray`).
    fn bytes(&mut self, size_bytes: usize) -> Result<Vec<u8>, Short> {
        let len = match size_bytes {
            1 => self.u8()? as usize,
            2 => self.u16()? as usize,
            _ => self.u32()? as usize,
        };
        Ok(self.take(len)?.to_vec())
    }
    /// Invalid UTF-8 is replaced, as Java's `new String(bytes, UTF_8)` does. The text must fit
    /// `max` bytes, the field's limit, so that what is read is what a client can send (and
    /// serialises back to the same message).
    fn string(&mut self, size_bytes: usize, max: usize) -> Result<String, Short> {
        let b = self.bytes(size_bytes)?;
        let s = match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if s.len() > max {
            return Err(Short::Invalid(ControlMsgError::StringTooLong {
                msg_type: self.msg_type,
                len: s.len(),
                max,
            }));
        }
        Ok(s)
    }

    fn read(&mut self, ty: ControlMsgType) -> Result<ControlMsg, Short> {
        use ControlMsgType as T;
        Ok(match ty {
            T::InjectKeycode => ControlMsg::InjectKeycode {
                action: self.u8()?,
                keycode: self.i32()?,
                repeat: self.u32()?,
                metastate: self.i32()?,
            },
            T::InjectText => ControlMsg::InjectText {
                text: self.string(4, INJECT_TEXT_MAX_LENGTH)?,
            },
            T::InjectTouchEvent => ControlMsg::InjectTouchEvent {
                action: self.u8()?,
                pointer_id: self.u64()?,
                position: self.position()?,
                pressure: u16fp_to_float(self.u16()?),
                action_button: self.u32()?,
                buttons: self.u32()?,
            },
            T::InjectScrollEvent => ControlMsg::InjectScrollEvent {
                position: self.position()?,
                hscroll: i16fp_to_float(self.u16()? as i16) * 16.0,
                vscroll: i16fp_to_float(self.u16()? as i16) * 16.0,
                buttons: self.u32()?,
            },
            T::BackOrScreenOn => ControlMsg::BackOrScreenOn { action: self.u8()? },
            T::ExpandNotificationPanel => ControlMsg::ExpandNotificationPanel,
            T::ExpandSettingsPanel => ControlMsg::ExpandSettingsPanel,
            T::CollapsePanels => ControlMsg::CollapsePanels,
            T::GetClipboard => ControlMsg::GetClipboard {
                copy_key: self.u8()?,
            },
            T::SetClipboard => ControlMsg::SetClipboard {
                sequence: self.u64()?,
                paste: self.u8()? != 0,
                text: self.string(4, CLIPBOARD_TEXT_MAX_LENGTH)?,
            },
            T::SetDisplayPower => ControlMsg::SetDisplayPower {
                on: self.u8()? != 0,
            },
            T::RotateDevice => ControlMsg::RotateDevice,
            T::UhidCreate => ControlMsg::UhidCreate {
                id: self.u16()?,
                vendor_id: self.u16()?,
                product_id: self.u16()?,
                name: self.string(1, UHID_NAME_MAX_LENGTH)?,
                report_desc: self.bytes(2)?,
            },
            T::UhidInput => ControlMsg::UhidInput {
                id: self.u16()?,
                data: self.bytes(2)?,
            },
            T::UhidDestroy => ControlMsg::UhidDestroy { id: self.u16()? },
            T::OpenHardKeyboardSettings => ControlMsg::OpenHardKeyboardSettings,
            T::StartApp => ControlMsg::StartApp {
                name: self.string(1, START_APP_NAME_MAX_LENGTH)?,
            },
            T::ResetVideo => ControlMsg::ResetVideo,
            T::CameraSetTorch => ControlMsg::CameraSetTorch {
                on: self.u8()? != 0,
            },
            T::CameraZoomIn => ControlMsg::CameraZoomIn,
            T::CameraZoomOut => ControlMsg::CameraZoomOut,
            T::ResizeDisplay => ControlMsg::ResizeDisplay {
                width: self.u16()?,
                height: self.u16()?,
            },
            T::ScanFile => ControlMsg::ScanFile {
                path: self.string(4, SCAN_FILE_PATH_MAX_LENGTH)?,
            },
            T::SetVideoBitRate => ControlMsg::SetVideoBitRate {
                bit_rate: self.u32()?,
            },
            T::Custom => ControlMsg::Custom {
                data: self.string(4, CUSTOM_MAX_LENGTH)?,
            },
            T::Sensor => ControlMsg::Sensor {
                kind: self.u8()?,
                values: [
                    f32::from_bits(self.u32()?),
                    f32::from_bits(self.u32()?),
                    f32::from_bits(self.u32()?),
                ],
            },
            T::Location => ControlMsg::Location {
                latitude: f64::from_bits(self.u64()?),
                longitude: f64::from_bits(self.u64()?),
                accuracy: f32::from_bits(self.u32()?),
            },
        })
    }
}

/// Reassembles messages from arbitrary chunks of the control socket (server side).
#[derive(Debug, Default)]
pub struct ControlMsgReader {
    buf: Vec<u8>,
}

impl ControlMsgReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, `Ok(None)` if more bytes are needed. After an error the
    /// stream is unusable (there is no way to find the next message boundary).
    pub fn next_msg(&mut self) -> Result<Option<ControlMsg>, ControlMsgError> {
        match ControlMsg::deserialize(&self.buf)? {
            Some((msg, n)) => {
                self.buf.drain(..n);
                Ok(Some(msg))
            }
            None => Ok(None),
        }
    }

    /// Bytes of an incomplete message still waiting for the rest.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

impl fmt::Display for ControlMsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}({})", *self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `scrcpy_control` fuzz target: a UHID name of 114 bytes, mostly invalid
    /// UTF-8, was read as a 200-odd-byte name, over the field's 127, so the message read was
    /// not one a client could send (it serialised to a different name).
    #[test]
    fn a_string_past_its_limit_once_decoded_is_refused() {
        let stream: Vec<u8> = (0..HEX.len() / 2)
            .map(|i| u8::from_str_radix(&HEX[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        const HEX: &str = "000000000042000000000007080109000000000000000701000000036162630a010b0c005804706556721112011314150280380407ffffff0000000100000001030000000a00000014043807000000f800000000000400050607080109000000000000000701000000036162630a010b0c00010470657211120113d2150280380407ffff000000000000000002010080000000000000092e07080109000000000000000701000000036162630a010b0c00582470706e6700";
        let mut r = ControlMsgReader::new();
        r.push(&stream);
        let err = loop {
            match r.next_msg() {
                Ok(Some(m)) => {
                    let bytes = m.to_bytes();
                    let (again, used) = ControlMsg::deserialize(&bytes).unwrap().unwrap();
                    assert_eq!((again, used), (m, bytes.len()));
                }
                Ok(None) => panic!("the stream holds a bad message"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(
                err,
                ControlMsgError::StringTooLong {
                    msg_type: 12,
                    max: UHID_NAME_MAX_LENGTH,
                    ..
                }
            ),
            "{err:?}"
        );

        // The same for each string field: within the limit once decoded, or an error.
        let mut uhid = vec![12, 0, 1, 0, 2, 0, 3, 50];
        uhid.extend([0xff; 50]);
        uhid.extend([0, 0]);
        assert!(matches!(
            ControlMsg::deserialize(&uhid),
            Err(ControlMsgError::StringTooLong { len: 150, .. })
        ));
        let mut text = vec![1, 0, 0, 1, 0x2d];
        text.extend([b'a'; 301]);
        assert!(matches!(
            ControlMsg::deserialize(&text),
            Err(ControlMsgError::StringTooLong {
                msg_type: 1,
                len: 301,
                max: 300
            })
        ));
        let mut app = vec![16, 2, 0xc3, 0x28];
        app.truncate(4);
        let (m, _) = ControlMsg::deserialize(&app).unwrap().unwrap();
        assert_eq!(
            m,
            ControlMsg::StartApp {
                name: "\u{fffd}(".into()
            }
        );
    }

    #[test]
    fn fixed_point() {
        assert_eq!(float_to_u16fp(1.0), 0xffff);
        assert_eq!(float_to_u16fp(0.5), 0x8000);
        assert_eq!(float_to_u16fp(0.0), 0);
        assert_eq!(u16fp_to_float(0xffff), 1.0);
        assert_eq!(u16fp_to_float(0x8000), 0.5);
        assert_eq!(float_to_i16fp(1.0), 0x7fff);
        assert_eq!(float_to_i16fp(-1.0), -0x8000);
        assert_eq!(float_to_i16fp(1.0 / 16.0), 0x0800);
        assert_eq!(i16fp_to_float(0x7fff), 1.0);
        assert_eq!(i16fp_to_float(-0x8000), -1.0);
    }

    #[test]
    fn utf8_truncation_respects_boundaries() {
        assert_eq!(utf8_truncate("aé", 2), "a");
        assert_eq!(utf8_truncate("aé", 3), "aé");
        assert_eq!(utf8_truncate("", 0), "");
    }

    #[test]
    fn every_type_round_trips() {
        let p = Position {
            x: -5,
            y: 7,
            width: 720,
            height: 1280,
        };
        let msgs = vec![
            ControlMsg::InjectKeycode {
                action: 0,
                keycode: 131,
                repeat: 0,
                metastate: 0,
            },
            ControlMsg::InjectText {
                text: "héllo".into(),
            },
            ControlMsg::InjectTouchEvent {
                action: 2,
                pointer_id: POINTER_ID_GENERIC_FINGER,
                position: p,
                pressure: 0.5,
                action_button: 0,
                buttons: 0,
            },
            ControlMsg::InjectScrollEvent {
                position: p,
                hscroll: 1.0,
                vscroll: -2.0,
                buttons: 0,
            },
            ControlMsg::BackOrScreenOn { action: 0 },
            ControlMsg::ExpandNotificationPanel,
            ControlMsg::ExpandSettingsPanel,
            ControlMsg::CollapsePanels,
            ControlMsg::GetClipboard {
                copy_key: COPY_KEY_CUT,
            },
            ControlMsg::SetClipboard {
                sequence: 9,
                paste: false,
                text: "x".into(),
            },
            ControlMsg::SetDisplayPower { on: false },
            ControlMsg::RotateDevice,
            ControlMsg::UhidCreate {
                id: 1,
                vendor_id: 2,
                product_id: 3,
                name: "kbd".into(),
                report_desc: vec![5, 6],
            },
            ControlMsg::UhidInput {
                id: 1,
                data: vec![1, 2, 3],
            },
            ControlMsg::UhidDestroy { id: 1 },
            ControlMsg::OpenHardKeyboardSettings,
            ControlMsg::StartApp {
                name: "+com.example".into(),
            },
            ControlMsg::ResetVideo,
            ControlMsg::CameraSetTorch { on: true },
            ControlMsg::CameraZoomIn,
            ControlMsg::CameraZoomOut,
            ControlMsg::ResizeDisplay {
                width: 800,
                height: 600,
            },
            ControlMsg::ScanFile {
                path: "/sdcard/x".into(),
            },
        ];
        assert_eq!(msgs.len(), 23);
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(m.msg_type() as usize, i);
            let bytes = m.to_bytes();
            let (back, n) = ControlMsg::deserialize(&bytes).unwrap().unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(&back, m);
            // every strict prefix is incomplete, never an error
            for cut in 0..bytes.len() {
                assert_eq!(
                    ControlMsg::deserialize(&bytes[..cut]),
                    Ok(None),
                    "{m:?} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn the_bit_rate_extension_is_five_bytes_outside_scrcpys_numbering() {
        let m = ControlMsg::SetVideoBitRate {
            bit_rate: 2_500_000,
        };
        let bytes = m.to_bytes();
        assert_eq!(bytes, [0xC0, 0x00, 0x26, 0x25, 0xA0]);
        assert_eq!(ControlMsg::deserialize(&bytes), Ok(Some((m, 5))));
        assert_eq!(ControlMsg::deserialize(&bytes[..4]), Ok(None));
        assert!(!ControlMsgType::ALL.contains(&ControlMsgType::SetVideoBitRate));
        let m = ControlMsg::Custom {
            data: "ping 你好".into(),
        };
        let bytes = m.to_bytes();
        assert_eq!(&bytes[..5], [0xC1, 0, 0, 0, 11]);
        assert_eq!(ControlMsg::deserialize(&bytes), Ok(Some((m, 16))));
        assert_eq!(ControlMsg::deserialize(&bytes[..10]), Ok(None));
        assert!(!ControlMsgType::ALL.contains(&ControlMsgType::Custom));
        let m = ControlMsg::Sensor {
            kind: SENSOR_TYPE_ACCELEROMETER,
            values: [0.5, -9.81, 1.0],
        };
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), 14);
        assert_eq!(&bytes[..6], [0xC2, 1, 0x3F, 0, 0, 0]);
        assert_eq!(ControlMsg::deserialize(&bytes), Ok(Some((m, 14))));
        assert_eq!(ControlMsg::deserialize(&bytes[..13]), Ok(None));
        let m = ControlMsg::Location {
            latitude: 31.2304,
            longitude: 121.4737,
            accuracy: 12.5,
        };
        let bytes = m.to_bytes();
        assert_eq!(bytes.len(), 21);
        assert_eq!(bytes[0], 0xC3);
        assert_eq!(ControlMsg::deserialize(&bytes), Ok(Some((m, 21))));
        assert_eq!(ControlMsg::deserialize(&bytes[..20]), Ok(None));
        assert!(!ControlMsgType::ALL.contains(&ControlMsgType::Sensor));
        let mut long = vec![0xC1];
        long.extend_from_slice(&(CUSTOM_MAX_LENGTH as u32 + 1).to_be_bytes());
        long.extend(std::iter::repeat_n(b'x', CUSTOM_MAX_LENGTH + 1));
        assert!(ControlMsg::deserialize(&long).is_err(), "past the limit");
        // the byte after scrcpy's last type is still unknown
        assert_eq!(
            ControlMsg::deserialize(&[23]),
            Err(ControlMsgError::UnknownType(23))
        );
    }
}
