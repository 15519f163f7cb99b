//! The play's sound: owns the Opus decoder (libopus through the `opus` crate), the bounded
//! ring of PCM between the play's thread and the sound card's callback, and the output stream
//! (cpal: ALSA on Linux). The board sends 48 kHz stereo Opus; each frame is decoded at the
//! output's rate (one Opus can decode to: 48, 24, 16, 12 or 8 kHz), laid out for the output's
//! channels and pushed into the [`Ring`]. The ring holds at most [`MAX_BUFFERED_MS`]: when it
//! is full the oldest samples go (latency stays low, a late burst is cut, never queued), and
//! when it runs dry the callback plays silence.
//!
//! Sound never fails a play: without an output device (a server, a test under Xvfb), or if
//! cpal refuses the stream, one line goes to stderr and frames are still decoded and counted
//! (the figures' `audioFrames`) but not played. `--mute` opens no device at all.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{BufferSize, FromSample, SampleFormat, SizedSample, StreamConfig, SupportedBufferSize};

/// The rate the board encodes at, and the one asked of the output first.
pub const RATE: u32 = 48_000;
/// The rates libopus decodes to: an output at one of these needs no resampling.
const OPUS_RATES: [u32; 5] = [48_000, 24_000, 16_000, 12_000, 8_000];
/// The most sound held between the decoder and the sound card.
pub const MAX_BUFFERED_MS: u32 = 80;
/// What each of the output's periods is asked to hold (20 ms at 48 kHz, one Opus frame), when
/// the device says it can: ALSA's default can be far longer, and latency with it.
const PERIOD_FRAMES: u32 = 960;
/// The longest Opus frame (120 ms) at 48 kHz, per channel.
const MAX_FRAME: usize = 5_760;

/// Interleaved samples between the play's thread and the output's callback, bounded: pushing
/// into a full ring drops the oldest whole frames; popping from a short one pads with silence.
#[derive(Debug)]
pub struct Ring {
    samples: VecDeque<f32>,
    /// In samples, a multiple of `channels`.
    capacity: usize,
    channels: usize,
}

impl Ring {
    /// A ring of `ms` milliseconds of `channels`-channel sound at `rate`.
    pub fn new(rate: u32, channels: usize, ms: u32) -> Ring {
        let channels = channels.max(1);
        let frames = (u64::from(rate) * u64::from(ms) / 1000).max(1) as usize;
        Ring {
            samples: VecDeque::with_capacity(frames * channels),
            capacity: frames * channels,
            channels,
        }
    }

    /// Appends interleaved samples (whole frames), dropping the oldest to stay within the
    /// capacity; how many samples were dropped.
    pub fn push(&mut self, interleaved: &[f32]) -> usize {
        // a push larger than the ring keeps only its newest whole frames
        let whole = interleaved.len() - interleaved.len() % self.channels;
        let keep = whole.min(self.capacity);
        let new = &interleaved[whole - keep..whole];
        let over = (self.samples.len() + new.len()).saturating_sub(self.capacity);
        self.samples.drain(..over);
        self.samples.extend(new);
        over + (whole - keep)
    }

    /// Fills `out` with the oldest samples, silence after them; how many were real.
    pub fn pop_into(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.samples.len());
        for (o, s) in out.iter_mut().zip(self.samples.drain(..n)) {
            *o = s;
        }
        out[n..].fill(0.0);
        n
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.samples.len()
    }
}

/// Stereo frames laid out for an output of `channels`: mono gets the average, more than two
/// get left and right first and silence in the rest.
pub fn spread(stereo: &[f32], channels: usize, out: &mut Vec<f32>) {
    out.clear();
    for f in stereo.chunks_exact(2) {
        let (l, r) = (f[0], f[1]);
        match channels {
            0 => {}
            1 => out.push((l + r) * 0.5),
            n => {
                out.push(l);
                out.push(r);
                out.extend(std::iter::repeat_n(0.0, n - 2));
            }
        }
    }
}

/// The sound card's side: the stream (kept open while this lives) and the ring it reads.
struct Output {
    _stream: cpal::Stream,
    ring: Arc<Mutex<Ring>>,
    channels: usize,
}

