//! The server's launch arguments, as scrcpy's client builds them and its server parses them.
//!
//! scrcpy starts its server with one shell command (`app/src/server.c` `execute_server()`):
//!
//! ```text
//! CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 scid=0badcafe log_level=info …
//! ```
//!
//! The first argument after the class is the client's version; the server refuses to run unless it
//! equals its own, byte for byte (`Options.java` `parse()`). Every other argument is `key=value`;
//! the order does not matter, an unknown key only logs a warning, and a key left out keeps its
//! default. The client sends only the keys that differ from the default, plus `scid` and
//! `log_level`, and [`Options::to_args`] does the same.
//!
//! `scid` is hexadecimal (the client writes `%08x`); it names the abstract socket
//! `scrcpy_%08x`, or `scrcpy` without it ([`Options::socket_name`]).

use std::fmt;

use crate::SCRCPY_VERSION;
use crate::stream::{DemuxerConfig, StreamKind, StreamWriter};

/// Where scrcpy's client pushes the server (`SC_DEVICE_SERVER_PATH`).
pub const SERVER_PATH: &str = "/data/local/tmp/scrcpy-server.jar";

/// The main class `app_process` is told to run.
pub const SERVER_CLASS: &str = "com.genymobile.scrcpy.Server";

/// Prefix of the abstract socket name (`SC_SOCKET_NAME_PREFIX`); `scid` is appended as `%08x`.
pub const SOCKET_NAME_PREFIX: &str = "scrcpy_";

/// The most slices `playrack_slices` may ask for (a 720p frame has 45 macroblock rows).
pub const MAX_SLICES: u32 = 32;

/// Why launch arguments were refused. The `Display` text is the server's own message, so a shell
/// that prints `[server] ERROR: {error}` looks like scrcpy's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// No argument at all after the class name.
    #[error("Missing client version")]
    MissingVersion,
    /// argv[0] is not exactly [`SCRCPY_VERSION`].
    #[error("The server version ({server}) does not match the client ({client})")]
    VersionMismatch { server: String, client: String },
    /// An argument without `=`.
    #[error("Invalid key=value pair: \"{0}\"")]
    InvalidPair(String),
    /// A number that does not parse (Java's `NumberFormatException` text).
    #[error("For input string: \"{0}\"")]
    InvalidNumber(String),
    /// A value the server rejects with its own message.
    #[error("{0}")]
    Invalid(String),
    /// The command line is not an `app_process` launch of the scrcpy server class.
    #[error("not a scrcpy server launch: {0}")]
    NotAServerLaunch(String),
}

/// `log_level=` (`Ln.Level`); the server's default is `debug`, the client sends `info` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Verbose,
    #[default]
    Debug,
    Info,
    Warn,
    Error,
}

/// `video_codec=` and the codec id written at the start of the video stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoCodec {
    #[default]
    H264,
    H265,
    Av1,
    /// v4.1+.
    Vp8,
    /// v4.1+.
    Vp9,
}

/// `audio_codec=` and the codec id written at the start of the audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioCodec {
    #[default]
    Opus,
    Aac,
    Flac,
    Raw,
}

/// `video_source=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VideoSource {
    #[default]
    Display,
    Camera,
}

/// The names `audio_source=` accepts (`AudioSource.java`); `output` is the default.
pub const AUDIO_SOURCES: &[&str] = &[
    "output",
    "mic",
    "playback",
    "mic-unprocessed",
    "mic-camcorder",
    "mic-voice-recognition",
    "mic-voice-communication",
    "voice-call",
    "voice-call-uplink",
    "voice-call-downlink",
    "voice-performance",
];

/// `camera_facing=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CameraFacing {
    Front,
    Back,
    External,
}

/// `display_ime_policy=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayImePolicy {
    Local,
    Fallback,
    Hide,
}

/// `crop=W:H:X:Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub width: u32,
    pub height: u32,
    pub x: u32,
    pub y: u32,
}

/// `new_display=[WxH][/dpi]`; an empty value means "the main display's size and density".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NewDisplay {
    pub size: Option<(u32, u32)>,
    pub dpi: Option<u32>,
}

/// `capture_orientation=[@][flip]0|90|180|270`, or `@` alone (lock the initial orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaptureOrientation {
    /// `@` prefix: the capture keeps this orientation whatever the device does.
    pub locked: bool,
    /// Clockwise rotation in degrees: 0, 90, 180 or 270.
    pub degrees: u16,
    /// `flip` prefix: mirrored horizontally before the rotation.
    pub flip: bool,
}

/// One `video_codec_options` / `audio_codec_options` entry, `key[:type]=value` (`CodecOption.java`).
#[derive(Debug, Clone, PartialEq)]
pub struct CodecOption {
    pub key: String,
    pub value: CodecValue,
}

/// A codec option's typed value; `int` is the default type.
#[derive(Debug, Clone, PartialEq)]
pub enum CodecValue {
    Int(i32),
    Long(i64),
    Float(f32),
    Str(String),
}

