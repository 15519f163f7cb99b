//! Recording a play's video to an MP4 file as it streams: the instance's own H.264 access
//! units go into the file as they are (no re-encode), so a recording costs the board a file
//! write per frame and nothing of its encoder.
//!
//! [`Recorder`] is fed what the video socket carries (the codec configuration and each frame
//! with its presentation time and key flag, in Annex-B) and writes through the `mp4` crate:
//! one AVC track whose `avcC` holds the stream's SPS and PPS, one sample per access unit
//! (length-prefixed NAL units, parameter sets and access unit delimiters left out), key frames
//! marked as sync samples, times in a 90 kHz timescale from the encoder's own presentation
//! times. Recording starts at the first key frame; a sample's duration is known when the next
//! one arrives, so the last one takes its predecessor's. The `moov` box is written at
//! [`Recorder::finish`].

use std::io::{Seek, Write};
use std::path::Path;

use anyhow::{Context, bail};

/// Video timescale: 90 kHz, as RTP and MPEG-TS count.
pub const TIMESCALE: u32 = 90_000;

/// NAL unit types (H.264 Table 7-1) the recorder treats specially.
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;

/// The NAL units of an Annex-B buffer (start codes `00 00 01` or `00 00 00 01` removed).
pub fn nal_units(annexb: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= annexb.len() {
        if annexb[i] == 0 && annexb[i + 1] == 0 && annexb[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(annexb.len(), |&n| n - 3);
        // a four-byte start code leaves one zero behind, and trailing zeros are padding
        while end > s && annexb[end - 1] == 0 {
            end -= 1;
        }
        if end > s {
            out.push(&annexb[s..end]);
        }
    }
    out
}

/// What a finished recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub frames: u64,
    /// From the first frame's start to the last one's end.
    pub duration_us: u64,
}

/// One pending sample: its time, sync flag and AVCC bytes.
struct Pending {
    pts_us: u64,
    key: bool,
    bytes: Vec<u8>,
}

/// A recording in progress (see the module doc).
pub struct Recorder<W: Write + Seek> {
    out: Option<W>,
    writer: Option<mp4::Mp4Writer<W>>,
    width: u16,
    height: u16,
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    first_pts: Option<u64>,
    pending: Option<Pending>,
    last_duration: u32,
    frames: u64,
    end_us: u64,
}

impl<W: Write + Seek> Recorder<W> {
    /// A recording of a `width`×`height` stream into `out`.
    pub fn new(out: W, width: u16, height: u16) -> Self {
        Recorder {
            out: Some(out),
            writer: None,
            width,
            height,
            sps: None,
            pps: None,
            first_pts: None,
            pending: None,
            last_duration: TIMESCALE / 30,
            frames: 0,
            end_us: 0,
        }
    }

    /// The codec configuration packet (SPS and PPS).
    pub fn config(&mut self, annexb: &[u8]) {
        self.take_parameter_sets(annexb);
    }

    fn take_parameter_sets(&mut self, annexb: &[u8]) {
        for nal in nal_units(annexb) {
            match nal[0] & 0x1f {
                NAL_SPS => self.sps = Some(nal.to_vec()),
                NAL_PPS => self.pps = Some(nal.to_vec()),
                _ => {}
            }
        }
    }

