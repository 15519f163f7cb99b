//! H.264 with openh264: the virtual device's stand-in for MediaCodec.
//!
//! Settings, and why:
//! - **Constrained Baseline** (openh264's baseline sets constraint_set0/1, so the SPS reads
//!   `42 c0 xx`): every browser decodes it, including software fallbacks limited to Baseline,
//!   and it is what SDP `profile-level-id=42e01f` offers. The level is left to the encoder,
//!   which derives it from size and rate: measured 3.0 at 360×640@30, 3.1 at 720×1280@30,
//!   3.2 at 720×1280@60, 4.2 at 1080×1920@60 (browsers accept a level above the offered 3.1
//!   with `level-asymmetry-allowed=1`).
//! - `CameraVideoRealTime`: rendered game frames are camera-like content; the screen-content
//!   mode lost rate control on noisy frames in our measurements (research/crates.md §2).
//! - Bit-rate rate control at `video_bit_rate`, frame rate `max_fps` (or the display's), no
//!   frame skipping (every rendered frame becomes a packet, so frame numbers stay contiguous).
//! - The bit rate changes in place ([`VideoEncoder::set_bit_rate`], what the injector does for
//!   Playrack's SET_VIDEO_BIT_RATE as MediaCodec's `PARAMETER_KEY_VIDEO_BITRATE` would): openh264's
//!   rate control takes the new target from the next frame, with no key frame. The wrapper has
//!   no setter, so this goes through its raw API (`SetOption` with `ENCODER_OPTION_BITRATE` and
//!   `ENCODER_OPTION_MAX_BITRATE`, which the wrapper sets equal to the target), and only once
//!   the wrapper has initialised the encoder on its first frame (before that the new rate waits).
//! - IDR every 10 s, as scrcpy asks MediaCodec (`KEY_I_FRAME_INTERVAL`); a client that needs a
//!   key frame sooner sends RESET_VIDEO, which builds a new encoder.
//! - One thread, low complexity: one encoder per instance, many instances per board.
//!
//! Output is Annex-B. The first IDR's SPS and PPS are split off into a **config packet**, like
//! MediaCodec's `BUFFER_FLAG_CODEC_CONFIG` buffer; later IDRs repeat them only if they changed.

use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile,
    RateControlMode, SpsPpsStrategy, UsageType,
};
use openh264::formats::YUVSource;

use crate::game::I420;

/// Seconds between IDR frames when nothing asks for one (scrcpy's `KEY_I_FRAME_INTERVAL`).
pub const I_FRAME_INTERVAL_S: f32 = 10.0;

/// The encoder settings of one capture session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoConfig {
    pub width: u32,
    pub height: u32,
    /// Target bits per second (`video_bit_rate`).
    pub bit_rate: u32,
    /// Frames per second the encoder is told to expect (the cap actually applied).
    pub fps: f32,
}

/// One encoded buffer, as MediaCodec would hand it to scrcpy's `Streamer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPacket {
    /// SPS + PPS, Annex-B.
    pub config: bool,
    /// An IDR frame.
    pub key: bool,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("openh264: {0}")]
pub struct EncodeError(String);

/// The video size for a display and `max_size`/`min_size_alignment` (scrcpy's
/// `ScreenInfo.computeVideoSize`, with alignment to 8 for the encoder's macroblocks): the
/// longest side at most `max_size` (0 = no limit), the aspect ratio kept, both sides multiples
/// of `max(8, alignment)`.
pub fn video_size(display_w: u32, display_h: u32, max_size: u32, alignment: u8) -> (u32, u32) {
    let align = (alignment as u32).max(8);
    let (mut w, mut h) = (display_w, display_h);
    let long = w.max(h);
    if max_size > 0 && long > max_size {
        let target = (max_size / align).max(1) * align;
        let short = w.min(h) as u64 * target as u64 / long as u64;
        let short = ((short as u32 + align / 2) / align).max(1) * align;
        if w >= h {
            (w, h) = (target, short);
        } else {
            (w, h) = (short, target);
        }
    } else {
        w = (w / align).max(1) * align;
        h = (h / align).max(1) * align;
    }
    (w, h)
}