/// Every option the 4.1 server understands, with the server's defaults (`Options.java`).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub log_level: LogLevel,
    /// `scid`, a 31-bit value; `None` is the server's -1 ("no scid").
    pub scid: Option<u32>,
    pub video: bool,
    pub audio: bool,
    pub control: bool,
    /// Longest side of the video in pixels; 0 keeps the display size.
    pub max_size: u32,
    /// 1, 2, 4, 8 or 16 (v4.0+).
    pub min_size_alignment: u8,
    pub video_codec: VideoCodec,
    pub audio_codec: AudioCodec,
    pub video_source: VideoSource,
    /// One of [`AUDIO_SOURCES`].
    pub audio_source: String,
    pub audio_dup: bool,
    pub video_bit_rate: u32,
    pub audio_bit_rate: u32,
    /// Frame-rate cap; 0 means none.
    pub max_fps: f32,
    pub angle: f32,
    /// true: the device listens and the client connects (adb forward); false: the device
    /// connects to the client (adb reverse).
    pub tunnel_forward: bool,
    pub crop: Option<Crop>,
    pub display_id: u32,
    pub camera_id: Option<String>,
    pub camera_size: Option<(u32, u32)>,
    pub camera_facing: Option<CameraFacing>,
    /// `camera_ar=` kept as text: `sensor`, `W:H` or a float.
    pub camera_ar: Option<String>,
    pub camera_zoom: f32,
    pub camera_fps: u32,
    pub camera_high_speed: bool,
    pub camera_torch: bool,
    pub show_touches: bool,
    pub stay_awake: bool,
    /// Milliseconds; -1 leaves the device setting alone.
    pub screen_off_timeout: i32,
    pub video_codec_options: Vec<CodecOption>,
    pub audio_codec_options: Vec<CodecOption>,
    pub video_encoder: Option<String>,
    pub audio_encoder: Option<String>,
    pub power_off_on_close: bool,
    pub clipboard_autosync: bool,
    pub downsize_on_error: bool,
    pub cleanup: bool,
    pub power_on: bool,
    pub list_encoders: bool,
    pub list_displays: bool,
    pub list_cameras: bool,
    pub list_camera_sizes: bool,
    pub list_apps: bool,
    pub new_display: Option<NewDisplay>,
    pub vd_destroy_content: bool,
    pub vd_system_decorations: bool,
    pub flex_display: bool,
    pub capture_orientation: Option<CaptureOrientation>,
    pub display_ime_policy: Option<DisplayImePolicy>,
    pub keep_active: bool,
    pub ignore_video_encoder_constraints: bool,
    /// Write the 64-byte device name on the first socket.
    pub send_device_meta: bool,
    /// Prefix every packet with the 12-byte media header.
    pub send_frame_meta: bool,
    /// Write one 0x00 byte on the first socket in forward mode.
    pub send_dummy_byte: bool,
    /// Write codec ids and session packets (v4.0+; `send_codec_meta` before).
    pub send_stream_meta: bool,
    /// Playrack's extension `playrack_slices=N`: encode each frame as N slices and send each
    /// slice as its own packet, every one but the frame's last flagged
    /// [`PACKET_FLAG_PARTIAL`](crate::stream::PACKET_FLAG_PARTIAL). 0 (the default) is scrcpy's
    /// one packet per frame. A server that does not know the key warns and ignores it, so a
    /// client may always ask.
    pub playrack_slices: u8,
    /// Keys the server did not know; it only warns about them.
    pub unknown_keys: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            log_level: LogLevel::Debug,
            scid: None,
            video: true,
            audio: true,
            control: true,
            max_size: 0,
            min_size_alignment: 1,
            video_codec: VideoCodec::H264,
            audio_codec: AudioCodec::Opus,
            video_source: VideoSource::Display,
            audio_source: "output".into(),
            audio_dup: false,
            video_bit_rate: 8_000_000,
            audio_bit_rate: 128_000,
            max_fps: 0.0,
            angle: 0.0,
            tunnel_forward: false,
            crop: None,
            display_id: 0,
            camera_id: None,
            camera_size: None,
            camera_facing: None,
            camera_ar: None,
            camera_zoom: 1.0,
            camera_fps: 0,
            camera_high_speed: false,
            camera_torch: false,
            show_touches: false,
            stay_awake: false,
            screen_off_timeout: -1,
            video_codec_options: Vec::new(),
            audio_codec_options: Vec::new(),
            video_encoder: None,
            audio_encoder: None,
            power_off_on_close: false,
            clipboard_autosync: true,
            downsize_on_error: true,
            cleanup: true,
            power_on: true,
            list_encoders: false,
            list_displays: false,
            list_cameras: false,
            list_camera_sizes: false,
            list_apps: false,
            new_display: None,
            vd_destroy_content: true,
            vd_system_decorations: true,
            flex_display: false,
            capture_orientation: None,
            display_ime_policy: None,
            keep_active: false,
            ignore_video_encoder_constraints: false,
            send_device_meta: true,
            send_frame_meta: true,
            send_dummy_byte: true,
            send_stream_meta: true,
            playrack_slices: 0,
            unknown_keys: Vec::new(),
        }
    }
}

impl LogLevel {
    fn name(self) -> &'static str {
        match self {
            LogLevel::Verbose => "verbose",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl VideoCodec {
    /// The name used in `video_codec=`.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "h264",
            VideoCodec::H265 => "h265",
            VideoCodec::Av1 => "av1",
            VideoCodec::Vp8 => "vp8",
            VideoCodec::Vp9 => "vp9",
        }
    }

    /// The codec id at the start of the video stream: the name in ASCII, big-endian.
    pub fn id(self) -> u32 {
        match self {
            VideoCodec::H264 => crate::stream::CODEC_ID_H264,
            VideoCodec::H265 => crate::stream::CODEC_ID_H265,
            VideoCodec::Av1 => crate::stream::CODEC_ID_AV1,
            VideoCodec::Vp8 => crate::stream::CODEC_ID_VP8,
            VideoCodec::Vp9 => crate::stream::CODEC_ID_VP9,
        }
    }
}

