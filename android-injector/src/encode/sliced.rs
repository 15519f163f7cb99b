//! Sliced, pipelined H.264 (feature `x264`): each frame is encoded as several slices and
//! every NAL is handed on the moment x264 finishes it (its `nalu_process` callback, through
//! the C shim in `csrc/x264_slices.c`), so the first rows of a frame can leave while the last
//! are still being encoded — what a phone's MediaCodec does with `KEY_SLICE`-style low-latency
//! settings (partial frames). openh264, the default encoder, only returns whole frames.
//!
//! Settings: x264's `ultrafast` + `zerolatency` (no B-frames, no lookahead, no frame threads),
//! Constrained Baseline, one thread (the callback needs frame order), CBR with a VBV of 1.5
//! frames; an IDR first, every 10 s and when asked for (a joining player, a lost reference),
//! SPS and PPS before each. Periodic intra refresh (a column of intra macroblocks sweeping the
//! picture once a second instead of the IDRs) is an option, [`Refresh::Intra`], measured
//! against the IDRs by `bench encode` and `bench latency` and not used by the device.
//!
//! FFI, hence `unsafe`: the shim owns x264's structs, Rust sees an opaque pointer and a
//! callback that gets each escaped NAL with the macroblocks it covers.

use std::ffi::{c_int, c_void};
use std::time::Instant;

use crate::game::I420;

/// Slices per frame when nothing says otherwise (a 720p frame: 3,600 macroblocks, 900 each).
pub const DEFAULT_SLICES: u32 = 4;

#[repr(C)]
struct Shim {
    _private: [u8; 0],
}

type NalFn = extern "C" fn(
    sink: *mut c_void,
    data: *const u8,
    len: c_int,
    kind: c_int,
    first_mb: c_int,
    last_mb: c_int,
);

unsafe extern "C" {
    fn pr_x264_open(
        width: c_int,
        height: c_int,
        fps: c_int,
        kbps: c_int,
        slices: c_int,
        intra_refresh: c_int,
        period: c_int,
    ) -> *mut Shim;
    fn pr_x264_encode(
        e: *mut Shim,
        y: *const u8,
        u: *const u8,
        v: *const u8,
        pts: i64,
        force_key: c_int,
        on_nal: NalFn,
        sink: *mut c_void,
    ) -> c_int;
    fn pr_x264_mbs(e: *const Shim) -> c_int;
    fn pr_x264_set_kbps(e: *mut Shim, kbps: c_int) -> c_int;
    fn pr_x264_close(e: *mut Shim);
}

/// How the stream refreshes the whole picture (so a decoder can join or recover without
/// asking), besides the IDR that comes first and whenever [`SlicedEncoder::force_key_frame`]
/// asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// An IDR every this many seconds: what the device streams (10 s, as scrcpy asks
    /// MediaCodec with `KEY_I_FRAME_INTERVAL`).
    PeriodicIdr(u32),
    /// Periodic intra refresh: a column of intra macroblocks sweeps the picture once a second
    /// and no IDR comes unasked. Measured, not used by the device: see BENCHMARKS.md.
    Intra,
}

impl Refresh {
    /// The device's: an IDR every 10 s.
    pub const DEVICE: Refresh = Refresh::PeriodicIdr(10);
}

/// One NAL unit as it left the encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nal {
    /// Annex-B: start code, header, escaped payload.
    pub data: Vec<u8>,
    /// `nal_unit_type` (1 slice, 5 IDR slice, 6 SEI, 7 SPS, 8 PPS).
    pub kind: u8,
    /// For a slice: the last macroblock it covers is the frame's last (the frame is complete).
    pub ends_frame: bool,
    /// When the encoder handed it over.
    pub at: Instant,
}

#[derive(Debug, thiserror::Error)]
pub enum SlicedError {
    #[error("x264 refused the settings ({0}×{1}, {2} slices)")]
    Open(u32, u32, u32),
    #[error("x264 refused the rate {0} b/s")]
    Rate(u32),
    #[error("x264 failed to encode a frame")]
    Encode,
    #[error("the frame is {0}×{1}, the encoder {2}×{3}")]
    Size(usize, usize, u32, u32),
}

