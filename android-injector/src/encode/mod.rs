//! Encoding what the game renders and plays: H.264 video ([`video`], openh264) and Opus audio
//! ([`audio`]), shaped as MediaCodec hands buffers to scrcpy's `Streamer` (a config packet,
//! then frames flagged key or not). The server in `scrcpy::server` frames them on the sockets.

pub mod audio;
#[cfg(feature = "x264")]
pub mod sliced;
pub mod video;

pub use audio::{AudioEncoder, AudioSynth};
pub use video::{EncodedPacket, VideoConfig, VideoEncoder, video_size};