impl AudioCodec {
    /// The name used in `audio_codec=`.
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Opus => "opus",
            AudioCodec::Aac => "aac",
            AudioCodec::Flac => "flac",
            AudioCodec::Raw => "raw",
        }
    }

    /// The codec id at the start of the audio stream.
    pub fn id(self) -> u32 {
        match self {
            AudioCodec::Opus => crate::stream::CODEC_ID_OPUS,
            AudioCodec::Aac => crate::stream::CODEC_ID_AAC,
            AudioCodec::Flac => crate::stream::CODEC_ID_FLAC,
            AudioCodec::Raw => crate::stream::CODEC_ID_RAW,
        }
    }
}

/// Java's `Boolean.parseBoolean`: "true" in any case is true, anything else is false.
fn parse_bool(value: &str) -> bool {
    value.eq_ignore_ascii_case("true")
}

fn parse_i32(value: &str) -> Result<i32, OptionsError> {
    value
        .parse::<i32>()
        .map_err(|_| OptionsError::InvalidNumber(value.to_string()))
}

fn parse_u32(value: &str) -> Result<u32, OptionsError> {
    let v = parse_i32(value)?;
    u32::try_from(v).map_err(|_| OptionsError::Invalid(format!("Invalid negative value: {v}")))
}

fn parse_float(key: &str, value: &str) -> Result<f32, OptionsError> {
    value
        .trim()
        .parse::<f32>()
        .map_err(|_| OptionsError::Invalid(format!("Invalid float value for {key}: \"{value}\"")))
}

fn parse_size(value: &str) -> Result<(u32, u32), OptionsError> {
    let Some((w, h)) = value.split_once('x') else {
        return Err(OptionsError::Invalid(format!(
            "Invalid size format (expected <width>x<height>): \"{value}\""
        )));
    };
    let (w, h) = (parse_i32(w)?, parse_i32(h)?);
    if w <= 0 || h <= 0 {
        return Err(OptionsError::Invalid(format!(
            "Invalid non-positive size dimension: \"{value}\""
        )));
    }
    Ok((w as u32, h as u32))
}

fn parse_crop(value: &str) -> Result<Crop, OptionsError> {
    let tokens: Vec<&str> = value.split(':').collect();
    if tokens.len() != 4 {
        return Err(OptionsError::Invalid(format!(
            "Crop must contains 4 values separated by colons: \"{value}\""
        )));
    }
    let n: Vec<i32> = tokens
        .iter()
        .map(|t| parse_i32(t))
        .collect::<Result<_, _>>()?;
    if n[0] <= 0 || n[1] <= 0 {
        return Err(OptionsError::Invalid(format!(
            "Invalid crop size: {}x{}",
            n[0], n[1]
        )));
    }
    if n[2] < 0 || n[3] < 0 {
        return Err(OptionsError::Invalid(format!(
            "Invalid crop offset: {}:{}",
            n[2], n[3]
        )));
    }
    Ok(Crop {
        width: n[0] as u32,
        height: n[1] as u32,
        x: n[2] as u32,
        y: n[3] as u32,
    })
}

fn parse_new_display(value: &str) -> Result<NewDisplay, OptionsError> {
    if value.is_empty() {
        return Ok(NewDisplay::default());
    }
    let (size, dpi) = match value.split_once('/') {
        Some((s, d)) => (s, Some(d)),
        None => (value, None),
    };
    let size = if size.is_empty() {
        None
    } else {
        Some(parse_size(size)?)
    };
    let dpi = match dpi {
        Some(d) => {
            let v = parse_i32(d)?;
            if v <= 0 {
                return Err(OptionsError::Invalid(format!(
                    "Invalid non-positive dpi: {d}"
                )));
            }
            Some(v as u32)
        }
        None => None,
    };
    Ok(NewDisplay { size, dpi })
}

fn parse_capture_orientation(value: &str) -> Result<CaptureOrientation, OptionsError> {
    if value.is_empty() {
        return Err(OptionsError::Invalid(
            "Empty capture orientation string".into(),
        ));
    }
    let (locked, rest) = match value.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if locked && rest.is_empty() {
        return Ok(CaptureOrientation {
            locked: true,
            degrees: 0,
            flip: false,
        });
    }
    let (flip, angle) = match rest.strip_prefix("flip") {
        Some(a) => (true, a),
        None => (false, rest),
    };
    let degrees = match angle {
        "0" => 0,
        "90" => 90,
        "180" => 180,
        "270" => 270,
        _ => {
            return Err(OptionsError::Invalid(format!(
                "Unknown orientation: {rest}"
            )));
        }
    };
    Ok(CaptureOrientation {
        locked,
        degrees,
        flip,
    })
}