/// An x264 encoder emitting slices as they are done.
pub struct SlicedEncoder {
    shim: *mut Shim,
    width: u32,
    height: u32,
    mbs: i32,
    key_next: bool,
    bit_rate: u32,
}

// SAFETY: the shim's state is only touched through &mut self.
unsafe impl Send for SlicedEncoder {}

struct Sink<'a> {
    mbs: i32,
    out: &'a mut dyn FnMut(Nal),
}

extern "C" fn on_nal(
    sink: *mut c_void,
    data: *const u8,
    len: c_int,
    kind: c_int,
    _first_mb: c_int,
    last_mb: c_int,
) {
    let at = Instant::now();
    // SAFETY: `sink` is the `Sink` `encode` passed for this call, alive until it returns; x264
    // calls back only inside that call, and `data` is valid for `len` bytes during the call.
    let sink = unsafe { &mut *(sink as *mut Sink) };
    let data = unsafe { std::slice::from_raw_parts(data, len.max(0) as usize) }.to_vec();
    let kind = (kind & 0x1f) as u8;
    let slice = kind == 1 || kind == 5;
    (sink.out)(Nal {
        data,
        kind,
        ends_frame: slice && last_mb == sink.mbs - 1,
        at,
    });
}

impl SlicedEncoder {
    pub fn new(
        width: u32,
        height: u32,
        fps: u32,
        bit_rate: u32,
        slices: u32,
        refresh: Refresh,
    ) -> Result<SlicedEncoder, SlicedError> {
        let err = || SlicedError::Open(width, height, slices);
        let as_int = |v: u32| c_int::try_from(v).map_err(|_| err());
        // SAFETY: plain values in; a null pointer out is a refusal.
        let shim = unsafe {
            pr_x264_open(
                as_int(width)?,
                as_int(height)?,
                as_int(fps.max(1))?,
                as_int((bit_rate / 1000).max(1))?,
                as_int(slices.max(1))?,
                (refresh == Refresh::Intra) as c_int,
                as_int(match refresh {
                    Refresh::Intra => fps.max(1),
                    Refresh::PeriodicIdr(secs) => fps.max(1).saturating_mul(secs.max(1)),
                })?,
            )
        };
        if shim.is_null() {
            return Err(err());
        }
        // SAFETY: a live encoder.
        let mbs = unsafe { pr_x264_mbs(shim) };
        Ok(SlicedEncoder {
            shim,
            width,
            height,
            mbs,
            key_next: true,
            bit_rate,
        })
    }

    /// The rate asked for last.
    pub fn bit_rate(&self) -> u32 {
        self.bit_rate
    }

    /// Encodes at `bit_rate` from the next frame on, keeping the stream as it is (no key
    /// frame).
    pub fn set_bit_rate(&mut self, bit_rate: u32) -> Result<(), SlicedError> {
        let kbps =
            c_int::try_from((bit_rate / 1000).max(1)).map_err(|_| SlicedError::Rate(bit_rate))?;
        // SAFETY: a live encoder, plain values in.
        if unsafe { pr_x264_set_kbps(self.shim, kbps) } < 0 {
            return Err(SlicedError::Rate(bit_rate));
        }
        self.bit_rate = bit_rate;
        Ok(())
    }

    /// The next frame is an IDR (a client lost its reference).
    pub fn force_key_frame(&mut self) {
        self.key_next = true;
    }

