//! The game's sound and its Opus encoding, 48 kHz stereo, as scrcpy's audio socket carries it.
//!
//! The sound is a quiet sine tone (its pitch from the package hash) with a short decaying click
//! mixed in for every tap, so a listener, or a test decoding the stream, hears input land.
//!
//! **Why the `opus` crate (0.4, libopus through `opusic-sys`)**: it is the maintained safe
//! binding (SpaceManiac/opus-rs; 0.4 moved to `opusic-sys`, updated in 2025) and its default
//! `bundled` feature compiles the libopus source shipped inside the crate with CMake, so the
//! build needs nothing from the network or the system and links libopus **statically**: the
//! virtual-device image needs no `libopus.so`. `audiopus` (its other candidate) has had only an
//! 0.3 release candidate since 2021 and links the system library. No pure-Rust Opus *encoder*
//! is complete and maintained today (the pure-Rust crates decode only). libopus-dev stays
//! useful to other tools but is not needed by this build.
//!
//! Stream shape (what Android's MediaCodec gives scrcpy after `Streamer.fixOpusConfigPacket`):
//! one config packet holding the 19-byte `OpusHead`, then one packet per 20 ms frame, PTS in µs
//! from the count of samples.

use opus::{Application, Bitrate, Channels, Encoder};

/// The only audio format scrcpy streams.
pub const SAMPLE_RATE: u32 = 48_000;
pub const CHANNELS: usize = 2;
/// Samples per channel in one 20 ms Opus frame.
pub const FRAME_SAMPLES: usize = 960;
/// Duration of one frame in µs.
pub const FRAME_US: u64 = 20_000;
/// Tone amplitude: about -30 dBFS, quiet under the clicks.
const TONE_AMPLITUDE: f32 = 1000.0;
/// Click amplitude and length (5 ms).
const CLICK_AMPLITUDE: f32 = 20_000.0;
const CLICK_SAMPLES: u32 = 240;

/// The tone-and-clicks generator. Sans-IO: ask it for frames.
#[derive(Debug, Clone)]
pub struct AudioSynth {
    freq: f32,
    phase: f32,
    /// Samples left of the current click.
    click_left: u32,
    /// Clicks queued while one is playing.
    pending_clicks: u32,
}

impl AudioSynth {
    /// A tone at `freq` Hz.
    pub fn new(freq: f32) -> AudioSynth {
        AudioSynth {
            freq,
            phase: 0.0,
            click_left: 0,
            pending_clicks: 0,
        }
    }

    /// A tone between 220 and 660 Hz chosen from the package name.
    pub fn for_package(package: &str) -> AudioSynth {
        let h = package
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        AudioSynth::new(220.0 + (h % 440) as f32)
    }

    /// Queues one click per tap.
    pub fn click(&mut self, taps: u32) {
        self.pending_clicks = self.pending_clicks.saturating_add(taps);
    }

    /// Fills `out` (interleaved stereo, `FRAME_SAMPLES * CHANNELS` long for one frame).
    pub fn render(&mut self, out: &mut [i16]) {
        let step = self.freq / SAMPLE_RATE as f32 * std::f32::consts::TAU;
        for frame in out.chunks_mut(CHANNELS) {
            if self.click_left == 0 && self.pending_clicks > 0 {
                self.pending_clicks -= 1;
                self.click_left = CLICK_SAMPLES;
            }
            let mut s = self.phase.sin() * TONE_AMPLITUDE;
            if self.click_left > 0 {
                // a decaying square burst at 2 kHz
                let t = CLICK_SAMPLES - self.click_left;
                let sign = if (t / 12).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                };
                s += sign * CLICK_AMPLITUDE * self.click_left as f32 / CLICK_SAMPLES as f32;
                self.click_left -= 1;
            }
            self.phase = (self.phase + step) % std::f32::consts::TAU;
            let v = s.clamp(-32768.0, 32767.0) as i16;
            frame.fill(v);
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("opus: {0}")]
pub struct AudioError(#[from] opus::Error);

/// Opus encoder for 20 ms stereo frames.
pub struct AudioEncoder {
    encoder: Encoder,
    pre_skip: u16,
    out: Vec<u8>,
}

impl AudioEncoder {
    /// An encoder at `bit_rate` bits per second (`audio_bit_rate`, 128 kb/s by default).
    pub fn new(bit_rate: u32) -> Result<AudioEncoder, AudioError> {
        let mut encoder = Encoder::new(SAMPLE_RATE, Channels::Stereo, Application::Audio)?;
        encoder.set_bitrate(Bitrate::Bits(bit_rate.clamp(6_000, 510_000) as i32))?;
        let pre_skip = encoder.get_lookahead()?.clamp(0, u16::MAX as i32) as u16;
        Ok(AudioEncoder {
            encoder,
            pre_skip,
            out: vec![0; 4000],
        })
    }

    /// The config packet: `OpusHead` (RFC 7845 §5.1), 19 bytes, little-endian fields.
    pub fn opus_head(&self) -> Vec<u8> {
        let mut h = Vec::with_capacity(19);
        h.extend_from_slice(b"OpusHead");
        h.push(1); // version
        h.push(CHANNELS as u8);
        h.extend_from_slice(&self.pre_skip.to_le_bytes());
        h.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
        h.extend_from_slice(&0i16.to_le_bytes()); // output gain
        h.push(0); // mapping family 0: mono or stereo, no table
        h
    }

    /// Encodes one frame of `FRAME_SAMPLES * CHANNELS` interleaved samples.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, AudioError> {
        let n = self.encoder.encode(pcm, &mut self.out)?;
        Ok(self.out[..n].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_are_loud_and_the_tone_is_quiet() {
        let mut s = AudioSynth::new(440.0);
        let mut pcm = vec![0i16; FRAME_SAMPLES * CHANNELS];
        s.render(&mut pcm);
        let quiet = pcm.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!(quiet > 500 && quiet <= 1000, "{quiet}");
        s.click(1);
        s.render(&mut pcm);
        let loud = pcm.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!(loud > 15_000, "{loud}");
    }

    #[test]
    fn opus_round_trip() {
        let mut enc = AudioEncoder::new(128_000).unwrap();
        let head = enc.opus_head();
        assert_eq!(head.len(), 19);
        assert_eq!(&head[..8], b"OpusHead");
        let mut s = AudioSynth::new(440.0);
        let mut pcm = vec![0i16; FRAME_SAMPLES * CHANNELS];
        let mut dec = opus::Decoder::new(SAMPLE_RATE, Channels::Stereo).unwrap();
        let mut out = vec![0i16; FRAME_SAMPLES * CHANNELS];
        for _ in 0..5 {
            s.render(&mut pcm);
            let pkt = enc.encode(&pcm).unwrap();
            assert!(!pkt.is_empty());
            assert_eq!(dec.decode(&pkt, &mut out, false).unwrap(), FRAME_SAMPLES);
        }
    }
}