/// Lets openh264 read an [`I420`] in place.
struct Source<'a>(&'a I420);

impl YUVSource for Source<'_> {
    fn dimensions(&self) -> (usize, usize) {
        (self.0.width, self.0.height)
    }
    fn strides(&self) -> (usize, usize, usize) {
        (self.0.width, self.0.width / 2, self.0.width / 2)
    }
    fn y(&self) -> &[u8] {
        &self.0.y
    }
    fn u(&self) -> &[u8] {
        &self.0.u
    }
    fn v(&self) -> &[u8] {
        &self.0.v
    }
}

/// NAL unit type of an Annex-B unit (after its 3- or 4-byte start code).
fn nal_type(nal: &[u8]) -> u8 {
    let skip = if nal.starts_with(&[0, 0, 0, 1]) {
        4
    } else if nal.starts_with(&[0, 0, 1]) {
        3
    } else {
        0
    };
    nal.get(skip).map(|b| b & 0x1f).unwrap_or(0)
}

/// NAL unit types of SPS and PPS.
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

/// The lowest bit rate the encoder is given: below it openh264's rate control cannot hold a
/// 720p picture together.
pub const MIN_BIT_RATE: u32 = 100_000;

/// openh264's `ENCODER_OPTION_BITRATE` and `ENCODER_OPTION_MAX_BITRATE` (`codec_app_def.h`).
const ENCODER_OPTION_BITRATE: std::os::raw::c_int = 5;
const ENCODER_OPTION_MAX_BITRATE: std::os::raw::c_int = 6;

/// openh264's `SBitrateInfo`, the payload of both options.
#[repr(C)]
struct BitrateInfo {
    /// `SPATIAL_LAYER_0`: the only layer.
    layer: std::os::raw::c_int,
    bit_rate: std::os::raw::c_int,
}

/// One encoder session. A RESET_VIDEO (or a size change) makes a new one.
pub struct VideoEncoder {
    encoder: Encoder,
    config: VideoConfig,
    last_config: Option<Vec<u8>>,
    /// The rate openh264 was created with.
    created_bit_rate: u32,
    /// The rate openh264 runs at, once it has initialised (after the first frame).
    applied: Option<u32>,
}