/// See the module doc.
pub struct Audio {
    decoder: Option<opus::Decoder>,
    output: Option<Output>,
    stereo: Vec<f32>,
    laid_out: Vec<f32>,
    frames: u64,
}

impl Audio {
    /// Opens the default output (unless `mute`) and a decoder at its rate. Never fails: what
    /// went wrong is said once on stderr.
    pub fn start(mute: bool) -> Audio {
        let (output, rate) = if mute {
            (None, RATE)
        } else {
            match open_output() {
                Ok((o, rate)) => (Some(o), rate),
                Err(why) => {
                    eprintln!("playrack-play: no sound ({why}); playing without it");
                    (None, RATE)
                }
            }
        };
        let decoder = match opus::Decoder::new(rate, opus::Channels::Stereo) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("playrack-play: no sound (the Opus decoder: {e})");
                None
            }
        };
        Audio {
            decoder,
            output,
            stereo: vec![0.0; MAX_FRAME * 2],
            laid_out: Vec::with_capacity(MAX_FRAME * 2),
            frames: 0,
        }
    }

    /// Decodes one Opus frame and queues it for the sound card; whether it decoded.
    pub fn frame(&mut self, opus: &[u8]) -> bool {
        let Some(d) = self.decoder.as_mut().filter(|_| !opus.is_empty()) else {
            return false;
        };
        let Ok(n) = d.decode_float(opus, &mut self.stereo, false) else {
            return false;
        };
        self.frames += 1;
        if let Some(o) = &self.output {
            spread(&self.stereo[..n * 2], o.channels, &mut self.laid_out);
            o.ring.lock().unwrap().push(&self.laid_out);
        }
        true
    }

    /// Frames decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

/// The default output device's stream, at 48 kHz if it takes it, else at its own rate if
/// Opus decodes to it; the stream and its rate.
fn open_output() -> Result<(Output, u32), String> {
    let host = cpal::default_host();
    let device = host.default_output_device().ok_or("no output device")?;
    let (config, format) = pick_config(&device)?;
    let channels = usize::from(config.channels);
    let rate = config.sample_rate;
    let ring = Arc::new(Mutex::new(Ring::new(rate, channels, MAX_BUFFERED_MS)));
    let open = |config: StreamConfig| match format {
        SampleFormat::F32 => build::<f32>(&device, config, ring.clone()),
        SampleFormat::I16 => build::<i16>(&device, config, ring.clone()),
        SampleFormat::I32 => build::<i32>(&device, config, ring.clone()),
        SampleFormat::U16 => build::<u16>(&device, config, ring.clone()),
        f => Err(format!(
            "the output's sample format {f} is not one played here"
        )),
    };
    let stream = match open(config) {
        // a fixed period the device refused: its own, then
        Err(_) if config.buffer_size != BufferSize::Default => open(StreamConfig {
            buffer_size: BufferSize::Default,
            ..config
        }),
        r => r,
    }?;
    stream
        .play()
        .map_err(|e| format!("starting the output: {e}"))?;
    Ok((
        Output {
            _stream: stream,
            ring,
            channels,
        },
        rate,
    ))
}

const FORMATS: [SampleFormat; 4] = [
    SampleFormat::F32,
    SampleFormat::I16,
    SampleFormat::I32,
    SampleFormat::U16,
];

fn pick_config(device: &cpal::Device) -> Result<(StreamConfig, SampleFormat), String> {
    // 48 kHz in a format played here, stereo first, then float first
    if let Ok(ranges) = device.supported_output_configs() {
        let best = ranges
            .filter(|r| r.contains_rate(RATE) && r.channels() >= 1)
            .filter_map(|r| {
                let f = FORMATS.iter().position(|&f| f == r.sample_format())?;
                Some((r.channels() != 2, f, r))
            })
            .min_by_key(|(not_stereo, f, _)| (*not_stereo, *f));
        if let Some((_, _, r)) = best {
            let c = r.with_sample_rate(RATE);
            let mut config = c.config();
            if let SupportedBufferSize::Range { min, max } = c.buffer_size()
                && (*min..=*max).contains(&PERIOD_FRAMES)
            {
                config.buffer_size = BufferSize::Fixed(PERIOD_FRAMES);
            }
            return Ok((config, c.sample_format()));
        }
    }
    let c = device
        .default_output_config()
        .map_err(|e| format!("the output's configuration: {e}"))?;
    if !OPUS_RATES.contains(&c.sample_rate()) || !FORMATS.contains(&c.sample_format()) {
        return Err(format!(
            "the output wants {} Hz {}, not played here",
            c.sample_rate(),
            c.sample_format()
        ));
    }
    Ok((c.config(), c.sample_format()))
}