/// Parses `key[:type]=value[,…]`; a backslash escapes the next character (`CodecOption.parse`).
pub fn parse_codec_options(value: &str) -> Result<Vec<CodecOption>, OptionsError> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut escape = false;
    for c in value.chars() {
        if escape {
            current.push(c);
            escape = false;
        } else if c == '\\' {
            escape = true;
        } else if c == ',' {
            items.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    items.push(current);
    let mut options = Vec::new();
    for item in items.iter().filter(|s| !s.is_empty()) {
        let Some((key_type, v)) = item.split_once('=') else {
            return Err(OptionsError::Invalid("'=' expected".into()));
        };
        let (key, ty) = match key_type.split_once(':') {
            Some((k, t)) => (k, t),
            None => (key_type, "int"),
        };
        if key.is_empty() {
            return Err(OptionsError::Invalid("Key may not be null".into()));
        }
        let value = match ty {
            "int" => CodecValue::Int(parse_i32(v)?),
            "long" => CodecValue::Long(
                v.parse()
                    .map_err(|_| OptionsError::InvalidNumber(v.to_string()))?,
            ),
            "float" => CodecValue::Float(parse_float(key, v)?),
            "str" => CodecValue::Str(v.to_string()),
            other => {
                return Err(OptionsError::Invalid(format!(
                    "Invalid codec option type (int, long, float, str): {other}"
                )));
            }
        };
        options.push(CodecOption {
            key: key.to_string(),
            value,
        });
    }
    Ok(options)
}

fn format_codec_options(options: &[CodecOption]) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace(',', "\\,");
    options
        .iter()
        .map(|o| match &o.value {
            CodecValue::Int(v) => format!("{}={v}", escape(&o.key)),
            CodecValue::Long(v) => format!("{}:long={v}", escape(&o.key)),
            CodecValue::Float(v) => format!("{}:float={v}", escape(&o.key)),
            CodecValue::Str(v) => format!("{}:str={}", escape(&o.key), escape(v)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Options {
    /// Parses the server's argv: `[version, key=value, …]` (what follows the class name).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Options, OptionsError> {
        let Some(client_version) = args.first() else {
            return Err(OptionsError::MissingVersion);
        };
        if client_version.as_ref() != SCRCPY_VERSION {
            return Err(OptionsError::VersionMismatch {
                server: SCRCPY_VERSION.to_string(),
                client: client_version.as_ref().to_string(),
            });
        }
        let mut o = Options::default();
        for arg in &args[1..] {
            let arg = arg.as_ref();
            let Some((key, value)) = arg.split_once('=') else {
                return Err(OptionsError::InvalidPair(arg.to_string()));
            };
            o.apply(key, value)?;
        }
        Ok(o)
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<(), OptionsError> {
        match key {
            "scid" => {
                let scid = i64::from_str_radix(value, 16)
                    .ok()
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(|| OptionsError::InvalidNumber(value.to_string()))?;
                if scid < -1 {
                    return Err(OptionsError::Invalid(format!(
                        "scid may not be negative (except -1 for 'none'): {scid}"
                    )));
                }
                self.scid = (scid >= 0).then_some(scid as u32);
            }
            "log_level" => {
                self.log_level = match value.to_ascii_lowercase().as_str() {
                    "verbose" => LogLevel::Verbose,
                    "debug" => LogLevel::Debug,
                    "info" => LogLevel::Info,
                    "warn" => LogLevel::Warn,
                    "error" => LogLevel::Error,
                    _ => {
                        return Err(OptionsError::Invalid(format!(
                            "No enum constant com.genymobile.scrcpy.util.Ln.Level.{}",
                            value.to_ascii_uppercase()
                        )));
                    }
                }
            }
            "video" => self.video = parse_bool(value),
            "audio" => self.audio = parse_bool(value),
            "video_codec" => {
                self.video_codec = match value {
                    "h264" => VideoCodec::H264,
                    "h265" => VideoCodec::H265,
                    "av1" => VideoCodec::Av1,
                    "vp8" => VideoCodec::Vp8,
                    "vp9" => VideoCodec::Vp9,
                    _ => {
                        return Err(OptionsError::Invalid(format!(
                            "Video codec {value} not supported"
                        )));
                    }
                }
            }
            "audio_codec" => {
                self.audio_codec = match value {
                    "opus" => AudioCodec::Opus,
                    "aac" => AudioCodec::Aac,
                    "flac" => AudioCodec::Flac,
                    "raw" => AudioCodec::Raw,
                    _ => {
                        return Err(OptionsError::Invalid(format!(
                            "Audio codec {value} not supported"
                        )));
                    }
                }
            }
            "video_source" => {
                self.video_source = match value {
                    "display" => VideoSource::Display,
                    "camera" => VideoSource::Camera,
                    _ => {
                        return Err(OptionsError::Invalid(format!(
                            "Video source {value} not supported"
                        )));
                    }
                }
            }
            "audio_source" => {
                if !AUDIO_SOURCES.contains(&value) {
                    return Err(OptionsError::Invalid(format!(
                        "Audio source {value} not supported"
                    )));
                }
                self.audio_source = value.to_string();
            }
            "audio_dup" => self.audio_dup = parse_bool(value),
            "max_size" => self.max_size = parse_u32(value)?,
            "min_size_alignment" => {
                let align = parse_i32(value)?;
                if ![1, 2, 4, 8, 16].contains(&align) {
                    return Err(OptionsError::Invalid(format!(
                        "min_size_alignment ({align}) must be 1, 2, 4, 8 or 16"
                    )));
                }
                self.min_size_alignment = align as u8;
            }
            "video_bit_rate" => self.video_bit_rate = parse_u32(value)?,
            "audio_bit_rate" => self.audio_bit_rate = parse_u32(value)?,
            "max_fps" => self.max_fps = parse_float(key, value)?,
            "angle" => self.angle = parse_float(key, value)?,
            "tunnel_forward" => self.tunnel_forward = parse_bool(value),
            "crop" => {
                if !value.is_empty() {
                    self.crop = Some(parse_crop(value)?);
                }
            }
            "control" => self.control = parse_bool(value),
            "display_id" => self.display_id = parse_u32(value)?,
            "show_touches" => self.show_touches = parse_bool(value),
            "stay_awake" => self.stay_awake = parse_bool(value),
            "screen_off_timeout" => {
                let v = parse_i32(value)?;
                if v < -1 {
                    return Err(OptionsError::Invalid(format!(
                        "Invalid screen off timeout: {v}"
                    )));
                }
                self.screen_off_timeout = v;
            }
            "video_codec_options" => self.video_codec_options = parse_codec_options(value)?,
            "audio_codec_options" => self.audio_codec_options = parse_codec_options(value)?,
            "video_encoder" => self.video_encoder = (!value.is_empty()).then(|| value.into()),
            "audio_encoder" => self.audio_encoder = (!value.is_empty()).then(|| value.into()),
            "power_off_on_close" => self.power_off_on_close = parse_bool(value),
            "clipboard_autosync" => self.clipboard_autosync = parse_bool(value),
            "downsize_on_error" => self.downsize_on_error = parse_bool(value),
            "cleanup" => self.cleanup = parse_bool(value),
            "power_on" => self.power_on = parse_bool(value),
            "list_encoders" => self.list_encoders = parse_bool(value),
            "list_displays" => self.list_displays = parse_bool(value),
            "list_cameras" => self.list_cameras = parse_bool(value),
            "list_camera_sizes" => self.list_camera_sizes = parse_bool(value),
            "list_apps" => self.list_apps = parse_bool(value),
            "camera_id" => self.camera_id = (!value.is_empty()).then(|| value.into()),
            "camera_size" => {
                if !value.is_empty() {
                    self.camera_size = Some(parse_size(value)?);
                }
            }
            "camera_facing" => {
                if !value.is_empty() {
                    self.camera_facing = Some(match value {
                        "front" => CameraFacing::Front,
                        "back" => CameraFacing::Back,
                        "external" => CameraFacing::External,
                        _ => {
                            return Err(OptionsError::Invalid(format!(
                                "Camera facing {value} not supported"
                            )));
                        }
                    });
                }
            }
            "camera_ar" => self.camera_ar = (!value.is_empty()).then(|| value.into()),
            "camera_zoom" => {
                if !value.is_empty() {
                    self.camera_zoom = parse_float(key, value)?;
                }
            }
            "camera_fps" => self.camera_fps = parse_u32(value)?,
            "camera_high_speed" => self.camera_high_speed = parse_bool(value),
            "camera_torch" => self.camera_torch = parse_bool(value),
            "new_display" => self.new_display = Some(parse_new_display(value)?),
            "vd_destroy_content" => self.vd_destroy_content = parse_bool(value),
            "vd_system_decorations" => self.vd_system_decorations = parse_bool(value),
            "flex_display" => self.flex_display = parse_bool(value),
            "capture_orientation" => {
                self.capture_orientation = Some(parse_capture_orientation(value)?)
            }
            "display_ime_policy" => {
                self.display_ime_policy = Some(match value {
                    "local" => DisplayImePolicy::Local,
                    "fallback" => DisplayImePolicy::Fallback,
                    "hide" => DisplayImePolicy::Hide,
                    _ => {
                        return Err(OptionsError::Invalid(format!(
                            "Invalid display IME policy: {value}"
                        )));
                    }
                })
            }
            "keep_active" => self.keep_active = parse_bool(value),
            "ignore_video_encoder_constraints" => {
                self.ignore_video_encoder_constraints = parse_bool(value)
            }
            "send_device_meta" => self.send_device_meta = parse_bool(value),
            "send_frame_meta" => self.send_frame_meta = parse_bool(value),
            "send_dummy_byte" => self.send_dummy_byte = parse_bool(value),
            "send_stream_meta" => self.send_stream_meta = parse_bool(value),
            "playrack_slices" => {
                let n = parse_u32(value)?;
                if n > MAX_SLICES {
                    return Err(OptionsError::Invalid(format!(
                        "playrack_slices must be 0 to {MAX_SLICES}: {value}"
                    )));
                }
                self.playrack_slices = n as u8;
            }
            "raw_stream" => {
                if parse_bool(value) {
                    self.send_device_meta = false;
                    self.send_frame_meta = false;
                    self.send_dummy_byte = false;
                    self.send_stream_meta = false;
                }
            }
            _ => {
                tracing::warn!("Unknown server option: {key}");
                self.unknown_keys.push(key.to_string());
            }
        }
        Ok(())
    }

    /// The abstract socket name: `scrcpy_%08x`, or `scrcpy` without an scid.
    pub fn socket_name(&self) -> String {
        match self.scid {
            Some(scid) => format!("{SOCKET_NAME_PREFIX}{scid:08x}"),
            None => "scrcpy".to_string(),
        }
    }

    /// The `key=value` arguments, in the order scrcpy's client writes them: `scid` and
    /// `log_level` always, every other key only when it differs from the server's default.
    pub fn to_args(&self) -> Vec<String> {
        let d = Options::default();
        let mut a = Vec::new();
        fn add(a: &mut Vec<String>, cond: bool, s: String) {
            if cond {
                a.push(s)
            }
        }
        if let Some(scid) = self.scid {
            add(&mut a, true, format!("scid={scid:08x}"));
        }
        add(&mut a, true, format!("log_level={}", self.log_level.name()));
        add(&mut a, !self.video, "video=false".into());
        add(
            &mut a,
            self.video_bit_rate != d.video_bit_rate,
            format!("video_bit_rate={}", self.video_bit_rate),
        );
        add(&mut a, !self.audio, "audio=false".into());
        add(
            &mut a,
            self.audio_bit_rate != d.audio_bit_rate,
            format!("audio_bit_rate={}", self.audio_bit_rate),
        );
        add(
            &mut a,
            self.video_codec != d.video_codec,
            format!("video_codec={}", self.video_codec.name()),
        );
        add(
            &mut a,
            self.audio_codec != d.audio_codec,
            format!("audio_codec={}", self.audio_codec.name()),
        );
        add(
            &mut a,
            self.video_source == VideoSource::Camera,
            "video_source=camera".into(),
        );
        add(
            &mut a,
            self.audio_source != d.audio_source,
            format!("audio_source={}", self.audio_source),
        );
        add(&mut a, self.audio_dup, "audio_dup=true".into());
        add(
            &mut a,
            self.max_size != 0,
            format!("max_size={}", self.max_size),
        );
        add(
            &mut a,
            self.max_fps != 0.0,
            format!("max_fps={}", self.max_fps),
        );
        add(
            &mut a,
            self.min_size_alignment != 1,
            format!("min_size_alignment={}", self.min_size_alignment),
        );
        add(&mut a, self.angle != 0.0, format!("angle={}", self.angle));
        if let Some(o) = self.capture_orientation {
            let s = if o.locked && o.degrees == 0 && !o.flip {
                "@".to_string()
            } else {
                format!(
                    "{}{}{}",
                    if o.locked { "@" } else { "" },
                    if o.flip { "flip" } else { "" },
                    o.degrees
                )
            };
            a.push(format!("capture_orientation={s}"));
        }
        add(&mut a, self.tunnel_forward, "tunnel_forward=true".into());
        if let Some(c) = self.crop {
            a.push(format!("crop={}:{}:{}:{}", c.width, c.height, c.x, c.y));
        }
        add(&mut a, !self.control, "control=false".into());
        add(
            &mut a,
            self.display_id != 0,
            format!("display_id={}", self.display_id),
        );
        if let Some(id) = &self.camera_id {
            a.push(format!("camera_id={id}"));
        }
        if let Some((w, h)) = self.camera_size {
            a.push(format!("camera_size={w}x{h}"));
        }
        if let Some(f) = self.camera_facing {
            let name = match f {
                CameraFacing::Front => "front",
                CameraFacing::Back => "back",
                CameraFacing::External => "external",
            };
            a.push(format!("camera_facing={name}"));
        }
        if let Some(ar) = &self.camera_ar {
            a.push(format!("camera_ar={ar}"));
        }
        if self.camera_fps != 0 {
            a.push(format!("camera_fps={}", self.camera_fps));
        }
        if self.camera_high_speed {
            a.push("camera_high_speed=true".into());
        }
        if self.camera_torch {
            a.push("camera_torch=true".into());
        }
        if self.camera_zoom != 1.0 {
            a.push(format!("camera_zoom={}", self.camera_zoom));
        }
        if self.show_touches {
            a.push("show_touches=true".into());
        }
        if self.stay_awake {
            a.push("stay_awake=true".into());
        }
        if self.screen_off_timeout != -1 {
            a.push(format!("screen_off_timeout={}", self.screen_off_timeout));
        }
        if !self.video_codec_options.is_empty() {
            a.push(format!(
                "video_codec_options={}",
                format_codec_options(&self.video_codec_options)
            ));
        }
        if !self.audio_codec_options.is_empty() {
            a.push(format!(
                "audio_codec_options={}",
                format_codec_options(&self.audio_codec_options)
            ));
        }
        if let Some(e) = &self.video_encoder {
            a.push(format!("video_encoder={e}"));
        }
        if let Some(e) = &self.audio_encoder {
            a.push(format!("audio_encoder={e}"));
        }
        if self.power_off_on_close {
            a.push("power_off_on_close=true".into());
        }
        if !self.clipboard_autosync {
            a.push("clipboard_autosync=false".into());
        }
        if !self.downsize_on_error {
            a.push("downsize_on_error=false".into());
        }
        if !self.cleanup {
            a.push("cleanup=false".into());
        }
        if !self.power_on {
            a.push("power_on=false".into());
        }
        if let Some(nd) = self.new_display {
            let mut s = String::new();
            if let Some((w, h)) = nd.size {
                s.push_str(&format!("{w}x{h}"));
            }
            if let Some(dpi) = nd.dpi {
                s.push_str(&format!("/{dpi}"));
            }
            a.push(format!("new_display={s}"));
        }
        if self.flex_display {
            a.push("flex_display=true".into());
        }
        if self.ignore_video_encoder_constraints {
            a.push("ignore_video_encoder_constraints=true".into());
        }
        if let Some(p) = self.display_ime_policy {
            let name = match p {
                DisplayImePolicy::Local => "local",
                DisplayImePolicy::Fallback => "fallback",
                DisplayImePolicy::Hide => "hide",
            };
            a.push(format!("display_ime_policy={name}"));
        }
        if !self.vd_destroy_content {
            a.push("vd_destroy_content=false".into());
        }
        if !self.vd_system_decorations {
            a.push("vd_system_decorations=false".into());
        }
        if self.keep_active {
            a.push("keep_active=true".into());
        }
        for (flag, name) in [
            (self.list_encoders, "list_encoders"),
            (self.list_displays, "list_displays"),
            (self.list_cameras, "list_cameras"),
            (self.list_camera_sizes, "list_camera_sizes"),
            (self.list_apps, "list_apps"),
        ] {
            if flag {
                a.push(format!("{name}=true"));
            }
        }
        for (flag, name) in [
            (self.send_device_meta, "send_device_meta"),
            (self.send_frame_meta, "send_frame_meta"),
            (self.send_dummy_byte, "send_dummy_byte"),
            (self.send_stream_meta, "send_stream_meta"),
        ] {
            if !flag {
                a.push(format!("{name}=false"));
            }
        }
        add(
            &mut a,
            self.playrack_slices != 0,
            format!("playrack_slices={}", self.playrack_slices),
        );
        a
    }

    /// The argv `app_process` receives: `/ com.genymobile.scrcpy.Server 4.1 key=value…`.
    pub fn app_process_args(&self) -> Vec<String> {
        let mut v = vec![
            "/".to_string(),
            SERVER_CLASS.to_string(),
            SCRCPY_VERSION.to_string(),
        ];
        v.extend(self.to_args());
        v
    }

    /// The whole shell command scrcpy's client runs through `adb shell`.
    pub fn command_line(&self) -> String {
        format!(
            "CLASSPATH={SERVER_PATH} app_process {}",
            self.app_process_args().join(" ")
        )
    }
}

/// A parsed `app_process` launch of the scrcpy server.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The `CLASSPATH=` given in the environment, if any.
    pub classpath: Option<String>,
    pub options: Options,
}

/// Parses the argv of `app_process` (without `app_process` itself): `<dir> <class> <version> k=v…`.
///
/// Anything other than the scrcpy server class is [`OptionsError::NotAServerLaunch`]; a version
/// mismatch is the server's own error.
pub fn parse_app_process_args<S: AsRef<str>>(
    argv: &[S],
    classpath: Option<&str>,
) -> Result<Launch, OptionsError> {
    // app_process [vm-options] cmd-dir start-class-name [options]; scrcpy passes no vm option.
    let argv: Vec<&str> = argv.iter().map(|s| s.as_ref()).collect();
    let class_at = argv
        .iter()
        .position(|a| *a == SERVER_CLASS)
        .ok_or_else(|| OptionsError::NotAServerLaunch(argv.join(" ")))?;
    if class_at == 0 {
        return Err(OptionsError::NotAServerLaunch(argv.join(" ")));
    }
    let options = Options::parse(&argv[class_at + 1..])?;
    Ok(Launch {
        classpath: classpath.map(str::to_string),
        options,
    })
}

/// Parses a full shell command such as [`Options::command_line`] produces (whitespace-separated,
/// no quoting: scrcpy's client validates that no value contains a space).
pub fn parse_command_line(command: &str) -> Result<Launch, OptionsError> {
    let mut tokens = command.split_whitespace().peekable();
    let mut classpath = None;
    while let Some(t) = tokens.peek() {
        if let Some(cp) = t.strip_prefix("CLASSPATH=") {
            classpath = Some(cp.to_string());
            tokens.next();
        } else if t.contains('=') && !t.starts_with('/') {
            // another environment assignment
            tokens.next();
        } else {
            break;
        }
    }
    match tokens.next() {
        Some("app_process") => {}
        _ => return Err(OptionsError::NotAServerLaunch(command.to_string())),
    }
    let rest: Vec<&str> = tokens.collect();
    parse_app_process_args(&rest, classpath.as_deref())
}

impl fmt::Display for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.command_line())
    }
}