    /// One access unit. Frames before the first key frame (or before the parameter sets are
    /// known) are skipped.
    pub fn frame(&mut self, pts_us: u64, key: bool, annexb: &[u8]) -> anyhow::Result<()> {
        self.take_parameter_sets(annexb);
        if self.writer.is_none() {
            if !key {
                return Ok(());
            }
            let (Some(sps), Some(pps)) = (self.sps.clone(), self.pps.clone()) else {
                return Ok(());
            };
            let out = self.out.take().context("recording already finished")?;
            let mut w = mp4::Mp4Writer::write_start(
                out,
                &mp4::Mp4Config {
                    major_brand: "isom".parse().expect("fourcc"),
                    minor_version: 512,
                    compatible_brands: ["isom", "iso2", "avc1", "mp41"]
                        .iter()
                        .map(|b| b.parse().expect("fourcc"))
                        .collect(),
                    timescale: 1000,
                },
            )?;
            w.add_track(&mp4::TrackConfig {
                track_type: mp4::TrackType::Video,
                timescale: TIMESCALE,
                language: "und".into(),
                media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                    width: self.width,
                    height: self.height,
                    seq_param_set: sps,
                    pic_param_set: pps,
                }),
            })?;
            self.writer = Some(w);
            self.first_pts = Some(pts_us);
        }
        let mut bytes = Vec::with_capacity(annexb.len() + 16);
        for nal in nal_units(annexb) {
            if matches!(nal[0] & 0x1f, NAL_SPS | NAL_PPS | NAL_AUD) {
                continue;
            }
            bytes.extend_from_slice(&(nal.len() as u32).to_be_bytes());
            bytes.extend_from_slice(nal);
        }
        if bytes.is_empty() {
            return Ok(());
        }
        if let Some(prev) = &self.pending
            && pts_us <= prev.pts_us
        {
            bail!(
                "presentation time went back: {pts_us} µs after {} µs",
                prev.pts_us
            );
        }
        let next = Pending { pts_us, key, bytes };
        if let Some(prev) = self.pending.replace(next) {
            let duration = ticks(pts_us - prev.pts_us);
            self.write(prev, duration)?;
        }
        Ok(())
    }

    fn write(&mut self, p: Pending, duration: u32) -> anyhow::Result<()> {
        let first = self.first_pts.unwrap_or(p.pts_us);
        let w = self.writer.as_mut().context("not started")?;
        w.write_sample(
            1,
            &mp4::Mp4Sample {
                start_time: u64::from(ticks(p.pts_us - first)),
                duration,
                rendering_offset: 0,
                is_sync: p.key,
                bytes: p.bytes.into(),
            },
        )?;
        self.last_duration = duration.max(1);
        self.frames += 1;
        self.end_us = p.pts_us - first + u64::from(duration) * 1_000_000 / u64::from(TIMESCALE);
        Ok(())
    }

    /// Frames written so far (the pending one not counted).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Writes the last frame and the `moov` box; answers what the file holds. A recording
    /// that never saw a key frame is empty (zero frames, and no valid file).
    pub fn finish(mut self) -> anyhow::Result<Summary> {
        if let Some(p) = self.pending.take() {
            let d = self.last_duration;
            self.write(p, d)?;
        }
        if let Some(mut w) = self.writer.take() {
            w.write_end()?;
            let mut out = w.into_writer();
            out.flush()?;
        }
        Ok(Summary {
            frames: self.frames,
            duration_us: self.end_us,
        })
    }
}

/// Recording ids the controller makes (`rec_<base32>`): the only names a recording's file
/// gets.
pub fn is_recording_id(s: &str) -> bool {
    s.len() <= 64
        && s.strip_prefix("rec_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Uploads a finished recording to the controller (`PUT /v1/agent/recordings/{id}` with the
/// board credential), declaring its frames, duration and SHA-256. A recording without frames
/// is declared with an empty body (the controller marks it failed).
pub async fn upload(
    http: &reqwest::Client,
    controller_url: &str,
    credential: &str,
    id: &str,
    path: &Path,
    summary: Summary,
) -> anyhow::Result<()> {
    let url = format!(
        "{}/v1/agent/recordings/{id}",
        controller_url.trim_end_matches('/')
    );
    let (sha, file) = if summary.frames == 0 {
        (String::new(), None)
    } else {
        (playrack_volume::hash_file(path).await?.0, Some(path))
    };
    let headers = [
        ("x-recording-frames", summary.frames.to_string()),
        (
            "x-recording-duration-ms",
            (summary.duration_us / 1000).to_string(),
        ),
        ("x-recording-sha256", sha),
        ("content-type", "application/octet-stream".to_owned()),
    ];
    crate::upload::put_file(http, &url, credential, "the recording", &headers, file).await
}

/// Microseconds in 90 kHz ticks.
fn ticks(us: u64) -> u32 {
    u32::try_from(us * u64::from(TIMESCALE) / 1_000_000).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annex_b_splits_on_both_start_codes() {
        let b = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 5, 0,
        ];
        assert_eq!(
            nal_units(&b),
            [&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4, 5][..]]
        );
        assert!(nal_units(&[]).is_empty());
        assert!(nal_units(&[0, 0, 1]).is_empty());
        assert_eq!(ticks(1_000_000), 90_000);
        assert_eq!(ticks(33_333), 2_999);
    }
}