    /// Encodes `frame`; `out` gets each NAL the moment x264 finishes it, in order, the
    /// frame's last slice marked. The frame's size in bytes.
    pub fn encode(
        &mut self,
        frame: &I420,
        pts_us: u64,
        out: &mut dyn FnMut(Nal),
    ) -> Result<usize, SlicedError> {
        let (w, h) = (self.width as usize, self.height as usize);
        if frame.width != w || frame.height != h {
            return Err(SlicedError::Size(
                frame.width,
                frame.height,
                self.width,
                self.height,
            ));
        }
        if frame.y.len() < w * h || frame.u.len() < w * h / 4 || frame.v.len() < w * h / 4 {
            return Err(SlicedError::Size(
                frame.width,
                frame.height,
                self.width,
                self.height,
            ));
        }
        let (y, u, v) = (&frame.y, &frame.u, &frame.v);
        let mut sink = Sink { mbs: self.mbs, out };
        let key = std::mem::take(&mut self.key_next);
        // SAFETY: the planes hold w×h and two (w/2)×(h/2) bytes, as the shim's strides say;
        // `sink` outlives the call, the only time the callback runs.
        let n = unsafe {
            pr_x264_encode(
                self.shim,
                y.as_ptr(),
                u.as_ptr(),
                v.as_ptr(),
                pts_us as i64,
                key as c_int,
                on_nal,
                &mut sink as *mut Sink as *mut c_void,
            )
        };
        usize::try_from(n).map_err(|_| SlicedError::Encode)
    }
}

