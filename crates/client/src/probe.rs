//! The latency probe, sans-IO: where the streamed test game draws its probe square (the
//! geometry of `android-injector`'s game layout, which a test here holds it to), how a player
//! reads it from a decoded luma plane, and the measurement — send `probe`, time the first frame
//! whose square flipped — fed frames and time. The H5 SDK's `probe.ts` does the same in the
//! browser.

use std::time::{Duration, Instant};

use playrack_wire::input::InputMessage;

/// The probe square of a frame `width` pixels wide: x, y and side, in pixels.
pub fn square(width: usize) -> (usize, usize, usize) {
    let block = (width / 16).max(16);
    let per_row = (width / block).max(1);
    let stripe_h = 32usize.div_ceil(per_row) * block;
    let margin = block / 2;
    let side = width / 4;
    (width.saturating_sub(side + margin), stripe_h + margin, side)
}

/// Whether the square is lit (white) in a luma plane of `width × height` with rows `stride`
/// apart: the mean of its central half (away from the edges H.264 blurs) is at least 128.
/// False when the frame is too small to hold it.
pub fn lit(luma: &[u8], width: usize, height: usize, stride: usize) -> bool {
    let (x, y, s) = square(width);
    let (x0, y0, x1, y1) = (x + s / 4, y + s / 4, x + 3 * s / 4, y + 3 * s / 4);
    if x1 <= x0 || y1 <= y0 || x1 > width || y1 > height || (y1 - 1) * stride + x1 > luma.len() {
        return false;
    }
    let mut sum = 0u64;
    for row in y0..y1 {
        sum += luma[row * stride + x0..row * stride + x1]
            .iter()
            .map(|&v| u64::from(v))
            .sum::<u64>();
    }
    sum / ((x1 - x0) * (y1 - y0)) as u64 >= 128
}

/// One probe after another. See the module doc.
#[derive(Debug, Default)]
pub struct Prober {
    next_seq: u32,
    /// The probe in flight: its seq, when it was sent and the square's state then.
    pending: Option<(u32, Instant, bool)>,
    /// The last frame's square, for the next probe's "before".
    last: Option<bool>,
}

/// What a frame said about the probe in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Probed {
    /// The frame shows the flip: the probe's seq and its latency.
    Done { seq: u32, latency: Duration },
    /// No flip within the allowed time: the probe is dropped.
    TimedOut { seq: u32 },
}

impl Prober {
    /// The next probe's message, once a frame has been seen and none is in flight.
    pub fn start(&mut self, now: Instant) -> Option<InputMessage> {
        if self.pending.is_some() {
            return None;
        }
        let before = self.last?;
        self.next_seq += 1;
        self.pending = Some((self.next_seq, now, before));
        Some(InputMessage::Probe { seq: self.next_seq })
    }

    /// A decoded frame (its square `lit`) shown at `now`; `timeout` bounds a probe's wait.
    pub fn frame(&mut self, lit: bool, now: Instant, timeout: Duration) -> Option<Probed> {
        self.last = Some(lit);
        let (seq, sent, before) = self.pending?;
        if lit != before {
            self.pending = None;
            return Some(Probed::Done {
                seq,
                latency: now.saturating_duration_since(sent),
            });
        }
        if now.saturating_duration_since(sent) > timeout {
            self.pending = None;
            return Some(Probed::TimedOut { seq });
        }
        None
    }

    /// The probe in flight could not be sent: forget it.
    pub fn unsent(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_square_is_where_the_test_game_draws_it() {
        for (w, h) in [(360, 640), (720, 1280), (1080, 1920), (64, 64), (1280, 720)] {
            let layout = android_injector::game::Layout::new(w, h);
            assert_eq!(square(w), layout.probe, "{w}×{h}");
        }
    }

    #[test]
    fn lit_reads_the_central_half_and_refuses_small_frames() {
        let (w, h) = (360, 640);
        let mut luma = vec![0u8; w * h];
        assert!(!lit(&luma, w, h, w));
        let (x, y, s) = square(w);
        for row in y + s / 4..y + 3 * s / 4 {
            luma[row * w + x + s / 4..row * w + x + 3 * s / 4].fill(255);
        }
        assert!(lit(&luma, w, h, w));
        assert!(!lit(&luma[..100], w, h, w), "a short plane");
        assert!(!lit(&[], 0, 0, 0));
    }

    #[test]
    fn a_probe_times_the_first_flipped_frame() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut p = Prober::default();
        assert_eq!(p.start(t0), None, "no frame seen yet");
        assert_eq!(p.frame(false, t0, ms(2000)), None);
        assert_eq!(p.start(t0), Some(InputMessage::Probe { seq: 1 }));
        assert_eq!(p.start(t0), None, "one in flight");
        assert_eq!(p.frame(false, t0 + ms(10), ms(2000)), None);
        assert_eq!(
            p.frame(true, t0 + ms(25), ms(2000)),
            Some(Probed::Done {
                seq: 1,
                latency: ms(25)
            })
        );
        // the next probe starts from the lit square
        assert_eq!(p.start(t0 + ms(30)), Some(InputMessage::Probe { seq: 2 }));
        assert_eq!(p.frame(true, t0 + ms(40), ms(2000)), None);
        assert_eq!(
            p.frame(true, t0 + ms(3000), ms(2000)),
            Some(Probed::TimedOut { seq: 2 })
        );
        assert!(p.start(t0 + ms(3001)).is_some());
        p.unsent();
        assert!(p.start(t0 + ms(3002)).is_some());
    }
}