impl VideoEncoder {
    pub fn new(config: VideoConfig) -> Result<VideoEncoder, EncodeError> {
        let fps = if config.fps > 0.0 { config.fps } else { 60.0 };
        let cfg = EncoderConfig::new()
            .bitrate(BitRate::from_bps(config.bit_rate.max(MIN_BIT_RATE)))
            .max_frame_rate(FrameRate::from_hz(fps))
            .usage_type(UsageType::CameraVideoRealTime)
            .rate_control_mode(RateControlMode::Bitrate)
            .profile(Profile::Baseline)
            .complexity(Complexity::Low)
            .skip_frames(false)
            .sps_pps_strategy(SpsPpsStrategy::ConstantId)
            .intra_frame_period(IntraFramePeriod::from_num_frames(
                (fps * I_FRAME_INTERVAL_S).round() as u32,
            ))
            .num_threads(1);
        let created_bit_rate = config.bit_rate.max(MIN_BIT_RATE);
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), cfg)
            .map_err(|e| EncodeError(e.to_string()))?;
        Ok(VideoEncoder {
            encoder,
            config,
            last_config: None,
            created_bit_rate,
            applied: None,
        })
    }

    /// Encodes at `bit_rate` (at least [`MIN_BIT_RATE`]) from the next frame on, keeping the
    /// stream as it is: no key frame, no new SPS/PPS.
    pub fn set_bit_rate(&mut self, bit_rate: u32) -> Result<(), EncodeError> {
        self.config.bit_rate = bit_rate.max(MIN_BIT_RATE);
        self.apply_bit_rate()
    }

    /// Hands `config.bit_rate` to openh264 once it has initialised. The ceiling moves first
    /// when the rate rises and last when it falls, since openh264 refuses a target above it.
    fn apply_bit_rate(&mut self) -> Result<(), EncodeError> {
        let Some(applied) = self.applied else {
            return Ok(());
        };
        let want = self.config.bit_rate;
        if applied == want {
            return Ok(());
        }
        let order = if want > applied {
            [ENCODER_OPTION_MAX_BITRATE, ENCODER_OPTION_BITRATE]
        } else {
            [ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE]
        };
        for option in order {
            let mut info = BitrateInfo {
                layer: 0,
                bit_rate: want.min(i32::MAX as u32) as std::os::raw::c_int,
            };
            // SAFETY: the encoder is initialised (it has encoded a frame), and both options
            // take an `SBitrateInfo`, which `BitrateInfo` lays out; openh264 only reads it.
            let rc = unsafe {
                self.encoder
                    .raw_api()
                    .set_option(option, (&raw mut info).cast())
            };
            if rc != 0 {
                return Err(EncodeError(format!(
                    "SetOption({option}) to {want} b/s answered {rc}"
                )));
            }
        }
        self.applied = Some(want);
        Ok(())
    }

    pub fn config(&self) -> &VideoConfig {
        &self.config
    }

    /// Asks for an IDR on the next frame.
    pub fn force_key_frame(&mut self) {
        self.encoder.force_intra_frame();
    }

    /// Encodes one frame (which must have the configured size): a config packet first when the
    /// SPS/PPS are new, then the frame. A frame the encoder skips yields nothing.
    pub fn encode(&mut self, frame: &I420, pts_us: u64) -> Result<Vec<EncodedPacket>, EncodeError> {
        if frame.width != self.config.width as usize || frame.height != self.config.height as usize
        {
            return Err(EncodeError(format!(
                "frame is {}x{}, the session is {}x{}",
                frame.width, frame.height, self.config.width, self.config.height
            )));
        }
        let ts = openh264::Timestamp::from_millis(pts_us / 1000);
        let bs = self
            .encoder
            .encode_at(&Source(frame), ts)
            .map_err(|e| EncodeError(e.to_string()))?;
        let key = bs.frame_type() == FrameType::IDR;
        let first = self.applied.is_none();
        let mut config = Vec::new();
        let mut data = Vec::new();
        for l in 0..bs.num_layers() {
            let Some(layer) = bs.layer(l) else { continue };
            for n in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(n) else {
                    continue;
                };
                match nal_type(nal) {
                    NAL_SPS | NAL_PPS => config.extend_from_slice(nal),
                    _ => data.extend_from_slice(nal),
                }
            }
        }
        if first {
            // openh264 runs at the rate it was created with; a change asked for before the
            // first frame applies now.
            self.applied = Some(self.created_bit_rate);
            self.apply_bit_rate()?;
        }
        let mut out = Vec::new();
        if !config.is_empty() && self.last_config.as_deref() != Some(&config[..]) {
            self.last_config = Some(config.clone());
            out.push(EncodedPacket {
                config: true,
                key: false,
                data: config,
            });
        }
        if !data.is_empty() {
            out.push(EncodedPacket {
                config: false,
                key,
                data,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(video_size(720, 1280, 0, 1), (720, 1280));
        assert_eq!(video_size(720, 1280, 640, 1), (360, 640));
        assert_eq!(video_size(1080, 1920, 1280, 1), (720, 1280));
        assert_eq!(video_size(1920, 1080, 1000, 16), (992, 560));
        let (w, h) = video_size(1080, 2400, 1024, 1);
        assert_eq!(h, 1024);
        assert_eq!(w % 8, 0);
        assert_eq!(video_size(721, 1279, 0, 1), (720, 1272));
    }

    #[test]
    fn config_then_key_frame_then_deltas() {
        let cfg = VideoConfig {
            width: 320,
            height: 240,
            bit_rate: 1_000_000,
            fps: 30.0,
        };
        let mut enc = VideoEncoder::new(cfg).unwrap();
        let mut frame = I420::new(320, 240);
        let first = enc.encode(&frame, 0).unwrap();
        assert_eq!(first.len(), 2);
        assert!(first[0].config && !first[0].key);
        // SPS first: Constrained Baseline, profile_idc 66 with constraint_set0/1
        let sps = &first[0].data;
        assert_eq!(&sps[..5], &[0, 0, 0, 1, 0x67]);
        assert_eq!(sps[5], 0x42);
        assert_eq!(sps[6] & 0xc0, 0xc0);
        assert!(first[1].key && !first[1].config);
        frame.fill_rect(10, 10, 50, 50, crate::game::Yuv::WHITE);
        let second = enc.encode(&frame, 33_000).unwrap();
        assert_eq!(second.len(), 1);
        assert!(!second[0].key && !second[0].config);
        enc.force_key_frame();
        let third = enc.encode(&frame, 66_000).unwrap();
        assert_eq!(third.len(), 1, "same SPS/PPS are not re-sent");
        assert!(third[0].key);
        assert!(enc.encode(&I420::new(16, 16), 0).is_err());
    }

    /// Bytes a second of `secs` of the game at 30 fps, and whether any frame was a key frame.
    fn stream(
        enc: &mut VideoEncoder,
        game: &mut crate::game::Game,
        t0: u64,
        secs: u64,
    ) -> (f64, bool) {
        let mut frame = I420::new(360, 640);
        let (mut bytes, mut key) = (0usize, false);
        for i in 0..secs * 30 {
            let t = t0 + i * 33_333;
            game.render(&mut frame, t);
            for p in enc.encode(&frame, t).unwrap() {
                bytes += p.data.len();
                key |= p.key || p.config;
            }
        }
        (bytes as f64 / secs as f64, key)
    }

    #[test]
    fn the_bit_rate_changes_in_place_both_ways() {
        use crate::game::{Game, GameConfig};
        let mut game = Game::new(GameConfig::new("com.example.game"), 0);
        let mut enc = VideoEncoder::new(VideoConfig {
            width: 360,
            height: 640,
            bit_rate: 1_500_000,
            fps: 30.0,
        })
        .unwrap();
        // asked for before the first frame: applies once openh264 has initialised
        enc.set_bit_rate(2_000_000).unwrap();
        let (_, _) = stream(&mut enc, &mut game, 0, 1);
        let (high, _) = stream(&mut enc, &mut game, 1_000_000, 3);
        enc.set_bit_rate(150_000).unwrap();
        let _ = stream(&mut enc, &mut game, 4_000_000, 1);
        let (low, key) = stream(&mut enc, &mut game, 5_000_000, 3);
        assert!(!key, "a rate change makes no key frame or config");
        assert!(
            low * 8.0 < 200_000.0 && high > 2.0 * low,
            "at 2 Mb/s {high} B/s, at 150 kb/s {low} B/s"
        );
        // above the rate it was created with: the ceiling moves first
        enc.set_bit_rate(3_000_000).unwrap();
        let _ = stream(&mut enc, &mut game, 8_000_000, 1);
        let (again, _) = stream(&mut enc, &mut game, 9_000_000, 3);
        assert!(again > 2.0 * low, "back up at 3 Mb/s: {again} B/s");
        assert_eq!(enc.config().bit_rate, 3_000_000);
        enc.set_bit_rate(1).unwrap();
        assert_eq!(enc.config().bit_rate, MIN_BIT_RATE);
    }
}