impl Drop for SlicedEncoder {
    fn drop(&mut self) {
        // SAFETY: opened in `new`, closed once.
        unsafe { pr_x264_close(self.shim) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::{Game, GameConfig, LumaRef, read_tap_counter};
    use openh264::decoder::Decoder;
    use openh264::formats::YUVSource;

    /// One frame of the test game, encoded in `slices`; its NALs in the order they left.
    fn frame(enc: &mut SlicedEncoder, game: &mut Game, pts: u64) -> Vec<Nal> {
        let mut f = I420::new(enc.width as usize, enc.height as usize);
        game.render(&mut f, pts);
        let mut nals = Vec::new();
        let n = enc.encode(&f, pts, &mut |nal| nals.push(nal)).unwrap();
        assert_eq!(n, nals.iter().map(|n| n.data.len()).sum::<usize>());
        nals
    }

    #[test]
    fn each_slice_leaves_before_the_next_is_encoded_and_the_frame_decodes_whole() {
        let mut game = Game::new(GameConfig::new("com.example.game"), 0);
        let mut enc =
            SlicedEncoder::new(720, 1280, 60, 4_000_000, DEFAULT_SLICES, Refresh::DEVICE).unwrap();
        let mut decoder = Decoder::new().unwrap();
        for i in 0..3u64 {
            if i == 2 {
                game.touch(0, 0, 360, 1000, i * 16_667);
                game.touch(1, 0, 360, 1000, i * 16_667 + 1);
            }
            let nals = frame(&mut enc, &mut game, i * 16_667);
            let kinds: Vec<u8> = nals.iter().map(|n| n.kind).collect();
            let slices: Vec<&Nal> = nals.iter().filter(|n| matches!(n.kind, 1 | 5)).collect();
            assert_eq!(slices.len(), DEFAULT_SLICES as usize, "{kinds:?}");
            if i == 0 {
                assert_eq!(&kinds[..2], &[7, 8], "SPS and PPS lead the IDR: {kinds:?}");
                assert!(slices.iter().all(|s| s.kind == 5), "{kinds:?}");
            } else {
                assert!(slices.iter().all(|s| s.kind == 1), "{kinds:?}");
            }
            // only the last slice completes the frame, and it left after the first did
            let ends: Vec<bool> = slices.iter().map(|s| s.ends_frame).collect();
            assert_eq!(ends, [false, false, false, true]);
            assert!(slices[0].at < slices[3].at, "the first slice left first");
            assert!(nals.iter().all(|n| n.data.starts_with(&[0, 0, 0, 1])));
            let au: Vec<u8> = nals.iter().flat_map(|n| n.data.iter().copied()).collect();
            let picture = decoder.decode(&au).unwrap().expect("a whole frame decodes");
            assert_eq!(picture.dimensions(), (720, 1280));
            let (ys, _, _) = picture.strides();
            let taps = read_tap_counter(LumaRef {
                data: picture.y(),
                width: 720,
                height: 1280,
                stride: ys,
            });
            assert_eq!(taps, Some(game.taps()), "frame {i}");
        }
        assert_eq!(game.taps(), 1);
    }

    /// Over 4 s of stream, intra refresh sends no IDR but the first and the one asked for: a
    /// recovery point SEI opens each sweep, about once a second, and every frame decodes. The
    /// classic stream with a 1 s period has an IDR every second instead, the device's none
    /// unasked within its 10 s.
    #[test]
    fn intra_refresh_sweeps_instead_of_periodic_idrs() {
        const FPS: u32 = 10;
        for refresh in [Refresh::Intra, Refresh::PeriodicIdr(1), Refresh::DEVICE] {
            let mut game = Game::new(GameConfig::new("com.example.game"), 0);
            let mut enc = SlicedEncoder::new(360, 640, FPS, 1_000_000, 2, refresh).unwrap();
            let mut decoder = Decoder::new().unwrap();
            let (mut idrs, mut recovery_points) = (Vec::new(), Vec::new());
            for i in 0..40u64 {
                if i == 25 {
                    enc.force_key_frame();
                }
                let nals = frame(&mut enc, &mut game, i * 100_000);
                if nals.iter().any(|n| n.kind == 5) {
                    idrs.push(i);
                }
                // an SEI NAL whose (first) message is payload type 6, recovery point
                if nals
                    .iter()
                    .any(|n| n.kind == 6 && n.data.get(5) == Some(&6))
                {
                    recovery_points.push(i);
                }
                let au: Vec<u8> = nals.iter().flat_map(|n| n.data.iter().copied()).collect();
                let picture = decoder.decode(&au).unwrap();
                assert!(picture.is_some(), "{refresh:?}: frame {i} decodes");
            }
            match refresh {
                Refresh::Intra => {
                    assert_eq!(idrs, [0, 25], "only the first and the asked-for IDR");
                    assert!(
                        recovery_points.len() >= 3,
                        "a sweep a second: {recovery_points:?}"
                    );
                }
                Refresh::PeriodicIdr(1) => {
                    assert!(
                        idrs.starts_with(&[0, 10, 20, 25]),
                        "an IDR a second: {idrs:?}"
                    );
                }
                Refresh::PeriodicIdr(_) => {
                    assert_eq!(idrs, [0, 25], "no IDR unasked within 10 s");
                    assert!(recovery_points.is_empty(), "no sweep: {recovery_points:?}");
                }
            }
        }
    }

    #[test]
    fn a_key_frame_comes_when_asked_and_a_wrong_size_is_refused() {
        let mut game = Game::new(GameConfig::new("com.example.game"), 0);
        let mut enc = SlicedEncoder::new(360, 640, 30, 1_000_000, 2, Refresh::DEVICE).unwrap();
        frame(&mut enc, &mut game, 0);
        assert!(
            frame(&mut enc, &mut game, 33_333)
                .iter()
                .all(|n| n.kind != 5)
        );
        enc.force_key_frame();
        assert!(
            frame(&mut enc, &mut game, 66_667)
                .iter()
                .any(|n| n.kind == 5)
        );
        // a new rate holds the stream as it is: no key frame
        enc.set_bit_rate(300_000).unwrap();
        assert_eq!(enc.bit_rate(), 300_000);
        assert!(
            frame(&mut enc, &mut game, 100_000)
                .iter()
                .all(|n| n.kind != 5 && n.kind != 7)
        );
        let wrong = I420::new(320, 240);
        assert!(matches!(
            enc.encode(&wrong, 0, &mut |_| {}),
            Err(SlicedError::Size(320, 240, 360, 640))
        ));
        assert!(SlicedEncoder::new(0, 0, 30, 1_000_000, 2, Refresh::DEVICE).is_err());
    }
}
