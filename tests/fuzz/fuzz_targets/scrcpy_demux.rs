//! The scrcpy video/audio stream demuxer (client side, what the node agent reads from the
//! device): dummy byte, device name, codec id, session and media packet headers. The first
//! byte picks the socket's configuration. Fed in pieces it yields the same events as fed at
//! once; a device name fits its field; media packets are non-empty, within the bound, and a
//! session packet never appears on audio.
#![no_main]
use libfuzzer_sys::fuzz_target;
use playrack_fuzz::pieces;
use playrack_scrcpy::stream::{
    DEVICE_NAME_FIELD_LENGTH, Demuxer, DemuxerConfig, MAX_PACKET_SIZE, StreamEvent, StreamKind,
};

fn run(config: DemuxerConfig, chunks: &[&[u8]]) -> Vec<Result<StreamEvent, String>> {
    let mut d = Demuxer::new(config);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        loop {
            match d.poll() {
                Ok(Some(ev)) => {
                    match &ev {
                        StreamEvent::DeviceName(n) => {
                            assert!(n.len() <= DEVICE_NAME_FIELD_LENGTH * 3)
                        }
                        StreamEvent::Frame { data, .. } | StreamEvent::Config(data) => {
                            assert!(!data.is_empty() && data.len() <= MAX_PACKET_SIZE)
                        }
                        StreamEvent::Session(_) => {
                            assert!(matches!(config.kind, StreamKind::Video))
                        }
                        _ => {}
                    }
                    out.push(Ok(ev));
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    // Raw bytes may be cut anywhere: compare them joined.
    let mut merged: Vec<Result<StreamEvent, String>> = Vec::new();
    for ev in out {
        match (merged.last_mut(), ev) {
            (Some(Ok(StreamEvent::Raw(a))), Ok(StreamEvent::Raw(b))) => a.extend_from_slice(&b),
            (_, ev) => merged.push(ev),
        }
    }
    merged
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let config = DemuxerConfig {
        kind: if sel & 1 == 0 {
            StreamKind::Video
        } else {
            StreamKind::Audio
        },
        dummy_byte: sel & 2 != 0,
        device_meta: sel & 4 != 0,
        stream_meta: sel & 8 == 0,
        frame_meta: sel & 16 == 0,
        partial_frames: sel & 32 != 0,
    };
    assert_eq!(
        run(config, &[stream]),
        run(config, &pieces(stream, sel >> 6))
    );
});