/// What the launch options say about the media sockets' framing, on both sides.
impl StreamWriter {
    pub fn from_options(o: &Options) -> Self {
        StreamWriter {
            send_stream_meta: o.send_stream_meta,
            send_frame_meta: o.send_frame_meta,
        }
    }
}

impl DemuxerConfig {
    /// The settings scrcpy's client derives from the launch options for a socket.
    pub fn for_socket(o: &Options, kind: StreamKind, first_socket: bool) -> Self {
        DemuxerConfig {
            kind,
            dummy_byte: first_socket && o.tunnel_forward && o.send_dummy_byte,
            device_meta: first_socket && o.send_device_meta,
            stream_meta: o.send_stream_meta,
            frame_meta: o.send_frame_meta,
            partial_frames: o.playrack_slices > 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_servers() {
        let o = Options::parse(&["4.1"]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.video_bit_rate, 8_000_000);
        assert_eq!(o.audio_bit_rate, 128_000);
        assert!(o.video && o.audio && o.control);
        assert!(o.send_device_meta && o.send_frame_meta && o.send_dummy_byte && o.send_stream_meta);
        assert_eq!(o.socket_name(), "scrcpy");
    }

    #[test]
    fn version_mismatch_is_the_servers_message() {
        let e = Options::parse(&["3.3.4", "scid=1"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The server version (4.1) does not match the client (3.3.4)"
        );
        assert_eq!(
            Options::parse::<&str>(&[]).unwrap_err().to_string(),
            "Missing client version"
        );
    }

    #[test]
    fn scid_is_hex_and_names_the_socket() {
        let o = Options::parse(&["4.1", "scid=0badcafe"]).unwrap();
        assert_eq!(o.scid, Some(0x0badcafe));
        assert_eq!(o.socket_name(), "scrcpy_0badcafe");
        let o = Options::parse(&["4.1", "scid=12"]).unwrap();
        assert_eq!(o.socket_name(), "scrcpy_00000012");
        let o = Options::parse(&["4.1", "scid=-1"]).unwrap();
        assert_eq!(o.socket_name(), "scrcpy");
        assert!(Options::parse(&["4.1", "scid=-2"]).is_err());
        assert!(Options::parse(&["4.1", "scid=zz"]).is_err());
    }

    #[test]
    fn bad_pairs_and_values() {
        assert_eq!(
            Options::parse(&["4.1", "tunnel_forward"])
                .unwrap_err()
                .to_string(),
            "Invalid key=value pair: \"tunnel_forward\""
        );
        assert_eq!(
            Options::parse(&["4.1", "video_codec=mpeg2"])
                .unwrap_err()
                .to_string(),
            "Video codec mpeg2 not supported"
        );
        assert_eq!(
            Options::parse(&["4.1", "max_size=big"])
                .unwrap_err()
                .to_string(),
            "For input string: \"big\""
        );
        assert!(Options::parse(&["4.1", "min_size_alignment=3"]).is_err());
        assert!(Options::parse(&["4.1", "max_fps=fast"]).is_err());
    }

    #[test]
    fn unknown_key_only_warns() {
        let o = Options::parse(&["4.1", "frobnicate=1", "audio=false"]).unwrap();
        assert_eq!(o.unknown_keys, vec!["frobnicate".to_string()]);
        assert!(!o.audio);
    }

    #[test]
    fn raw_stream_clears_all_meta() {
        let o = Options::parse(&["4.1", "raw_stream=true"]).unwrap();
        assert!(!o.send_device_meta && !o.send_frame_meta && !o.send_dummy_byte);
        assert!(!o.send_stream_meta);
    }

    #[test]
    fn every_key_round_trips() {
        let o = Options {
            log_level: LogLevel::Info,
            scid: Some(0x1234abcd),
            video: true,
            audio: false,
            control: false,
            max_size: 1024,
            min_size_alignment: 16,
            video_codec: VideoCodec::Vp9,
            audio_codec: AudioCodec::Flac,
            video_source: VideoSource::Camera,
            audio_source: "mic".into(),
            audio_dup: true,
            video_bit_rate: 4_000_000,
            audio_bit_rate: 64_000,
            max_fps: 30.0,
            angle: 12.5,
            tunnel_forward: true,
            crop: Some(Crop {
                width: 100,
                height: 200,
                x: 3,
                y: 4,
            }),
            display_id: 2,
            camera_id: Some("0".into()),
            camera_size: Some((1920, 1080)),
            camera_facing: Some(CameraFacing::Back),
            camera_ar: Some("16:9".into()),
            camera_zoom: 2.0,
            camera_fps: 60,
            camera_high_speed: true,
            camera_torch: true,
            show_touches: true,
            stay_awake: true,
            screen_off_timeout: 300000,
            video_codec_options: vec![
                CodecOption {
                    key: "profile".into(),
                    value: CodecValue::Int(1),
                },
                CodecOption {
                    key: "i-frame-interval".into(),
                    value: CodecValue::Float(1.5),
                },
            ],
            audio_codec_options: vec![CodecOption {
                key: "x".into(),
                value: CodecValue::Str("a,b".into()),
            }],
            video_encoder: Some("OMX.google.h264.encoder".into()),
            audio_encoder: Some("c2.android.opus.encoder".into()),
            power_off_on_close: true,
            clipboard_autosync: false,
            downsize_on_error: false,
            cleanup: false,
            power_on: false,
            list_encoders: true,
            list_displays: true,
            list_cameras: true,
            list_camera_sizes: true,
            list_apps: true,
            new_display: Some(NewDisplay {
                size: Some((1920, 1080)),
                dpi: Some(420),
            }),
            vd_destroy_content: false,
            vd_system_decorations: false,
            flex_display: true,
            capture_orientation: Some(CaptureOrientation {
                locked: true,
                degrees: 90,
                flip: true,
            }),
            display_ime_policy: Some(DisplayImePolicy::Hide),
            keep_active: true,
            ignore_video_encoder_constraints: true,
            send_device_meta: false,
            send_frame_meta: false,
            send_dummy_byte: false,
            send_stream_meta: false,
            playrack_slices: 8,
            unknown_keys: vec![],
        };
        let launch = parse_command_line(&o.command_line()).unwrap();
        assert_eq!(launch.classpath.as_deref(), Some(SERVER_PATH));
        assert_eq!(launch.options, o);
    }

    #[test]
    fn command_line_is_scrcpys() {
        let o = Options {
            scid: Some(0x0badcafe),
            log_level: LogLevel::Info,
            tunnel_forward: true,
            max_size: 720,
            ..Options::default()
        };
        assert_eq!(
            o.command_line(),
            "CLASSPATH=/data/local/tmp/scrcpy-server.jar app_process / com.genymobile.scrcpy.Server 4.1 \
             scid=0badcafe log_level=info max_size=720 tunnel_forward=true"
        );
        assert!(matches!(
            parse_command_line("app_process / com.example.Other 4.1"),
            Err(OptionsError::NotAServerLaunch(_))
        ));
        assert!(matches!(
            parse_command_line("ls /"),
            Err(OptionsError::NotAServerLaunch(_))
        ));
    }

    #[test]
    fn codec_options() {
        let v = parse_codec_options(
            "profile=1,level:int=512,bitrate-mode:long=2,x:float=0.5,s:str=a\\,b",
        )
        .unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!(v[2].value, CodecValue::Long(2));
        assert_eq!(v[4].value, CodecValue::Str("a,b".into()));
        assert!(parse_codec_options("k:double=1").is_err());
        assert!(parse_codec_options("novalue").is_err());
    }
}