fn build<T>(
    device: &cpal::Device,
    config: StreamConfig,
    ring: Arc<Mutex<Ring>>,
) -> Result<cpal::Stream, String>
where
    T: SizedSample + FromSample<f32>,
{
    let mut scratch: Vec<f32> = Vec::new();
    let said = AtomicBool::new(false);
    device
        .build_output_stream::<T, _, _>(
            config,
            move |out: &mut [T], _| {
                scratch.resize(out.len(), 0.0);
                ring.lock().unwrap().pop_into(&mut scratch);
                for (o, &s) in out.iter_mut().zip(&scratch) {
                    *o = T::from_sample(s);
                }
            },
            move |e| {
                if !said.swap(true, Ordering::Relaxed) {
                    eprintln!("playrack-play: the sound output: {e}");
                }
            },
            None,
        )
        .map_err(|e| format!("opening the output: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_drops_the_oldest_and_a_short_one_pads_with_silence() {
        // 1 ms of stereo at 4 kHz: 4 frames, 8 samples
        let mut r = Ring::new(4_000, 2, 1);
        assert_eq!(r.push(&[1.0, 1.0, 2.0, 2.0, 3.0, 3.0]), 0);
        assert_eq!(r.push(&[4.0, 4.0, 5.0, 5.0]), 2, "frame 1 goes");
        assert_eq!(r.len(), 8);
        let mut out = [9.0; 6];
        assert_eq!(r.pop_into(&mut out), 6);
        assert_eq!(out, [2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
        let mut out = [9.0; 6];
        assert_eq!(r.pop_into(&mut out), 2);
        assert_eq!(out, [5.0, 5.0, 0.0, 0.0, 0.0, 0.0], "underrun: silence");
        // more than the ring at once keeps the newest, and a stray half frame is ignored
        let many: Vec<f32> = (0..21).map(|i| i as f32).collect();
        assert_eq!(r.push(&many), 12);
        let mut out = [0.0; 8];
        r.pop_into(&mut out);
        assert_eq!(out, [12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0]);
    }

    #[test]
    fn the_ring_holds_at_most_the_latency_bound() {
        let r = Ring::new(RATE, 2, MAX_BUFFERED_MS);
        assert_eq!(r.capacity, 48 * 80 * 2);
    }

    #[test]
    fn stereo_is_spread_to_the_outputs_channels() {
        let mut out = Vec::new();
        spread(&[1.0, 0.0, 0.5, 0.5], 1, &mut out);
        assert_eq!(out, [0.5, 0.5]);
        spread(&[1.0, 2.0], 2, &mut out);
        assert_eq!(out, [1.0, 2.0]);
        spread(&[1.0, 2.0], 4, &mut out);
        assert_eq!(out, [1.0, 2.0, 0.0, 0.0]);
    }

    #[test]
    fn decoded_frames_are_counted_without_an_output() {
        let mut enc =
            opus::Encoder::new(RATE, opus::Channels::Stereo, opus::Application::Audio).unwrap();
        let tone: Vec<f32> = (0..960 * 2)
            .map(|i| ((i / 2) as f32 * 0.05).sin() * 0.3)
            .collect();
        let packet = enc.encode_vec_float(&tone, 4000).unwrap();
        let mut a = Audio::start(true);
        assert!(a.frame(&packet));
        assert!(a.frame(&packet));
        assert!(!a.frame(&[]), "no frame");
        assert!(!a.frame(&[0xff]), "a code-3 packet without its count");
        assert_eq!(a.frames(), 2);
    }
}
