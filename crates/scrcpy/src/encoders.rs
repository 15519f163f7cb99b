//! Media encoders as scrcpy's server lists them (`--list-encoders`, `LogUtils.java`) and picks
//! them (`video_encoder=`/`audio_encoder=`, `SurfaceEncoder.createMediaCodec`), both sides:
//! [`list_message`] writes the list the way the server logs it, and [`parse_list`] reads it back
//! on the client (the node agent chooses an instance's encoder from it).
//!
//! The virtual device offers Android's software H.264 encoder (`c2.android.avc.encoder`) and a
//! vendor hardware encoder ([`HW_AVC`]); both produce the same real H.264 here. Either can be
//! missing, as on a board whose ROM lacks it: `ro.playrack.hw_encoder=0` takes the hardware one
//! away, `ro.playrack.sw_encoder=0` the software one. Audio is Opus (`c2.android.opus.encoder`).

/// The virtual device's hardware H.264 encoder.
pub const HW_AVC: &str = "c2.playrack.avc.encoder";
/// Android's software H.264 encoder (Codec2).
pub const SW_AVC: &str = "c2.android.avc.encoder";
/// Android's Opus encoder (Codec2).
pub const SW_OPUS: &str = "c2.android.opus.encoder";
/// The read-only property that says whether the board has the hardware encoder (`0`: no).
pub const HW_ENCODER_PROPERTY: &str = "ro.playrack.hw_encoder";
/// The read-only property that says whether the ROM has Android's software H.264 encoder.
pub const SW_ENCODER_PROPERTY: &str = "ro.playrack.sw_encoder";

/// Where an encoder runs (`MediaCodecInfo.isSoftwareOnly` / `isHardwareAccelerated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderKind {
    Hardware,
    Software,
    Hybrid,
}

impl EncoderKind {
    fn tag(self) -> &'static str {
        match self {
            EncoderKind::Hardware => "hw",
            EncoderKind::Software => "sw",
            EncoderKind::Hybrid => "hybrid",
        }
    }
}

/// One encoder of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoder {
    /// `h264`, `opus`, … (scrcpy's codec names).
    pub codec: String,
    /// The MediaCodec name, e.g. `c2.android.avc.encoder`.
    pub name: String,
    pub kind: EncoderKind,
    pub vendor: bool,
}

/// The virtual device's video encoders (the hardware one first), those the board has.
pub fn video_encoders(has_hw: bool, has_sw: bool) -> Vec<Encoder> {
    let mut v = Vec::new();
    if has_hw {
        v.push(Encoder {
            codec: "h264".into(),
            name: HW_AVC.into(),
            kind: EncoderKind::Hardware,
            vendor: true,
        });
    }
    if has_sw {
        v.push(Encoder {
            codec: "h264".into(),
            name: SW_AVC.into(),
            kind: EncoderKind::Software,
            vendor: false,
        });
    }
    v
}

/// The virtual device's audio encoders.
pub fn audio_encoders() -> Vec<Encoder> {
    vec![Encoder {
        codec: "opus".into(),
        name: SW_OPUS.into(),
        kind: EncoderKind::Software,
        vendor: false,
    }]
}

/// `List of video encoders:` and one line per encoder, as the server of an Android 10+ device
/// logs it: the options padded to column 70, then `(hw|sw|hybrid)` and `[vendor]`.
pub fn list_message(kind: &str, encoders: &[Encoder]) -> String {
    let mut s = format!("List of {kind} encoders:");
    for e in encoders {
        let line = format!("    --{kind}-codec={} --{kind}-encoder={}", e.codec, e.name);
        s.push('\n');
        s.push_str(&format!("{line:<70} ({})", e.kind.tag()));
        if e.vendor {
            s.push_str(" [vendor]");
        }
    }
    s
}

/// The video encoders a server's `list_encoders=true` output names (other lines ignored; the
/// `[server] INFO: ` prefix may or may not be there).
pub fn parse_list(output: &str) -> Vec<Encoder> {
    output
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("--video-codec=")?;
            let (codec, rest) = rest.split_once(' ')?;
            let rest = rest.trim_start().strip_prefix("--video-encoder=")?;
            let (name, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let name = name.trim_matches('\'');
            if codec.is_empty() || name.is_empty() {
                return None;
            }
            let kind = if tail.contains("(hw)") {
                EncoderKind::Hardware
            } else if tail.contains("(hybrid)") {
                EncoderKind::Hybrid
            } else {
                EncoderKind::Software
            };
            Some(Encoder {
                codec: codec.to_owned(),
                name: name.to_owned(),
                kind,
                vendor: tail.contains("[vendor]"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_reads_back_as_it_is_written() {
        let msg = list_message("video", &video_encoders(true, true));
        assert_eq!(
            msg.lines().nth(1).unwrap(),
            format!(
                "{:<70} (hw) [vendor]",
                format!("    --video-codec=h264 --video-encoder={HW_AVC}")
            )
        );
        assert_eq!(parse_list(&msg), video_encoders(true, true));
        assert_eq!(
            parse_list(&list_message("video", &video_encoders(false, true))),
            video_encoders(false, true)
        );
        assert!(parse_list(&list_message("video", &video_encoders(false, false))).is_empty());
        // scrcpy before 3.0 quoted the name and had no kind: read as software.
        let old = "[server] INFO: List of video encoders:\n    --video-codec=h264 --video-encoder='OMX.rk.video_encoder.avc'\n";
        assert_eq!(parse_list(old)[0].name, "OMX.rk.video_encoder.avc");
        for junk in [
            "",
            "--video-codec=",
            "--video-codec=h264",
            "--video-codec= --video-encoder=x",
            "--video-codec=h264 --video-encoder=",
        ] {
            assert!(parse_list(junk).is_empty(), "{junk:?}");
        }
    }
}
